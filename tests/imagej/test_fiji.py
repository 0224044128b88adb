"""The Fiji/ImageJ plugin end to end, against real ImageJ 1.53t (no mocks).

Every menu command runs through ``IJ.run`` in this (headless) JVM with both
backends: the in-process Python backend and the command-line backend
(``python -m emseg`` on temporary TIFFs); their results must equal each other
and the ``emseg`` command's CSV/TIFF outputs. The batch macros run through
``emseg imagej --headless --macro``; the windows (ROI Manager, results table,
overlay, plot) are checked with the ImageJ GUI under Xvfb in
``fiji_gui_check.py``.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, skip_or_fail
from emseg.workflows import example_files, sample_files
from emseg.io import read_image, write_image
from fiji_helpers import (J, close_all, last_error, last_rois, open_image, results, run,
                          same_table, use_backend)

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def small_sem(tmp_path_factory):
    """Two crops of the bundled SEM sample (7.5 nm/px, no data bar) plus a corrupt file."""
    folder = tmp_path_factory.mktemp("sem")
    image, size, _ = read_image(sample_files()[0])
    write_image(folder / "a.tif", image[:288, :352], size)
    write_image(folder / "b.tif", image[300:600, 400:768], size)
    (folder / "corrupt.tif").write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    return folder


@pytest.fixture(scope="module")
def cli_segment(small_sem, tmp_path_factory):
    """``emseg segment`` on the two crops: the reference both backends must equal."""
    out = tmp_path_factory.mktemp("cli-seg")
    r = run("segment", small_sem / "a.tif", small_sem / "b.tif", "--output", out)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_equals_emseg_segment(fiji_ij, small_sem, cli_segment, backend):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    imp = open_image(ij, small_sem / "a.tif")
    ij.IJ.run(imp, "Segment Particles...", "model=emseg-particles-sem pixel_size=0 threshold=0 "
                                           "roi_manager probability_map histogram")
    assert last_error() == ""
    table = results()
    same_table(table, cli_segment / "a_results.csv")
    from emseg.imagej.fiji import from_imageplus
    labels, size = from_imageplus(ij.WindowManager.getImage("a_labels"))
    np.testing.assert_array_equal(labels, read_image(cli_segment / "a_labels.tif")[0])
    assert size == pytest.approx((7.5, 7.5))
    prob, _ = from_imageplus(ij.WindowManager.getImage("a_prob"))
    np.testing.assert_array_equal(prob, read_image(cli_segment / "a_prob.tif")[0])
    # one outline per particle on the image, named by label
    overlay = imp.getOverlay()
    assert overlay is not None and overlay.size() == len(table)
    rois = last_rois()
    assert sorted(rois) == sorted(table["Label"].astype(int))
    # the traced outline holds exactly the particle's pixels
    lab = int(table["Label"].iloc[0])
    roi = rois[lab]
    pts = {(int(p.y), int(p.x)) for p in roi.getContainedPoints()}
    assert pts == set(zip(*np.nonzero(labels == lab)))
    assert ij.WindowManager.getImage("a.tif MinFeret") is not None  # the histogram plot
    # the ResultsTable ImageJ shows has the same numbers
    rt = J("Display").resultsTable("EMSeg Results")
    assert rt.size() == len(table)
    assert rt.getValue("MinFeret", 3) == table["MinFeret"].iloc[3]


@pytest.fixture(scope="module")
def reporting_model(tmp_path_factory):
    """The default SEM model with a ``report`` in its model.yaml, as the TEM vesicle model
    has (diameter and roundness)."""
    from emseg import io
    from emseg.models import find_model
    folder = tmp_path_factory.mktemp("models") / "reporting"
    shutil.copytree(find_model("emseg-particles-sem").path, folder)
    meta = io.read_yaml(folder / "model.yaml")
    io.write_yaml(folder / "model.yaml", {**meta, "report": ["ECD", "Circ."]})
    return folder


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_draws_the_models_reported_histograms(fiji_ij, small_sem,
                                                                reporting_model, backend):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    imp = open_image(ij, small_sem / "a.tif")
    ij.IJ.run(imp, "Segment Particles...", f"model=[{reporting_model}] pixel_size=0 "
                                           "threshold=0 histogram")
    assert last_error() == ""
    titles = {ij.WindowManager.getImage(i).getTitle()
              for i in ij.WindowManager.getIDList() or []}
    assert {"a.tif ECD", "a.tif Circ."} <= titles and "a.tif MinFeret" not in titles


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_with_the_tem_vesicle_model(fiji_ij, tmp_path, backend):
    """A 16-bit negative-stain image through the TEM model: the same table as
    ``emseg segment``, and the diameter and roundness histograms."""
    from emseg.synthetic import tem_vesicles
    t = tem_vesicles((400, 400), pixel_size=1.2, n_vesicles=10, seed=3)
    write_image(tmp_path / "ev.tif", t.image, 1.2)
    r = run("segment", tmp_path / "ev.tif", "--model", "emseg-vesicles-tem", "-o", tmp_path / "cli")
    assert r.returncode == 0, r.stderr
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    imp = open_image(ij, tmp_path / "ev.tif")
    assert imp.getBitDepth() == 16
    ij.IJ.run(imp, "Segment Particles...", "model=emseg-vesicles-tem pixel_size=0 threshold=0 "
                                           "histogram")
    assert last_error() == ""
    same_table(results(), tmp_path / "cli" / "ev_results.csv")
    assert ij.WindowManager.getImage("ev.tif ECD") is not None
    assert ij.WindowManager.getImage("ev.tif Circ.") is not None


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_measure_particles_equals_emseg_measure(fiji_ij, tmp_path, backend):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    lab_path, img_path = example_files()
    r = run("measure", lab_path, "--image", img_path, "--output", tmp_path / "ref.csv")
    assert r.returncode == 0, r.stderr
    open_image(ij, img_path, "intensity.tif")
    labels = open_image(ij, lab_path)
    ij.IJ.run(labels, "Measure Particles...", "intensity_image=intensity.tif connectivity=8 pixel_size=0")
    assert last_error() == ""
    same_table(results(), tmp_path / "ref.csv")
    assert ij.WindowManager.getImage("intensity.tif").getOverlay().size() == len(results())

    # a binary mask is split into particles exactly as emseg numbers them
    lab = read_image(lab_path)[0]
    mask = ((lab > 0) * 255).astype(np.uint8)
    mask[:, ::37] = 0  # cut the particles so the mask does not equal the labels
    write_image(tmp_path / "mask.tif", mask, 2.5)
    r = run("measure", tmp_path / "mask.tif", "--connectivity", "4", "--output", tmp_path / "m.csv")
    assert r.returncode == 0, r.stderr
    m = open_image(ij, tmp_path / "mask.tif")
    ij.IJ.run(m, "Measure Particles...", "intensity_image=none connectivity=4 pixel_size=0")
    assert last_error() == ""
    same_table(results(), tmp_path / "m.csv")
    rois = last_rois()
    from scipy import ndimage
    comp = ndimage.label(mask > 0, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])[0]
    assert len(rois) == comp.max()
    for v in (1, comp.max()):
        pts = {(int(p.y), int(p.x)) for p in rois[int(v)].getContainedPoints()}
        assert pts == set(zip(*np.nonzero(comp == v)))


def test_filter_particles_keeps_the_ranges(fiji_ij):
    ij = fiji_ij
    use_backend(ij, "in-process")
    close_all(ij)
    from emseg.workflows import measure_file
    lab_path, _ = example_files()
    table = measure_file(lab_path).table
    want = table[(table.MinFeret >= 40) & (table.MinFeret <= 80) & (table["Circ."] >= 0.5) & ~table.Border]
    assert 0 < len(want) < len(table)
    labels = open_image(ij, lab_path)
    ij.IJ.run(labels, "Filter Particles...",
              "minferet_min=40 minferet_max=80 area_min=0 area_max=1000000 circularity_min=0.5 "
              "circularity_max=1 solidity_min=0 solidity_max=1 exclude_border")
    assert last_error() == ""
    got = results()
    assert list(got["Label"].astype(int)) == list(want["Label"])
    np.testing.assert_array_equal(got["MinFeret"].to_numpy(), want["MinFeret"].to_numpy())
    from emseg.imagej.fiji import from_imageplus
    kept, _ = from_imageplus(ij.WindowManager.getImage("example_labels_filtered"))
    assert set(np.unique(kept)) - {0} == set(want["Label"])
    lab = read_image(lab_path)[0]
    np.testing.assert_array_equal(kept, np.where(np.isin(lab, want["Label"]), lab, 0))
    # the preview overlay on the input: kept in green, dropped in red
    colors = [labels.getOverlay().get(i).getStrokeColor() for i in range(labels.getOverlay().size())]
    assert sum(c.getGreen() == 255 and c.getRed() == 0 for c in colors) == len(want)
    assert len(colors) == len(table)

    ij.IJ.run(labels, "Filter Particles...", "minferet_min=90 minferet_max=10 area_min=0 area_max=1 "
                                             "circularity_min=0 circularity_max=1 solidity_min=0 "
                                             "solidity_max=1")
    assert "minimum must not exceed maximum" in last_error()


@pytest.fixture(scope="module")
def cli_filter(small_sem, cli_segment, tiny_classifier, tmp_path_factory):
    """``emseg filter`` on crop a's segmentation: the reference of Classifier Filter."""
    out = tmp_path_factory.mktemp("cli-filter")
    r = run("filter", small_sem / "a.tif", cli_segment / "a_labels.tif", "--classifier",
            tiny_classifier.path, "--exclude-border", "--range", "MinFeret=30:", "--output", out)
    assert r.returncode == 0, r.stderr
    return out / "a_labels_filtered.csv"


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_classifier_filter_equals_emseg_filter(fiji_ij, small_sem, cli_segment, cli_filter,
                                               tiny_classifier, backend):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    grey = open_image(ij, small_sem / "a.tif")
    labels = open_image(ij, cli_segment / "a_labels.tif")
    ij.IJ.run(labels, "Classifier Filter...",
              f"image=a.tif classifier=[{tiny_classifier.path}] minimum_score=0 exclude_border "
              "ranges=[MinFeret=30:] pixel_size=0")
    assert last_error() == ""
    got = results()
    same_table(got, cli_filter)                 # Score and Kept included, value for value
    want = pd.read_csv(cli_filter)
    kept_ids = set(want.loc[want["Kept"], "Label"])
    assert 0 < len(kept_ids) < len(want)
    from emseg.imagej.fiji import from_imageplus
    kept, _ = from_imageplus(ij.WindowManager.getImage("a_labels_kept"))
    assert set(np.unique(kept)) - {0} == kept_ids
    lab = read_image(cli_segment / "a_labels.tif")[0]
    np.testing.assert_array_equal(kept, np.where(np.isin(lab, list(kept_ids)), lab, 0))
    colors = [grey.getOverlay().get(i).getStrokeColor() for i in range(grey.getOverlay().size())]
    assert len(colors) == len(want)
    assert sum(c.getGreen() == 255 and c.getRed() == 0 for c in colors) == len(kept_ids)
    assert set(last_rois()) == kept_ids

    # rules only, and the errors a user can make
    ij.IJ.run(labels, "Classifier Filter...", "image=a.tif classifier=none minimum_score=0 "
                                              "ranges=[Solidity=0.95:] pixel_size=0")
    assert last_error() == ""
    rules = results()
    assert rules["Score"].isna().all()
    assert (rules["Kept"].astype(bool) == (rules["Solidity"] >= 0.95)).all()
    ij.IJ.run(labels, "Classifier Filter...", "image=a.tif classifier=emseg-particles-sem "
                                              "minimum_score=0 pixel_size=0")
    assert "not a classifier" in last_error()
    ij.IJ.run(labels, "Classifier Filter...", "image=a.tif classifier=none minimum_score=0 "
                                              "ranges=[Foo=1:2] pixel_size=0")
    assert "no column 'Foo'" in last_error()
    ij.IJ.run(labels, "Classifier Filter...", "image=a.tif classifier=none minimum_score=0 "
                                              "ranges=[MinFeret=5] pixel_size=0")
    assert "range must be COLUMN=LOW:HIGH" in last_error()
    close_all(ij)
    labels = open_image(ij, cli_segment / "a_labels.tif")
    ij.IJ.run(labels, "Classifier Filter...", "classifier=none minimum_score=0 pixel_size=0")
    assert "open the grey-level image" in last_error()


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_commands_report_bad_input(fiji_ij, tmp_path, backend):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    rgb = ij.IJ.createImage("rgb", "RGB black", 32, 32, 1)
    rgb.show()
    ij.IJ.run(rgb, "Segment Particles...", "model=emseg-particles-sem pixel_size=5 threshold=0")
    assert "RGB image" in last_error()
    plain = ij.IJ.createImage("plain", "8-bit ramp", 64, 64, 1)
    plain.show()
    ij.IJ.run(plain, "Segment Particles...", "model=emseg-particles-sem pixel_size=0 threshold=0")
    assert "no pixel size" in last_error()
    ij.IJ.run(plain, "Segment Particles...", "model=no-such-model pixel_size=5 threshold=0")
    assert "no-such-model" in last_error()
    ij.IJ.run(plain, "Segment Particles...", "model=emseg-particles-sem pixel_size=5 threshold=1.5")
    assert last_error().startswith("threshold must be in (0, 1)")
    empty = ij.IJ.createImage("empty", "16-bit black", 16, 16, 1)
    empty.show()
    ij.IJ.run(empty, "Measure Particles...", "intensity_image=none connectivity=8 pixel_size=0")
    assert "empty" in last_error()


