"""``emseg info``: shape, type, value range and pixel/voxel size with its source."""

import subprocess
import sys

import mrcfile
import numpy as np
import tifffile

from emseg.io import write_labels


def run(*args):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_info_on_tiff_png_mrc_and_a_stack(tmp_path):
    from PIL import Image

    tif = write_labels(tmp_path / "a.tif", np.arange(12, dtype=np.uint16).reshape(3, 4), 7.344)
    png = tmp_path / "b.png"
    Image.fromarray(np.full((5, 6), 9, np.uint8)).save(png)
    mrc = tmp_path / "tomo.rec"
    with mrcfile.new(mrc) as m:
        m.set_data(np.linspace(-1, 2, 4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6))
        m.voxel_size = 22.0
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.zeros((7, 8, 9), np.uint8), imagej=True, resolution=(1 / 1.5, 1 / 1.5),
                     metadata={"axes": "ZYX", "unit": "nm", "spacing": 3.0})
    r = run("info", tif, png, mrc, stack)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"{tif}: TIFF, axes YX, shape 3x4, uint16, values 0 to 11" in out
    assert "pixel size: 7.344 nm from ImageJ calibration" in out
    assert f"{png}: PNG, axes YX, shape 5x6, uint8, values 9 to 9" in out
    assert "pixel size: uncalibrated (pixels)" in out
    assert f"{mrc}: MRC, axes ZYX, shape 4x5x6, float32, values -1 to 2" in out
    assert "voxel size (z, y, x): 2.2 nm from MRC header" in out
    assert f"{stack}: TIFF, axes ZYX, shape 7x8x9, uint8" in out
    assert "voxel size (z, y, x): 3 x 1.5 x 1.5 nm (anisotropic) from ImageJ calibration" in out


def test_info_zeiss_sem_real_image(bam_dir):
    path = sorted((bam_dir / "sem").glob("*.tif"))[0]
    r = run("info", path)
    assert r.returncode == 0, r.stderr
    assert "pixel size: 7.344 nm from Zeiss SEM tag 34118" in r.stdout
    assert "shape 768x1024, uint8" in r.stdout


def test_info_warns_about_an_absurd_header_and_lists_bad_files(tmp_path):
    mrc = tmp_path / "cvn.mrc"
    with mrcfile.new(mrc) as m:
        m.set_data(np.zeros((2, 3, 4), np.int16))
        m.voxel_size = 0.018                      # 0.0018 nm, as a CryoVesNet user's header
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    r = run("info", mrc, bad, tmp_path / "missing.mrc")
    assert r.returncode == 2
    assert "voxel size (z, y, x): 0.0018 nm from MRC header" in r.stdout
    assert "warning: voxel size 0.0018 nm from MRC header is not plausible" in r.stdout
    assert "--pixel-size" in r.stdout
    err = r.stderr.strip().splitlines()
    assert err[-1] == "emseg info: 2 of 3 file(s) failed"
    assert any("bad.tif: not a TIFF file" in line for line in err)
    assert any("missing.mrc: no such file" in line for line in err)
    assert "Traceback" not in r.stderr


def test_info_reports_header_defects(tmp_path):
    mrc = tmp_path / "nostamp.mrc"
    with mrcfile.new(mrc) as m:
        m.set_data(np.ones((2, 3, 4), np.float32))
        m.voxel_size = 22.0
    raw = bytearray(mrc.read_bytes())
    raw[208:212] = b"XXXX"
    mrc.write_bytes(bytes(raw))
    r = run("info", mrc)
    assert r.returncode == 0, r.stderr
    assert "voxel size (z, y, x): 2.2 nm from MRC header" in r.stdout
    assert "warning: Map ID string not found" in r.stdout


def test_info_is_instant_without_tensorflow():
    code = ("import sys; from emseg.cli import main; import emseg.workflows.info; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_pixel_size_option_refuses_absurd_values(tmp_path):
    lab = write_labels(tmp_path / "l.tif", np.eye(4, dtype=np.uint8))
    for value in ("0.001", "20000", "0"):
        r = run("measure", lab, "--pixel-size", value, "-o", tmp_path)
        assert r.returncode == 2 and "invalid pixel size" in r.stderr, value
        assert len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.csv"))
