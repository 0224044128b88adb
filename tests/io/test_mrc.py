"""emseg.io.mrc: MRC/REC volumes, memory-mapped, voxel size and origin from the header."""

import mrcfile
import numpy as np
import pytest

from emseg.io import ImageReadError, read_image, read_volume, write_volume


def _tomogram(path, data, voxel_angstrom=(22.0, 22.0, 22.0), origin=None):
    with mrcfile.new(path) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = voxel_angstrom          # x, y, z in Å
        if origin is not None:
            mrc.header.origin = origin
    return path


def test_read_volume_voxel_size_in_nm_memory_mapped(tmp_path):
    data = np.random.default_rng(0).normal(size=(12, 20, 16)).astype(np.float32)
    p = _tomogram(tmp_path / "tomo.rec", data, (22.0, 22.0, 44.0), origin=(1.5, -2.0, 3.0))
    vol, size, meta = read_volume(p)
    assert isinstance(vol, np.memmap) and not vol.flags.writeable     # paged in, not copied
    np.testing.assert_array_equal(vol, data)
    assert size == pytest.approx((4.4, 2.2, 2.2))                     # (z, y, x) nm
    assert meta["pixel_size_source"] == "MRC header" and meta["axes"] == "ZYX"
    assert meta["origin"] == pytest.approx((1.5, -2.0, 3.0))
    img, px, meta2 = read_image(p)                                     # same data, (w, h) as for images
    assert px == pytest.approx((2.2, 2.2)) and meta2["voxel_size"] == pytest.approx((4.4, 2.2, 2.2))


def test_unset_header_is_uncalibrated_and_2d_mrc_is_an_image(tmp_path):
    p = tmp_path / "zero.mrc"
    with mrcfile.new(p) as mrc:
        mrc.set_data(np.zeros((3, 5, 6), np.int16))
    vol, size, meta = read_volume(p)
    assert size is None and "pixel_size_source" not in meta and vol.shape == (3, 5, 6)
    img = tmp_path / "image.mrc"
    with mrcfile.new(img) as mrc:
        mrc.set_data(np.arange(30, dtype=np.uint16).reshape(5, 6))
        mrc.voxel_size = 10.0
    data, px, meta = read_image(img)
    assert data.shape == (5, 6) and px == pytest.approx((1.0, 1.0)) and "voxel_size" not in meta
    with pytest.raises(ValueError, match="3D volume"):
        read_volume(img)


def test_write_labels_and_probability_with_the_inputs_header(tmp_path):
    data = np.zeros((6, 8, 10), np.float32)
    src = _tomogram(tmp_path / "in.mrc", data, (17.0, 17.0, 34.0), origin=(10.0, 20.0, 30.0))
    _, size, meta = read_volume(src)
    labels = np.zeros((6, 8, 10), np.int32)
    labels[1:3, 2:5, 2:6] = 7
    labels[4, 6, 8] = 300
    out = write_volume(tmp_path / "in_labels.mrc", labels, size, labels=True,
                       origin=meta["origin"], nstart=meta["nstart"])
    back, bsize, bmeta = read_volume(out)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, labels)
    assert bsize == pytest.approx(size) and bmeta["origin"] == pytest.approx(meta["origin"])
    prob = np.random.default_rng(1).random((6, 8, 10)).astype(np.float32)
    p2 = write_volume(tmp_path / "in_prob.mrc", prob, size)
    np.testing.assert_array_equal(read_volume(p2)[0], prob)
    big = labels.copy()
    big[0, 0, 0] = 70000                                               # beyond uint16: float32, exact
    b = read_volume(write_volume(tmp_path / "big.mrc", big, size, labels=True))[0]
    assert b.dtype == np.float32 and np.array_equal(b, big)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["big.mrc", "in.mrc", "in_labels.mrc",
                                                          "in_prob.mrc"]   # no temporaries


