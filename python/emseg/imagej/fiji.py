"""EMSeg inside ImageJ/Fiji: start it from Python, exchange images, serve the plugin.

When ImageJ 1.x (``ij.jar``) or Fiji (through pyimagej) is
started by :func:`start`, a Python object implementing the plugin's Java
``org.emseg.fiji.Backend`` interface is registered, so the Plugins > EMSeg
commands run this process's :mod:`emseg` directly on ImageJ's pixel arrays,
without temporary files. A Fiji started normally uses the plugin's
command-line backend instead (``python -m emseg``); both call
:func:`emseg.workflows.segment_array` and :func:`emseg.measure.measure`, so they
give identical results.
"""

import os
import shutil
import sys
from pathlib import Path

import numpy as np

from .reference import ImageJUnavailable, _processor, find_ij_jar, find_plugin_jar, start_imagej

__all__ = ["start", "register_backend", "to_imageplus", "from_imageplus", "label_rois",
           "to_roi_manager", "to_results_table", "run_macro", "install_fiji", "MacroFailed",
           "ImageJUnavailable"]

_PKG = "org.emseg.fiji"


class MacroFailed(RuntimeError):
    """An ImageJ macro aborted (its error is in ImageJ's log/stderr)."""


def _java_module():
    from . import java

    return java


def _java():
    """:mod:`emseg.imagej.java`, once ImageJ runs."""
    java = _java_module()
    if not java.started():
        raise ImageJUnavailable("ImageJ is not running: call emseg.imagej.fiji.start() first")
    return java


# --------------------------------------------------------------------------- start

def start(*, fiji_dir=None, ij_jar=None, headless=True, plugin_jar=None):
    """Start ImageJ with the EMSeg plugin and register this process as its backend.

    Parameters
    ----------
    fiji_dir : path-like, optional
        A ``Fiji.app`` folder: Fiji is started through pyimagej
        (``imagej.init(fiji_dir, mode=...)``); the EMSeg jar must be installed
        there (``emseg install-fiji``).
    ij_jar : path-like, optional
        ImageJ 1.x jar used when no ``fiji_dir`` is given (default
        ``$EMSEG_IJ_JAR`` or ``/usr/share/java/ij.jar``).
    headless : bool, optional
        No windows. Plain ImageJ 1.x then runs in batch mode, where commands'
        images exist for macros without windows.
    plugin_jar : path-like, optional
        The EMSeg plugin jar (default: :func:`emseg.imagej.find_plugin_jar`).

    Returns
    -------
    JPackage
        The ``ij`` Java package.
    """
    if fiji_dir is not None:
        fiji = Path(fiji_dir)
        if not (fiji / "jars").is_dir():
            raise ImageJUnavailable(f"fiji_dir: {fiji} is not a Fiji.app folder (no jars/)")
        installed = sorted((fiji / "plugins").glob("EMSeg_*.jar"))
        if not installed:
            raise ImageJUnavailable(f"EMSeg is not installed in {fiji}: run "
                                    f"'emseg install-fiji --fiji-dir {fiji}' first")
        try:
            import imagej
        except ImportError:
            raise ImageJUnavailable("pyimagej is not installed (conda install -c conda-forge "
                                    "pyimagej, or pip install pyimagej)") from None
        _java_module().use_system_java()
        imagej.init(str(fiji), mode="headless" if headless else "interactive")
        ij = _java().package("ij")
    else:
        find_ij_jar(ij_jar)
        find_plugin_jar(plugin_jar, required=True)
        ij = start_imagej(ij_jar, headless=headless, plugin_jar=plugin_jar)
        try:
            _java().jclass(f"{_PKG}.Backends")
        except (TypeError, ImportError):
            raise ImageJUnavailable(
                "the JVM was started without the EMSeg plugin jar (start ImageJ through "
                "emseg.imagej.fiji.start before anything else uses Java)") from None
        if headless:
            ij.macro.Interpreter.batchMode = True
    register_backend()
    return ij


