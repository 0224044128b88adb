"""File-level workflows behind the command line: read, check, measure.

Each function takes paths, calls :mod:`emseg.io` to read and the pure
algorithms to compute, and returns results; the caller decides what to write.
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import io as _io

__all__ = ["load_labels", "load_image", "measure_file", "combine_tables", "example_files",
           "MeasureResult"]


@dataclass
class MeasureResult:
    """Outcome of measuring one file."""

    labels_path: Path
    image_path: Path = None
    table: object = None
    pixel_size: tuple = None
    pixel_size_source: str = None


def _squeeze_2d(array, path, what):
    """Drop singleton axes; refuse RGB and genuinely 3D data."""
    data = np.squeeze(array)
    if data.ndim == 3 and data.shape[-1] in (3, 4):
        fix = (" where a label image or mask is expected" if what == "labels"
               else "; convert it to grey levels first")
        raise ValueError(f"{path}: RGB image{fix}")
    if data.ndim != 2:
        raise ValueError(f"{path}: {data.ndim}D {what} of shape {array.shape} where a 2D image is expected")
    return data


def load_labels(path):
    """Read a 2D label image or binary mask and check it.

    Returns ``(labels, pixel_size_nm, metadata)``; raises ValueError/TypeError
    with the file name for RGB, 3D, floating-point, negative or empty labels.
    """
    from ._validate import check_labels

    array, size, meta = _io.read_image(path)
    labels = _squeeze_2d(array, path, "labels")
    if labels.dtype.kind == "f":
        raise TypeError(f"{path}: floating-point pixels ({labels.dtype}) where integer labels are expected")
    try:
        labels = check_labels(labels)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path}: {exc}") from None
    if not labels.any():
        raise ValueError(f"{path}: label image is empty (no particle pixels)")
    return labels, size, meta


def load_image(path):
    """Read a 2D grey-level intensity image; returns ``(image, pixel_size_nm, metadata)``."""
    array, size, meta = _io.read_image(path)
    return _squeeze_2d(array, path, "image"), size, meta


def measure_file(labels_path, image_path=None, *, pixel_size=None, connectivity=8):
    """Measure the particles of one label file.

    The pixel size is ``pixel_size`` when given (it always wins), else the
    label file's calibration, else the intensity image's, else none (pixels).

    Returns
    -------
    MeasureResult
        With ``table`` set; errors propagate as exceptions.
    """
    from .measure import measure

    labels, size, meta = load_labels(labels_path)
    res = MeasureResult(Path(labels_path), Path(image_path) if image_path else None)
    image = None
    if image_path is not None:
        image, isize, imeta = load_image(image_path)
        if image.shape != labels.shape:
            raise ValueError(f"{image_path}: shape {image.shape} differs from "
                             f"{labels_path} {labels.shape}")
        if size is None and isize is not None:
            size, meta = isize, imeta
    if pixel_size is not None:
        size, source = pixel_size, "--pixel-size"
    else:
        source = meta.get("pixel_size_source") if size is not None else None
    res.table = measure(labels, image, pixel_size=size, connectivity=connectivity)
    res.pixel_size = res.table.attrs["pixel_size"] if size is not None else None
    res.pixel_size_source = source
    return res


def combine_tables(results, *, file_column=True):
    """Stack the tables of several :class:`MeasureResult` into one.

    With ``file_column`` a first column ``File`` names each row's label file.
    ``attrs["unit"]`` is the common unit, or "mixed" when calibrated and
    uncalibrated files are combined.
    """
    import pandas as pd

    if not results:
        raise ValueError("results is empty: nothing to combine")
    tables = []
    for r in results:
        t = r.table.copy()
        if file_column:
            t.insert(0, "File", r.labels_path.name)
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    units = {r.table.attrs.get("unit") for r in results}
    table.attrs["unit"] = units.pop() if len(units) == 1 else "mixed"
    return table


def example_files():
    """Paths of the bundled example: ``(labels.tif, image.tif)``.

    A synthetic 512x512 SEM-like scene of touching, non-convex particles at
    2.5 nm per pixel, made by ``emseg.synthetic`` (see ``data/README.md``).
    """
    base = resources.files("emseg") / "data"
    return Path(str(base / "example_labels.tif")), Path(str(base / "example_image.tif"))
