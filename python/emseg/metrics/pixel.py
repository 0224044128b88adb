"""Pixel-level scores: foreground IoU/Dice/precision/recall, per class, ROC,
Youden's index, the ISBI pixel error, the threshold that maximises IoU."""

import math
import numbers

import numpy as np

from .._validate import check_label_array
from ._common import _binary_scores, _pair, _unique_pairs

__all__ = ["pixel_scores", "class_scores", "confusion_matrix", "confusion_scores", "mean_class_iou",
           "roc_curve",
           "youden_index", "pixel_error", "optimal_threshold"]


def pixel_scores(pred, truth):
    """Foreground overlap of two segmentations (any non-zero pixel is foreground).

    Parameters
    ----------
    pred, truth : ndarray of int or bool, 2D or 3D, same shape

    Returns
    -------
    dict
        ``IoU`` (Jaccard) = TP / (TP + FP + FN), ``Dice`` (F1) =
        2 TP / (2 TP + FP + FN), ``Precision`` = TP / (TP + FP), ``Recall`` =
        TP / (TP + FN) and the pixel counts ``TP``, ``FP``, ``FN``, ``TN``.
        NaN where the denominator is 0 (e.g. both images empty).
    """
    pred, truth = _pair(pred, truth)
    p = pred != 0
    t = truth != 0
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p)) - tp
    fn = int(np.count_nonzero(t)) - tp
    out = _binary_scores(tp, fp, fn)
    out.update(TP=tp, FP=fp, FN=fn, TN=int(p.size) - tp - fp - fn)
    return out


def class_scores(pred, truth, classes=None):
    """Per-class IoU, Dice, precision and recall of two class maps, and their mean.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Class maps (each pixel holds its class value, 0 usually background).
    classes : sequence of int, optional
        Classes to score. Default: every non-zero value in either map.

    Returns
    -------
    pandas.DataFrame
        One row per class (index = class value) with ``IoU``, ``Dice``,
        ``Precision``, ``Recall`` and ``Support`` (ground-truth pixels), then a
        row ``"mean"`` with the unweighted mean over classes (NaNs skipped) and
        the total support.
    """

    pred, truth = _pair(pred, truth)
    if classes is None:
        classes = np.union1d(np.unique(pred), np.unique(truth))
        classes = classes[classes != 0]
    else:
        classes = np.asarray(classes)
        if classes.ndim != 1 or classes.size == 0 or classes.dtype.kind not in "iu":
            raise ValueError("classes must be a non-empty sequence of integers")
    if len(classes) == 0:
        raise ValueError("pred and truth hold no non-zero class; give classes explicitly")
    pv, tv, counts = _unique_pairs(pred.ravel(), truth.ravel())
    rows = {}
    for c in classes:
        c = int(c)
        tp = counts[(pv == c) & (tv == c)].sum()
        fp = counts[(pv == c) & (tv != c)].sum()
        fn = counts[(pv != c) & (tv == c)].sum()
        rows[c] = {**_binary_scores(tp, fp, fn), "Support": int(tp + fn)}
    return _with_mean(rows)


def _with_mean(rows):
    """A per-class table from ``{class: scores}`` and a ``mean`` row: the unweighted mean of
    each score over the classes (NaN skipped), the total support."""
    import pandas as pd

    table = pd.DataFrame.from_dict(rows, orient="index")
    mean = table.drop(columns="Support").mean(skipna=True)
    mean["Support"] = table["Support"].sum()
    table.loc["mean"] = mean
    table["Support"] = table["Support"].astype(np.int64)
    return table


