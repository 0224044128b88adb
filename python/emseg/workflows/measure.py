"""Measuring the particles of label files (``emseg measure``)."""

from dataclasses import dataclass
from pathlib import Path

from ..io import resolve_pixel_size
from .files import load_image, load_labels

__all__ = ["MeasureResult", "measure_file", "combine_tables"]


@dataclass
class MeasureResult:
    """Outcome of measuring one file."""

    labels_path: Path
    image_path: Path = None
    table: object = None
    pixel_size: tuple = None
    pixel_size_source: str = None


def measure_file(labels_path, image_path=None, *, pixel_size=None, connectivity=8):
    """Measure the particles of one label file.

    The pixel size is ``pixel_size`` when given (it always wins), else the
    label file's calibration, else the intensity image's, else none (pixels).

    Returns
    -------
    MeasureResult
        With ``table`` set; errors propagate as exceptions.
    """
    from ..measure import measure

    labels, size, meta = load_labels(labels_path)
    res = MeasureResult(Path(labels_path), Path(image_path) if image_path else None)
    image = isize = imeta = None
    if image_path is not None:
        image, isize, imeta = load_image(image_path)
        if image.shape != labels.shape:
            raise ValueError(f"{image_path}: shape {image.shape} differs from "
                             f"{labels_path} {labels.shape}")
    size, source = resolve_pixel_size(pixel_size, (size, meta), (isize, imeta))
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