def test_written_in_slabs_with_mrcfiles_own_header_statistics(tmp_path):
    # 5 planes of 1000 x 1000: written in 2 slabs; header stats as mrcfile computes them whole
    rng = np.random.default_rng(2)
    data = (rng.normal(3.0, 2.0, (5, 1000, 1000)) ** 3).astype(np.float32)
    ours = write_volume(tmp_path / "ours.mrc", data, (1.0, 1.0, 1.0))
    theirs = _tomogram(tmp_path / "theirs.mrc", data)
    with mrcfile.open(ours) as a, mrcfile.open(theirs) as b:
        np.testing.assert_array_equal(a.data, data)
        for key in ("dmin", "dmax", "dmean", "rms"):
            assert float(a.header[key]) == pytest.approx(float(b.header[key]), rel=1e-5), key
        assert tuple(a.voxel_size.item()) == pytest.approx((10.0, 10.0, 10.0))   # 1 nm in Å
        assert mrcfile.validate(str(ours), print_file=open("/dev/null", "w"))
    lab = write_volume(tmp_path / "lab.mrc", np.arange(5 * 7 * 6).reshape(5, 7, 6), labels=True)
    with mrcfile.open(lab) as a:
        assert a.data.dtype == np.uint16 and float(a.header.dmax) == 209.0
        assert float(a.header.rms) == pytest.approx(np.arange(210).std())


def test_write_volume_rejects_bad_input_and_leaves_nothing(tmp_path):
    with pytest.raises(TypeError, match="labels must be integers"):
        write_volume(tmp_path / "a.mrc", np.zeros((2, 3, 4), np.float32), labels=True)
    with pytest.raises(ValueError, match="voxel_size"):
        write_volume(tmp_path / "a.mrc", np.zeros((2, 3, 4), np.uint16), (1.0, 2.0))
    with pytest.raises(ValueError, match="negative"):
        write_volume(tmp_path / "a.mrc", -np.ones((2, 3, 4), np.int32), labels=True)
    with pytest.raises(ValueError, match="cannot write a volume"):
        write_volume(tmp_path / "a.png", np.zeros((2, 3, 4), np.uint16))
    assert list(tmp_path.iterdir()) == []


def test_not_an_mrc_file(tmp_path):
    bad = tmp_path / "bad.mrc"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(ImageReadError, match="not a readable image"):
        read_image(bad)
    text = tmp_path / "notes.mrc"
    text.write_text("x" * 5000)                        # a foreign file: no permissive rescue
    with pytest.raises(ImageReadError, match="not a readable image"):
        read_image(text)
    short = _tomogram(tmp_path / "short.mrc", np.zeros((4, 8, 8), np.float32))
    short.write_bytes(short.read_bytes()[:-100])       # truncated: the data are incomplete
    with pytest.raises(ImageReadError, match="not a readable image"):
        read_volume(short)


def test_header_defect_with_intact_data_is_read_with_a_warning(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    p = _tomogram(tmp_path / "nostamp.mrc", data, (10.0, 10.0, 10.0))
    raw = bytearray(p.read_bytes())
    raw[208:212] = b"XXXX"                              # no "MAP " stamp (older writers)
    p.write_bytes(bytes(raw))
    vol, size, meta = read_volume(p)
    np.testing.assert_array_equal(vol, data)
    assert size == pytest.approx((1.0, 1.0, 1.0))
    assert any("Map ID" in w for w in meta["warnings"])


def test_chunked_volumes_are_read_a_row_of_chunks_at_a_time():
    """A plane of a zarr array read alone reads the whole depth of its chunks: slabs are
    read chunk-aligned and handed out in planes of the asked size, in order."""
    from emseg.io.mrc import _slabs

    class Chunked:
        def __init__(self, data, chunks):
            self.data, self.chunks, self.shape, self.reads = data, chunks, data.shape, []

        def __getitem__(self, key):
            self.reads.append((key.start, min(key.stop, self.shape[0])))
            return self.data[key]

    data = np.arange(23 * 4 * 5).reshape(23, 4, 5)
    vol = Chunked(data, (8, 4, 5))
    got = list(_slabs(vol, voxels=2 * 20))                 # 2 planes a slab
    assert vol.reads == [(0, 8), (8, 16), (16, 23)]
    np.testing.assert_array_equal(np.concatenate([b for _, b in got]), data)
    assert [z for z, _ in got] == list(range(0, 23, 2))[:4] + [8, 10, 12, 14, 16, 18, 20, 22]
    plain = list(_slabs(data, voxels=3 * 20))              # an ndarray: 3 planes a slab
    assert [z for z, _ in plain] == list(range(0, 23, 3))
