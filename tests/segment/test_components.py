"""emseg.segment.components: chunked connected components equal scipy's whole-array labelling."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from emseg.segment.components import label_components


def _cases():
    rng = np.random.default_rng(0)
    for seed, shape in enumerate([(97, 83), (64, 64), (23, 41, 37), (16, 48, 48)]):
        r = np.random.default_rng(seed)
        smooth = ndi.gaussian_filter(r.random(shape), 1.5)
        yield smooth, float(np.quantile(smooth, 0.55))
    yield rng.random((40, 50)), 0.6                     # speckle: many tiny components
    yield rng.random((12, 20, 20)), 0.7


@pytest.mark.parametrize("full", [True, False], ids=["all neighbours", "faces only"])
def test_chunked_labels_and_statistics_equal_whole_array(full):
    compared = 0
    for data, threshold in _cases():
        ndim = data.ndim
        structure = ndi.generate_binary_structure(ndim, ndim if full else 1)
        want, n = ndi.label(data > threshold, structure=structure)
        boxes = ndi.find_objects(want)
        counts = np.bincount(want.ravel(), minlength=n + 1)
        for chunk in (7, 16, (5, 40, 9)[:ndim], 1000):
            out = np.full(data.shape, -1, np.int32)
            comps = label_components(data, out, chunk_shape=chunk, threshold=threshold,
                                     connectivity=ndim if full else 1)
            assert comps.n == n
            np.testing.assert_array_equal(out, want)          # same numbers, raster order
            np.testing.assert_array_equal(comps.counts[1:], counts[1:])
            assert comps.boxes() == boxes
            firsts = [int(np.flatnonzero(want.ravel() == k)[0]) for k in range(1, n + 1)]
            np.testing.assert_array_equal(comps.first[1:], firsts)
            compared += n
    assert compared > 300


def test_reads_and_writes_zarr_chunk_by_chunk(tmp_path):
    import zarr

    data = ndi.gaussian_filter(np.random.default_rng(3).random((30, 60, 60)), 2.0)
    src = zarr.open_array(tmp_path / "data.zarr", mode="w", shape=data.shape,
                          chunks=(10, 20, 20), dtype="f8")
    src[:] = data
    out = zarr.open_array(tmp_path / "labels.zarr", mode="w", shape=data.shape,
                          chunks=(10, 20, 20), dtype="i4")
    seen = []
    comps = label_components(src, out, chunk_shape=(10, 20, 20), threshold=0.5,
                             progress=lambda d, t: seen.append((d, t)))
    want, n = ndi.label(data > 0.5, structure=np.ones((3, 3, 3), bool))
    assert comps.n == n > 1
    np.testing.assert_array_equal(out[:], want)
    assert seen[-1] == (2 * 27, 2 * 27)


def test_errors_name_the_argument():
    data = np.zeros((8, 8))
    with pytest.raises(ValueError, match="out"):
        label_components(data, np.zeros((8, 9), np.int32), chunk_shape=4)
    with pytest.raises(TypeError, match="out"):
        label_components(data, np.zeros((8, 8), np.int64), chunk_shape=4)
    with pytest.raises(ValueError, match="connectivity"):
        label_components(data, np.zeros((8, 8), np.int32), chunk_shape=4, connectivity=3)
    with pytest.raises(ValueError, match="2D or 3D"):
        label_components(np.zeros(5), np.zeros(5, np.int32), chunk_shape=4)
    with pytest.raises(ValueError, match="chunk_shape"):
        label_components(data, np.zeros((8, 8), np.int32), chunk_shape=0)


def test_label_stats_relabel_and_largest_label_equal_in_memory():
    from emseg.segment.components import label_stats, largest_label, relabel_chunks

    labels, n = ndi.label(ndi.gaussian_filter(np.random.default_rng(2).random((20, 50, 40)),
                                              1.5) > 0.52)
    labels = labels.astype(np.int32)
    labels[labels == 3] = 0                                  # a missing label: box None
    counts, boxes = label_stats(labels, n, chunk_shape=(7, 16, 16))
    np.testing.assert_array_equal(counts[1:], np.bincount(labels.ravel(), minlength=n + 1)[1:])
    assert boxes == ndi.find_objects(labels, max_label=n) and boxes[2] is None
    # n unknown: found in the same pass (the chunks' largest labels come in any order)
    counts_u, boxes_u = label_stats(labels, None, chunk_shape=(7, 16, 16))
    np.testing.assert_array_equal(counts_u, counts)
    assert boxes_u == boxes
    assert label_stats(np.zeros((4, 5), np.int32), None, chunk_shape=3)[0].tolist() == [0]
    assert largest_label(labels, chunk_shape=9) == labels.max() == n
    lut = np.arange(n + 1, dtype=np.int32)[::-1].copy()
    lut[0] = 0
    want = lut[labels]
    relabel_chunks(labels, lut, chunk_shape=(7, 16, 16))
    np.testing.assert_array_equal(labels, want)
    with pytest.raises(ValueError, match="above n"):
        label_stats(labels, 2, chunk_shape=8)


@pytest.mark.parametrize("min_size", [2, 5, 40])
def test_small_components_left_out_as_after_the_whole_labelling(min_size):
    """min_size drops specks inside a chunk at once and small components across chunks at
    the end: scipy's labels with the small ones removed and the rest renumbered in order."""
    for data, threshold in _cases():
        ndim = data.ndim
        want, n = ndi.label(data > threshold, structure=np.ones((3,) * ndim, bool))
        counts = np.bincount(want.ravel(), minlength=n + 1)
        keep = np.flatnonzero(counts >= min_size)
        keep = keep[keep > 0]
        lut = np.zeros(n + 1, np.int32)
        lut[keep] = np.arange(1, keep.size + 1)
        want = lut[want]
        for chunk in (7, (5, 40, 9)[:ndim]):
            out = np.full(data.shape, -1, np.int32)
            comps = label_components(data, out, chunk_shape=chunk, threshold=threshold,
                                     min_size=min_size)
            assert comps.n == keep.size
            np.testing.assert_array_equal(out, want)
            np.testing.assert_array_equal(comps.counts[1:], counts[keep])
    with pytest.raises(ValueError, match="min_size"):
        label_components(data, np.zeros(data.shape, np.int32), chunk_shape=8, min_size=0)