def confusion_matrix(pred, truth, n_classes):
    """Pixel counts ``C[t, p]`` of truth class ``t`` predicted as ``p`` (class indices
    ``0..n_classes-1``); pixels where either map holds another value (255: no class, a
    data bar) are not counted. Summing the matrices of several images pools them."""
    pred, truth = _pair(pred, truth)
    if not isinstance(n_classes, numbers.Integral) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    p, t = pred.ravel().astype(np.int64), truth.ravel().astype(np.int64)
    ok = (p < n_classes) & (t < n_classes)
    return np.bincount(t[ok] * n_classes + p[ok],
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_scores(confusion, names=None):
    """Per-class Jaccard index (IoU), F1 (Dice), precision and recall from a confusion
    matrix (:func:`confusion_matrix`), and their unweighted mean over the classes that
    occur (NaNs skipped), as the WAE-Net paper reports.

    Returns
    -------
    pandas.DataFrame
        Indexed by class name (or index): ``IoU``, ``Dice``, ``Precision``, ``Recall``,
        ``Support`` (truth pixels); then a ``mean`` row.
    """

    c = np.asarray(confusion)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.dtype.kind not in "iu":
        raise ValueError(f"confusion must be a square matrix of counts, got {c.shape} {c.dtype}")
    names = list(range(len(c))) if names is None else list(names)
    if len(names) != len(c):
        raise ValueError(f"names: {len(names)} names for {len(c)} classes")
    tp = np.diag(c)
    rows = {n: {**_binary_scores(int(tp[i]), int(c[:, i].sum() - tp[i]),
                                 int(c[i].sum() - tp[i])), "Support": int(c[i].sum())}
            for i, n in enumerate(names)}
    return _with_mean(rows)


def mean_class_iou(probabilities, truth):
    """Mean Jaccard index over all K classes of a softmax's arg-max: how a semantic network
    is scored on validation data (training, ensemble ranking and weight search alike).

    Parameters
    ----------
    probabilities : (..., K) ndarray
        Class probabilities (any score whose arg-max is the class).
    truth : (...) ndarray of int
        Class indices 0..K-1.

    Returns
    -------
    float
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim < 2 or probabilities.shape[-1] < 2:
        raise ValueError(f"probabilities must have a last axis of K >= 2 classes, got shape "
                         f"{probabilities.shape}")
    k = probabilities.shape[-1]
    confusion = confusion_matrix(probabilities.argmax(-1), truth, k)
    return float(confusion_scores(confusion).loc["mean", "IoU"])


def _check_prob(prob, shape, name="prob"):
    prob = np.asarray(prob)
    if prob.dtype.kind not in "fiub" or prob.dtype == object:
        raise TypeError(f"{name} must hold numbers, got dtype {prob.dtype}")
    if prob.shape != shape:
        raise ValueError(f"{name} shape {prob.shape} differs from truth shape {shape}")
    if prob.dtype.kind == "f" and not np.all(np.isfinite(prob)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return prob


def _roc_counts(prob, truth):
    """Cumulative TP and FP counts for decreasing thresholds (exact, integers)."""
    truth = check_label_array(truth, "truth")
    prob = _check_prob(prob, truth.shape)
    values = prob.ravel().astype(np.float64)
    positive = truth.ravel() != 0
    thresholds, inverse = np.unique(-values, return_inverse=True)   # decreasing values
    inverse = inverse.ravel()
    tp = np.cumsum(np.bincount(inverse[positive], minlength=len(thresholds)))
    fp = np.cumsum(np.bincount(inverse[~positive], minlength=len(thresholds)))
    tp = np.concatenate([[0], tp]).astype(np.int64)
    fp = np.concatenate([[0], fp]).astype(np.int64)
    return tp, fp, int(tp[-1]), int(fp[-1]), np.concatenate([[np.inf], -thresholds])


def roc_curve(prob, truth):
    """Receiver operating characteristic of a probability (or any score) map.

    A pixel is called foreground when ``prob >= threshold``; every distinct
    value of ``prob`` is a threshold, so the curve is exact.

    Parameters
    ----------
    prob : ndarray of float (or int), 2D or 3D
        Foreground probability or score; higher means more likely foreground.
    truth : ndarray of int or bool, same shape
        Ground truth; non-zero is foreground.

    Returns
    -------
    fpr, tpr, thresholds : 1D ndarrays
        False- and true-positive rates for thresholds in decreasing order; the
        first point (threshold +inf) is (0, 0). NaN rates when ``truth`` has no
        foreground (TPR) or no background (FPR).
    """
    tp, fp, n_pos, n_neg, thresholds = _roc_counts(prob, truth)
    tpr = tp / n_pos if n_pos else np.full(len(tp), np.nan)
    fpr = fp / n_neg if n_neg else np.full(len(fp), np.nan)
    return fpr, tpr, thresholds


def youden_index(prob, truth):
    """Youden's J = max over thresholds of (TPR - FPR), and the best threshold.

    Parameters
    ----------
    prob : ndarray, 2D or 3D
        Foreground probability or score map.
    truth : ndarray of int or bool, same shape

    Returns
    -------
    J : float
        In [0, 1] for any informative map (1 = a threshold separates
        foreground from background perfectly); NaN when ``truth`` is all
        foreground or all background.
    threshold : float
        The smallest ``prob`` value called foreground at the optimum (the
        highest such threshold when several reach it).
    """
    tp, fp, n_pos, n_neg, thresholds = _roc_counts(prob, truth)
    if not n_pos or not n_neg:
        return math.nan, math.nan
    # compare n_neg*TP - n_pos*FP in integers: exact ties, no rounding
    best = int(np.argmax(tp * n_neg - fp * n_pos))
    return tp[best] / n_pos - fp[best] / n_neg, float(thresholds[best])


def pixel_error(pred, truth):
    """ISBI 2012 pixel error: the fraction of pixels whose foreground/background
    call differs from the ground truth (non-zero = foreground)."""
    pred, truth = _pair(pred, truth)
    return float(np.count_nonzero((pred != 0) != (truth != 0))) / pred.size


def optimal_threshold(prob, truth, *, steps=101):
    """The threshold on ``prob`` that maximises the pixel IoU with ``truth``.

    Parameters
    ----------
    prob : ndarray of float
        Foreground probabilities in [0, 1] (any shape).
    truth : ndarray of bool or int
        Foreground (non-zero) of the same shape.
    steps : int, optional
        Thresholds tried: ``steps`` values evenly spaced in [0, 1].

    Returns
    -------
    threshold : float
    iou : float
        IoU at that threshold (NaN when both are empty everywhere).
    """
    prob = np.asarray(prob, np.float64)
    truth = np.asarray(truth) != 0
    if prob.shape != truth.shape:
        raise ValueError(f"prob {prob.shape} and truth {truth.shape} must have the same shape")
    if prob.size == 0:
        raise ValueError("prob is empty")
    if not (np.isfinite(prob).all() and prob.min() >= 0 and prob.max() <= 1):
        raise ValueError("prob must hold probabilities in [0, 1]")
    if not isinstance(steps, numbers.Integral) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    grid = np.linspace(0, 1, int(steps))
    # counts of truth / all pixels at or above each threshold, by histogram
    edges = np.append(grid, np.inf)
    fg = np.histogram(prob[truth], bins=edges)[0][::-1].cumsum()[::-1]
    every = np.histogram(prob, bins=edges)[0][::-1].cumsum()[::-1]
    tp, fp = fg, every - fg
    fn = truth.sum() - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (tp + fp + fn)
    if np.isnan(iou).all():
        return 0.5, float("nan")
    best = int(np.nanargmax(iou[1:]) + 1)  # threshold 0 would keep everything
    return float(grid[best]), float(iou[best])
