"""emseg.measure: analytic cases, documented ImageJ values, options and errors."""

import math

import numpy as np
import pandas as pd
import pytest

from emseg.measure import INTENSITY_COLUMNS, MEASUREMENT_COLUMNS, measure, summarize


def disc(radius, pad=3):
    n = int(math.ceil(radius)) + pad
    yy, xx = np.mgrid[-n:n + 1, -n:n + 1]
    return (np.hypot(yy, xx) <= radius).astype(np.uint8)


def test_disc_ecd_and_circularity_are_analytic():
    r = 40
    t = measure(disc(r))
    assert len(t) == 1
    row = t.iloc[0]
    assert row["ECD"] == pytest.approx(2 * r, rel=0.01)
    assert row["Area"] == pytest.approx(math.pi * r * r, rel=0.01)
    assert row["Circ."] > 0.9
    assert row["Major"] == pytest.approx(row["Minor"], rel=0.01)
    assert row["Feret"] == pytest.approx(2 * r + 1, abs=1.5)
    assert row["MinFeret"] == pytest.approx(2 * r + 1, abs=1.5)
    # The hull runs around whole pixel squares, so a digital disc stays below 1.
    assert 0.97 < row["Solidity"] < 0.99
    assert row["Round"] == pytest.approx(1, abs=0.01)


def test_ellipse_axes_and_angle():
    yy, xx = np.mgrid[-40:41, -60:61]
    th = math.radians(30)
    # ImageJ's angle counts counter-clockwise on screen, i.e. towards -row.
    u = xx * math.cos(th) - yy * math.sin(th)
    v = xx * math.sin(th) + yy * math.cos(th)
    mask = (u / 50) ** 2 + (v / 20) ** 2 <= 1
    row = measure(mask).iloc[0]
    assert row["Major"] == pytest.approx(100, rel=0.02)
    assert row["Minor"] == pytest.approx(40, rel=0.02)
    assert row["Angle"] == pytest.approx(30, abs=1)
    assert row["AR"] == pytest.approx(2.5, rel=0.03)


def test_single_pixel_matches_imagej_documentation():
    lab = np.zeros((5, 5), np.uint8)
    lab[2, 2] = 1
    row = measure(lab).iloc[0]
    assert row["Area"] == 1
    assert row["Perim."] == pytest.approx(4 - 2 * (2 - math.sqrt(2)))
    assert row["Feret"] == pytest.approx(math.sqrt(2))
    assert row["MinFeret"] == 1
    assert row["FeretAngle"] == pytest.approx(135)
    assert (row["X"], row["Y"]) == (2.5, 2.5)
    assert (row["BX"], row["BY"], row["Width"], row["Height"]) == (2, 2, 1, 1)


@pytest.mark.parametrize("shape, perim", [((1, 5), 10.243), ((5, 1), 10.828)])
def test_line_perimeter_depends_on_trace_start_like_imagej(shape, perim):
    lab = np.zeros((9, 9), np.uint8)
    lab[2:2 + shape[0], 2:2 + shape[1]] = 1
    assert measure(lab)["Perim."].iloc[0] == pytest.approx(perim, abs=5e-4)


def test_square_values():
    lab = np.zeros((20, 20), np.uint16)
    lab[5:15, 3:13] = 7
    row = measure(lab).iloc[0]
    assert row["Label"] == 7
    assert row["Feret"] == pytest.approx(10 * math.sqrt(2))
    assert row["MinFeret"] == pytest.approx(10)
    assert row["Perim."] == pytest.approx(40 - 4 * (2 - math.sqrt(2)))
    assert row["Solidity"] == 1
    assert row["Angle"] == 0
    assert (row["X"], row["Y"]) == (8.0, 10.0)


def test_holes_are_excluded_from_area_but_not_from_outline():
    ring = disc(20).astype(bool) & ~disc(10, pad=13).astype(bool)
    full = measure(disc(20)).iloc[0]
    row = measure(ring).iloc[0]
    assert row["Area"] == ring.sum() < full["Area"]
    assert row["Perim."] == pytest.approx(full["Perim."])
    assert row["Feret"] == pytest.approx(full["Feret"])
    assert row["Solidity"] < 0.8


def test_calibration_scales_as_imagej():
    lab = disc(15)
    raw = measure(lab).iloc[0]
    cal = measure(lab, pixel_size=7.344).iloc[0]
    for c in ("X", "Y", "Perim.", "BX", "BY", "Width", "Height", "Major", "Minor",
              "Feret", "MinFeret", "ECD"):
        assert cal[c] == pytest.approx(raw[c] * 7.344, rel=1e-12), c
    assert cal["Area"] == pytest.approx(raw["Area"] * 7.344 ** 2, rel=1e-12)
    for c in ("FeretX", "FeretY", "Angle", "Solidity", "Circ.", "AR", "Round", "FeretAngle"):
        assert cal[c] == pytest.approx(raw[c], rel=1e-12), c
    assert measure(lab, pixel_size=7.344).attrs["unit"] == "nm"
    assert measure(lab).attrs["unit"] == "pixel"


