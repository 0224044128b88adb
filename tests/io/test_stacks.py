"""emseg.io: TIFF stacks and ImageJ hyperstacks read as volumes with their z spacing."""

import numpy as np
import pytest
import tifffile

from emseg.io import (ImageReadError, image_shape, read_image, read_volume, write_image,
                      write_labels, write_volume)


def test_imagej_stack_spacing_is_the_z_voxel_size(tmp_path):
    p = tmp_path / "stack.tif"
    data = np.arange(5 * 6 * 7, dtype=np.uint16).reshape(5, 6, 7)
    tifffile.imwrite(p, data, imagej=True, resolution=(1 / 2.2, 1 / 2.2),
                     metadata={"axes": "ZYX", "unit": "nm", "spacing": 4.4})
    vol, size, meta = read_volume(p)
    np.testing.assert_array_equal(vol, data)
    assert size == pytest.approx((4.4, 2.2, 2.2)) and meta["pixel_size_source"] == "ImageJ calibration"
    # ImageJ omits spacing=1: one unit per slice is ImageJ's own calibration, not a guess
    q = tmp_path / "unit.tif"
    tifffile.imwrite(q, data, imagej=True, resolution=(1 / 0.5, 1 / 0.5),
                     metadata={"axes": "ZYX", "unit": "micron"})
    assert read_volume(q)[1] == pytest.approx((1000.0, 500.0, 500.0))


def test_hyperstack_singleton_axes_dropped_channels_refused(tmp_path):
    p = tmp_path / "tzcyx.tif"
    data = np.zeros((1, 4, 1, 6, 7), np.uint8)
    tifffile.imwrite(p, data, imagej=True, resolution=(1.0, 1.0),
                     metadata={"axes": "TZCYX", "unit": "nm", "spacing": 3.0})
    vol, size, meta = read_volume(p)
    assert vol.shape == (4, 6, 7) and size == pytest.approx((3.0, 1.0, 1.0))
    c = tmp_path / "zcyx.tif"
    tifffile.imwrite(c, np.zeros((4, 2, 6, 7), np.uint8), imagej=True,
                     metadata={"axes": "ZCYX"})
    with pytest.raises(ValueError, match="2 channels"):
        read_volume(c)
    flat = tmp_path / "flat.tif"
    tifffile.imwrite(flat, np.zeros((6, 7), np.uint8))
    with pytest.raises(ValueError, match="3D volume"):
        read_volume(flat)


def test_ome_z_spacing_and_uncalibrated_z(tmp_path):
    p = tmp_path / "a.ome.tif"
    tifffile.imwrite(p, np.zeros((3, 4, 5), np.uint8), photometric="minisblack", metadata={
        "axes": "ZYX", "PhysicalSizeX": 0.002, "PhysicalSizeY": 0.002, "PhysicalSizeZ": 0.005})
    assert read_volume(p)[1] == pytest.approx((5.0, 2.0, 2.0))
    # plain multi-page TIFF with x/y resolution only: z is unknown, never guessed
    q = tmp_path / "pages.tif"
    tifffile.imwrite(q, np.zeros((3, 4, 5), np.uint8), photometric="minisblack",
                     resolution=(1e7 / 2.0, 1e7 / 2.0),
                     resolutionunit="CENTIMETER")
    vol, size, meta = read_volume(q)
    assert size is None and meta["pixel_size_source"] == "TIFF resolution tags"
    assert read_image(q)[1] == pytest.approx((2.0, 2.0))


