"""Rule filters on measurement tables: value ranges on any column, border
particles, and the combination with classifier scores into ``Score``/``Kept``."""

import math
import numbers

import numpy as np

from .._validate import check_labels

__all__ = ["parse_range", "range_filter", "border_filter", "apply_filters", "filter_labels"]


def parse_range(text):
    """Parse ``"COL=LO:HI"`` (either bound may be empty) into ``(col, lo, hi)``.

    Examples: ``MinFeret=50:300``, ``Solidity=0.9:``, ``Area=:1e5``.
    """
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"range must be COLUMN=LOW:HIGH, got {text!r}")
    column, _, bounds = text.partition("=")
    column = column.strip()
    if not column or bounds.count(":") != 1:
        raise ValueError(f"range must be COLUMN=LOW:HIGH, got {text!r}")
    lo_text, hi_text = (b.strip() for b in bounds.split(":"))
    try:
        lo = float(lo_text) if lo_text else -math.inf
        hi = float(hi_text) if hi_text else math.inf
    except ValueError:
        raise ValueError(f"range {text!r}: bounds must be numbers") from None
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise ValueError(f"range {text!r}: LOW must not exceed HIGH")
    return column, lo, hi


def _check_table(table):
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    return table


def range_filter(table, ranges):
    """Rows whose values lie within every ``(column, low, high)`` range (inclusive).

    Parameters
    ----------
    table : pandas.DataFrame
        Measurements (:func:`emseg.measure.measure`).
    ranges : iterable of (str, float, float) or of "COL=LO:HI" strings

    Returns
    -------
    pandas.Series of bool
    """
    import pandas as pd

    table = _check_table(table)
    keep = pd.Series(True, index=table.index)
    for item in ranges:
        column, lo, hi = parse_range(item) if isinstance(item, str) else item
        if column not in table.columns:
            raise ValueError(f"range: no column {column!r} in the table "
                             f"(columns: {', '.join(map(str, table.columns))})")
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().all() and len(values):
            raise ValueError(f"range: column {column!r} is not numeric")
        if not (isinstance(lo, numbers.Real) and isinstance(hi, numbers.Real)) or lo > hi:
            raise ValueError(f"range for {column!r}: low must be a number not above high")
        keep &= (values >= lo) & (values <= hi)
    return keep


def border_filter(table):
    """Rows of particles that do not touch the image border (``Border`` column)."""
    table = _check_table(table)
    if "Border" not in table.columns:
        raise ValueError("table has no Border column (measure the labels with emseg.measure)")
    return ~table["Border"].astype(bool)


def apply_filters(table, *, scores=None, min_score=0.5, ranges=(), exclude_border=False):
    """The measurement table with ``Score`` and ``Kept`` columns.

    A particle is kept when its classifier score reaches ``min_score`` (when
    scores are given), it lies within every range and, with
    ``exclude_border``, it does not touch the border.

    Parameters
    ----------
    table : pandas.DataFrame
        Measurements with a ``Label`` column.
    scores : (n + 1,) ndarray, optional
        Per-label scores (:func:`instance_scores`); None: no classifier
        (``Score`` is NaN).
    min_score : float, optional
    ranges : iterable, optional
        See :func:`range_filter`.
    exclude_border : bool, optional

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with ``Score`` (float) and ``Kept`` (bool).
    """
    table = _check_table(table)
    if "Label" not in table.columns:
        raise ValueError("table has no Label column")
    if not (isinstance(min_score, numbers.Real) and 0 <= min_score <= 1):
        raise ValueError(f"min_score must be in [0, 1], got {min_score!r}")
    out = table.copy()
    keep = range_filter(out, ranges)
    if exclude_border:
        keep &= border_filter(out)
    labels = out["Label"].to_numpy(np.int64)
    if scores is not None:
        scores = np.asarray(scores, np.float64)
        if scores.ndim != 1 or (labels.size and labels.max() >= scores.size):
            raise ValueError("scores must hold one value per label (index = label)")
        out["Score"] = scores[labels] if labels.size else np.zeros(0)
        keep &= out["Score"].to_numpy() >= min_score
    else:
        out["Score"] = np.nan
    out["Kept"] = keep.to_numpy(bool)
    return out


def filter_labels(labels, kept):
    """The label image with only the ``kept`` labels (numbers unchanged).

    Parameters
    ----------
    labels : (M, N) ndarray of int
    kept : iterable of int
        Labels to keep.

    Returns
    -------
    ndarray
        Same dtype and shape as ``labels``.
    """
    labels = check_labels(labels, "labels")
    kept = np.asarray(list(kept), np.int64)
    n = int(labels.max()) + 1
    lut = np.zeros(n, bool)
    kept = kept[(kept > 0) & (kept < n)]
    lut[kept] = True
    return np.where(lut[labels], labels, 0).astype(labels.dtype)
