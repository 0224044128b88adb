"""The volume pipeline (segment_volume) with a network whose answer is known: one block covers
the volume, so an oracle can return the probability it was built with."""

import numpy as np
import pytest

from emseg.models.config import VESICLE_DEFAULTS
from emseg.segment import segment_volume
from emseg.segment.vesicles import _shell_means, logit_thresholds, shell_intensity


def balls(shape, centres, radii):
    zz, yy, xx = np.indices(shape)
    labels = np.zeros(shape, np.int32)
    dist = np.full(shape, np.inf)
    for k, (c, r) in enumerate(zip(centres, radii), start=1):
        d = np.sqrt((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2)
        labels[(d <= r) & (d < dist)] = k
        dist = np.minimum(dist, d - r)
    return labels, dist                  # dist: signed distance to the nearest ball's surface


def tomogram(labels, dist, seed=0):
    """Dark membranes (the outer 2 voxels of every ball) on a grey background."""
    rng = np.random.default_rng(seed)
    membrane = (dist > -2) & (dist <= 0)
    return (1.0 - 0.8 * membrane + rng.normal(0, 0.05, labels.shape)).astype(np.float32)


class Oracle:
    """A network that returns a fixed probability map (the volume fits one block)."""

    def __init__(self, prob):
        self.prob = prob
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
        out = np.zeros(batch.shape, np.float32)
        z, y, x = self.prob.shape
        out[0, :z, :y, :x, 0] = self.prob
        return out


def meta(tile=64, pixel=2.0, **post):
    return {"name": "oracle", "task": "segmentation",
            "input": {"axes": "bzyxc", "divisor": 4}, "output": {"classes": ["vesicle"]},
            "pixel_size_nm": pixel, "tile_size": tile, "halo": 0,
            "normalization": {"mode": "image", "low": 1.0, "high": 99.0}, "threshold": 0.5,
            # the segmentation steps alone unless asked: the refinement has its own tests
            "postprocess": {**VESICLE_DEFAULTS, "refine": False, **post}}


CENTRES = [(16, 16, 16), (16, 16, 44), (16, 44, 16), (16, 44, 44)]


@pytest.fixture(scope="module")
def four():
    labels, dist = balls((32, 60, 60), CENTRES, [8, 9, 10, 8])
    return labels, dist, tomogram(labels, dist)


def test_oracle_vesicles_come_back_one_by_one_with_their_thresholds(four):
    labels, dist, volume = four
    prob = 1 / (1 + np.exp(-2.0 * (-dist)))           # 0.5 on the surface, saturating inside
    seg = segment_volume(volume, Oracle(prob), meta(), voxel_size=2.0)
    assert seg.labels.shape == volume.shape and seg.labels.dtype == np.int32
    assert seg.labels.max() == 4
    for k in range(1, 5):                             # each found vesicle overlaps one truth
        found = np.unique(labels[seg.labels == k])
        assert len(found[found > 0]) == 1
    # the darkest shell is the membrane band: the chosen threshold lies between the surface
    # (0.5) and 2 voxels inside it (sigmoid(4) = 0.982)
    assert 0.5 < seg.threshold < 0.99
    assert np.allclose(seg.thresholds[1:], seg.threshold)
    assert seg.shell_table.shape == (VESICLE_DEFAULTS["shell_steps"], 3)


def test_touching_vesicles_merged_by_the_global_threshold_are_split_locally():
    # a diagonal chain of three overlapping vesicles (extent 0.18: not one ball) and four
    # small separate ones; the probability peaks at each centre, so the necks (0.65) merge
    # the chain at 0.4 and any threshold above 0.65 separates its cores
    centres = [(10, 10, 10), (16, 16, 16), (22, 22, 22), (6, 26, 6), (26, 6, 26), (6, 6, 26),
               (26, 26, 6)]
    radii = [6, 6, 6, 4, 4, 4, 4]
    labels, dist = balls((32, 32, 32), centres, radii)
    zz, yy, xx = np.indices(labels.shape)
    prob = np.full(labels.shape, 0.05)
    for c, r in zip(centres, radii):
        d = np.sqrt((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2)
        prob = np.maximum(prob, np.where(d <= r, 0.6 + 0.39 * (1 - d / r), 0))
    volume = tomogram(labels, dist)
    small = {"min_diameter_nm": 10.0}
    merged = segment_volume(volume, Oracle(prob), meta(threshold_rule="fixed", z_split=99.0,
                                                       keep_min_extent=0.05, **small),
                            voxel_size=2.0, threshold=0.4)
    assert merged.labels.max() == 5
    assert len(np.unique(merged.labels[labels >= 1][labels[labels >= 1] <= 3])) == 1
    # without the split, CryoVesNet's final filter drops the chain (extent < 0.25)
    dropped = segment_volume(volume, Oracle(prob), meta(threshold_rule="fixed", z_split=99.0,
                                                        **small), voxel_size=2.0, threshold=0.4)
    assert dropped.labels.max() == 4 and not dropped.labels[(labels >= 1) & (labels <= 3)].any()
    split = segment_volume(volume, Oracle(prob), meta(threshold_rule="fixed", **small),
                           voxel_size=2.0, threshold=0.4)
    assert split.labels.max() == 7
    owners = [np.bincount(split.labels[labels == k]).argmax() for k in (1, 2, 3)]
    assert len(set(owners)) == 3 and 0 not in owners  # three vesicles, three labels
    assert all(0.65 < split.thresholds[o] < 0.99 for o in owners)
    # the watershed gives the split vesicles their full size back
    for k, o in zip((1, 2, 3), owners):
        assert np.sum(split.labels == o) > 0.8 * np.sum(labels == k)


def test_final_filter_drops_small_pieces_and_sheets(four):
    labels, dist, volume = four
    prob = 1 / (1 + np.exp(2.0 * dist))
    prob[2:30, 56:58, 2:58] = 0.99                     # a membrane sheet (extent 1.0 in its box
    prob[2:30, 56, 2:58] = 0.99                        # ... but far from a ball's volume)
    prob[28:30, 2:4, 2:4] = 0.99                       # a fragment of 8 voxels
    seg = segment_volume(volume, Oracle(prob), meta(min_voxels=4), voxel_size=2.0)
    assert seg.labels.max() == 4
    assert not seg.labels[:, 56:].any() and not seg.labels[28:, :4, :4].any()
    # vesicles smaller than min_diameter_nm go too (at 0.5 the four have 32, 36, 40, 32 nm)
    seg = segment_volume(volume, Oracle(prob), meta(min_diameter_nm=34.0), voxel_size=2.0,
                         threshold=0.5)
    assert seg.labels.max() == 2
    assert set(np.unique(labels[seg.labels > 0])) == {2, 3}


def test_region_mask_drops_vesicles_outside_it(four):
    labels, dist, volume = four
    prob = 1 / (1 + np.exp(2.0 * dist))
    region = np.zeros(volume.shape, bool)
    region[:, :30, :] = True                           # only the two balls with y = 16
    seg = segment_volume(volume, Oracle(prob), meta(), voxel_size=2.0, mask=region)
    assert seg.labels.max() == 2
    assert not seg.labels[:, 30:].any()
    assert not seg.probability[~region].any()


def test_voxel_size_rescaling_returns_labels_on_the_tomograms_grid(four):
    labels, dist, volume = four
    fine = np.repeat(np.repeat(np.repeat(volume, 2, 0), 2, 1), 2, 2)   # 1 nm voxels
    prob = 1 / (1 + np.exp(2.0 * dist))
    seg = segment_volume(fine, Oracle(prob), meta(tile=64, pixel=2.0), voxel_size=1.0)
    assert seg.labels.shape == fine.shape and seg.probability.shape == fine.shape
    assert seg.labels.max() == 4
    truth = np.repeat(np.repeat(np.repeat(labels, 2, 0), 2, 1), 2, 2)
    inter = np.sum((seg.labels > 0) & (truth > 0))
    assert 2 * inter / (np.sum(seg.labels > 0) + np.sum(truth > 0)) > 0.8


def test_bad_input_is_refused_with_the_argument_named(four):
    labels, dist, volume = four
    oracle = Oracle(1 / (1 + np.exp(2.0 * dist)))
    with pytest.raises(ValueError, match="volume must be 3D"):
        segment_volume(volume[0], oracle, meta(), voxel_size=2.0)
    with pytest.raises(ValueError, match="at least 2 voxels"):
        segment_volume(volume[:1], oracle, meta(), voxel_size=2.0)
    with pytest.raises(ValueError, match="mask shape"):
        segment_volume(volume, oracle, meta(), voxel_size=2.0, mask=np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="voxel_size"):
        segment_volume(volume, oracle, meta(), voxel_size=-1)
    with pytest.raises(ValueError, match="segments 2D images"):
        segment_volume(volume, oracle, {**meta(), "input": {"axes": "byxc"}}, voxel_size=2.0)
    with pytest.raises(ValueError, match="threshold_rule"):
        segment_volume(volume, oracle, meta(threshold_rule="brightest"), voxel_size=2.0)
    assert oracle.calls == 0                           # nothing ran before the checks


def test_one_pass_shell_means_equal_eroding_every_mask():
    rng = np.random.default_rng(3)
    labels, dist = balls((20, 40, 40), [(10, 12, 12), (10, 28, 26)], [6, 7])
    prob = np.clip(1 / (1 + np.exp(1.5 * dist)) + rng.normal(0, 0.02, labels.shape), 0, 1)
    volume = rng.normal(0, 1, labels.shape)
    th = logit_thresholds(0.3, 0.999, 25)
    # slabs of 7 planes and of one plane (a large plane's budget) cut the balls
    for erosion, slab_voxels in ((1, 7 * 40 * 40), (2, 7 * 40 * 40), (2, 1)):
        means, counts = _shell_means(prob, volume, th, erosion, slab_voxels=slab_voxels)
        for t, m, c in zip(th, means, counts):
            ref_m, ref_c = shell_intensity(prob > t, volume, erosion=erosion)
            assert c == ref_c
            assert m == pytest.approx(ref_m, abs=1e-9) if ref_c else np.isnan(m)


def test_growing_found_vesicles_restores_their_extent_without_merging():
    from emseg.segment.vesicles import grow_labels

    truth, dist = balls((24, 40, 60), [(12, 20, 18), (12, 20, 38)], [9, 9])   # touching
    prob = 1 / (1 + np.exp(2.0 * dist))
    cores = np.where(dist < -3, truth, 0).astype(np.int32)     # shrunk by 3 voxels
    grown = grow_labels(prob, cores.copy(), 0.5, margin=4)
    assert np.mean(grown[truth > 0] == truth[truth > 0]) > 0.97
    assert set(np.unique(grown)) == {0, 1, 2}
    assert not np.any((grown > 0) & (dist > 1))                 # not beyond the threshold
    limited = grow_labels(prob, cores.copy(), 0.5, margin=1)
    assert (limited > 0).sum() < (grown > 0).sum()
    with pytest.raises(ValueError, match="margin"):
        grow_labels(prob, cores.copy(), 0.5, margin=0)