def test_image_shape_from_the_header_is_read_images(tmp_path):
    files = {"plain.tif": lambda p: tifffile.imwrite(p, np.zeros((5, 6, 7), np.uint8)),
             "image.tif": lambda p: tifffile.imwrite(p, np.zeros((6, 7), np.uint16)),
             "rgb.tif": lambda p: tifffile.imwrite(p, np.zeros((6, 7, 3), np.uint8)),
             "hyper.tif": lambda p: tifffile.imwrite(p, np.zeros((2, 3, 2, 6, 7), np.uint8),
                                                     imagej=True, metadata={"axes": "TZCYX"}),
             "vol.mrc": lambda p: write_volume(p, np.zeros((3, 6, 7), np.float32)),
             "flat.png": lambda p: write_image(p, np.zeros((6, 7), np.uint8))}
    for name, make in files.items():
        make(tmp_path / name)
        data, _, meta = read_image(tmp_path / name)
        assert image_shape(tmp_path / name) == (data.shape, meta["axes"]), name
    (tmp_path / "bad.tif").write_bytes(b"II*\x00 not really")
    with pytest.raises(ImageReadError, match="bad.tif"):
        image_shape(tmp_path / "bad.tif")


def test_write_volume_tiff_round_trip(tmp_path):
    lab = np.zeros((4, 5, 6), np.int32)
    lab[1:3, 1:4, 2:5] = 9
    p = write_labels(tmp_path / "l.tif", lab, voxel_size=(4.4, 2.2, 2.2))
    vol, size, _ = read_volume(p)
    np.testing.assert_array_equal(vol, lab)
    assert size == pytest.approx((4.4, 2.2, 2.2))
    big = lab.copy()
    big[0, 0, 0] = 70000                                          # uint32: plain TIFF with ImageJ description
    vol, size, _ = read_volume(write_volume(tmp_path / "b.tif", big, (3.0, 1.0, 1.0), labels=True))
    assert vol.dtype == np.uint32 and np.array_equal(vol, big)
    assert size == pytest.approx((3.0, 1.0, 1.0))
    prob = np.random.default_rng(0).random((4, 5, 6)).astype(np.float32)
    vol, size, _ = read_volume(write_image(tmp_path / "p.tif", prob, voxel_size=(2.0, 1.0, 1.0)))
    np.testing.assert_array_equal(vol, prob)
    with pytest.raises(ValueError, match="voxel_size"):
        write_labels(tmp_path / "x.tif", lab, (1.0, 1.0))
    with pytest.raises(ValueError, match="voxel_size is for volumes"):
        write_labels(tmp_path / "x.tif", lab[0], voxel_size=(1.0, 1.0, 1.0))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["b.tif", "l.tif", "p.tif"]


def test_imagej_opens_written_stacks_with_their_spacing(ij, tmp_path):
    lab = np.zeros((4, 5, 6), np.uint16)
    lab[2, 3, 4] = 12
    imp = ij.IJ.openImage(str(write_labels(tmp_path / "s.tif", lab, voxel_size=(4.4, 2.2, 2.0))))
    cal = imp.getCalibration()
    assert imp.getNSlices() == 4 and str(cal.getUnit()) == "nm"
    assert (cal.pixelWidth, cal.pixelHeight, cal.pixelDepth) == pytest.approx((2.0, 2.2, 4.4))
    imp.setSlice(3)
    assert imp.getProcessor().getPixelValue(4, 3) == 12


