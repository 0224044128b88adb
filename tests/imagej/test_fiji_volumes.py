"""Fiji on tomograms, against real ImageJ 1.53t (no mocks): Open Microscope File... opens an MRC
tomogram as a calibrated stack, Segment Particles... on a stack runs the volume pipeline (label
stack, vesicle table, a circle per vesicle on every slice it crosses), both backends equal to
``emseg segment --volume-format tif``, and the batch macro segments MRC and TIFF stacks."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, skip_or_fail
from emseg import io
from emseg.synthetic import synapse_tomogram
from fiji_helpers import J, close_all, last_error, results, run, same_table, use_backend

pytest.importorskip("tensorflow")

VOXEL = 2.2
OPTIONS = "model=emseg-vesicles-cryoet voxel_size=0 threshold=0 refine_spheres circles histogram"


@pytest.fixture(scope="module")
def tomograms(tmp_path_factory):
    """A small synthetic tomogram (a seed never used in training) as MRC and as an ImageJ
    TIFF stack, a corrupt MRC, and its true vesicles."""
    d = tmp_path_factory.mktemp("tomograms")
    t = synapse_tomogram((40, 96, 96), voxel_size=VOXEL, n_vesicles=16, seed=4343)
    io.write_mrc(d / "synapse.mrc", t.volume, (VOXEL,) * 3)
    io.write_volume(d / "stack.tif", t.volume, (VOXEL,) * 3)
    (d / "corrupt.mrc").write_bytes(b"\x00" * 100)
    return d, t


@pytest.fixture(scope="module")
def cli_volume(tomograms, tmp_path_factory):
    """``emseg segment`` on the MRC tomogram (TIFF outputs): the reference of both backends."""
    d, _ = tomograms
    out = tmp_path_factory.mktemp("cli-volume")
    r = run("segment", d / "synapse.mrc", "--output", out, "--volume-format", "tif")
    assert r.returncode == 0, r.stderr
    return out


def expected_circles(table, voxel, depth):
    """(slice 1-based, label, radius nm) of every circle the table's spheres make."""
    out = []
    for row in table.itertuples():
        for k in range(depth):
            dz = (k + 0.5) * voxel - row.Z
            if abs(dz) < row.Radius:
                out.append((k + 1, int(row.Label), np.sqrt(row.Radius ** 2 - dz ** 2)))
    return out


