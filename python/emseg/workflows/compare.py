"""``emseg compare``: samples' measurement tables compared (file handling around
:mod:`emseg.stats`)."""

from pathlib import Path

import numpy as np

from .files import file_part

__all__ = ["sample_tables", "sample_values", "compare_tables", "write_comparison",
           "COMPARE_UNITS"]

#: Units of the columns EMSeg's tables hold in nm (the others are ratios or counts).
COMPARE_UNITS = {"ECD": "nm", "Feret": "nm", "MinFeret": "nm", "Major": "nm", "Minor": "nm",
                 "Perim.": "nm", "Width": "nm", "Height": "nm", "Area": "nm²",
                 "Diameter": "nm", "Radius": "nm", "Thickness": "nm"}

#: The tables EMSeg writes per image or tomogram, in the order a folder's files are taken.
_TABLE_ENDINGS = ("_filtered.csv", "_results.csv", "_vesicles.csv")


def sample_tables(path):
    """The measurement tables of one sample: a CSV file, or a folder's EMSeg tables
    (``<stem>_filtered.csv``, else ``<stem>_results.csv``, and ``<stem>_vesicles.csv``).

    Returns
    -------
    list of pathlib.Path
    """
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise ValueError(f"{path}: not a CSV table (give EMSeg's result tables or their "
                             "folder)")
        return [path]
    if not path.is_dir():
        raise ValueError(f"{path}: no such file or folder")
    found = {}
    for f in sorted(path.iterdir()):
        for ending in _TABLE_ENDINGS:
            if f.name.endswith(ending) and not f.name.startswith("."):
                stem = f.name[: -len(ending)]
                # a filtered table replaces the segmentation's table of the same image
                if stem not in found or ending == "_filtered.csv":
                    found[stem] = f
    if not found:
        raise ValueError(f"{path}: no EMSeg tables (*_results.csv, *_filtered.csv, "
                         "*_vesicles.csv) in this folder")
    return list(found.values())


def sample_values(tables, column, *, include_border=False):
    """One sample's values of ``column`` from its tables: rows a filter discarded
    (``Kept`` false) and, unless ``include_border``, objects cut by the image border
    (``Border`` true: their size is not theirs) are left out."""
    return _values(_read(tables), column, include_border)


def _read(tables):
    from .. import io

    return [(path, io.read_table(path)) for path in tables]


def _values(frames, column, include_border):
    """:func:`sample_values` of tables already read: ``(path, DataFrame)`` pairs."""
    out = []
    for path, t in frames:
        if column not in t.columns:
            raise ValueError(f"{path}: no column {column!r} (columns: "
                             f"{', '.join(map(str, t.columns))})")
        keep = np.ones(len(t), bool)
        if "Kept" in t.columns:
            keep &= t["Kept"].astype(bool).to_numpy()
        if not include_border and "Border" in t.columns:
            keep &= ~t["Border"].astype(bool).to_numpy()
        out.append(t.loc[keep, column].to_numpy(float))
    return np.concatenate(out) if out else np.empty(0)


def default_columns(path, columns):
    """Diameter and roundness: ``ECD``, ``Circ.`` and ``Round`` for particle tables,
    ``Diameter`` for vesicle tables of tomograms (``columns``: those of the table ``path``)."""
    columns = set(columns)
    if {"ECD", "Circ.", "Round"} <= columns:
        return ["ECD", "Circ.", "Round"]
    if "Diameter" in columns:
        return ["Diameter"]
    raise ValueError(f"{path}: neither a particle table (ECD, Circ., Round) nor a vesicle "
                     "table (Diameter): give --column")


def compare_tables(samples, columns=None, *, include_border=False, n_boot=2000,
                   confidence=0.95, seed=0):
    """Compare samples column by column.

    Parameters
    ----------
    samples : dict
        Sample name -> list of table paths (:func:`sample_tables`).
    columns : list of str, optional
        Measurements to compare (default :func:`default_columns` of the first sample's
        first table).

    Returns
    -------
    dict
        Column -> :class:`emseg.stats.SampleComparison`.
    """
    from ..stats import compare_samples

    frames = {name: _read(tables) for name, tables in samples.items()}     # each read once
    if columns is None:
        path, first = next(iter(frames.values()))[0]
        columns = default_columns(path, first.columns)
    out = {}
    for column in columns:
        values = {name: _values(f, column, include_border) for name, f in frames.items()}
        out[column] = compare_samples(values, n_boot=n_boot, confidence=confidence, seed=seed)
    return out


def comparison_paths(folder, columns):
    """Where :func:`write_comparison` writes."""
    folder = Path(folder)
    paths = {"summary": folder / "compare_summary.csv", "tests": folder / "compare_tests.csv"}
    for c in columns:
        paths[c] = folder / f"compare_{file_part(c) or 'column'}.png"
    return paths


def write_comparison(folder, comparisons):
    """Write ``compare_summary.csv``, ``compare_tests.csv`` (a ``Column`` column first) and a
    ``compare_<column>.png`` per column; returns the paths."""
    import pandas as pd

    from .. import io
    from ..plot import sample_comparison

    paths = comparison_paths(folder, comparisons)
    summary = pd.concat([c.summary.assign(Column=col) for col, c in comparisons.items()],
                        ignore_index=True)
    tests = pd.concat([c.tests.assign(Column=col) for col, c in comparisons.items()],
                      ignore_index=True)
    order = ["Column"]
    io.write_table(paths["summary"], summary[order + [c for c in summary if c not in order]])
    io.write_table(paths["tests"], tests[order + [c for c in tests if c not in order]])
    for col, c in comparisons.items():
        io.write_png(paths[col], sample_comparison(c, col, unit=COMPARE_UNITS.get(col)))
    return paths
