"""emseg.batch: file-level measurement, pixel-size precedence, combining tables."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from emseg.workflows import combine_tables, load_labels, measure_file
from emseg.io import write_image, write_labels


@pytest.fixture
def scene(tmp_path):
    lab = np.zeros((30, 30), np.uint16)
    lab[5:10, 5:12] = 1
    lab[15:25, 15:20] = 2
    calibrated = write_labels(tmp_path / "cal.tif", lab, 2.0)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, lab)
    image = write_image(tmp_path / "img.tif", np.full((30, 30), 50, np.uint8), 4.0)
    return calibrated, plain, image


def test_pixel_size_precedence(scene):
    calibrated, plain, image = scene
    r = measure_file(calibrated, image)
    assert r.pixel_size == (2.0, 2.0) and r.pixel_size_source == "ImageJ calibration"  # labels' own
    r = measure_file(plain, image)
    assert r.pixel_size == (4.0, 4.0)  # from the intensity image
    assert list(r.table["Mean"]) == [50, 50]
    r = measure_file(calibrated, pixel_size=(3.0, 3.0))
    assert r.pixel_size == (3.0, 3.0) and r.pixel_size_source == "--pixel-size"
    assert list(r.table["Area"]) == [35 * 9, 50 * 9]
    r = measure_file(plain)
    assert r.pixel_size is None and r.table.attrs["unit"] == "pixel"


def test_shape_mismatch_and_bad_labels(tmp_path, scene):
    calibrated, _, _ = scene
    other = write_image(tmp_path / "small.tif", np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match="small.tif: shape"):
        measure_file(calibrated, other)
    flt = tmp_path / "f.tif"
    tifffile.imwrite(flt, np.ones((5, 5), np.float32))
    with pytest.raises(TypeError, match="f.tif: floating-point"):
        load_labels(flt)


def test_combine_tables_units(scene):
    calibrated, plain, _ = scene
    ra, rp = measure_file(calibrated), measure_file(plain)
    assert combine_tables([ra, measure_file(plain, pixel_size=5.0)]).attrs["unit"] == "nm"
    mixed = combine_tables([ra, rp])
    assert mixed.attrs["unit"] == "mixed"
    assert list(mixed["File"]) == ["cal.tif"] * 2 + ["plain.tif"] * 2
    assert "File" not in combine_tables([ra], file_column=False).columns
    with pytest.raises(ValueError, match="results is empty"):
        combine_tables([])


# ---------------------------------------------------------------- evaluation

def test_pair_key():
    from emseg.workflows import pair_key
    assert pair_key("sem/1908248_m.tif") == "1908248"
    assert pair_key("out/1908248_labels.ome.tif") == "1908248"
    assert pair_key("Img_01-Pred.PNG") == "img_01"
    assert pair_key("img_01.tif") == "img_01"          # "01" is not a role word
    assert pair_key("mask.tif") == "mask"               # nothing left to strip


def test_pair_files_rules(tmp_path):
    from emseg.workflows import pair_files
    pairs = pair_files(["p/a_labels.tif", "p/b_labels.tif"], ["t/b_m.tif", "t/a_m.tif"],
                       ["p/a_prob.tif"])
    assert [(k, str(t), str(q) if q else None) for k, _, t, q in pairs] == [
        ("a", "t/a_m.tif", "p/a_prob.tif"), ("b", "t/b_m.tif", None)]
    # one of each pairs whatever the names
    assert pair_files(["x.tif"], ["y.tif"])[0][1:3] == (Path("x.tif"), Path("y.tif"))
    with pytest.raises(ValueError, match=r"unpaired files: prediction\(s\) without ground truth: c.tif"):
        pair_files(["a.tif", "c.tif"], ["a_m.tif", "b_m.tif"])
    with pytest.raises(ValueError, match="both pair as 'a'"):
        pair_files(["a.tif", "a_pred.tif"], ["a_m.tif", "b_m.tif"])
    with pytest.raises(ValueError, match="no prediction files"):
        pair_files([], ["a.tif"])


def test_evaluate_files_and_tables(tmp_path):
    from emseg.workflows import evaluate_files, evaluation_table, pooled_scores

    truth = np.zeros((40, 40), np.uint8)
    truth[5:15, 5:15] = 255
    truth[20:35, 20:35] = 255
    pred = np.zeros((40, 40), np.uint16)
    pred[5:15, 5:14] = 3           # IoU 0.9
    pred[0:2, 30:32] = 4           # false positive
    t = write_labels(tmp_path / "a_m.tif", truth, 2.0)
    p = tmp_path / "a.tif"
    tifffile.imwrite(p, pred)
    empty = tmp_path / "b.tif"
    tifffile.imwrite(empty, np.zeros((40, 40), np.uint8))
    r = evaluate_files("a", p, t)
    assert r.pixel_size == (2.0, 2.0) and r.pixel_size_source == "ImageJ calibration"   # truth's
    s = r.evaluation.scores
    assert (s["TP"], s["FP"], s["FN"]) == (1, 1, 1) and s["Matched IoU"] == pytest.approx(0.9)
    r2 = evaluate_files("b", empty, t)     # finding nothing is a result, not an error
    assert r2.evaluation.scores["TP"] == 0 and r2.evaluation.scores["FN"] == 2
    table = evaluation_table([r, r2])
    assert list(table["Image"]) == ["a", "b", "mean"]
    assert table.loc[2, "FN"] == 1.5 and table.loc[2, "F1@0.5"] == pytest.approx(0.25)
    pooled = pooled_scores([r, r2])
    assert (pooled["TP"], pooled["FP"], pooled["FN"]) == (1, 1, 3)
    assert pooled["F1"] == pytest.approx(2 / 6)
    # MinFeret of the one matched 10x9 prediction + the 2x2 FP vs the two squares
    assert pooled["MinFeret KS"] == pytest.approx(1.0)
    other = tmp_path / "c.tif"
    tifffile.imwrite(other, np.zeros((40, 41), np.uint8))
    with pytest.raises(ValueError, match="c.tif: shape"):
        evaluate_files("c", other, t)


def test_volumes_and_rgb_are_told_apart_by_their_axes(tmp_path):
    # a 3-slice tomogram is a 3D volume, not an RGB image; a real RGB image is RGB
    import mrcfile
    from emseg.workflows import load_image, load_labels

    vol = tmp_path / "tomo.mrc"
    with mrcfile.new(vol) as m:
        m.set_data(np.ones((2, 30, 3), np.uint16))
    with pytest.raises(ValueError, match=r"3D labels of shape \(2, 30, 3\)"):
        load_labels(vol)
    rgb = tmp_path / "rgb.tif"
    tifffile.imwrite(rgb, np.zeros((20, 20, 3), np.uint8), photometric="rgb")
    with pytest.raises(ValueError, match="RGB image; convert it to grey levels"):
        load_image(rgb)
    single = tmp_path / "one.mrc"
    with mrcfile.new(single) as m:
        m.set_data(np.arange(12, dtype=np.uint16).reshape(1, 3, 4))
    assert load_image(single)[0].shape == (3, 4)