def register_backend():
    """Register this Python process as the plugin's in-process backend."""
    java = _java()
    from .backend import _backend_class

    backend = _backend_class()()
    java.jclass(f"{_PKG}.Backends").register(backend)
    return backend


# --------------------------------------------------------------------------- conversions

def _plane(pixels, dtype_name, width, height):
    """NumPy copy of a Java pixel array (byte[] is signed in Java)."""
    raw = np.array(pixels, copy=True)
    if dtype_name == "uint8":
        raw = raw.view(np.uint8)
    elif dtype_name == "uint16":
        raw = raw.view(np.uint16)
    else:
        raw = raw.astype(np.float32, copy=False)
    return raw.reshape(int(height), int(width))


def to_imageplus(array, *, pixel_size=None, title="image"):
    """An ImageJ ImagePlus holding a copy of a 2D array, calibrated in nm.

    Parameters
    ----------
    array : (M, N) ndarray
        uint8, uint16 and float32 keep their type; bool becomes 0/255 8-bit,
        other integers 16-bit when they fit, anything else 32-bit float.
    pixel_size : float or (float, float), optional
        Pixel width and height in nm.
    title : str, optional

    Returns
    -------
    ij.ImagePlus
    """
    from .._validate import check_2d_array, check_pixel_size
    from ..workflows.convert import imagej_dtype

    array = check_2d_array(array, "array")
    java = _java()
    # uint8/uint16/float32 as _processor maps them one to one (bool -> 0/255 first)
    ip = _processor(java.package("ij"), imagej_dtype(array))
    ip.resetMinAndMax()
    imp = java.jclass("ij.ImagePlus")(str(title), ip)
    if pixel_size is not None:
        pw, ph = check_pixel_size(pixel_size)
        imp.setCalibration(java.jclass(f"{_PKG}.ImageData").nmCalibration(pw, ph))
    return imp


def _image_data_to_numpy(data):
    """``(array, pixel_size or None)`` of an ``org.emseg.fiji.ImageData``."""
    array = _plane(data.pixels, str(data.pixelType()), data.width, data.height)
    size = (float(data.pixelWidth), float(data.pixelHeight)) if data.isCalibrated() else None
    return array, size


def from_imageplus(imp):
    """The current plane of an ImagePlus as ``(array, pixel_size_nm or None)``.

    8-bit, 16-bit and 32-bit planes keep their type (uint8, uint16, float32);
    the calibration is converted to nm (None when it is not a length).
    Raises ValueError for RGB images.
    """
    java = _java()
    if imp is None:
        raise ValueError("imp: no image")
    try:
        data = java.jclass(f"{_PKG}.ImageData").of(imp)
    except java.JavaException as exc:
        raise ValueError(str(exc.message())) from None
    return _image_data_to_numpy(data)


def label_rois(labels):
    """ImageJ selections of every label, ``{label: ij.gui.Roi}`` ordered by label."""
    from .._validate import check_labels

    labels = check_labels(labels)
    java = _java()
    h, w = labels.shape
    if labels.size and labels.max() > np.iinfo(np.int32).max:
        raise ValueError("labels: values above 2**31 - 1 do not fit ImageJ")
    flat = java.jarray("i", np.ascontiguousarray(labels, dtype=np.int32).ravel())
    rois = java.jclass(f"{_PKG}.LabelRois").fromLabels(flat, w, h)
    return {int(k): rois.get(k) for k in rois.keySet()}


def to_roi_manager(labels, imp=None):
    """Put one ROI per label in ImageJ's ROI Manager (needs a display); returns the count."""
    java = _java()
    rois = label_rois(labels)
    if java.jclass("java.awt.GraphicsEnvironment").isHeadless():
        raise ImageJUnavailable("the ROI Manager is a window: start ImageJ with headless=False")
    java.jclass(f"{_PKG}.Display").roiManager(imp, java.jclass("java.util.ArrayList")(
        list(rois.values())))
    return len(rois)


