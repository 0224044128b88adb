"""emseg.postprocess: watershed splitting and small-object removal on known shapes."""

import numpy as np
import pytest

from emseg.segment.postprocess import distance_watershed, remove_small_objects


def discs(shape, centers, radius):
    rr, cc = np.indices(shape)
    return np.any([np.hypot(rr - r, cc - c) <= radius for r, c in centers], axis=0)


def test_two_touching_discs_split_at_the_neck():
    mask = discs((40, 70), [(20, 20), (20, 46)], 14)     # overlap: neck of 2 x ~7 px
    labels = distance_watershed(mask, h=1)
    assert labels.max() == 2
    assert np.array_equal(labels > 0, mask)               # every mask pixel kept
    left, right = labels[20, 10], labels[20, 56]
    assert left != right and left > 0 and right > 0
    # the boundary lies at the neck, midway between the centres
    boundary = np.flatnonzero(labels[20] == left).max()
    assert 31 <= boundary <= 34
    # a deep neck requirement keeps them together
    assert distance_watershed(mask, h=10).max() == 1


def test_separate_objects_and_tiny_components():
    mask = np.zeros((20, 20), bool)
    mask[2:8, 2:8] = True
    mask[15, 15] = True                                    # single pixel
    mask[12:14, 2:4] = True                                # 2x2 plateau: one seed
    labels = distance_watershed(mask, h=0.5, connectivity=8)
    assert labels.max() == 3 and np.array_equal(labels > 0, mask)
    assert distance_watershed(np.zeros((5, 5), bool)).max() == 0


def test_remove_small_objects():
    labels = np.zeros((10, 10), np.uint16)
    labels[0:2, 0:2] = 3          # 4 px
    labels[5:9, 5:9] = 7          # 16 px
    out = remove_small_objects(labels, 5)
    assert set(np.unique(out)) == {0, 7} and labels[0, 0] == 3   # input untouched
    assert np.array_equal(remove_small_objects(labels, 4), labels)


