"""The shell-intensity global threshold on synthetic tomograms whose answer is known."""

import numpy as np
import pytest

from emseg.segment.vesicles import logit_thresholds, shell_intensity, shell_threshold
from emseg.synthetic import synapse_tomogram


def saturating_probability(tomo, overshoot_nm=3.0, steepness=2.0):
    """What a saturating network outputs: a sigmoid of the distance to each vesicle's outer edge
    that is still rising ``overshoot_nm`` outside the membrane."""
    zz, yy, xx = np.meshgrid(*(np.arange(n) for n in tomo.labels.shape), indexing="ij")
    logit = np.full(tomo.labels.shape, -50.0)
    for c, r in zip(tomo.centres, tomo.radii):
        d = np.sqrt((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2) * tomo.voxel_size
        logit = np.maximum(logit, steepness * (r + overshoot_nm - d))
    return 1 / (1 + np.exp(-logit))


@pytest.fixture(scope="module")
def case():
    tomo = synapse_tomogram((40, 80, 80), voxel_size=2.2, n_vesicles=20, snr=3.0, seed=11)
    return tomo, saturating_probability(tomo)


def dice(a, b):
    return 2 * np.sum(a & b) / (a.sum() + b.sum())


def test_cryovesnet_grid_ends_at_its_last_value_the_logit_search_inside(case):
    tomo, prob = case
    cvn, _ = shell_threshold(prob, tomo.volume, thresholds=np.arange(0.80, 0.995, 0.01))
    assert cvn == pytest.approx(0.99)               # the grid's end: no optimum inside it
    ours, table = shell_threshold(prob, tomo.volume)
    assert 0.99 < ours < table[-1, 0]               # inside the logit range, beyond 0.99
    # where the chosen mask's boundary lies, from the known probability profile: on the
    # membrane (outer edge r minus 4.5 nm .. r) for ours, outside it for the grid's end
    def boundary_nm(t):
        return 3.0 - np.log(t / (1 - t)) / 2.0      # d - r where the sigmoid crosses t
    assert -4.5 < boundary_nm(ours) < 0 < boundary_nm(cvn)
    shell_mean = dict(zip(table[:, 0].round(9), table[:, 1]))[round(ours, 9)]
    assert shell_mean < shell_threshold(prob, tomo.volume, thresholds=[cvn])[1][0, 1] - 1.0
    assert dice(prob > ours, tomo.labels > 0) > 0.85


def test_logit_thresholds_are_even_in_the_logit():
    t = logit_thresholds(0.5, 1 - 1e-6, 7)
    logit = np.log(t / (1 - t))
    np.testing.assert_allclose(np.diff(logit), np.diff(logit)[0])
    assert t[0] == pytest.approx(0.5) and t[-1] == pytest.approx(1 - 1e-6)
    with pytest.raises(ValueError, match="low"):
        logit_thresholds(0.9, 0.5)


def test_shell_intensity_of_a_known_cube():
    vol = np.zeros((9, 9, 9))
    mask = np.zeros(vol.shape, bool)
    mask[2:7, 2:7, 2:7] = True
    vol[mask] = -1.0
    vol[3:6, 3:6, 3:6] = 5.0                         # the eroded core is bright
    mean, count = shell_intensity(mask, vol)
    assert count == 125 - 27 and mean == -1.0


def test_bad_input_and_empty_maps(case):
    tomo, prob = case
    with pytest.raises(ValueError, match="differ in shape"):
        shell_threshold(prob[:-1], tomo.volume)
    with pytest.raises(ValueError, match="thresholds"):
        shell_threshold(prob, tomo.volume, thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="holds no vesicles"):
        shell_threshold(np.zeros_like(prob), tomo.volume)


def balls(shape, centres, radii, offsets, steepness=2.0):
    """A probability map of balls: sigmoid(steepness * (r - d) + offset), the largest per voxel."""
    grid = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    logit = np.full(shape, -50.0)
    for c, r, o in zip(centres, radii, offsets):
        d = np.sqrt(sum((g - ci) ** 2 for g, ci in zip(grid, c)))
        logit = np.maximum(logit, steepness * (r - d) + o)
    return 1 / (1 + np.exp(-logit))


def test_adaptive_threshold_splits_a_merged_chain_and_grows_a_weak_vesicle():
    from emseg.segment.vesicles import adaptive_threshold
    from scipy import ndimage as ndi
    single = [(10 + 20 * (k % 4), 10 + 20 * (k // 4), 70) for k in range(8)]
    chain = [(40 + 6.4 * k, 12 + 6.4 * k, 12 + 6.4 * k) for k in range(3)]   # touching, diagonal
    weak = [(70, 70, 40)]
    centres = single + chain + weak
    prob = balls((90, 90, 90), centres, [6.0] * 12, [0.0] * 11 + [-4.0])
    merged = ndi.label(prob > 0.5)[1]
    assert merged == 10                                  # the chain is one segment at 0.5
    labels, cut = adaptive_threshold(prob, 0.5)
    assert labels.max() == 12 and len(cut) == 13
    com = np.array(ndi.center_of_mass(labels > 0, labels, np.arange(1, 13)))
    for c in centres:                                    # every ball found once, in place
        assert np.min(np.linalg.norm(com - np.asarray(c), axis=1)) < 1.5
    lab_of = {tuple(np.round(c)): labels[tuple(np.round(c).astype(int))] for c in centres}
    chain_labels = [lab_of[tuple(np.round(c))] for c in chain]
    assert len(set(chain_labels)) == 3 and all(cut[k] > 0.5 for k in chain_labels)
    # the split pieces share the merged segment out: together they are all of it
    merged_mask = ndi.label(prob > 0.5)[0] == ndi.label(prob > 0.5)[0][tuple(np.round(chain[1]).astype(int))]
    assert np.array_equal(np.isin(labels, chain_labels), merged_mask)
    w = lab_of[tuple(np.round(weak[0]))]
    assert cut[w] < 0.5
    assert (labels == w).sum() > 2 * (prob > 0.5)[60:80, 60:80, 30:50].sum()   # it grew
    for c in single:
        assert cut[lab_of[tuple(np.round(c))]] == 0.5    # ordinary segments keep the global one


def test_adaptive_threshold_edge_cases():
    from emseg.segment.vesicles import adaptive_threshold
    labels, cut = adaptive_threshold(np.zeros((8, 8, 8)), 0.5)
    assert labels.max() == 0 and cut.shape == (1,)
    with pytest.raises(ValueError, match="threshold"):
        adaptive_threshold(np.zeros((8, 8, 8)), 1.5)


def test_relabel_in_place_plane_by_plane_equals_indexing():
    from emseg.segment.vesicles import relabel

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 50, (4, 9, 11)).astype(np.int32)
    lut = rng.permutation(50).astype(np.int32)
    expected = lut[labels]
    out = relabel(labels, lut)
    assert out is labels and np.array_equal(labels, expected)
    flat = rng.integers(0, 50, (9, 11)).astype(np.int32)
    assert np.array_equal(relabel(flat.copy(), lut), lut[flat])


def test_relabel_writes_through_a_strided_view():
    from emseg.segment.vesicles import relabel

    base = np.zeros((4, 6, 8), np.int32)
    base[::2, 1:5, ::3] = 1
    view = base[::2, 1:5, ::3]                      # not contiguous: no reshape view exists
    relabel(view, np.array([0, 5], np.int32))
    assert np.all(base[::2, 1:5, ::3] == 5) and base.sum() == 5 * view.size


def test_shell_threshold_reads_maps_larger_than_memory_slab_by_slab(tmp_path):
    """A zarr probability map and tomogram (what a chunked run keeps on disk) give the
    in-memory search's table, and are never read whole."""
    import zarr
    from scipy import ndimage as ndi

    tomo = synapse_tomogram((40, 64, 64), voxel_size=2.2, n_vesicles=12, snr=3.0, seed=5)
    prob = ndi.gaussian_filter((tomo.labels > 0).astype(np.float32), 1.0)
    t_mem, table_mem = shell_threshold(prob, tomo.volume)

    class Counted:
        """A zarr array that records the largest read."""

        def __init__(self, array):
            self.array, self.largest = array, 0
            self.shape, self.dtype = array.shape, array.dtype

        def __getitem__(self, key):
            part = self.array[key]
            self.largest = max(self.largest, part.size)
            return part

    stores = []
    for name, data in (("prob", prob), ("volume", tomo.volume)):
        z = zarr.open_array(tmp_path / f"{name}.zarr", mode="w", shape=data.shape,
                            chunks=(8, 64, 64), dtype=data.dtype)
        z[:] = data
        stores.append(Counted(z))
    t_lazy, table_lazy = shell_threshold(*stores)
    assert t_lazy == t_mem
    np.testing.assert_allclose(table_lazy, table_mem, rtol=1e-12)
    assert 0 < max(s.largest for s in stores) < prob.size


def test_adaptive_threshold_in_chunks_equals_in_memory(tmp_path):
    """A zarr map labelled chunk by chunk into a zarr array: the segments, splits, growths and
    thresholds of the in-memory run, with chunks that cut the segments."""
    import zarr

    from emseg.segment.vesicles import adaptive_threshold

    single = [(10 + 20 * (k % 4), 10 + 20 * (k // 4), 70) for k in range(8)]
    chain = [(40 + 6.4 * k, 12 + 6.4 * k, 12 + 6.4 * k) for k in range(3)]
    weak = [(70, 70, 40)]
    prob = balls((90, 90, 90), single + chain + weak, [6.0] * 12, [0.0] * 11 + [-4.0])
    prob = prob.astype(np.float32)
    want, want_cut = adaptive_threshold(prob, 0.5, floor=0.1)
    assert want.max() == 12
    src = zarr.open_array(tmp_path / "p.zarr", mode="w", shape=prob.shape, chunks=(32,) * 3,
                          dtype="f4")
    src[:] = prob
    out = zarr.open_array(tmp_path / "l.zarr", mode="w", shape=prob.shape, chunks=(32,) * 3,
                          dtype="i4")
    got, cut = adaptive_threshold(src, 0.5, floor=0.1, out=out, chunk_shape=(24, 40, 32))
    assert got is out
    np.testing.assert_array_equal(out[:], want)
    np.testing.assert_array_equal(cut, want_cut)


def test_growth_and_shape_filter_in_chunks_equal_in_memory(tmp_path):
    """grow_labels and the final shape filter on a zarr label volume: box by box and chunk by
    chunk, the in-memory labels and thresholds."""
    import zarr

    from emseg.models import VESICLE_DEFAULTS
    from emseg.segment.vesicles import adaptive_threshold, grow_labels
    from emseg.segment.volume import _drop_small, _keep_vesicle_shapes

    centres = [(12 + 22 * (k % 3), 14 + 20 * (k // 3), 30 + 5 * k) for k in range(9)]
    prob = balls((60, 80, 90), centres, [5.0 + (k % 4) for k in range(9)], [0.0] * 9)
    prob = prob.astype(np.float32)
    labels, cut = adaptive_threshold(prob, 0.9)
    lazy = zarr.open_array(tmp_path / "l.zarr", mode="w", shape=prob.shape,
                           chunks=(16, 32, 32), dtype="i4")
    lazy[:] = labels
    chunk = (20, 30, 25)
    grow_labels(prob, labels, 0.3, margin=3)
    grow_labels(prob, lazy, 0.3, margin=3, chunk_shape=chunk)
    np.testing.assert_array_equal(lazy[:], labels)
    options = {**VESICLE_DEFAULTS, "min_diameter_nm": 12.0}     # a ball of 905 voxels
    want, want_cut = _keep_vesicle_shapes(labels, cut, 1.0, options)
    got, got_cut = _keep_vesicle_shapes(lazy, cut, 1.0, options, chunk_shape=chunk)
    assert want.max() == 6                                       # the 3 smallest went
    np.testing.assert_array_equal(got[:], want)
    np.testing.assert_array_equal(got_cut, want_cut)
    want, want_cut = _drop_small(want, want_cut, 2000)
    got, got_cut = _drop_small(got, got_cut, 2000, chunk_shape=chunk)
    assert want.max() == 2
    np.testing.assert_array_equal(got[:], want)
    np.testing.assert_array_equal(got_cut, want_cut)
