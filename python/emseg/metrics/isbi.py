"""ISBI 2012 EM challenge: Rand and information (variation of information)
errors, restricted to the ground truth's foreground."""

import math
from collections import namedtuple

import numpy as np

from ._common import _pair, _ratio, _unique_pairs

__all__ = ["RandError", "InformationError", "rand_error", "information_error"]


RandError = namedtuple("RandError", "error precision recall")


InformationError = namedtuple("InformationError", "error splits merges")


def _foreground_tables(pred, truth):
    """Pixel counts on the ground truth's foreground: joint (one per shared
    (pred, truth) segment pair), per predicted segment, per true segment."""
    fg = truth.ravel() != 0
    pv, tv, n = _unique_pairs(pred.ravel()[fg], truth.ravel()[fg])
    n = n.astype(np.float64)
    _, p_inv = np.unique(pv, return_inverse=True)
    _, t_inv = np.unique(tv, return_inverse=True)
    return n, np.bincount(p_inv.ravel(), weights=n), np.bincount(t_inv.ravel(), weights=n)


def rand_error(pred, truth):
    """Foreground-restricted Rand error (ISBI 2012 / SNEMI3D "adapted Rand").

    Only pixels that are foreground in ``truth`` count; there, predicted
    background (0) is one more segment. With n_ij the pixels shared by
    predicted segment i and true segment j, pairs are counted as
    sum n(n - 1) so single pixels carry no pair.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images.

    Returns
    -------
    RandError
        ``error`` = 1 - F-score of ``precision`` (pixel pairs together in both
        / pairs together in ``pred``) and ``recall`` (/ pairs together in
        ``truth``). NaN where undefined. The same error as scikit-image's
        ``adapted_rand_error(truth, pred)``.
    """
    pred, truth = _pair(pred, truth)
    n, a, b = _foreground_tables(pred, truth)
    both = float(n @ n - n.sum())
    in_pred = float(a @ a - a.sum())
    in_truth = float(b @ b - b.sum())
    precision = _ratio(both, in_pred)
    recall = _ratio(both, in_truth)
    error = 1.0 - _ratio(2 * both, in_pred + in_truth)
    return RandError(error, precision, recall)


def _entropy(counts, total):
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def information_error(pred, truth):
    """Foreground-restricted information-theoretic error (ISBI 2012).

    On the ground truth's foreground, V_info = 2 I(S; T) / (H(S) + H(T)) and
    the error is 1 - V_info (entropies in bits; the ratio does not depend on
    the base).

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images.

    Returns
    -------
    InformationError
        ``error``; ``splits`` = H(S | T) (over-segmentation) and ``merges`` =
        H(T | S) (under-segmentation), in bits: their sum is the variation of
        information (scikit-image's ``variation_of_information(truth, pred,
        ignore_labels=(0,))`` returns the pair). ``error`` is 0 for identical
        partitions and 1 when ``pred`` carries no information about ``truth``;
        NaN when both have a single segment (no information to share).
    """
    pred, truth = _pair(pred, truth)
    n, a, b = _foreground_tables(pred, truth)
    total = float(n.sum())
    if total == 0:
        return InformationError(math.nan, math.nan, math.nan)
    h_s, h_t, h_st = _entropy(a, total), _entropy(b, total), _entropy(n, total)
    mutual = h_s + h_t - h_st
    error = 1.0 - _ratio(2 * mutual, h_s + h_t) if h_s + h_t > 0 else math.nan
    return InformationError(error, max(h_st - h_t, 0.0), max(h_st - h_s, 0.0))