def test_convert_turns_a_tomogram_into_a_calibrated_imagej_stack(ij, tmp_path):
    """Plain ImageJ reads no MRC: emseg convert writes the tomogram as a stack ImageJ opens with
    its voxel size (Fiji's Open Microscope File... on a tomogram)."""
    import subprocess
    import sys

    from emseg.io import write_mrc

    rng = np.random.default_rng(0)
    tomo = rng.normal(0, 1, (6, 20, 24)).astype(np.float32)
    signed = rng.integers(-100, 100, (5, 8, 9)).astype(np.int8)
    write_mrc(tmp_path / "t.mrc", tomo, (2.2, 2.2, 2.2))
    write_mrc(tmp_path / "s.mrc", signed, (3.0, 1.5, 1.5))
    r = subprocess.run([sys.executable, "-m", "emseg", "convert", str(tmp_path / "t.mrc"),
                        str(tmp_path / "s.mrc"), "--output", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "24x20x6, voxel size 2.2 nm from MRC header" in r.stdout
    imp = ij.IJ.openImage(str(tmp_path / "out" / "t.tif"))
    cal = imp.getCalibration()
    assert imp.getNSlices() == 6 and imp.getBitDepth() == 32 and str(cal.getUnit()) == "nm"
    assert (cal.pixelWidth, cal.pixelHeight, cal.pixelDepth) == pytest.approx((2.2, 2.2, 2.2))
    imp.setSlice(4)
    assert imp.getProcessor().getPixelValue(7, 5) == pytest.approx(float(tomo[3, 5, 7]))
    back, size, _ = read_volume(tmp_path / "out" / "s.tif")
    np.testing.assert_array_equal(back, signed.astype(np.float32))     # negative values kept
    assert size == pytest.approx((3.0, 1.5, 1.5))


def write_ome_zarr_volume(path, volume, voxel_size_um, *, zarr_format=2):
    """An OME-Zarr tomogram as the CryoET Data Portal and bioformats2raw write them: one
    level (NGFF 0.4 on zarr v2, 0.5 on zarr v3), axes in micrometres, a scale transform."""
    import zarr

    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    level = group.create_array("0", shape=volume.shape, dtype=volume.dtype,
                               chunks=(8, 32, 32))
    level[:] = volume
    multiscales = [{
        "version": "0.4" if zarr_format == 2 else "0.5", "name": "tomogram",
        "axes": [{"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": list(voxel_size_um)}]}]}]
    if zarr_format == 2:
        group.attrs["multiscales"] = multiscales
    else:
        for m in multiscales:
            m.pop("version")
        group.attrs["ome"] = {"version": "0.5", "multiscales": multiscales}
    return path


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_ome_zarr_volume_read_in_parts_with_its_voxel_size(tmp_path, zarr_format):
    volume = np.random.default_rng(0).normal(size=(12, 40, 50)).astype(np.float32)
    path = write_ome_zarr_volume(tmp_path / "t.ome.zarr", volume, (0.0031, 0.0022, 0.0022),
                                 zarr_format=zarr_format)
    data, size, meta = read_volume(path)
    assert not isinstance(data, np.ndarray)              # read when sliced
    np.testing.assert_array_equal(np.asarray(data[3:7, 5:30]), volume[3:7, 5:30])
    assert size == pytest.approx((3.1, 2.2, 2.2))
    assert meta["voxel_size"] == size and meta["pixel_size_source"] == "OME-Zarr scale"
    assert meta["axes"] == "ZYX" and image_shape(path) == ((12, 40, 50), "ZYX")
    from emseg.workflows import load_volume
    whole, _, _ = load_volume(path)                      # the in-memory run reads it whole
    assert isinstance(whole, np.ndarray)
    np.testing.assert_array_equal(whole, volume)
    lazy, _, _ = load_volume(path, lazy=True)
    assert not isinstance(lazy, np.ndarray)


def test_a_2d_ome_zarr_is_not_a_volume(tmp_path):
    import zarr

    group = zarr.open_group(str(tmp_path / "i.ome.zarr"), mode="w", zarr_format=2)
    group.create_array("0", shape=(30, 40), dtype=np.uint8, chunks=(16, 16))[:] = 7
    group.attrs["multiscales"] = [{"version": "0.4", "axes": [
        {"name": n, "type": "space", "unit": "micrometer"} for n in "yx"],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [0.004, 0.004]}]}]}]
    with pytest.raises(ImageReadError, match=r"a volume \(z, y, x\) is needed"):
        read_volume(tmp_path / "i.ome.zarr")
    assert image_shape(tmp_path / "i.ome.zarr") == ((30, 40), "YX")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(ImageReadError, match="empty.zarr"):
        read_volume(tmp_path / "empty.zarr")
