"""Run ImageJ 1.x itself from Python (the JVM through scyjava), as the reference EMSeg matches.

``imagej_measure`` measures every label alone with ImageJ's own
ParticleAnalyzer, exactly as a Fiji user would with a threshold of ``v..v``.
The tests and ``benchmarks/measure_bench.py`` compare :func:`emseg.measure.measure`
against it; users can call it to cross-check their own data.
"""

import math
import os
import shutil
from pathlib import Path

import numpy as np

__all__ = ["find_ij_jar", "find_plugin_jar", "start_imagej", "imagej_measure", "ImageJUnavailable"]

_DEFAULT_JARS = ("/usr/share/java/ij.jar",)
#: The plugin jar Maven builds in a source checkout (``make plugin``).
_BUILT_PLUGIN = Path(__file__).resolve().parents[3] / "fiji-plugin" / "target"


class ImageJUnavailable(RuntimeError):
    """ImageJ (ij.jar), Java, scyjava or JPype cannot be found."""


def find_ij_jar(ij_jar=None):
    """Locate ``ij.jar``: the argument, ``$EMSEG_IJ_JAR``, then Debian's path."""
    for cand in (ij_jar, os.environ.get("EMSEG_IJ_JAR"), *_DEFAULT_JARS):
        if cand and Path(cand).is_file():
            return str(Path(cand).resolve())
    if ij_jar:
        raise ImageJUnavailable(f"ij_jar: {ij_jar} is not a file")
    raise ImageJUnavailable(
        "ImageJ's ij.jar was not found; pass ij_jar=..., set EMSEG_IJ_JAR, "
        "or install it (Debian: apt-get install libij-java)")


def find_plugin_jar(plugin_jar=None, *, required=False):
    """Locate the EMSeg Fiji plugin jar: the argument, ``$EMSEG_PLUGIN_JAR``,
    then the newest ``fiji-plugin/target/EMSeg_-*.jar`` of a source checkout.

    Returns the path, or None when none is found and not ``required``.
    """
    for cand in (plugin_jar, os.environ.get("EMSEG_PLUGIN_JAR")):
        if cand:
            if not Path(cand).is_file():
                raise ImageJUnavailable(f"plugin jar {cand} is not a file")
            return str(Path(cand).resolve())
    built = sorted(_BUILT_PLUGIN.glob("EMSeg_-*.jar"), key=lambda p: p.stat().st_mtime)
    if built:
        return str(built[-1])
    if required:
        raise ImageJUnavailable(
            "the EMSeg plugin jar was not found: build it with 'make plugin' (Maven) or set "
            "EMSEG_PLUGIN_JAR")
    return None


def start_imagej(ij_jar=None, *, headless=True, plugin_jar=None):
    """Start a JVM with ImageJ 1.x on the class path (once per process).

    The EMSeg plugin jar (:func:`find_plugin_jar`), when there is one, goes on
    the class path and in a private plugins folder, so that ImageJ's
    Plugins > EMSeg commands exist and share classes with Python.

    Returns the ``ij`` Java package. Raises :class:`ImageJUnavailable` when
    scyjava, Java or the jar is missing.
    """
    from . import java

    if not java.started():
        jar = find_ij_jar(ij_jar)
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise ImageJUnavailable("no Java runtime found (install OpenJDK 11+)")
        classpath, options = [jar], []
        plugin = find_plugin_jar(plugin_jar)
        if plugin:
            import tempfile
            plugins = Path(tempfile.mkdtemp(prefix="emseg-ij-")) / "plugins"
            plugins.mkdir()
            shutil.copy2(plugin, plugins / "EMSeg_.jar")
            classpath.append(plugin)
            options.append(f"-Dplugins.dir={plugins}")
        try:
            java.start(classpath, headless=headless, options=options)
        except ImportError:
            raise ImageJUnavailable("JPype is not installed (pip install JPype1)") from None
        if plugin and headless:
            java.jclass("org.emseg.fiji.Headless").install()
    return java.package("ij")


