"""Segment Particles with a multi-class (semantic) model in real ImageJ, through both backends:
the class image with its label LUT, names and legend, a probability slice per class, the class
areas, the objects of the instance classes and the selections of the chosen classes, all equal
to what ``emseg segment`` writes; and Batch Segment Folder with such a model."""

import numpy as np
import pandas as pd
import pytest

from emseg.io import read_image, write_image
from fiji_helpers import J, close_all, last_error, last_rois, open_image, results, run, use_backend

pytest.importorskip("tensorflow")

NAMES = ["background", "membrane", "organelle"]


def scene(seed, size=128):
    from emseg.synthetic import organelle_classes
    grey, classes = organelle_classes((size, size), seed=seed, noise=0.04)
    return np.clip(grey * 255, 0, 255).astype(np.uint8), classes


@pytest.fixture(scope="module")
def class_model(tmp_path_factory):
    """A tiny semantic U-Net (organelles are its instance class), trained briefly and exported."""
    from emseg.models import ModelConfig
    from emseg.models.saved import export_model
    from emseg.models.training import train_model
    config = ModelConfig(name="tiny-organelles", architecture="unet", task="semantic",
                         classes=NAMES, base_filters=8, depth=2, tile_size=64, halo=8,
                         pixel_size=2.0, dropout=0.0,
                         postprocess={"chain": "classes", "instance_classes": ["organelle"]})
    pairs = [(*scene(s), 2.0) for s in range(4)]
    folder = tmp_path_factory.mktemp("class-training")
    result = train_model(pairs, config, folder, epochs=6, batch_size=4, learning_rate=3e-3,
                         loss="focal_dice", verbose=0, seed=1)
    target = tmp_path_factory.mktemp("class-models") / "tiny-organelles"
    export_model(result.model, result.config, target, training={"data": "test"})
    return target


@pytest.fixture(scope="module")
def cli_classes(class_model, tmp_path_factory):
    """``emseg segment`` on a new scene: the files both backends must equal."""
    d = tmp_path_factory.mktemp("cli-classes")
    image, _ = scene(20)
    write_image(d / "new.tif", image, 2.0)
    r = run("segment", d / "new.tif", "--model", class_model, "-o", d / "out")
    assert r.returncode == 0, r.stderr
    return d


def numeric_equal(ours, csv):
    expected = pd.read_csv(csv)
    assert len(ours) == len(expected) > 0
    for c in expected.columns:
        if expected[c].dtype.kind in "biuf":
            np.testing.assert_array_equal(ours[c].to_numpy(float), expected[c].to_numpy(float),
                                          err_msg=c)
        else:
            assert list(ours[c]) == list(expected[c]), c


def same_class_files(out, cli):
    """A batch's files for ``new.tif`` equal those of ``emseg segment`` in ``cli``; its
    summary has the image's row."""
    from emseg.io import read_class_names
    for name in ("new_classes.tif", "new_organelle_labels.tif"):
        np.testing.assert_array_equal(read_image(out / name)[0], read_image(cli / name)[0])
    assert read_class_names(out / "new_classes.tif") == NAMES
    for name in ("new_organelle_results.csv", "new_classes.csv"):
        numeric_equal(pd.read_csv(out / name), cli / name)
    assert (out / "new_overlay.png").stat().st_size > 0
    summary = pd.read_csv(out / "summary.csv")
    areas = pd.read_csv(cli / "new_classes.csv")
    assert list(summary.File) == ["new.tif"]
    for name, fraction in zip(areas.Class, areas.Fraction):
        assert summary[f"{name} Fraction"][0] == fraction
    assert summary["organelle objects"][0] == len(pd.read_csv(cli / "new_organelle_results.csv"))


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_with_a_multiclass_model(fiji_ij, class_model, cli_classes, backend):
    from emseg.imagej.fiji import from_imageplus
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    out = cli_classes / "out"
    imp = open_image(ij, cli_classes / "new.tif")
    ij.IJ.run(imp, "Segment Particles...", f"model=[{class_model}] pixel_size=0 threshold=0 "
                                           "roi_manager probability_map roi_classes=[]")
    assert last_error() == ""
    # the class image: values, calibration, names, LUT and legend as the command line's TIFF
    shown = ij.WindowManager.getImage("new_classes")
    classes, size = from_imageplus(shown)
    np.testing.assert_array_equal(classes, read_image(out / "new_classes.tif")[0])
    assert size == pytest.approx((2.0, 2.0))
    assert str(shown.getProp("emseg.classes")) == "0=background;1=membrane;2=organelle"
    cli_tiff = ij.IJ.openImage(str(out / "new_classes.tif"))
    ClassImage = J("ClassImage")
    assert list(ClassImage.coloursOf(shown.getProcessor(), 3)) == \
        list(ClassImage.coloursOf(cli_tiff.getProcessor(), 3))
    legend = [str(shown.getOverlay().get(i).getName()) for i in range(shown.getOverlay().size())]
    assert {f"legend {n}" for n in NAMES} <= set(legend)
    # one probability slice per class, labelled by the class
    prob = ij.WindowManager.getImage("new_prob")
    assert prob.getStackSize() == 3
    for i, name in enumerate(NAMES):
        assert str(prob.getStack().getSliceLabel(i + 1)) == name
        np.testing.assert_array_equal(
            np.asarray(prob.getStack().getProcessor(i + 1).getPixels(),
                       np.float32).reshape(128, 128),
            read_image(out / f"new_prob_{name}.tif")[0])
    # class areas and the instance class's objects, value for value
    from emseg.imagej.fiji import _table_to_pandas
    numeric_equal(_table_to_pandas(J("Display").table("EMSeg Class Areas")),
                  out / "new_classes.csv")
    objects = results()
    assert set(objects["Class"]) == {"organelle"}
    numeric_equal(objects.drop(columns="Class"), out / "new_organelle_results.csv")
    # selections: one per organelle, exactly its pixels
    labels = read_image(out / "new_organelle_labels.tif")[0]
    rois = last_rois()
    assert len(rois) == len(objects) == labels.max() and imp.getOverlay().size() == len(rois)
    for roi in rois.values():
        lab = int(str(roi.getName()).split("-")[1])
        assert str(roi.getName()) == f"organelle-{lab}"
        pts = {(int(p.y), int(p.x)) for p in roi.getContainedPoints()}
        assert pts == set(zip(*np.nonzero(labels == lab)))


