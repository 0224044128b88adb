"""emseg.models.data: patches, targets, validation split, augmentation."""

import numpy as np
import pytest

from emseg.models.data import augment, extract_patches, split_validation, targets
from emseg.segment import patch_starts


@pytest.mark.parametrize("length,size,overlap", [(400, 400, 100), (1000, 256, 64), (257, 256, 64),
                                                 (100, 256, 64)])
def test_patch_starts_cover_with_overlap(length, size, overlap):
    starts = patch_starts(length, size, overlap)
    assert starts[0] == 0
    covered = np.zeros(max(length, size), bool)
    for s in starts:
        covered[s:s + size] = True
    assert covered[:length].all()
    if length > size:
        assert starts[-1] == length - size
        assert all(b - a <= size - overlap for a, b in zip(starts, starts[1:]))


def test_extract_patches_pads_small_images():
    img = np.arange(30 * 50).reshape(30, 50)
    p = extract_patches(img, 64)
    assert p.shape == (1, 64, 64)
    np.testing.assert_array_equal(p[0, :30, :50], img)
    big = extract_patches(np.zeros((300, 200, 2)), 128, 32)
    assert big.shape[1:] == (128, 128, 2) and len(big) == 3 * 2


def test_targets_classes():
    lab = np.zeros((20, 30), np.int32)
    lab[5:15, 2:12] = 1
    lab[5:15, 12:22] = 2             # touches object 1 along column 11/12
    one = targets(lab, ["particle"])
    assert one.shape == (20, 30, 1) and one.sum() == (lab > 0).sum()
    two = targets(lab, ["particle", "boundary"])
    edge = two[..., 1] > 0
    assert (two[..., 0] == (lab > 0)).all()
    assert edge[lab == 0].sum() == 0
    assert edge[10, 10:14].all()     # the contact is at least two pixels wide on each side
    assert not edge[10, 6] and not edge[10, 17]   # interiors stay free
    multi = targets(np.array([[0, 1], [2, 2]]), ["a", "b"])
    np.testing.assert_array_equal(multi[..., 1], [[0, 0], [1, 1]])
    with pytest.raises(TypeError, match="mask"):
        targets(np.zeros((4, 4), np.float32), ["particle"])


def test_split_validation():
    train, val = split_validation(100, 0.1, seed=1)
    assert len(val) == 10 and len(train) == 90
    assert not set(train) & set(val)
    np.testing.assert_array_equal(split_validation(100, 0.1, seed=1)[1], val)
    assert len(split_validation(3, 0.1)[1]) == 1      # at least one patch aside
    with pytest.raises(ValueError, match="fraction"):
        split_validation(10, 1.0)


def test_augment_moves_image_and_target_together():
    rng = np.random.default_rng(3)
    img = np.zeros((64, 64), np.float32)
    img[10:30, 5:25] = 1
    tgt = img[..., None].copy()
    for seed in range(20):
        a, t = augment(img, tgt, np.random.default_rng(seed), intensity=0, noise=0)
        assert a.shape == img.shape and t.shape == tgt.shape
        assert set(np.unique(t)) <= {0.0, 1.0}          # targets stay binary
        inside = t[..., 0] > 0
        # the bright square and its target still coincide (up to interpolation edges)
        assert a[inside].mean() > 0.8 and a[~inside].mean() < 0.1
    a1, _ = augment(img, tgt, np.random.default_rng(5))
    a2, _ = augment(img, tgt, np.random.default_rng(5))
    np.testing.assert_array_equal(a1, a2)
    with pytest.raises(TypeError, match="rng"):
        augment(img, tgt, 3)
    with pytest.raises(ValueError, match="differ"):
        augment(img, tgt[:10], rng)