def open_tomogram(ij, path):
    ij.IJ.run("Open Microscope File...", f"path=[{path}]")
    assert last_error() == ""
    imp = ij.WindowManager.getCurrentImage()
    assert imp is not None
    return imp


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_open_microscope_file_reads_a_tomogram_as_a_calibrated_stack(fiji_ij, tomograms, backend):
    ij = fiji_ij
    d, t = tomograms
    use_backend(ij, backend)
    close_all(ij)
    imp = open_tomogram(ij, d / "synapse.mrc")
    assert imp.getTitle() == "synapse.mrc"
    assert (imp.getNSlices(), imp.getHeight(), imp.getWidth()) == t.volume.shape
    cal = imp.getCalibration()
    assert str(cal.getUnit()) == "nm"
    for v in (cal.pixelWidth, cal.pixelHeight, cal.pixelDepth):
        assert v == pytest.approx(VOXEL, rel=1e-6)
    for z in (0, 17, 39):
        plane = np.array(imp.getStack().getPixels(z + 1), dtype=np.float32).reshape(96, 96)
        np.testing.assert_array_equal(plane, t.volume[z].astype(np.float32))
    ij.IJ.run("Open Microscope File...", f"path=[{d / 'corrupt.mrc'}]")
    assert "corrupt.mrc" in last_error()
    close_all(ij)


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_on_a_stack_equals_emseg_segment(fiji_ij, tomograms, cli_volume,
                                                          backend):
    ij = fiji_ij
    d, t = tomograms
    use_backend(ij, backend)
    close_all(ij)
    imp = open_tomogram(ij, d / "synapse.mrc")
    ij.IJ.run(imp, "Segment Particles...", OPTIONS)
    assert last_error() == ""
    ours = results()
    same_table(ours, cli_volume / "synapse_vesicles.csv")
    assert {"Radius", "Diameter", "Thickness", "Mahalanobis", "PValue", "Refined"} <= set(ours)
    assert 0.8 * len(t.radii) <= len(ours) <= 1.2 * len(t.radii)
    # the ImageJ table: ImageJ headings, values in nm
    rt = J("Display").resultsTable("EMSeg Results")
    assert rt.size() == len(ours)
    assert rt.getColumnIndex("Radius") >= 0 and rt.getColumnIndex("X") >= 0
    assert rt.getValue("Radius", 0) == pytest.approx(ours["Radius"][0], rel=1e-5)
    # the label stack, calibrated like the tomogram
    lab = ij.WindowManager.getImage("synapse_labels")
    assert lab is not None and lab.getNSlices() == t.volume.shape[0]
    labels = np.stack([np.array(lab.getStack().getPixels(z + 1)).view(np.uint16).reshape(96, 96)
                       for z in range(lab.getNSlices())])
    reference = io.read_volume(cli_volume / "synapse_labels.tif")[0]
    np.testing.assert_array_equal(labels, reference)
    assert lab.getCalibration().pixelDepth == pytest.approx(VOXEL, rel=1e-6)
    # a circle per vesicle on each slice it crosses, with that slice's radius
    ov = imp.getOverlay()
    circles = expected_circles(ours, imp.getCalibration().pixelDepth, imp.getNSlices())
    assert ov is not None and ov.size() == len(circles) > len(ours)
    got = sorted((int(ov.get(i).getPosition()), int(str(ov.get(i).getName()).split()[-1]),
                  ov.get(i).getFloatWidth() / 2 * imp.getCalibration().pixelWidth)
                 for i in range(ov.size()))
    for (s1, l1, r1), (s2, l2, r2) in zip(got, sorted(circles)):
        assert (s1, l1) == (s2, l2)
        assert r1 == pytest.approx(r2, rel=1e-6)
    # histogram of the diameters
    assert ij.WindowManager.getImage("synapse.mrc Diameter") is not None
    close_all(ij)


def test_segment_particles_on_a_stack_without_refinement(fiji_ij, tomograms):
    ij = fiji_ij
    d, _ = tomograms
    use_backend(ij, "in-process")
    close_all(ij)
    imp = open_tomogram(ij, d / "synapse.mrc")
    ij.IJ.run(imp, "Segment Particles...", "model=emseg-vesicles-cryoet voxel_size=0 threshold=0 "
                                           "circles")
    assert last_error() == ""
    ours = results()
    assert "Radius" not in ours and "EqDiameter" in ours and len(ours) > 5
    ov = imp.getOverlay()
    assert ov is not None and ov.size() > len(ours)
    close_all(ij)


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_on_a_stack_reports_bad_input(fiji_ij, tomograms, backend):
    ij = fiji_ij
    d, t = tomograms
    use_backend(ij, backend)
    close_all(ij)
    plain = ij.IJ.createImage("plain", "32-bit ramp", 64, 64, 8)
    plain.show()
    ij.IJ.run(plain, "Segment Particles...", "model=emseg-vesicles-cryoet voxel_size=0 threshold=0")
    assert "has no voxel size" in last_error()
    ij.IJ.run(plain, "Segment Particles...", "model=emseg-particles-sem voxel_size=2 threshold=0")
    assert "emseg-particles-sem" in last_error() and "segments 2D images" in last_error()
    assert "emseg-" not in last_error().split("emseg-particles-sem")[1]   # no temporary path
    ij.IJ.run(plain, "Segment Particles...", "model=emseg-vesicles-cryoet voxel_size=-1 threshold=0")
    assert last_error().startswith("voxel size must be > 0")
    rgb = ij.IJ.createImage("rgb", "RGB black", 32, 32, 4)
    rgb.show()
    ij.IJ.run(rgb, "Segment Particles...", "model=emseg-vesicles-cryoet voxel_size=2 threshold=0")
    assert "RGB image" in last_error()
    close_all(ij)