@pytest.mark.parametrize("call, match", [
    (lambda: distance_watershed(np.ones((4, 4), bool), h=-1), "h must be"),
    (lambda: distance_watershed(np.ones((4, 4), bool), connectivity=6), "connectivity"),
    (lambda: distance_watershed(np.ones(4, bool)), "mask must be 2D"),
    (lambda: remove_small_objects(np.ones((4, 4)), 2), "labels must be integers"),
    (lambda: remove_small_objects(np.ones((4, 4), int), "x"), "min_area"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# ---------------------------------------------------------------- FRU-Net / BAM chains

from emseg.segment import detect_databar  # noqa: E402
from emseg.segment.postprocess import (closing, fill_holes, postprocess,  # noqa: E402
                                       radon_split, remove_border_objects, smooth_boundaries,
                                       threshold_mask)


def test_threshold_border_closing_fill():
    prob = np.array([[0.2, 0.5, 0.7]])
    np.testing.assert_array_equal(threshold_mask(prob, 0.5), [[False, True, True]])
    with pytest.raises(ValueError, match="threshold"):
        threshold_mask(prob, 1.5)
    lab = np.zeros((10, 10), np.int32)
    lab[0:3, 0:3] = 1
    lab[4:7, 4:7] = 2
    lab[7:10, 8:10] = 3
    np.testing.assert_array_equal(np.unique(remove_border_objects(lab)), [0, 2])
    ring = discs((30, 30), [(15, 15)], 10) & ~discs((30, 30), [(15, 15)], 3)
    assert fill_holes(ring).sum() == discs((30, 30), [(15, 15)], 10).sum()
    gap = discs((30, 30), [(15, 15)], 10)
    gap[:, 15] = False                              # a one-pixel crack
    assert closing(gap, 2)[7:23, 15].all() and not closing(gap, 0)[7:23, 15].any()
    np.testing.assert_array_equal(closing(gap, 0), gap)
    # objects at the image edge are not eaten by the closing
    edge = np.zeros((20, 20), bool)
    edge[:, :6] = True
    np.testing.assert_array_equal(closing(edge, 2), edge)


def test_radon_split_two_touching_disks_but_not_one():
    two = discs((60, 90), [(30, 30), (30, 56)], 14)
    labels = radon_split(two, min_area=50)
    assert labels.max() == 2
    # the cut runs between the centres: each centre in its own object
    assert labels[30, 30] != labels[30, 56] and labels[30, 30] > 0 and labels[30, 56] > 0
    assert (labels > 0).sum() == two.sum()          # no pixel lost
    one = discs((60, 60), [(30, 30)], 20)
    assert radon_split(one, min_area=50).max() == 1
    ellipse = (np.indices((60, 100))[0] - 30) ** 2 / 15 ** 2 + (np.indices((60, 100))[1] - 50) ** 2 / 40 ** 2 <= 1
    assert radon_split(ellipse, min_area=50).max() == 1   # elongated, no neck
    three = discs((60, 130), [(30, 30), (30, 56), (30, 82)], 14)
    assert radon_split(three, min_area=50).max() == 3
    with pytest.raises(ValueError, match="depth"):
        radon_split(two, depth=1.5)


def test_smooth_boundaries_keeps_size_and_smooths():
    rng = np.random.default_rng(0)
    blob = discs((80, 80), [(40, 40)], 20)
    jagged = blob ^ (rng.random(blob.shape) < 0.05) & ~discs((80, 80), [(40, 40)], 17) & blob
    out = smooth_boundaries(jagged.astype(np.int32), 3, 0.4)
    assert abs(out.sum() - blob.sum()) / blob.sum() < 0.05
    from emseg.measure import measure
    circ = lambda lab: measure(lab, pixel_size=1.0)["Circ."].iloc[0]  # noqa: E731
    assert circ(out) > circ(jagged.astype(np.int32))
    two = np.zeros((40, 60), np.int32)
    two[10:30, 5:30] = 1
    two[10:30, 30:55] = 2
    out = smooth_boundaries(two, 3, 0.4)
    assert set(np.unique(out)) == {0, 1, 2}         # touching objects stay separate
    with pytest.raises(ValueError, match="threshold"):
        smooth_boundaries(two, 3, 1.0)


def test_detect_databar_on_synthetic_and_real_bars(bam_dir):
    from emseg.workflows import sample_files
    from emseg.io import read_image
    from emseg.synthetic import sem_agglomerates
    img = read_image(sample_files()[0])[0]
    assert detect_databar(img) == img.shape[0] - 48
    assert detect_databar(sem_agglomerates((300, 300), seed=1).image) is None
    assert detect_databar(np.random.default_rng(0).integers(0, 255, (200, 200))) is None
    for path in sorted((bam_dir / "sem").glob("*.tif"))[:4]:
        image = read_image(path)[0]
        row = detect_databar(image)
        # the BAM images' bar starts below row 704 (the annotated area) and
        # covers the text rows
        assert 704 <= row <= 715, (path.name, row)


def test_postprocess_chains_on_touching_discs():
    prob = discs((80, 120), [(40, 40), (40, 70)], 16).astype(np.float32)
    bam = postprocess(prob, 8.0, {"chain": "bam", "neck_nm": 8.0})
    assert bam.max() == 2 and bam.dtype == np.int32
    fru = postprocess(prob, 8.0, {"chain": "fru_net", "remove_border": True})
    assert fru.max() == 2
    # objects cut by the image edge: FRU-Net drops them by default, BAM keeps them
    edge = discs((80, 120), [(40, 40), (40, 110)], 16).astype(np.float32)
    assert postprocess(edge, 8.0, {"chain": "fru_net"}).max() == 1
    assert postprocess(edge, 8.0, {"chain": "bam"}).max() == 2
    assert postprocess(edge, 8.0, {"chain": "bam", "remove_border": True}).max() == 1
    # min area in nm^2 scales with the pixel size
    assert postprocess(prob, 8.0, {"min_area_nm2": 1e7}).max() == 0
    # back to a larger image: labels follow (nearest neighbour)
    big = postprocess(prob, 8.0, {"chain": "bam"}, output_shape=(160, 240))
    assert big.shape == (160, 240) and big.max() == 2
    # a predicted contact line splits even without a neck
    square = np.zeros((40, 80), np.float32)
    square[5:35, 5:75] = 1
    line = np.zeros_like(square)
    line[:, 39:41] = 1
    assert postprocess(square, 8.0, {"chain": "bam"}).max() == 1
    assert postprocess(square, 8.0, {"chain": "bam"}, boundary=line).max() == 2
    with pytest.raises(ValueError, match="unknown"):
        postprocess(prob, 8.0, {"chian": "bam"})
    with pytest.raises(ValueError, match="chain"):
        postprocess(prob, 8.0, {"chain": "magic"})


def _reference_watershed(mask, h, connectivity, boundary=None):
    """distance_watershed's definition, step by step for every component (no shortcuts)."""
    from scipy import ndimage as ndi
    from skimage.morphology import local_maxima, reconstruction
    from skimage.segmentation import watershed

    eight = np.ones((3, 3), bool)
    structure = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    dist = ndi.distance_transform_edt(mask & ~boundary if boundary is not None else mask)
    comps, _ = ndi.label(mask, structure=eight)
    labels = np.zeros(mask.shape, np.int32)
    n = 0
    for i, box in enumerate(ndi.find_objects(comps), start=1):
        own = comps[box] == i
        d = np.where(own, dist[box], 0.0)
        shaved = reconstruction(d - h, d, method="dilation") if h > 0 else d
        seeds, k = ndi.label(local_maxima(shaved, connectivity=2) & own, structure=eight)
        sub = (watershed(-d, seeds, mask=own, connectivity=1 if connectivity == 4 else 2)
               if k else np.zeros(own.shape, np.int32))
        rest, r = ndi.label(own & (sub == 0), structure=structure)
        sub = np.where(rest > 0, rest + k, sub)
        labels[box][own] = sub[own] + n
        n += k + r
    return labels


def test_shortcuts_give_the_step_by_step_split():
    """Components with one maximum in one piece are labelled without reconstruction and
    watershed, all at once: the labels must be those of every step run on every component."""
    from scipy import ndimage as ndi

    for seed in range(12):
        rng = np.random.default_rng(seed)
        smooth = ndi.gaussian_filter(rng.random((160, 160)), rng.uniform(1.5, 5))
        mask = smooth > np.quantile(smooth, rng.uniform(0.4, 0.7))
        boundary = rng.random(mask.shape) < 0.03 if seed % 3 == 0 else None
        for connectivity in (4, 8):
            for h in (0.0, 1.0, 2.5):
                want = _reference_watershed(mask, h, connectivity, boundary)
                got = distance_watershed(mask, h=h, connectivity=connectivity,
                                         boundary=boundary)
                np.testing.assert_array_equal(got, want)


def test_bam_chain_drops_small_components_exactly():
    """Components below the minimum area go before the split: the same objects as splitting
    them and removing their (smaller) objects afterwards; components at the sides stay."""
    from scipy import ndimage as ndi

    from emseg.segment.postprocess import _drop_small_components, _renumber

    rng = np.random.default_rng(4)
    prob = ndi.gaussian_filter(rng.random((300, 300)), 2.0)
    prob = ((prob - prob.min()) / np.ptp(prob)).astype(np.float32)
    options = {"chain": "bam", "min_area_nm2": 40 * 4.0, "neck_nm": 2.0}
    mask = fill_holes(prob >= 0.5)
    want = _renumber(remove_small_objects(distance_watershed(mask, h=1.0), 40))
    got = postprocess(prob, 2.0, options)
    np.testing.assert_array_equal(got, want)
    comps, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    dropped = mask & ~_drop_small_components(mask, 40)
    sizes = np.bincount(comps[dropped])
    assert dropped.any() and sizes[sizes > 0].max() < 40
    sides = np.unique(np.concatenate([comps[0], comps[-1], comps[:, 0], comps[:, -1]]))
    small_at_sides = [s for s in sides if s and np.sum(comps == s) < 40]
    assert small_at_sides                                    # there are some, and they stay
    assert not np.isin(comps[dropped], sides).any()