def test_command_line_backend_reports_missing_python(fiji_ij):
    ij = fiji_ij
    ij.IJ.run("EMSeg Options...", "python=/nonexistent/python models=[] model=emseg-particles-sem "
                                  "backend=command-line")
    try:
        plain = ij.IJ.createImage("plain", "8-bit ramp", 64, 64, 1)
        plain.show()
        ij.IJ.run(plain, "Segment Particles...", "model=emseg-particles-sem pixel_size=5 threshold=0")
        assert last_error().startswith("cannot run /nonexistent/python")
        assert "cannot run" in str(J("AboutEMSeg").about())
    finally:
        use_backend(ij, "auto")
    about = str(J("AboutEMSeg").about())
    assert "in-process" in about and "emseg (Python): " in about


def test_batch_segment_folder_command(fiji_ij, small_sem, cli_segment, tmp_path):
    ij = fiji_ij
    use_backend(ij, "in-process")
    out = tmp_path / "out"
    ij.IJ.run("Batch Segment Folder...", f"input=[{small_sem}] output=[{out}] model=emseg-particles-sem "
                                         "pixel_size=0 threshold=0")
    assert last_error() == "1 file(s) failed; see the Log"
    for stem in ("a", "b"):
        assert (out / f"{stem}_overlay.png").stat().st_size > 0
        np.testing.assert_array_equal(read_image(out / f"{stem}_labels.tif")[0],
                                      read_image(cli_segment / f"{stem}_labels.tif")[0])
        same_table(pd.read_csv(out / f"{stem}_results.csv"), cli_segment / f"{stem}_results.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.File.unique()) == ["a.tif", "b.tif"]
    assert len(summary) == sum(len(pd.read_csv(cli_segment / f"{s}_results.csv")) for s in "ab")
    assert not (out / "corrupt_labels.tif").exists()


def yellow_pixels(png):
    from PIL import Image
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int(np.sum((rgb[..., 0] > 200) & (rgb[..., 1] > 200) & (rgb[..., 2] < 80)))


def test_batch_segment_macro_headless(fiji_ij, small_sem, cli_segment, tmp_path):
    out = tmp_path / "macro out"
    before = {p: p.stat().st_mtime_ns for p in small_sem.iterdir()}
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_segment.ijm",
            "--args", f"input=[{small_sem}] output=[{out}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "skipped corrupt.tif: not an image ImageJ can read" in r.stdout
    assert "2 image(s)" in r.stdout and "1 skipped" in r.stdout
    for stem in ("a", "b"):
        same_table(pd.read_csv(out / f"{stem}_results.csv"), cli_segment / f"{stem}_results.csv")
        lab, size, _ = read_image(out / f"{stem}_labels.tif")
        np.testing.assert_array_equal(lab, read_image(cli_segment / f"{stem}_labels.tif")[0])
        assert size == pytest.approx((7.5, 7.5), rel=1e-5)  # ImageJ writes a TIFF rational
        assert yellow_pixels(out / f"{stem}_overlay.png") > 500  # outlines burnt in
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == sum(len(pd.read_csv(out / f"{s}_results.csv")) for s in "ab")
    assert {p: p.stat().st_mtime_ns for p in small_sem.iterdir()} == before  # inputs untouched
    assert not list(out.glob(".*part*"))


def test_batch_segment_macro_with_classifier(fiji_ij, small_sem, cli_segment, tiny_classifier,
                                             tmp_path):
    out = tmp_path / "classified"
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_segment.ijm",
            "--args", f"input=[{small_sem}] output=[{out}] classifier=[{tiny_classifier.path}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "2 image(s)" in r.stdout and "1 skipped" in r.stdout
    kept_total = 0
    for stem in ("a", "b"):
        ref = tmp_path / f"ref-{stem}"
        c = run("filter", small_sem / f"{stem}.tif", cli_segment / f"{stem}_labels.tif",
                "--classifier", tiny_classifier.path, "-o", ref)
        assert c.returncode == 0, c.stderr
        same_table(pd.read_csv(out / f"{stem}_classified.csv"), ref / f"{stem}_labels_filtered.csv")
        kept, _, _ = read_image(out / f"{stem}_kept.tif")
        np.testing.assert_array_equal(kept, read_image(ref / f"{stem}_labels_filtered.tif")[0])
        kept_total += int(pd.read_csv(out / f"{stem}_classified.csv")["Kept"].sum())
    summary = pd.read_csv(out / "summary.csv")
    assert "Kept" in summary.columns and int(summary["Kept"].sum()) == kept_total
    assert f"({kept_total} kept by {tiny_classifier.path})" in r.stdout


def test_batch_measure_macro_headless(fiji_ij, tmp_path):
    lab_path, img_path = example_files()
    labels_dir, images_dir, out = tmp_path / "labels", tmp_path / "images", tmp_path / "out"
    labels_dir.mkdir()
    images_dir.mkdir()
    shutil.copy(lab_path, labels_dir / "scene_labels.tif")
    shutil.copy(img_path, images_dir / "scene.tif")
    (labels_dir / "zz_broken.tif").write_bytes(b"not an image at all")
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_measure.ijm",
            "--args", f"input=[{labels_dir}] output=[{out}] images=[{images_dir}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "measured 1 file(s), 1 skipped" in r.stdout
    ref = tmp_path / "ref.csv"
    assert run("measure", lab_path, "--image", img_path, "--output", ref).returncode == 0
    same_table(pd.read_csv(out / "scene_measurements.csv"), ref)
    assert list(pd.read_csv(out / "summary.csv").File.unique()) == ["scene_labels.tif"]


def test_imagej_command_errors(tmp_path):
    r = run("imagej", "--headless")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--macro" in r.stderr
    r = run("imagej", "--headless", "--macro", tmp_path / "missing.ijm")
    assert r.returncode == 2 and "does not exist" in r.stderr
    bad = tmp_path / "bad.ijm"
    bad.write_text('exit("stop here");\n')
    r = run("imagej", "--headless", "--macro", bad)
    if "ImageJ" in r.stderr and "not found" in r.stderr:
        skip_or_fail(r.stderr)
    assert r.returncode == 1 and "aborted" in r.stderr and "Traceback" not in r.stderr
    r = run("imagej", "--fiji-dir", tmp_path, "--headless", "--macro", bad)
    assert r.returncode == 2 and "not a Fiji.app folder" in r.stderr


def test_install_fiji(tmp_path):
    from emseg.imagej import find_plugin_jar
    if find_plugin_jar() is None:
        skip_or_fail("EMSeg plugin jar not built (make plugin)")
    fiji = tmp_path / "Fiji.app"
    (fiji / "plugins").mkdir(parents=True)
    (fiji / "jars").mkdir()
    (fiji / "plugins" / "EMSeg_-0.0.1.jar").write_bytes(b"old")
    r = run("install-fiji", "--fiji-dir", fiji)
    assert r.returncode == 0, r.stderr
    assert (fiji / "plugins" / "EMSeg_.jar").read_bytes() == Path(find_plugin_jar()).read_bytes()
    assert not (fiji / "plugins" / "EMSeg_-0.0.1.jar").exists()
    props = (fiji / "plugins" / "emseg.properties").read_text()
    assert f"python={sys.executable}" in props
    assert (fiji / "macros" / "EMSeg" / "batch_segment.ijm").is_file()
    r = run("install-fiji", "--fiji-dir", tmp_path / "nothing")
    assert r.returncode == 2 and "no plugins/ folder" in r.stderr and r.stderr.count("\n") == 1
    r = run("install-fiji", "--fiji-dir", fiji, "--python", tmp_path / "nopython")
    assert r.returncode == 2 and "not an executable" in r.stderr


def test_imagej_gui_under_xvfb(tmp_path):
    """Menu commands with ImageJ's windows: ROI Manager, results table, overlay, plot; screenshot."""
    from emseg.imagej import find_plugin_jar
    if shutil.which("xvfb-run") is None:
        skip_or_fail("xvfb-run not installed (Debian: apt-get install xvfb)")
    if find_plugin_jar() is None:
        skip_or_fail("EMSeg plugin jar not built (make plugin)")
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                        str(Path(__file__).with_name("fiji_gui_check.py")), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    n = report["rows"]
    assert n > 10
    assert report["roi_manager"] == n
    assert report["overlay"] == n
    assert "EMSeg Results" in report["windows"]
    assert {"sample_sem_labels", "sample_sem_prob", "sample_sem.tif MinFeret"} <= set(report["images"])
    assert report["results_window_rows"] == n
    assert 0 < report["filtered_rows"] < n
    assert report["filtered_roi_manager"] == report["filtered_rows"]
    assert report["classified_rows"] == n
    assert report["classified_kept"] == report["filtered_rows"] == report["classified_roi_manager"]
    assert report["classified_green"] == report["classified_kept"]
    assert report["classified_red"] == n - report["classified_kept"]
    from PIL import Image
    shot = np.asarray(Image.open(tmp_path / "screenshot.png").convert("RGB")).astype(int)
    assert shot.shape[0] >= 800 and shot.shape[1] >= 1200
    assert shot.std() > 20  # not a blank screen
    assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 100
    assert yellow_pixels(tmp_path / "screenshot.png") > 200  # the outline overlay is visible
    classified = np.asarray(Image.open(tmp_path / "screenshot_classified.png").convert("RGB")).astype(int)
    green = (classified[..., 1] > 200) & (classified[..., 0] < 80) & (classified[..., 2] < 80)
    red = (classified[..., 0] > 200) & (classified[..., 1] < 80) & (classified[..., 2] < 80)
    assert green.sum() > 100 and red.sum() > 100    # kept and discarded outlines on screen