def _java_table(table):
    """An ``org.emseg.fiji.Table`` of a DataFrame's numeric columns (bool as 0/1)."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    java = _java()
    numeric = [c for c in table.columns if table[c].dtype.kind in "biuf"]
    text = [c for c in table.columns if c not in numeric]
    if len(text) > 1 or (text and table.columns[0] != text[0]):
        raise ValueError(f"table: only one text column, first, is supported; got {text}")
    cols = java.jmatrix("d", [table[c].to_numpy(dtype=np.float64) for c in numeric], len(table))
    Table = java.jclass(f"{_PKG}.Table")
    heads = java.jstrings([str(c) for c in numeric])
    if text:
        return Table(heads, cols, str(text[0]), java.jstrings([str(v) for v in table[text[0]]]))
    return Table(heads, cols)


def to_results_table(table, title=None):
    """An ImageJ ResultsTable with a DataFrame's columns at full precision.

    With ``title`` it is also shown as that table (kept for macros when
    headless, like the plugin's own "EMSeg Results").
    """
    java = _java()
    jt = _java_table(table)
    if title is not None:
        return java.jclass(f"{_PKG}.Display").results(jt, str(title))
    return jt.toResultsTable()


def _table_to_pandas(jt):
    import pandas as pd

    data = {}
    if jt.textHeading() is not None:
        data[str(jt.textHeading())] = [str(jt.text(r)) for r in range(jt.rows())]
    for h in jt.headings():
        data[str(h)] = np.array(jt.column(h), dtype=np.float64)
    return pd.DataFrame(data)


# --------------------------------------------------------------------------- macros, install

def run_macro(path, args=""):
    """Run an ImageJ macro file; returns its return value (a string).

    Raises :class:`MacroFailed` when the macro aborts (an error or ``exit``
    with a message).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"macro {path} does not exist")
    IJ = _java().jclass("ij.IJ")
    result = IJ.runMacroFile(str(path.resolve()), str(args or ""))
    result = None if result is None else str(result)
    if result == "[aborted]":
        raise MacroFailed(f"macro {path.name} aborted")
    return result


def install_fiji(fiji_dir, *, python=None, plugin_jar=None, macros_dir=None):
    """Install the EMSeg plugin and macros into a Fiji.app (or ImageJ) folder.

    Copies the plugin jar to ``plugins/`` (replacing older EMSeg jars),
    records the Python executable for the command-line backend in
    ``plugins/emseg.properties`` and copies the batch macros to
    ``macros/EMSeg/``. Every file is written through a temporary name.

    Returns
    -------
    list of Path
        The files written.
    """
    fiji = Path(fiji_dir)
    if not (fiji / "plugins").is_dir():
        raise ValueError(f"fiji_dir: {fiji} has no plugins/ folder; give the Fiji.app folder")
    jar = Path(find_plugin_jar(plugin_jar, required=True))
    python = str(python or sys.executable)
    if not Path(python).exists() and shutil.which(python) is None:
        raise ValueError(f"python: {python} is not an executable")
    macros = Path(macros_dir) if macros_dir else Path(__file__).resolve().parents[3] / "macros"
    written = []

    def copy(src, dst):
        tmp = dst.with_name("." + dst.name + ".part")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        written.append(dst)

    target = fiji / "plugins" / "EMSeg_.jar"
    for old in (fiji / "plugins").glob("EMSeg_*.jar"):
        if old != target:
            old.unlink()
    copy(jar, target)
    from ..io import write_text
    props = fiji / "plugins" / "emseg.properties"
    escaped = python.replace("\\", "\\\\")
    write_text(props, f"# written by emseg install-fiji\npython={escaped}\n")
    written.append(props)
    if macros.is_dir():
        dest = fiji / "macros" / "EMSeg"
        dest.mkdir(parents=True, exist_ok=True)
        for m in sorted(macros.glob("*.ijm")):
            copy(m, dest / m.name)
    return written
