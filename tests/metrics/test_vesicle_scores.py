"""CryoVesNet's evaluation columns on label volumes with known answers."""

import numpy as np
import pytest

from emseg.metrics import center_detection, vesicle_scores


def balls(shape, centres, radii):
    zz, yy, xx = np.indices(shape)
    out = np.zeros(shape, np.int32)
    for k, (c, r) in enumerate(zip(centres, radii), start=1):
        out[(zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= r * r] = k
    return out


CENTRES = [(10, 10, 10), (10, 10, 30), (10, 30, 10), (10, 30, 30)]


def test_perfect_shifted_and_missing_vesicles():
    truth = balls((20, 40, 40), CENTRES, [6, 6, 6, 6])
    s = vesicle_scores(truth, truth, voxel_size=2.0, mask=truth > 0)
    assert (s["TP"], s["FN"], s["FP"], s["F1"], s["Dice"], s["Mask Dice"]) == (4, 0, 0, 1, 1, 1)
    assert s["delta_d"] == 0 and s["Delta_c"] == 0
    # three found (one shifted by one voxel in x, one smaller), one missing, one false
    pred = balls((20, 40, 40), [(10, 10, 11), (10, 10, 30), (10, 30, 10), (3, 3, 36)],
                 [6, 6, 4, 2])
    s = vesicle_scores(pred, truth, voxel_size=(1.0, 1.0, 2.0))
    assert (s["TP"], s["FN"], s["FP"]) == (3, 1, 1)
    assert s["F1"] == pytest.approx(6 / 8)
    assert s["Delta_c"] == pytest.approx(2.0 / 3)            # 2 nm for one of three
    small, big = (pred == 3).sum(), (truth == 3).sum()
    assert s["delta_d"] == pytest.approx((1 - np.cbrt(small / big)) / 3)
    assert np.isnan(s["Mask Dice"])
    # the same pairs as center_detection
    c = center_detection(pred, truth, pixel_size=(1.0, 1.0, 2.0))
    assert (c["TP"], c["FP"], c["FN"], c["Residual"]) == (3, 1, 1, pytest.approx(2.0 / 3))


def test_two_predictions_in_one_vesicle_count_once_and_bad_input():
    truth = balls((20, 40, 40), CENTRES[:1], [8])
    pred = np.zeros_like(truth)
    pred[5:15, 5:15, 4:10] = 1
    pred[5:15, 5:15, 11:16] = 2
    s = vesicle_scores(pred, truth, voxel_size=1.0)
    assert (s["TP"], s["FP"], s["FN"]) == (1, 1, 0)
    s = vesicle_scores(pred, truth, voxel_size=1.0, pred_diameters={1: 16.0, 2: 16.0})
    assert s["delta_d"] == pytest.approx(1 - min(16, np.cbrt(6 * truth.sum() / np.pi))
                                         / max(16, np.cbrt(6 * truth.sum() / np.pi)))
    with pytest.raises(ValueError, match="must be 3D"):
        vesicle_scores(pred[0], truth[0], voxel_size=1.0)
    with pytest.raises(ValueError, match="mask shape"):
        vesicle_scores(pred, truth, voxel_size=1.0, mask=np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="voxel_size"):
        vesicle_scores(pred, truth, voxel_size=0)