def _processor(ij, array):
    """An ImageJ processor holding ``array`` (8-bit, 16-bit or 32-bit float)."""
    from .java import jarray

    h, w = array.shape
    if array.dtype in (np.uint8, np.bool_):
        pixels = jarray("b", np.ascontiguousarray(array, dtype=np.uint8).view(np.int8).ravel())
        return ij.process.ByteProcessor(w, h, pixels, None)
    if array.dtype.kind in "biu" and array.size and array.max() <= 65535 and array.min() >= 0:
        pixels = jarray("s", np.ascontiguousarray(array, dtype=np.uint16).view(np.int16).ravel())
        return ij.process.ShortProcessor(w, h, pixels, None)
    pixels = jarray("f", np.ascontiguousarray(array, dtype=np.float32).ravel())
    return ij.process.FloatProcessor(w, h, pixels)


def imagej_measure(labels, image=None, *, pixel_size=None, ij_jar=None, crop=True):
    """Measure each label alone with ImageJ's ParticleAnalyzer.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Label image (0 = background).
    image : (M, N) ndarray, optional
        Intensity image, measured through ImageJ's "redirect" option.
    pixel_size : float or (float, float), optional
        Pixel width and height set as the ImageJ calibration (unit nm).
    ij_jar : str, optional
        Path of ``ij.jar`` (see :func:`find_ij_jar`).
    crop : bool, optional
        Measure each label in its bounding box (the values do not change; it
        only avoids rescanning the whole image once per label).

    Returns
    -------
    pandas.DataFrame
        ImageJ's ResultsTable columns, one row per particle ImageJ found, with
        ``Label`` and full-image coordinates.
    """
    import pandas as pd

    from .._validate import check_2d_array, check_labels, check_pixel_size

    labels = check_labels(labels)
    if image is not None:
        image = check_2d_array(image, "image")
        if image.shape != labels.shape:
            raise ValueError("image and labels must have the same shape")
    pw, ph = check_pixel_size(pixel_size)
    ij = start_imagej(ij_jar)
    PA = ij.plugin.filter.ParticleAnalyzer
    M = ij.measure.Measurements
    meas = (M.AREA | M.CENTROID | M.PERIMETER | M.RECT | M.ELLIPSE
            | M.SHAPE_DESCRIPTORS | M.FERET)
    if image is not None:
        meas |= M.MEAN | M.STD_DEV | M.MIN_MAX | M.MEDIAN
    ij.plugin.filter.Analyzer.setPrecision(9)
    values = np.unique(labels[labels > 0])
    from scipy import ndimage
    boxes = ndimage.find_objects(labels.astype(np.int64)) if crop else None
    rows = []
    full = (slice(0, labels.shape[0]), slice(0, labels.shape[1]))
    for v in values:
        sl = boxes[int(v) - 1] if crop else full
        lab = labels[sl]
        imp = ij.ImagePlus("labels", _processor(ij, lab))
        cal = imp.getCalibration()
        if pixel_size is not None:
            cal.pixelWidth, cal.pixelHeight = pw, ph
            cal.setUnit("nm")
        ip = imp.getProcessor()
        ip.setThreshold(float(v), float(v), ij.process.ImageProcessor.NO_LUT_UPDATE)
        if image is not None:
            red = ij.ImagePlus("intensity", _processor(ij, image[sl]))
            red.setCalibration(cal)
            ij.plugin.filter.Analyzer.setRedirectImage(red)
        rt = ij.measure.ResultsTable()
        pa = PA(PA.SHOW_NONE, meas, rt, 0.0, math.inf)
        pa.setHideOutputImage(True)
        ok = pa.analyze(imp, ip)
        if image is not None:
            ij.plugin.filter.Analyzer.setRedirectImage(None)
        if not ok:
            raise RuntimeError(f"ImageJ's ParticleAnalyzer failed on label {v}")
        heads = [str(h) for h in rt.getHeadings() if str(h) not in (" ", "")]
        oy, ox = sl[0].start, sl[1].start
        for r in range(rt.size()):
            row = {"Label": int(v)}
            for h in heads:
                row[h] = float(rt.getValue(h, r))
            row["X"] += ox * pw
            row["Y"] += oy * ph
            row["BX"] += ox * pw
            row["BY"] += oy * ph
            row["FeretX"] += ox
            row["FeretY"] += oy
            rows.append(row)
    return pd.DataFrame(rows)
