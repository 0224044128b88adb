"""The napari tool (reader, dock widget, clicks, undo, save) in napari's own offscreen test
fixture, run in a pytest process of its own (see ``napari_gui.py`` for why)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, skip_or_fail


def test_napari_tool_in_its_own_process(tmp_path):
    pytest.importorskip("napari")
    pytest.importorskip("pytestqt")
    shot = tmp_path / "napari.png"
    env = {**os.environ, "EMSEG_NAPARI_SCREENSHOT": str(shot)}
    r = subprocess.run([sys.executable, "-m", "pytest", str(Path(__file__).with_name("napari_gui.py")),
                        "-q", "-p", "no:cacheprovider", "--rootdir", str(REPO / "tests"),
                        "--basetemp", str(tmp_path / "inner")],
                       capture_output=True, text=True, timeout=1200, env=env, cwd=REPO / "tests")
    out = r.stdout + r.stderr
    if r.returncode != 0 and "required external resource missing" in out:
        skip_or_fail(out.strip().splitlines()[-1])
    assert r.returncode == 0, out[-4000:]
    assert "3 passed" in r.stdout and "skipped" not in r.stdout, r.stdout[-2000:]
    from PIL import Image
    picture = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert picture.shape[0] > 300 and picture.std() > 10
