"""What the Fiji plugin tests share: the plugin's classes, backends, result tables and images
(ImageJ with the plugin itself is the ``fiji_ij`` fixture of ``tests/conftest.py``)."""

import subprocess
import sys

import numpy as np
import pandas as pd


def run(*args, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def J(name):
    from emseg.imagej.java import jclass
    return jclass(f"org.emseg.fiji.{name}")


def use_backend(ij, backend):
    ij.IJ.run("EMSeg Options...", f"python=[{sys.executable}] models=[] "
                                  f"model=emseg-particles-sem backend={backend}")
    settings = J("Settings").load()
    assert str(settings.backend) == backend and str(settings.python) == sys.executable


def results():
    """The last "EMSeg Results" table as a DataFrame (full precision)."""
    from emseg.imagej.fiji import _table_to_pandas
    table = J("Display").table("EMSeg Results")
    assert table is not None
    return _table_to_pandas(table)


def same_table(ours, csv):
    """``ours`` (from ImageJ) equals a CSV written by the emseg command, value for value."""
    expected = pd.read_csv(csv)
    assert list(ours.columns) == list(expected.columns)
    assert len(ours) == len(expected) > 0
    for c in expected.columns:
        np.testing.assert_array_equal(ours[c].to_numpy(float), expected[c].to_numpy(float), err_msg=c)


def last_rois():
    """The selections of the last command as ``{label: Roi}``."""
    rois = J("Display").lastRois()
    return {int(k): rois.get(k) for k in rois.keySet()}


def last_error():
    return str(J("MacroFunctions").lastError())


def open_image(ij, path, title=None):
    imp = ij.IJ.openImage(str(path))
    assert imp is not None, path
    if title:
        imp.setTitle(title)
    imp.show()
    return imp


def close_all(ij):
    wm = ij.WindowManager
    for i in list(wm.getIDList() or []):
        img = wm.getImage(i)
        if img is not None:
            img.changes = False
            img.close()


def run_gui_check(main, *args):
    """Run a GUI check script's ``main(*args)`` and leave the process at once: 0 when it
    finished, 1 (its message on stderr) when it raised SystemExit."""
    import os
    try:
        main(*args)
        code = 0
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # AWT threads would keep the JVM (and this process) alive
