"""Biology-facing scores: FRU-Net's diameter/roundness ratio errors,
morphology errors of matched objects, the Monte-Carlo Wilcoxon test,
size-distribution agreement."""

import math
import numbers

import numpy as np

from ._common import _ratio
from .instance import Matching

__all__ = ["ratio_error", "matched_values", "morphology_errors", "wilcoxon_mc",
           "distribution_errors"]


def _values(x, name):
    try:
        v = np.asarray(x, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers") from None
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return v


def ratio_error(pred_values, truth_values):
    """FRU-Net's relative error of paired values: mean(1 - min(s, g) / max(s, g)).

    0 for a perfect match, close to 1 for a poor one. Used for the diameter
    error delta_d and the roundness error delta_r of matched objects.

    Parameters
    ----------
    pred_values, truth_values : 1D array-like of non-negative numbers, same length

    Returns
    -------
    float
        NaN for empty input. A pair of zeros counts as a perfect match.
    """
    s = _values(pred_values, "pred_values")
    g = _values(truth_values, "truth_values")
    if s.shape != g.shape:
        raise ValueError(f"pred_values ({s.size}) and truth_values ({g.size}) differ in length")
    if np.any(s < 0) or np.any(g < 0):
        raise ValueError("pred_values and truth_values must be non-negative")
    if s.size == 0:
        return math.nan
    hi = np.maximum(s, g)
    lo = np.minimum(s, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(hi > 0, lo / hi, 1.0)
    return float(np.mean(1.0 - r))


def _per_label(table, column):
    """``{label: value}`` of a measurement table; a label in several pieces
    is represented by its largest piece."""
    t = table.sort_values("Area", ascending=False).drop_duplicates("Label")
    return dict(zip(t["Label"].to_numpy(), t[column].to_numpy()))


def matched_values(matching, pred_table, truth_table, column):
    """``column`` of the matched objects: ``(pred, truth)`` arrays, pair by pair.

    Parameters
    ----------
    matching : Matching
        From :func:`match_instances`.
    pred_table, truth_table : pandas.DataFrame
        :func:`emseg.measure.measure` tables of the same label images.
    column : str
        A measurement column (e.g. ``ECD``, ``Circ.``).
    """
    if not isinstance(matching, Matching):
        raise TypeError(f"matching must be a Matching, got {type(matching).__name__}")
    for name, t in (("pred_table", pred_table), ("truth_table", truth_table)):
        if not hasattr(t, "columns") or column not in t.columns or "Label" not in t.columns:
            raise ValueError(f"{name} must be a measurement table with Label and {column}")
    p = _per_label(pred_table, column)
    g = _per_label(truth_table, column)
    try:
        s = [p[int(lab)] for lab in matching.pred_labels]
        r = [g[int(lab)] for lab in matching.truth_labels]
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]} of matching is missing from the tables") from None
    return np.asarray(s, float), np.asarray(r, float)


def morphology_errors(matching, pred_table, truth_table):
    """Diameter and roundness errors of matched objects (FRU-Net's delta_d, delta_r).

    Parameters
    ----------
    matching : Matching
        From :func:`match_instances`.
    pred_table, truth_table : pandas.DataFrame
        :func:`emseg.measure.measure` tables of the same label images; the
        diameter is ``ECD`` = 2 sqrt(A / pi), the roundness ``Circ.`` =
        4 pi A / P^2 (ImageJ's, capped at 1).

    Returns
    -------
    dict
        ``delta_d``, ``delta_r`` (:func:`ratio_error` over the matched pairs)
        and ``n`` (number of pairs).
    """
    out = {"n": matching.tp if isinstance(matching, Matching) else 0}
    for key, column in (("delta_d", "ECD"), ("delta_r", "Circ.")):
        out[key] = ratio_error(*matched_values(matching, pred_table, truth_table, column))
    return out


def wilcoxon_mc(a, b, *, fold_size=30, seed=0):
    """Monte-Carlo Wilcoxon rank-sum p-value of two samples (FRU-Net paper).

    In each fold ``fold_size`` values are drawn without replacement from each
    sample (2/3 of a sample smaller than ``fold_size``) and compared with the
    two-sided Wilcoxon rank-sum (Mann-Whitney U) test. The number of folds is
    floor(10 * n / k) for the larger sample (n values, k drawn per fold), so
    its values are drawn about ten times each. The p-values are averaged.

    Parameters
    ----------
    a, b : 1D array-like of numbers
        The two samples (e.g. diameters of segmented and true objects).
    fold_size : int, optional
        Values drawn per sample and fold (default 30).
    seed : int, optional
        Seed of the random draws (the result is reproducible).

    Returns
    -------
    float
        Mean p-value; NaN when a sample has fewer than 2 values.
    """
    from scipy.stats import mannwhitneyu

    x = _values(a, "a")
    y = _values(b, "b")
    if not isinstance(fold_size, numbers.Integral) or fold_size < 2:
        raise ValueError(f"fold_size must be an integer >= 2, got {fold_size!r}")
    if x.size < 2 or y.size < 2:
        return math.nan

    def draw_size(n):
        return fold_size if n >= fold_size else max(2, (2 * n) // 3)

    kx, ky = draw_size(x.size), draw_size(y.size)
    folds = max(math.floor(10 * x.size / kx), math.floor(10 * y.size / ky))
    rng = np.random.default_rng(seed)
    # one row per fold: the first k of a random permutation (draws without replacement)
    sx = x[np.argsort(rng.random((folds, x.size)), axis=1)[:, :kx]]
    sy = y[np.argsort(rng.random((folds, y.size)), axis=1)[:, :ky]]
    p = mannwhitneyu(sx, sy, alternative="two-sided", axis=1).pvalue
    return float(np.mean(p))


def distribution_errors(pred_values, truth_values):
    """Agreement of two size (or shape) distributions.

    Parameters
    ----------
    pred_values, truth_values : 1D array-like of numbers
        E.g. the ``MinFeret`` column of the segmented and the true particles
        (they need not be paired or of equal count).

    Returns
    -------
    dict
        Signed relative errors (pred - truth) / truth of the ``mean``,
        ``median``, ``D10`` and ``D90`` (10th/90th number percentiles), and
        ``KS``, the two-sample Kolmogorov-Smirnov statistic (largest
        difference between the empirical distribution functions, 0..1).
        NaN when either sample is empty.
    """
    s = _values(pred_values, "pred_values")
    g = _values(truth_values, "truth_values")
    keys = ("mean", "median", "D10", "D90")
    if s.size == 0 or g.size == 0:
        return {**{k: math.nan for k in keys}, "KS": math.nan}

    def stats(v):
        d10, d50, d90 = np.percentile(v, [10, 50, 90])
        return {"mean": v.mean(), "median": d50, "D10": d10, "D90": d90}

    ps, gs = stats(s), stats(g)
    out = {k: _ratio(ps[k] - gs[k], gs[k]) for k in keys}
    # KS statistic: sup |F_s - F_g| over all sample values
    grid = np.union1d(s, g)
    fs = np.searchsorted(np.sort(s), grid, side="right") / s.size
    fg = np.searchsorted(np.sort(g), grid, side="right") / g.size
    out["KS"] = float(np.abs(fs - fg).max())
    return out