def test_batch_segment_macro_segments_tomograms(fiji_ij, tomograms, cli_volume, tmp_path):
    d, _ = tomograms
    out = tmp_path / "macro out"
    before = {p: p.stat().st_mtime_ns for p in d.iterdir()}
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_segment.ijm",
            "--args", f"input=[{d}] output=[{out}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "skipped corrupt.mrc" in r.stdout
    assert "2 tomogram(s)" in r.stdout and "1 skipped" in r.stdout
    reference = pd.read_csv(cli_volume / "synapse_vesicles.csv")
    same_table(pd.read_csv(out / "synapse_vesicles.csv"), cli_volume / "synapse_vesicles.csv")
    # the TIFF stack's voxel size comes from ImageJ's TIFF rational: equal to 1e-5
    stack = pd.read_csv(out / "stack_vesicles.csv")
    assert list(stack.columns) == list(reference.columns) and len(stack) == len(reference)
    np.testing.assert_allclose(stack.to_numpy(float), reference.to_numpy(float), rtol=1e-4,
                               atol=1e-6)
    for stem in ("synapse", "stack"):
        lab, size, _ = io.read_volume(out / f"{stem}_labels.tif")
        np.testing.assert_array_equal(lab, io.read_volume(cli_volume / "synapse_labels.tif")[0])
        assert size == pytest.approx((VOXEL,) * 3, rel=1e-5)
        from PIL import Image
        png = np.asarray(Image.open(out / f"{stem}_overlay.png").convert("RGB")).astype(int)
        yellow = (png[..., 0] > 200) & (png[..., 1] > 200) & (png[..., 2] < 80)
        assert yellow.sum() > 50                            # the middle slice's circles
    summary = pd.read_csv(out / "vesicle_summary.csv")
    assert len(summary) == 2 * len(pd.read_csv(cli_volume / "synapse_vesicles.csv"))
    assert set(summary["File"]) == {"synapse.mrc", "stack.tif"}
    assert {p: p.stat().st_mtime_ns for p in d.iterdir()} == before  # inputs untouched


def test_stack_command_gui_under_xvfb(tomograms, tmp_path):
    """Open Microscope File + Segment Particles on a tomogram with ImageJ's windows: the stack
    with its circles, the vesicle table, the label stack and the histogram; screenshot."""
    from emseg.imagej import find_plugin_jar
    if shutil.which("xvfb-run") is None:
        skip_or_fail("xvfb-run not installed (Debian: apt-get install xvfb)")
    if find_plugin_jar() is None:
        skip_or_fail("EMSeg plugin jar not built (make plugin)")
    d, _ = tomograms
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                        str(Path(__file__).with_name("fiji_gui_volume_check.py")),
                        str(d / "synapse.mrc"), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["slices"] == 40 and report["rows"] > 5
    assert report["results_window_rows"] == report["rows"]
    assert "EMSeg Results" in report["windows"]
    assert {"synapse.mrc", "synapse_labels", "synapse.mrc Diameter"} <= set(report["images"])
    assert report["circles_on_slice"] > 0
    from PIL import Image
    shot = np.asarray(Image.open(tmp_path / "screenshot.png").convert("RGB")).astype(int)
    assert shot.std() > 20 and len(np.unique(shot.reshape(-1, 3), axis=0)) > 100
    yellow = (shot[..., 0] > 200) & (shot[..., 1] > 200) & (shot[..., 2] < 80)
    assert yellow.sum() > 100                               # the circles are on screen


def test_batch_segment_folder_command_refuses_stacks(fiji_ij, tomograms, tmp_path):
    """The Batch Segment Folder command (2D models) never segments one slice of a tomogram: the
    stack is reported, the batch macro is the way for tomograms."""
    ij = fiji_ij
    d, _ = tomograms
    use_backend(ij, "in-process")
    out = tmp_path / "out"
    ij.IJ.run("Batch Segment Folder...", f"input=[{d}] output=[{out}] model=emseg-particles-sem "
                                         "pixel_size=0 threshold=0")
    assert last_error() == "1 file(s) failed; see the Log"
    assert not list(out.glob("stack_*"))
