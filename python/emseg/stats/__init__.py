"""Statistics of measured objects between samples (what vesicle and particle papers report).

:mod:`~emseg.stats.compare`: two or more samples' distributions of a measurement (e.g. the
vesicle diameters of two cell lines): medians with bootstrap confidence intervals, Wilcoxon
rank-sum and Kolmogorov-Smirnov tests between every pair, Holm-adjusted.
"""

from .compare import SampleComparison, bootstrap_median, compare_samples

__all__ = ["compare_samples", "bootstrap_median", "SampleComparison"]
