"""Fiji on real Zeiss SEM files, whose calibration (TIFF tag 34118) ImageJ cannot read: the plugin
uses the pixel size EMSeg's reader finds in the file, says so in the Log and the label image's
info, and gives exactly what ``emseg segment`` gives on the same files."""

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from emseg.io import read_image
from fiji_helpers import J, close_all, last_error, open_image, results, run, same_table, use_backend

pytest.importorskip("tensorflow")

#: Two of the BAM set's real Zeiss SEM images (7.344 nm in tag 34118).
ZEISS = ("1908248.tif", "1908250.tif")
SOURCE = "Zeiss SEM tag 34118"


@pytest.fixture(scope="module")
def zeiss(bam_dir, tmp_path_factory):
    """A folder with copies of the two Zeiss files (the shared data are never written to)."""
    folder = tmp_path_factory.mktemp("zeiss")
    for name in ZEISS:
        shutil.copyfile(bam_dir / "sem" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def cli_zeiss(zeiss, tmp_path_factory):
    """``emseg segment`` on the Zeiss files: the reference."""
    out = tmp_path_factory.mktemp("cli-zeiss")
    r = run("segment", *(zeiss / n for n in ZEISS), "--output", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(f"pixel size 7.344 nm from {SOURCE}") == 2
    return out


def test_imagej_itself_finds_no_calibration_in_a_zeiss_file(fiji_ij, zeiss):
    from emseg.imagej.fiji import from_imageplus
    imp = fiji_ij.IJ.openImage(str(zeiss / ZEISS[0]))
    assert imp is not None and from_imageplus(imp)[1] is None   # no length unit for EMSeg


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_segment_particles_reads_the_zeiss_pixel_size(fiji_ij, zeiss, cli_zeiss, backend, capfd):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    name = ZEISS[0]
    imp = open_image(ij, zeiss / name)
    capfd.readouterr()
    ij.IJ.run(imp, "Segment Particles...", "model=emseg-particles-sem pixel_size=0 threshold=0")
    assert last_error() == ""
    same_table(results(), cli_zeiss / "1908248_results.csv")
    labels = ij.WindowManager.getImage("1908248_labels")
    cal = labels.getCalibration()
    assert float(cal.pixelWidth) == pytest.approx(7.344) and str(cal.getUnit()) == "nm"
    from emseg.imagej.fiji import from_imageplus
    np.testing.assert_array_equal(from_imageplus(labels)[0],
                                  read_image(cli_zeiss / "1908248_labels.tif")[0])
    # where the size came from: for macros, in the label image's info, and in the Log's words
    assert str(J("MacroFunctions").pixelSizeSource()) == f"{SOURCE} of {name}"
    assert f"EMSeg pixel size source: {SOURCE} of {name}" in str(labels.getProperty("Info"))
    log = capfd.readouterr().out     # headless ImageJ's Log goes to standard output
    assert f"EMSeg: {name}: ImageJ has no calibration; EMSeg used 7.344 nm from {SOURCE} of {name}" \
        in log
    # an explicit pixel size still wins, and then no file source is reported
    ij.IJ.run(imp, "Segment Particles...", "model=emseg-particles-sem pixel_size=8 threshold=0")
    assert last_error() == "" and str(J("MacroFunctions").pixelSizeSource()) == ""


def test_batch_macro_segments_zeiss_files_it_used_to_skip(fiji_ij, zeiss, cli_zeiss, tmp_path):
    out = tmp_path / "batch"
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_segment.ijm",
            "--args", f"input=[{zeiss}] output=[{out}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "skipped" not in r.stdout.replace("0 skipped", "")
    assert "2 image(s)" in r.stdout
    for name in ZEISS:
        stem = name[:-4]
        assert (f"EMSeg: {name}: ImageJ has no calibration; EMSeg used 7.344 nm from {SOURCE} "
                f"of {name}") in r.stdout
        same_table(pd.read_csv(out / f"{stem}_results.csv"), cli_zeiss / f"{stem}_results.csv")
        lab, size, _ = read_image(out / f"{stem}_labels.tif")
        np.testing.assert_array_equal(lab, read_image(cli_zeiss / f"{stem}_labels.tif")[0])
        assert size == pytest.approx((7.344, 7.344), rel=1e-5)