def test_chosen_classes_and_bad_options(fiji_ij, class_model, cli_classes):
    ij = fiji_ij
    use_backend(ij, "in-process")
    close_all(ij)
    imp = open_image(ij, cli_classes / "new.tif")
    ij.IJ.run(imp, "Segment Particles...", f"model=[{class_model}] pixel_size=0 threshold=0 "
                                           "roi_classes=[membrane, organelle]")
    assert last_error() == ""
    classes = read_image(cli_classes / "out" / "new_classes.tif")[0]
    rois = list(last_rois().values())
    membrane = [r for r in rois if str(r.getName()) == "membrane"]
    organelles = int(read_image(cli_classes / "out" / "new_organelle_labels.tif")[0].max())
    assert len(membrane) == 1 and len(rois) == 1 + organelles
    pts = {(int(p.y), int(p.x)) for p in membrane[0].getContainedPoints()}
    assert pts == set(zip(*np.nonzero(classes == 1)))
    ij.IJ.run(imp, "Segment Particles...", f"model=[{class_model}] pixel_size=0 threshold=0 "
                                           "roi_classes=nucleus")
    assert last_error() == ("no class 'nucleus'; the model's classes: background, membrane, "
                            "organelle")
    for backend in ("in-process", "command-line"):
        use_backend(ij, backend)
        ij.IJ.run(imp, "Segment Particles...", f"model=[{class_model}] pixel_size=0 "
                                               "threshold=0.5")
        assert "most probable class" in last_error(), backend


def test_batch_segment_folder_with_a_multiclass_model(fiji_ij, class_model, cli_classes,
                                                      tmp_path):
    ij = fiji_ij
    use_backend(ij, "in-process")
    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "new.tif", read_image(cli_classes / "new.tif")[0], 2.0)
    (folder / "broken.tif").write_bytes(b"not a tiff")
    out = tmp_path / "out"
    ij.IJ.run("Batch Segment Folder...", f"input=[{folder}] output=[{out}] "
                                         f"model=[{class_model}] pixel_size=0 threshold=0")
    assert last_error() == "1 file(s) failed; see the Log"
    same_class_files(out, cli_classes / "out")


def test_batch_segment_macro_with_a_multiclass_model(fiji_ij, class_model, cli_classes, tmp_path):
    """``macros/batch_segment.ijm`` headless with a multi-class model: the files of
    ``emseg segment`` and one summary row per image."""
    from conftest import REPO
    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "new.tif", read_image(cli_classes / "new.tif")[0], 2.0)
    out = tmp_path / "macro out"
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_segment.ijm",
            "--args", f"input=[{folder}] output=[{out}] model=[{class_model}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "1 image(s)" in r.stdout and "0 skipped" in r.stdout
    same_class_files(out, cli_classes / "out")


def test_class_image_window_under_xvfb(class_model, cli_classes, tmp_path):
    """In ImageJ's GUI the class image shows its class colours and legend, the class areas and
    objects their tables, the ROI Manager every chosen class."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from conftest import skip_or_fail
    if shutil.which("xvfb-run") is None:
        skip_or_fail("xvfb-run not installed (Debian: apt-get install xvfb)")
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable,
                        str(Path(__file__).with_name("fiji_gui_classes_check.py")),
                        str(cli_classes / "new.tif"), str(class_model), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"EMSeg Results", "EMSeg Class Areas"} <= set(report["windows"])
    assert {"new_classes", "new_prob"} <= set(report["images"])
    assert report["legend"] == 1 + 2 * len(NAMES)
    organelles = int(read_image(cli_classes / "out" / "new_organelle_labels.tif")[0].max())
    assert report["roi_manager"][:2] == ["background", "membrane"]
    assert len(report["roi_manager"]) == 2 + organelles
    from PIL import Image

    from emseg.plot import class_colours
    shot = np.asarray(Image.open(tmp_path / "classes.png").convert("RGB")).astype(int)
    for colour in class_colours(len(NAMES)):        # every class's LUT colour is on screen
        assert np.all(np.abs(shot - colour) <= 2, axis=-1).sum() > 50, colour
    white = np.all(shot > 240, axis=-1).sum()
    assert white > 20                               # the legend's text
