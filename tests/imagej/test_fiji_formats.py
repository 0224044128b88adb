"""Fiji on microscope formats ImageJ cannot open (DM3/DM4, SER, EMD): Open Microscope File...
reads them through the backend with their pixel size, on both backends, and Segment Particles
on the result equals ``emseg segment`` on the file."""

import sys
from pathlib import Path

import numpy as np
import pytest

from emseg.io import read_image
from emseg.workflows import sample_files
from fiji_helpers import close_all, last_error, results, run, same_table, use_backend

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from em_formats import write_dm, write_ser, write_velox_emd  # noqa: E402

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def em_files(tmp_path_factory):
    """A crop of the bundled SEM sample (7.5 nm/px) as DM4, SER and Velox EMD, and a bad DM3."""
    folder = tmp_path_factory.mktemp("em")
    image = read_image(sample_files()[0])[0][:256, :320]
    files = {"dm4": write_dm(folder / "crop.dm4", image, 7.5, "nm", version=4),
             "ser": write_ser(folder / "crop_ser.ser", image.astype(np.uint16), 7.5e-9),
             "emd": write_velox_emd(folder / "crop_emd.emd", image, 7.5e-9)}
    (folder / "bad.dm3").write_bytes(b"\x00\x00\x00\x03 not really")
    return folder, files, image


@pytest.fixture(scope="module")
def cli_dm4(em_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-dm4")
    r = run("segment", em_files[1]["dm4"], "--output", out)
    assert r.returncode == 0, r.stderr
    assert "pixel size 7.5 nm from DM4 calibration" in r.stdout
    return out


@pytest.mark.parametrize("backend", ["in-process", "command-line"])
def test_open_microscope_file_then_segment(fiji_ij, em_files, cli_dm4, backend):
    ij = fiji_ij
    use_backend(ij, backend)
    close_all(ij)
    folder, files, image = em_files
    from emseg.imagej.fiji import from_imageplus
    for kind, path in files.items():
        ij.IJ.run("Open Microscope File...", f"path=[{path}]")
        assert last_error() == "", (kind, last_error())
        imp = ij.WindowManager.getImage(path.name)
        assert imp is not None, kind
        pixels, size = from_imageplus(imp)
        np.testing.assert_array_equal(pixels, image, err_msg=kind)
        assert size == pytest.approx((7.5, 7.5), rel=1e-9), kind
    imp = ij.WindowManager.getImage("crop.dm4")
    ij.IJ.run(imp, "Segment Particles...", "model=emseg-particles-sem pixel_size=0 threshold=0")
    assert last_error() == ""
    same_table(results(), cli_dm4 / "crop_results.csv")
    ij.IJ.run("Open Microscope File...", f"path=[{folder / 'bad.dm3'}]")
    assert "bad.dm3: not a readable DM3 file" in last_error()
    ij.IJ.run("Open Microscope File...", f"path=[{folder / 'missing.dm4'}]")
    assert "no such file" in last_error()


def test_batch_macro_segments_microscope_files(fiji_ij, em_files, cli_dm4, tmp_path):
    folder, files, _ = em_files
    out = tmp_path / "batch"
    from conftest import REPO
    r = run("imagej", "--headless", "--macro", REPO / "macros" / "batch_segment.ijm",
            "--args", f"input=[{folder}] output=[{out}]")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "skipped bad.dm3: " in r.stdout and "not a readable DM3 file" in r.stdout
    assert "3 image(s)" in r.stdout and "1 skipped" in r.stdout
    import pandas as pd
    same_table(pd.read_csv(out / "crop_results.csv"), cli_dm4 / "crop_results.csv")
    for stem in ("crop", "crop_ser", "crop_emd"):
        assert read_image(out / f"{stem}_labels.tif")[1] == pytest.approx((7.5, 7.5), rel=1e-5)
