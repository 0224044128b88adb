"""Comparing samples' distributions of one measurement (pure NumPy/SciPy, no I/O)."""

import itertools
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["SampleComparison", "bootstrap_median", "compare_samples"]


@dataclass
class SampleComparison:
    """The comparison of several samples' values of one measurement.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per sample: ``Sample``, ``n``, ``Median``, ``CI low``, ``CI high`` (the
        bootstrap confidence interval of the median), ``Mean``, ``SD``, ``Q1``, ``Q3``.
    tests : pandas.DataFrame
        One row per pair of samples: ``A``, ``B``, ``Median difference`` (B - A), ``U``,
        ``p Wilcoxon`` (two-sided rank-sum, i.e. Mann-Whitney U), ``KS``, ``p KS``
        (two-sample Kolmogorov-Smirnov) and both p-values Holm-adjusted over the pairs.
    values : dict
        Sample name -> its finite values (for plots).
    confidence : float
        Level of the confidence intervals.
    """

    summary: object
    tests: object
    values: dict
    confidence: float = 0.95


def bootstrap_median(values, *, n_boot=2000, confidence=0.95, seed=0):
    """The median and its percentile-bootstrap confidence interval.

    Parameters
    ----------
    values : 1D array-like of numbers
        NaN are ignored.
    n_boot : int, optional
        Resamples (with replacement, as many values as given).
    confidence : float, optional
        Two-sided level, in (0, 1).
    seed : int, optional

    Returns
    -------
    (median, low, high) : tuple of float
        NaN when there are no values.
    """
    v = _finite(values, "values")
    if not (isinstance(n_boot, numbers.Integral) and n_boot >= 100):
        raise ValueError(f"n_boot must be an integer >= 100, got {n_boot!r}")
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if v.size == 0:
        return (np.nan, np.nan, np.nan)
    rng = np.random.default_rng(seed)
    medians = np.empty(int(n_boot))
    # in blocks: n_boot x n indices at once would hold GBs for large samples
    block = max(1, int(2e6 // v.size))
    for start in range(0, int(n_boot), block):
        stop = min(int(n_boot), start + block)
        medians[start:stop] = np.median(v[rng.integers(0, v.size, (stop - start, v.size))],
                                        axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(medians, [alpha, 1 - alpha])
    return float(np.median(v)), float(low), float(high)


def compare_samples(samples, *, n_boot=2000, confidence=0.95, seed=0):
    """Compare two or more samples of one measurement.

    Parameters
    ----------
    samples : dict
        Sample name -> 1D array-like of values (NaN ignored), at least two samples.
    n_boot, confidence, seed : optional
        Of :func:`bootstrap_median`.

    Returns
    -------
    SampleComparison
    """
    import pandas as pd
    from scipy.stats import ks_2samp, mannwhitneyu

    if not isinstance(samples, dict) or len(samples) < 2:
        raise ValueError("samples must be a dict of at least two named samples")
    values = {str(k): _finite(v, f"samples[{k!r}]") for k, v in samples.items()}
    for name, v in values.items():
        if v.size < 2:
            raise ValueError(f"sample {name!r} has {v.size} value(s): at least 2 are needed")
    rows = []
    for i, (name, v) in enumerate(values.items()):
        med, lo, hi = bootstrap_median(v, n_boot=n_boot, confidence=confidence, seed=seed + i)
        q1, q3 = np.quantile(v, [0.25, 0.75])
        rows.append({"Sample": name, "n": int(v.size), "Median": med, "CI low": lo,
                     "CI high": hi, "Mean": float(v.mean()), "SD": float(v.std(ddof=1)),
                     "Q1": float(q1), "Q3": float(q3)})
    tests = []
    for a, b in itertools.combinations(values, 2):
        u = mannwhitneyu(values[a], values[b], alternative="two-sided")
        ks = ks_2samp(values[a], values[b])
        tests.append({"A": a, "B": b,
                      "Median difference": float(np.median(values[b]) - np.median(values[a])),
                      "U": float(u.statistic), "p Wilcoxon": float(u.pvalue),
                      "KS": float(ks.statistic), "p KS": float(ks.pvalue)})
    tests = pd.DataFrame(tests)
    for col in ("p Wilcoxon", "p KS"):
        tests[f"{col} (Holm)"] = holm(tests[col].to_numpy())
    return SampleComparison(pd.DataFrame(rows), tests, values, float(confidence))


def holm(pvalues):
    """Holm-Bonferroni adjusted p-values (family-wise error over the given tests)."""
    p = np.asarray(pvalues, float)
    order = np.argsort(p)
    m = p.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _finite(values, name):
    try:
        v = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers") from None
    return v[np.isfinite(v)]
