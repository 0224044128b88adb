"""The vesicle table: centres in ImageJ's convention, volumes and equivalent diameters."""

import numpy as np
import pytest

from emseg.measure import VESICLE_COLUMNS, vesicle_table


def test_known_boxes_give_their_centres_volumes_and_diameters():
    labels = np.zeros((10, 20, 30), np.int32)
    labels[2:4, 5:9, 10:20] = 3            # 2 x 4 x 10 voxels
    labels[6, 1, 2] = 5                    # one voxel
    t = vesicle_table(labels, (3.0, 2.0, 1.0), thresholds=[np.nan, 0, 0, 0.9, 0, 0.7])
    assert list(t.columns) == list(VESICLE_COLUMNS)
    assert t["Label"].tolist() == [3, 5]   # missing numbers skipped
    a, b = t.iloc[0], t.iloc[1]
    # voxel i spans [i, i+1) x size: the box 10..19 in x has its centre at 15 nm
    assert (a.X, a.Y, a.Z) == pytest.approx((15.0, 7.0 * 2.0, 3.0 * 3.0))
    assert (b.X, b.Y, b.Z) == pytest.approx((2.5, 3.0, 19.5))
    assert a.Voxels == 80 and a.Volume == pytest.approx(80 * 6.0)
    assert a.EqDiameter == pytest.approx((6 * 480 / np.pi) ** (1 / 3))
    assert (a.Threshold, b.Threshold) == pytest.approx((0.9, 0.7))


def test_a_ball_has_its_own_diameter_and_bad_input_is_named():
    zz, yy, xx = np.indices((40, 40, 40))
    ball = ((zz - 20) ** 2 + (yy - 20) ** 2 + (xx - 20) ** 2 <= 15 ** 2).astype(np.uint16)
    t = vesicle_table(ball, 2.0)
    assert t.EqDiameter[0] == pytest.approx(60.0, rel=0.01)
    assert np.isnan(t.Threshold[0])
    assert len(vesicle_table(np.zeros((3, 4, 5), np.int32), 1.0)) == 0
    with pytest.raises(ValueError, match="labels must be 3D"):
        vesicle_table(ball[0], 2.0)
    with pytest.raises(TypeError, match="labels must be an integer label image"):
        vesicle_table(ball.astype(float), 2.0)
    with pytest.raises(ValueError, match="voxel_size"):
        vesicle_table(ball, (1.0, 2.0))
