"""Reading and writing images and tables: the only EMSeg module that touches files.

Pixel sizes are always returned in nanometres as ``(width, height)`` of a pixel
(ImageJ's pixelWidth, pixelHeight), or None when the file carries no
calibration. Anisotropic pixels are reported as they are, never averaged.
"""

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

__all__ = ["read_image", "write_labels", "write_image", "write_table", "write_png", "ImageReadError",
           "UNIT_TO_NM", "read_text", "write_text", "read_yaml", "write_yaml"]

#: Length units understood in metadata, with their size in nm.
UNIT_TO_NM = {
    "pm": 1e-3, "a": 0.1, "å": 0.1, "Å": 0.1, "\u212b": 0.1, "angstrom": 0.1, "nm": 1.0,
    "nanometer": 1.0, "nanometre": 1.0, "um": 1e3, "µm": 1e3, "\u03bcm": 1e3,
    "micron": 1e3, "microns": 1e3, "micrometer": 1e3, "micrometre": 1e3,
    "mm": 1e6, "cm": 1e7, "m": 1e9, "meter": 1e9, "metre": 1e9, "inch": 2.54e7,
}
_TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8")
_OTHER_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


class ImageReadError(ValueError):
    """A file could not be read as an image (missing, unreadable, unsupported)."""


def unit_to_nm(unit):
    """Size of one ``unit`` in nm, or None when the unit is not a length."""
    if unit is None:
        return None
    # ImageJ writes non-ASCII units as Java escapes ("\\u00B5m" for µm).
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), str(unit))
    return UNIT_TO_NM.get(text.strip().lower())


def _pair(pw, ph, factor):
    if pw is None or ph is None or factor is None:
        return None
    pw, ph = float(pw) * factor, float(ph) * factor
    if not (np.isfinite(pw) and np.isfinite(ph) and pw > 0 and ph > 0):
        return None
    return pw, ph


def _resolution(page):
    """(pixel width, pixel height) in resolution-unit lengths, from the tags."""
    xr = page.tags.get("XResolution")
    yr = page.tags.get("YResolution")
    if xr is None or yr is None:
        return None, None

    def inv(v):
        num, den = v.value
        return den / num if num else None
    return inv(xr), inv(yr)


def _imagej_calibration(tif):
    meta = tif.imagej_metadata or {}
    factor = unit_to_nm(meta.get("unit"))
    pw, ph = _resolution(tif.pages[0])
    return _pair(pw, ph, factor)


def _ome_calibration(tif):
    try:
        root = ET.fromstring(tif.ome_metadata)
    except (ET.ParseError, TypeError):
        return None
    for el in root.iter():
        if el.tag.endswith("Pixels"):
            sx, sy = el.get("PhysicalSizeX"), el.get("PhysicalSizeY")
            if sx is None:
                return None
            sy = sy if sy is not None else sx
            fx = unit_to_nm(el.get("PhysicalSizeXUnit", "µm"))
            fy = unit_to_nm(el.get("PhysicalSizeYUnit", el.get("PhysicalSizeXUnit", "µm")))
            if fx is None or fy is None:
                return None
            return _pair(float(sx) * fx, float(sy) * fy, 1.0)
    return None


def _zeiss_calibration(tif):
    meta = tif.sem_metadata or {}
    entry = meta.get("ap_image_pixel_size") or meta.get("ap_pixel_size")
    if not isinstance(entry, tuple) or len(entry) < 3:
        return None
    factor = unit_to_nm(entry[2])
    return _pair(entry[1], entry[1], factor)


def _fei_calibration(tif):
    meta = tif.fei_metadata or {}
    scan = meta.get("Scan") or meta.get("EScan") or {}
    pw, ph = scan.get("PixelWidth"), scan.get("PixelHeight")
    if pw is None:
        return None
    return _pair(pw, ph if ph is not None else pw, 1e9)  # metres


def _tag_calibration(page):
    unit = page.tags.get("ResolutionUnit")
    code = int(unit.value) if unit is not None else 2
    factor = {2: UNIT_TO_NM["inch"], 3: UNIT_TO_NM["cm"]}.get(code)
    pw, ph = _resolution(page)
    if pw == 1 and ph == 1 and unit is None:
        return None  # tags merely defaulted
    return _pair(pw, ph, factor)


def _read_tiff(path):
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data = series.asarray()
        axes = series.axes
        meta = {"format": "tiff", "axes": axes, "shape": data.shape, "dtype": str(data.dtype)}
        for source, reader, flag in (
                ("ImageJ", _imagej_calibration, tif.is_imagej),
                ("OME", _ome_calibration, tif.is_ome),
                ("Zeiss SEM", _zeiss_calibration, tif.is_sem),
                ("FEI/Thermo Fisher", _fei_calibration, tif.is_fei)):
            if flag:
                size = reader(tif)
                if size is not None:
                    meta["pixel_size_source"] = source
                    return data, size, meta
        size = _tag_calibration(tif.pages[0])
        if size is not None:
            meta["pixel_size_source"] = "TIFF resolution tags"
        return data, size, meta