def test_anisotropic_pixels_follow_imagej_rules():
    lab = disc(12)
    row = measure(lab, pixel_size=(2.0, 3.0)).iloc[0]
    raw = measure(lab).iloc[0]
    assert row["Major"] == 0 and row["Minor"] == 0
    assert np.isnan(row["AR"]) and np.isinf(row["Round"])
    assert row["Area"] == pytest.approx(raw["Area"] * 6)
    assert row["Width"] == pytest.approx(raw["Width"] * 2)
    assert row["Height"] == pytest.approx(raw["Height"] * 3)


def test_binary_mask_connectivity():
    lab = np.zeros((6, 6), np.uint8)
    lab[1, 1] = lab[2, 2] = 255
    assert len(measure(lab, connectivity=8)) == 1
    assert len(measure(lab, connectivity=4)) == 2
    assert list(measure(lab.astype(bool), connectivity=4)["Label"]) == [1, 2]
    assert len(measure(lab.astype(np.uint16), connectivity=4)) == 2  # 0/255 in 16 bits
    # One non-zero value that is not a mask value: a label image, label kept.
    seven = (lab // 255 * 7).astype(np.uint8)
    assert list(measure(seven, connectivity=4)["Label"]) == [7]


def test_label_image_order_and_non_contiguous_labels():
    lab = np.zeros((10, 10), np.uint32)
    lab[0:2, 0:2] = 70000
    lab[5:7, 5:9] = 3
    lab[8, 0] = 3  # a second piece of label 3: ImageJ reports it separately
    t = measure(lab)
    assert list(t["Label"]) == [3, 3, 70000]
    assert list(t["Area"]) == [8, 1, 4]


def test_border_flag():
    lab = np.zeros((10, 10), np.uint8)
    lab[0, 4] = 1
    lab[4:6, 4:6] = 2
    lab[9, 9] = 3
    assert list(measure(lab)["Border"]) == [True, False, True]


def test_intensity_columns():
    lab = np.zeros((4, 4), np.uint8)
    lab[0, :] = 1
    img = np.zeros((4, 4), np.uint16)
    img[0, :] = [10, 40, 20, 30]
    row = measure(lab, img).iloc[0]
    assert row["Mean"] == 25
    assert row["Min"] == 10 and row["Max"] == 40
    assert row["Median"] == 30  # ImageJ: value at sorted index n // 2
    assert row["StdDev"] == pytest.approx(np.std([10, 40, 20, 30], ddof=1))
    assert set(INTENSITY_COLUMNS) <= set(measure(lab, img).columns)
    assert not set(INTENSITY_COLUMNS) & set(measure(lab).columns)


def test_empty_labels_give_empty_table_with_columns():
    t = measure(np.zeros((5, 5), np.uint8))
    assert len(t) == 0 and tuple(t.columns) == MEASUREMENT_COLUMNS


@pytest.mark.parametrize("labels, exc, match", [
    (np.zeros((4, 4), np.float32), TypeError, "labels.*floating"),
    (np.full((4, 4), -1, np.int32), ValueError, "labels.*negative"),
    (np.zeros((2, 4, 4), np.uint8), ValueError, "labels must be 2D"),
    (np.zeros((8, 8, 3), np.uint8), ValueError, "labels looks like an RGB"),
    (np.zeros((0, 4), np.uint8), ValueError, "labels is empty"),
    ("abc", TypeError, "labels must hold numbers"),
])
def test_invalid_labels(labels, exc, match):
    with pytest.raises(exc, match=match):
        measure(labels)


def test_invalid_options():
    lab = np.ones((4, 4), np.uint8)
    with pytest.raises(ValueError, match="connectivity"):
        measure(lab, connectivity=6)
    with pytest.raises(ValueError, match="pixel_size"):
        measure(lab, pixel_size=-1)
    with pytest.raises(ValueError, match="pixel_size"):
        measure(lab, pixel_size=(1, 2, 3))
    with pytest.raises(TypeError, match="pixel_size"):
        measure(lab, pixel_size="big")
    with pytest.raises(ValueError, match="image shape"):
        measure(lab, np.ones((3, 3)))
    with pytest.raises(ValueError, match="image looks like an RGB"):
        measure(np.ones((8, 8), np.uint8), np.ones((8, 8, 3)))


def test_summarize_known_values():
    t = pd.DataFrame({"MinFeret": np.arange(1.0, 11.0), "ECD": [np.nan] + [2.0] * 9})
    s = summarize(t)
    assert s.loc["MinFeret", "count"] == 10
    assert s.loc["MinFeret", "mean"] == 5.5
    assert s.loc["MinFeret", "median"] == 5.5
    assert s.loc["MinFeret", "D10"] == pytest.approx(1.9)
    assert s.loc["MinFeret", "D90"] == pytest.approx(9.1)
    assert s.loc["MinFeret", "SD"] == pytest.approx(np.std(np.arange(1, 11), ddof=1))
    assert s.loc["ECD", "count"] == 9 and s.loc["ECD", "SD"] == 0
    with pytest.raises(ValueError, match="not in table: Nope"):
        summarize(t, "Nope")
    with pytest.raises(TypeError, match="table must be"):
        summarize({"a": 1})
