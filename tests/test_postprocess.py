"""emseg.postprocess: watershed splitting and small-object removal on known shapes."""

import numpy as np
import pytest

from emseg.postprocess import distance_watershed, remove_small_objects


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