def read_image(path):
    """Read an image and its physical pixel size.

    Parameters
    ----------
    path : str or os.PathLike
        TIFF (including ImageJ hyperstacks and OME-TIFF), PNG, JPEG, BMP or GIF.

    Returns
    -------
    array : ndarray
        Pixel data as stored (hyperstacks keep all axes; see ``metadata["axes"]``).
    pixel_size_nm : (float, float) or None
        Pixel width and height in nm from ImageJ calibration, OME
        ``PhysicalSizeX/Y``, Zeiss SEM (tag 34118, ``ap_image_pixel_size``),
        FEI/Thermo Fisher ``[Scan] PixelWidth/Height`` or TIFF resolution tags
        with a unit, in that order of preference; None when uncalibrated.
    metadata : dict
        ``format``, ``axes``, ``shape``, ``dtype`` and, when calibrated,
        ``pixel_size_source``.

    Raises
    ------
    ImageReadError
        When the file is missing, unreadable or not a supported image.
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if not path.is_file():
        raise ImageReadError(f"{path}: not a file")
    suffix = path.suffix.lower()
    try:
        if suffix in _TIFF_SUFFIXES:
            return _read_tiff(path)
        if suffix in _OTHER_SUFFIXES:
            from skimage.io import imread
            data = imread(path)
            meta = {"format": suffix.lstrip("."), "shape": data.shape, "dtype": str(data.dtype),
                    "axes": "YXS"[: data.ndim] if data.ndim == 3 else "YX"[: data.ndim]}
            return data, None, meta
    except ImageReadError:
        raise
    except Exception as exc:
        raise ImageReadError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from None
    raise ImageReadError(
        f"{path}: unsupported file type {suffix or '(none)'}; use TIFF, PNG or JPEG")


def _atomic_write(path, writer):
    """Write through a temporary file in the target folder, then rename, so that
    a failure never leaves a half-written file behind."""
    path = Path(os.fspath(path))
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=".emseg-", suffix=path.suffix, dir=folder)
    os.close(fd)
    try:
        writer(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _calibration(pixel_size, unit):
    """``(resolution kwargs, unit)`` for tifffile, or ``({}, None)`` when uncalibrated."""
    from ._validate import check_pixel_size

    if pixel_size is None:
        return {}, None
    pw, ph = check_pixel_size(pixel_size)
    return {"resolution": (1.0 / pw, 1.0 / ph)}, unit


def write_labels(path, labels, pixel_size=None, *, unit="nm"):
    """Write a label image as a TIFF that ImageJ/Fiji opens with its scale.

    Parameters
    ----------
    path : str or os.PathLike
        Output ``.tif`` file; written atomically.
    labels : (M, N) ndarray of int or bool
        Labels (stored as uint16 when they fit, else uint32, which ImageJ
        opens as 32-bit).
    pixel_size : float or (float, float), optional
        Pixel width and height in ``unit``.
    unit : str, optional
        Length unit written to the ImageJ calibration.
    """
    import tifffile

    from ._validate import check_labels

    labels = check_labels(labels)
    top = int(labels.max()) if labels.size else 0
    if top > np.iinfo(np.uint32).max:
        raise ValueError(f"labels: largest label {top} does not fit in uint32")
    dtype = np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32
    data = labels.astype(dtype)
    kwargs, unit_meta = _calibration(pixel_size, unit)

    def writer(tmp):
        if dtype == np.uint16:
            meta = {"unit": unit_meta} if unit_meta else {}
            tifffile.imwrite(tmp, data, imagej=True, metadata=meta, compression="zlib", **kwargs)
        else:
            # ImageJ hyperstacks cannot hold uint32; an ImageJ description on a
            # plain TIFF still carries the unit that Fiji reads.
            desc = "ImageJ=1.53t\nimages=1\n" + (f"unit={unit_meta}\n" if unit_meta else "")
            tifffile.imwrite(tmp, data, description=desc, metadata=None, compression="zlib",
                             **kwargs)
    return _atomic_write(path, writer)


def write_image(path, image, pixel_size=None, *, unit="nm"):
    """Write a 2D 8-bit, 16-bit or float32 grey-level image as ImageJ TIFF with its scale."""
    import tifffile

    from ._validate import check_2d_array

    image = check_2d_array(image, "image")
    if image.dtype not in (np.uint8, np.uint16, np.float32):
        raise TypeError(f"image must be uint8, uint16 or float32, got {image.dtype}")
    kwargs, unit_meta = _calibration(pixel_size, unit)
    meta = {"unit": unit_meta} if unit_meta else {}
    return _atomic_write(path, lambda tmp: tifffile.imwrite(
        tmp, image, imagej=True, metadata=meta, compression="zlib", **kwargs))


def write_table(path, table):
    """Write a measurement table as CSV (atomically), without the pandas index."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    return _atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def write_png(path, figure):
    """Save a matplotlib figure as PNG (atomically)."""
    return _atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120))


def read_text(path):
    """Read a UTF-8 text file; a missing or unreadable file is a ValueError naming it."""
    path = Path(os.fspath(path))
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None


def write_text(path, text):
    """Write a UTF-8 text file atomically."""
    return _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_yaml(path):
    """Read a YAML mapping (a model's ``model.yaml``)."""
    import yaml

    try:
        data = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def write_yaml(path, data):
    """Write a mapping as block-style YAML, keys in the given order, atomically."""
    import yaml

    return write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                           default_flow_style=False))
