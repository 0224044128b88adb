"""Microscope vendors' formats (DM3/DM4, SER, Velox and Berkeley EMD) through RosettaSciIO, with
their calibration, into every command; damaged files get one clear line."""

import subprocess
import sys

import numpy as np
import pytest

from em_formats import write_dm, write_ncem_emd, write_ser, write_velox_emd
from emseg.io import IMAGE_SUFFIXES, ImageReadError, read_image

IMAGE = (np.arange(30 * 40) % 251).astype(np.uint16).reshape(30, 40)


def make(kind, path, image=IMAGE):
    """One file of each kind at 0.8 nm per pixel; returns (path, format, source)."""
    if kind in ("dm3", "dm4"):
        return write_dm(path / f"a.{kind}", image, 0.8, "nm", version=int(kind[-1])), kind
    if kind == "ser":
        return write_ser(path / "a.ser", image, 0.8e-9), "ser"
    if kind == "velox":
        return write_velox_emd(path / "v.emd", image, 0.8e-9), "emd"
    return write_ncem_emd(path / "n.emd", image, 0.8), "emd"


KINDS = ["dm3", "dm4", "ser", "velox", "ncem"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
def test_reads_pixels_and_calibration(tmp_path, kind, dtype):
    path, fmt = make(kind, tmp_path, IMAGE.astype(dtype))
    data, size, meta = read_image(path)
    np.testing.assert_array_equal(data, IMAGE.astype(dtype))
    assert data.dtype == dtype
    assert size == pytest.approx((0.8, 0.8), rel=1e-9)
    assert meta["pixel_size_source"] == f"{fmt.upper()} calibration"
    assert meta["format"] == fmt and meta["axes"] == "YX" and meta["path"] == str(path)


def test_units_convert_and_uncalibrated_is_none(tmp_path):
    _, size, _ = read_image(write_dm(tmp_path / "um.dm4", IMAGE, 0.25, "µm", version=4))
    assert size == pytest.approx((250.0, 250.0))
    _, size, meta = read_image(write_dm(tmp_path / "px.dm3", IMAGE, 1.0, ""))
    assert size is None and "pixel_size_source" not in meta
    _, size, _ = read_image(write_dm(tmp_path / "fft.dm3", IMAGE, 0.1, "1/nm"))  # not a length
    assert size is None


def test_suffixes_are_known():
    for suffix in (".dm3", ".dm4", ".ser", ".emd"):
        assert suffix in IMAGE_SUFFIXES


@pytest.mark.parametrize("kind", ["dm4", "ser", "velox"])
def test_damaged_file_one_clear_error_nothing_on_stderr(tmp_path, capfd, kind):
    path, fmt = make(kind, tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageReadError, match=rf"{path.name}: not a readable {fmt.upper()} file"):
        read_image(path)
    junk = tmp_path / f"junk{path.suffix}"
    junk.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ImageReadError, match=rf"junk{path.suffix}: not a readable"):
        read_image(junk)
    out = capfd.readouterr()
    assert out.err == "" and out.out == ""


def run(*args):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def test_info_and_measure_read_the_formats(tmp_path):
    dm4, _ = make("dm4", tmp_path)
    ser, _ = make("ser", tmp_path)
    r = run("info", dm4, ser)
    assert r.returncode == 0, r.stderr
    assert f"{dm4}: DM4, axes YX, shape 30x40, uint16" in r.stdout
    assert "pixel size: 0.8 nm from DM4 calibration" in r.stdout
    assert "pixel size: 0.8 nm from SER calibration" in r.stdout
    labels = np.zeros((30, 40), np.uint16)
    labels[5:15, 5:20] = 1
    labels[20:28, 25:35] = 2
    from emseg.io import write_labels
    write_labels(tmp_path / "a_labels.tif", labels)
    r = run("measure", tmp_path / "a_labels.tif", "--image", dm4, "-o", tmp_path / "m.csv")
    assert r.returncode == 0, r.stderr
    import pandas as pd
    table = pd.read_csv(tmp_path / "m.csv")
    assert table["Area"].tolist() == pytest.approx([150 * 0.64, 80 * 0.64])   # nm² from the DM4
    assert table["Mean"].iloc[0] == pytest.approx(IMAGE[5:15, 5:20].mean())
    bad = tmp_path / "bad.dm3"
    bad.write_bytes(b"\x00\x00\x00\x03 truncated")
    r = run("info", bad)
    assert r.returncode == 2 and r.stderr.splitlines()[0].startswith(
        f"emseg info: error: {bad}: not a readable DM3 file") and "Traceback" not in r.stderr


def test_segment_reads_a_dm4(tmp_path, tiny_model):
    pytest.importorskip("tensorflow")
    from emseg.synthetic import particle_labels, render_micrograph
    lab = particle_labels((120, 150), 15, radius=(5, 10), seed=3)
    dm4 = write_dm(tmp_path / "tem.dm4", render_micrograph(lab, seed=3), 5.0, "nm", version=4)
    r = run("segment", dm4, "--model", tiny_model.path, "--output", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    assert "pixel size 5 nm from DM4 calibration" in r.stdout
    assert read_image(tmp_path / "o" / "tem_labels.tif")[1] == (5.0, 5.0)


def test_convert_writes_calibrated_imagej_tiffs_and_goes_on(tmp_path):
    dm4, _ = make("dm4", tmp_path)
    velox, _ = make("velox", tmp_path)
    signed = write_dm(tmp_path / "signed.dm3", (IMAGE.astype(np.int16) - 100), 0.5, "nm")
    out = tmp_path / "tiffs"
    r = run("convert", dm4, velox, signed, tmp_path / "missing.ser", "--output", out)
    assert r.returncode == 2 and "missing.ser: no such file" in r.stderr
    assert "1 of 4 file(s) failed" in r.stderr and "Traceback" not in r.stderr
    for name, expected, size in (("a.tif", IMAGE, 0.8), ("v.tif", IMAGE, 0.8),
                                 ("signed.tif", IMAGE.astype(np.float32) - 100, 0.5)):
        data, got, meta = read_image(out / name)
        np.testing.assert_array_equal(data, expected)
        assert got == pytest.approx((size, size)) and meta["pixel_size_source"] == "ImageJ calibration"
    assert read_image(out / "signed.tif")[0].dtype == np.float32   # negative values kept
