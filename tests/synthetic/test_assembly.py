"""emseg.synthetic.assembly: shape crops at one scale, mask assembly with exact counts and a
bound on the hidden fraction, the artifact filter on constructed cases."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.draw import disk, ellipse

from emseg.synthetic.assembly import assemble_mask, clean_shape, filter_artifacts, shape_crops

CROSS = ndi.generate_binary_structure(2, 1)


def _ellipses(n, seed=0, size=64):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = np.zeros((size, size), bool)
        rr, cc = ellipse(size // 2, size // 2, rng.uniform(8, 26), rng.uniform(8, 26),
                         shape=m.shape, rotation=rng.uniform(0, np.pi))
        m[rr, cc] = True
        out.append(m)
    return out


def test_shape_crops_share_one_scale_and_are_centred():
    a = np.zeros((30, 30), bool)
    a[5:25, 10:20] = True                       # 20 x 10 box
    b = np.zeros((200, 200), bool)
    b[100:140, 50:60] = True                    # 40 x 10 box: the longest side
    crops, scale = shape_crops([a, b], 64, margin=4)
    assert scale == pytest.approx(56 / 40)
    rows = np.flatnonzero(crops[1].any(1))
    assert len(rows) == 56 and rows[0] == 4             # fills size - 2 margin, centred
    assert abs(crops[0].sum() / crops[1].sum() - 0.5) < 0.05   # sizes keep their ratio
    with pytest.raises(ValueError, match=r"masks\[0\] holds no particle"):
        shape_crops([np.zeros((5, 5), bool)])
    with pytest.raises(ValueError, match="empty"):
        shape_crops([])


def test_clean_shape_fills_holes_and_keeps_the_largest_piece():
    m = np.zeros((40, 40), bool)
    rr, cc = disk((20, 20), 12)
    m[rr, cc] = True
    m[18:22, 18:22] = False                     # a hole
    m[2:4, 2:4] = True                          # a speck
    c = clean_shape(m)
    assert c[20, 20] and not c[3, 3] and ndi.label(c, CROSS)[1] == 1
    assert clean_shape(np.zeros((10, 10))) is None


@pytest.mark.parametrize("max_overlap", [0.5, 0.05])
def test_assembly_exact_count_separated_and_hidden_at_most_max_overlap(max_overlap):
    a = assemble_mask(_ellipses(8), (384, 384), 60, scale=1.6, max_overlap=max_overlap, seed=3)
    n = int(a.labels.max())
    assert n == 60 and a.requested == 60
    # the 4-connected pieces of the binary mask are exactly the particles
    assert ndi.label(a.labels > 0, CROSS)[1] == n
    assert set(np.unique(a.labels)) == set(range(n + 1))
    assert a.visible_fraction[1:].min() > 1 - max_overlap
    if max_overlap == 0.5:
        assert a.visible_fraction[1:].min() < 0.95      # agglomerates: some do hide others
    again = assemble_mask(_ellipses(8), (384, 384), 60, scale=1.6, max_overlap=max_overlap, seed=3)
    assert np.array_equal(a.labels, again.labels)       # seeded


def test_assembly_sizes_follow_the_scale_and_agglomerate_where_the_noise_is_high():
    shapes = [np.pad(np.ones((40, 40), bool), 12)]      # a 40 x 40 square
    a = assemble_mask(shapes, (256, 256), 10, scale=2.0, size_sd=0.0, rotate=False,
                      max_overlap=0.0, seed=1)
    areas = np.bincount(a.labels.ravel())[1:]
    assert np.all(areas == 20 * 20)                     # 40 px shapes at 2 px per pixel
    spread = assemble_mask(shapes, (256, 256), 10, scale=2.0, noise_threshold=0.0, seed=1)
    assert spread.labels.max() == 10


def test_assembly_gives_up_when_no_room_is_left():
    shapes = [np.pad(np.ones((40, 40), bool), 12)]
    a = assemble_mask(shapes, (64, 64), 50, scale=1.0, max_overlap=0.0, tries=20, seed=0)
    assert 1 <= a.labels.max() < 50 and a.requested == 50


@pytest.mark.parametrize("bad, match", [
    (dict(n_particles=0), "n_particles"), (dict(max_overlap=1.0), "max_overlap"),
    (dict(noise_threshold=1.5), "noise_threshold"), (dict(size_sd=0.5), "size_sd"),
    (dict(shape=(8, 8)), "shape"), (dict(shapes=[np.zeros((9, 9), bool)]), "no particle")])
def test_assembly_bad_input(bad, match):
    args = dict(shapes=_ellipses(2), shape=(64, 64), n_particles=5)
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        assemble_mask(args.pop("shapes"), args.pop("shape"), args.pop("n_particles"), **args)


def test_artifact_filter_drops_particles_the_image_did_not_draw():
    labels = np.zeros((64, 64), np.int32)
    for k, (r, c) in enumerate([(12, 12), (12, 44), (44, 12), (44, 44)], start=1):
        rr, cc = disk((r, c), 8)
        labels[rr, cc] = k
    rng = np.random.default_rng(0)
    image = rng.normal(40, 5, labels.shape)             # dark background (SEM)
    image[labels > 0] = rng.normal(190, 10, (labels > 0).sum())
    image[labels == 3] = rng.normal(42, 5, (labels == 3).sum())   # not drawn
    kept, threshold, dropped = filter_artifacts(image, labels)
    assert list(dropped) == [3] and kept.max() == 3 and 42 < threshold < 190
    assert np.array_equal(kept > 0, (labels > 0) & (labels != 3))
    for method in ("otsu", "mean"):
        assert list(filter_artifacts(image, labels, method=method)[2]) == [3]
    # the median of a mostly-background image is the background's: a weak rule, but as named
    assert filter_artifacts(image, labels, method="median")[1] == pytest.approx(np.median(image))
    bright = 255 - image                                # TEM: particles darker than background
    assert list(filter_artifacts(bright, labels, dark_background=False)[2]) == [3]
    with pytest.raises(ValueError, match="method"):
        filter_artifacts(image, labels, method="triangle")
    with pytest.raises(ValueError, match="shape"):
        filter_artifacts(image, labels[:10])


def test_clean_shape_can_drop_masks_touching_the_crop_border():
    full = np.ones((32, 32), bool)                  # an untrained GAN's "particle"
    assert clean_shape(full) is not None and clean_shape(full, drop_border=True) is None
    inner = np.pad(np.ones((20, 20), bool), 6)
    assert np.array_equal(clean_shape(inner, drop_border=True), clean_shape(inner))
