"""Segmentation and detection scores used by the papers EMSeg follows.

Pure functions on NumPy arrays (2D, and 3D where nothing 2D-specific is
involved). ``pred`` is always the segmentation being judged and ``truth`` the
ground truth; label images have 0 as background and one positive value per
object, binary masks are split into objects by :func:`to_instances`.
Scores that are undefined for the data (0/0, e.g. precision when nothing was
predicted) are NaN, never a silent 0 or 1.

Groups
------
Pixel level
    :func:`pixel_scores` (IoU/Jaccard, Dice/F1, precision, recall of the
    foreground), :func:`class_scores` (per class and mean), :func:`roc_curve`,
    :func:`youden_index`, :func:`pixel_error`.
Instances
    :func:`match_instances` (one-to-one matching at an IoU threshold: TP, FP,
    FN, precision, recall, F1, mean matched IoU), :func:`instance_iou` (the BAM
    paper's best-IoU averages), :func:`ctc_seg` and :func:`ctc_det` (Cell
    Tracking Challenge SEG, SEG* and DET, as in the FRU-Net paper).
ISBI 2012 EM challenge
    :func:`pixel_error`, :func:`rand_error`, :func:`information_error`
    (both restricted to the ground truth's foreground).
Biology-facing
    :func:`ratio_error` (FRU-Net's delta_d, delta_r), :func:`morphology_errors`,
    :func:`wilcoxon_mc` (Monte-Carlo Wilcoxon rank-sum p-value),
    :func:`center_detection` (CryoVesNet's centre-in-object F1 and centre
    residual), :func:`distribution_errors` (size-distribution agreement).
Everything at once
    :func:`evaluate`.
"""

from collections import namedtuple
from dataclasses import dataclass, field
import math
import numbers

import numpy as np

from ._validate import check_choice, check_label_array, is_binary_mask

__all__ = [
    "to_instances", "pixel_scores", "class_scores", "roc_curve", "youden_index",
    "match_instances", "Matching", "instance_iou", "ctc_seg", "ctc_det", "pixel_error",
    "rand_error", "information_error", "ratio_error", "morphology_errors", "wilcoxon_mc",
    "center_detection", "distribution_errors", "evaluate", "Evaluation",
    "CTC_WEIGHTS", "keep_reference", "optimal_threshold",
]

#: Cell Tracking Challenge weights of the detection graph operations.
CTC_WEIGHTS = {"false_negative": 10.0, "false_positive": 1.0, "split": 5.0}

RandError = namedtuple("RandError", "error precision recall")
InformationError = namedtuple("InformationError", "error splits merges")


# --------------------------------------------------------------------------- helpers

def _ratio(num, den):
    return float(num) / float(den) if den else math.nan


def _pair(pred, truth, *, ndims=(2, 3), pred_name="pred", truth_name="truth"):
    pred = check_label_array(pred, pred_name, ndims=ndims)
    truth = check_label_array(truth, truth_name, ndims=ndims)
    if pred.shape != truth.shape:
        raise ValueError(f"{pred_name} shape {pred.shape} differs from {truth_name} shape {truth.shape}")
    return pred, truth


def _check_threshold(value, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def to_instances(labels, *, connectivity=None):
    """Objects of a label image or binary mask.

    Parameters
    ----------
    labels : ndarray of int or bool, 2D or 3D
        Label image, or a binary mask (boolean, or integers whose only non-zero
        value is 1, 255 or the dtype's maximum).
    connectivity : {8, 4} (2D) or {26, 6} (3D), optional
        Neighbourhood that joins mask pixels into one object. ``8``/``26``
        (the default) join diagonal neighbours, ``4``/``6`` only face
        neighbours.

    Returns
    -------
    ndarray of int
        ``labels`` itself for a label image, the connected components (numbered
        in raster order) for a mask.
    """
    labels = check_label_array(labels, "labels")
    allowed = (4, 8) if labels.ndim == 2 else (6, 26)
    if connectivity is None:
        connectivity = allowed[1]
    check_choice(connectivity, allowed, "connectivity")
    if not labels.any() or not is_binary_mask(labels):
        return labels
    from scipy import ndimage as ndi
    structure = ndi.generate_binary_structure(labels.ndim, 1 if connectivity in (4, 6) else labels.ndim)
    out, _ = ndi.label(labels != 0, structure=structure)
    return out


@dataclass
class _Overlap:
    """Sparse contingency of two label images (objects only, background excluded)."""

    pred_ids: np.ndarray     # sorted object labels
    pred_sizes: np.ndarray   # pixels per object
    truth_ids: np.ndarray
    truth_sizes: np.ndarray
    pi: np.ndarray           # index into pred_ids of each overlapping pair
    ti: np.ndarray           # index into truth_ids
    inter: np.ndarray        # pixels in common

    @property
    def iou(self):
        union = self.pred_sizes[self.pi] + self.truth_sizes[self.ti] - self.inter
        return self.inter / union


def _unique_pairs(a, b):
    """Distinct (a, b) value pairs and their counts, for non-negative ints."""
    a = a.astype(np.uint64, copy=False)
    b = b.astype(np.uint64, copy=False)
    amax, bmax = (int(a.max()), int(b.max())) if a.size else (0, 0)
    if (amax + 1) * (bmax + 1) >= 2 ** 64:  # labels too large to combine: renumber
        _, a = np.unique(a, return_inverse=True)
        _, b = np.unique(b, return_inverse=True)
        return _unique_pairs(a.ravel(), b.ravel())
    key = a * np.uint64(bmax + 1) + b
    keys, counts = np.unique(key, return_counts=True)
    return keys // np.uint64(bmax + 1), keys % np.uint64(bmax + 1), counts


def _overlap(pred, truth):
    p = pred.ravel()
    t = truth.ravel()
    pred_ids, pred_sizes = np.unique(p[p != 0], return_counts=True)
    truth_ids, truth_sizes = np.unique(t[t != 0], return_counts=True)
    both = (p != 0) & (t != 0)
    pl, tl, inter = _unique_pairs(p[both], t[both])
    return _Overlap(pred_ids, pred_sizes, truth_ids, truth_sizes,
                    np.searchsorted(pred_ids, pl.astype(pred_ids.dtype)),
                    np.searchsorted(truth_ids, tl.astype(truth_ids.dtype)), inter)


# --------------------------------------------------------------------------- pixel level

def _binary_scores(tp, fp, fn):
    return {
        "IoU": _ratio(tp, tp + fp + fn),
        "Dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "Precision": _ratio(tp, tp + fp),
        "Recall": _ratio(tp, tp + fn),
    }


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
    import pandas as pd

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
    table = pd.DataFrame.from_dict(rows, orient="index")
    mean = table.drop(columns="Support").mean(skipna=True)
    mean["Support"] = table["Support"].sum()
    table.loc["mean"] = mean
    table["Support"] = table["Support"].astype(np.int64)
    return table


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


# --------------------------------------------------------------------------- instances

@dataclass
class Matching:
    """One-to-one matching of predicted and ground-truth objects.

    ``pred_labels[i]`` is matched to ``truth_labels[i]`` with ``ious[i]``.
    """

    threshold: float
    n_pred: int
    n_truth: int
    pred_labels: np.ndarray = field(repr=False)
    truth_labels: np.ndarray = field(repr=False)
    ious: np.ndarray = field(repr=False)

    @property
    def tp(self):
        return int(len(self.ious))

    @property
    def fp(self):
        return self.n_pred - self.tp

    @property
    def fn(self):
        return self.n_truth - self.tp

    @property
    def precision(self):
        return _ratio(self.tp, self.n_pred)

    @property
    def recall(self):
        return _ratio(self.tp, self.n_truth)

    @property
    def f1(self):
        return _ratio(2 * self.tp, self.n_pred + self.n_truth)

    @property
    def mean_iou(self):
        """Mean IoU of the matched pairs (NaN without matches)."""
        return float(self.ious.mean()) if self.tp else math.nan


def match_instances(pred, truth, *, iou_threshold=0.5):
    """Match objects one to one where their IoU reaches a threshold.

    Among all pairs with IoU >= ``iou_threshold`` the matching maximises first
    the number of matches, then the sum of their IoUs (Hungarian algorithm on
    each connected group of candidate pairs). Above 0.5 any pair is unique, so
    the result is the usual "IoU > 0.5" matching.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images (use :func:`to_instances` for binary masks).
    iou_threshold : float in (0, 1], optional
        Minimum IoU of a match (default 0.5).

    Returns
    -------
    Matching
        With ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1`` and
        ``mean_iou`` (mean IoU of the matched pairs).
    """
    pred, truth = _pair(pred, truth)
    thr = _check_threshold(iou_threshold, "iou_threshold")
    if thr == 0:
        raise ValueError("iou_threshold must be > 0 (objects that do not overlap cannot match)")
    ov = _overlap(pred, truth)
    iou = ov.iou
    cand = iou >= thr
    pi, ti, ci = ov.pi[cand], ov.ti[cand], iou[cand]
    chosen = np.zeros(len(ci), dtype=bool)
    if len(ci):
        from scipy.optimize import linear_sum_assignment
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n_p = len(ov.pred_ids)
        nodes = n_p + len(ov.truth_ids)
        graph = coo_matrix((np.ones(len(ci)), (pi, n_p + ti)), shape=(nodes, nodes))
        _, comp = connected_components(graph, directed=False)
        edge_comp = comp[pi]
        sizes = np.bincount(edge_comp)
        chosen = sizes[edge_comp] == 1          # the usual case: an isolated pair
        for c in np.flatnonzero(sizes > 1):
            e = np.flatnonzero(edge_comp == c)
            rows, r = np.unique(pi[e], return_inverse=True)
            cols, k = np.unique(ti[e], return_inverse=True)
            # weight 2 + IoU: more matches always beat higher IoUs
            weight = np.zeros((len(rows), len(cols)))
            weight[r, k] = 2.0 + ci[e]
            rr, kk = linear_sum_assignment(weight, maximize=True)
            keep = weight[rr, kk] > 0
            lookup = {(a, b): idx for idx, a, b in zip(e, r, k)}
            for a, b in zip(rr[keep], kk[keep]):
                chosen[lookup[(a, b)]] = True
    return Matching(thr, len(ov.pred_ids), len(ov.truth_ids),
                    ov.pred_ids[pi[chosen]], ov.truth_ids[ti[chosen]], ci[chosen])


def instance_iou(pred, truth):
    """The BAM paper's instance-wise IoU.

    For each predicted object, the best IoU with any ground-truth object it
    intersects (0 when it intersects none), averaged over predicted objects;
    and the same from the ground-truth side.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images.

    Returns
    -------
    pred_side, truth_side : float
        NaN when the respective image has no object.
    """
    pred, truth = _pair(pred, truth)
    ov = _overlap(pred, truth)
    iou = ov.iou
    best_p = np.zeros(len(ov.pred_ids))
    best_t = np.zeros(len(ov.truth_ids))
    np.maximum.at(best_p, ov.pi, iou)
    np.maximum.at(best_t, ov.ti, iou)
    return (float(best_p.mean()) if best_p.size else math.nan,
            float(best_t.mean()) if best_t.size else math.nan)


def _ctc_matches(ov):
    """Pairs where the predicted object covers more than half of the truth object."""
    m = 2 * ov.inter > ov.truth_sizes[ov.ti]
    return ov.pi[m], ov.ti[m], ov.iou[m]


def ctc_seg(pred, truth):
    """Cell Tracking Challenge SEG and SEG*.

    A ground-truth object R is matched by the predicted object S covering more
    than half of its pixels (|R and S| > 0.5 |R|; at most one S can). Its
    score is the Jaccard index |R and S| / |R or S|, or 0 without a match.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images.

    Returns
    -------
    seg : float
        Mean score over all ground-truth objects (NaN when there are none).
    seg_star : float
        Mean over the matched (detected) ground-truth objects only, as the
        FRU-Net paper's SEG* (NaN without matches).
    """
    pred, truth = _pair(pred, truth)
    ov = _overlap(pred, truth)
    _, _, iou = _ctc_matches(ov)
    n_truth = len(ov.truth_ids)
    return (_ratio(iou.sum(), n_truth),
            float(iou.mean()) if iou.size else math.nan)


def ctc_det(pred, truth, *, weights=None):
    """Cell Tracking Challenge DET: normalised AOGM-D detection score.

    With the SEG matching rule (S matches R when it covers more than half of
    R), every unmatched R is a false negative, every S matching no R a false
    positive, and an S matching k > 1 objects needs k - 1 splits.
    AOGM-D = w_FN FN + w_FP FP + w_split splits, AOGM-0 = w_FN * (number of
    ground-truth objects) and DET = 1 - min(AOGM-D, AOGM-0) / AOGM-0.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images.
    weights : dict, optional
        ``false_negative``, ``false_positive``, ``split``; default
        :data:`CTC_WEIGHTS` (10, 1, 5), the challenge's values.

    Returns
    -------
    float
        In [0, 1]; NaN when ``truth`` has no object.
    """
    pred, truth = _pair(pred, truth)
    w = dict(CTC_WEIGHTS)
    if weights is not None:
        unknown = set(weights) - set(w)
        if unknown:
            raise ValueError(f"weights: unknown key(s) {', '.join(sorted(unknown))}; "
                             f"expected {', '.join(w)}")
        for k, v in weights.items():
            if not isinstance(v, numbers.Real) or v < 0:
                raise ValueError(f"weights[{k!r}] must be a non-negative number, got {v!r}")
        w.update(weights)
    ov = _overlap(pred, truth)
    pi, _, _ = _ctc_matches(ov)
    per_pred = np.bincount(pi, minlength=len(ov.pred_ids))
    fn = len(ov.truth_ids) - len(pi)
    fp = int(np.count_nonzero(per_pred == 0))
    splits = int(np.maximum(per_pred - 1, 0).sum())
    aogm0 = w["false_negative"] * len(ov.truth_ids)
    if aogm0 == 0:
        return math.nan
    aogm = w["false_negative"] * fn + w["false_positive"] * fp + w["split"] * splits
    return 1.0 - min(aogm, aogm0) / aogm0


# --------------------------------------------------------------------------- ISBI 2012

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


# --------------------------------------------------------------------------- biology-facing

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
    if not isinstance(matching, Matching):
        raise TypeError(f"matching must be a Matching, got {type(matching).__name__}")
    out = {"n": matching.tp}
    for key, column in (("delta_d", "ECD"), ("delta_r", "Circ.")):
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
        out[key] = ratio_error(s, r)
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


def _centroids(labels, ids):
    """Centroid (one coordinate per axis, in pixels) of each label in ``ids``."""
    flat = labels.ravel()
    mask = flat != 0
    idx = np.searchsorted(ids, flat[mask])
    count = np.bincount(idx, minlength=len(ids)).astype(np.float64)
    coords = np.unravel_index(np.flatnonzero(mask), labels.shape)
    return np.stack([np.bincount(idx, weights=c, minlength=len(ids)) / count
                     for c in coords], axis=1)


def _spacing(pixel_size, ndim):
    """Per-axis spacing (rows, columns[, ...]) from a scalar or a (width, height) pair."""
    if pixel_size is None:
        return np.ones(ndim)
    if isinstance(pixel_size, numbers.Real) and not isinstance(pixel_size, bool):
        values = [float(pixel_size)] * ndim
    elif ndim == 2:
        from ._validate import check_pixel_size
        pw, ph = check_pixel_size(pixel_size)
        values = [ph, pw]
    else:
        raise ValueError("pixel_size must be a single number for 3D data")
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"pixel_size must be positive and finite, got {pixel_size!r}")
    return np.asarray(values)


def center_detection(pred, truth, *, pixel_size=None):
    """CryoVesNet's centre-based detection score and centre residual.

    A predicted object detects the ground-truth object that contains its
    centroid (rounded to the nearest pixel). A ground-truth object detected by
    several predictions is matched to the one whose centroid is closest to its
    own; the others are false positives.

    Parameters
    ----------
    pred, truth : ndarray of int, 2D or 3D, same shape
        Label images.
    pixel_size : float or (width, height), optional
        Pixel size in nm (a single number for 3D); None gives pixels.

    Returns
    -------
    dict
        ``TP``, ``FP``, ``FN``, ``Precision``, ``Recall``, ``F1`` and
        ``Residual``: mean distance between the centroids of matched pairs, in
        nm (pixels when ``pixel_size`` is None); NaN where undefined.
    """
    pred, truth = _pair(pred, truth)
    spacing = _spacing(pixel_size, pred.ndim)
    pred_ids = np.unique(pred[pred != 0])
    truth_ids = np.unique(truth[truth != 0])
    n_p, n_t = len(pred_ids), len(truth_ids)
    tp, residual = 0, math.nan
    if n_p and n_t:
        pc = _centroids(pred, pred_ids)
        tc = _centroids(truth, truth_ids)
        pix = np.rint(pc).astype(np.intp)
        hit = truth[tuple(pix.T)]
        cand = np.flatnonzero(hit != 0)
        ti = np.searchsorted(truth_ids, hit[cand])
        dist = np.sqrt((((pc[cand] - tc[ti]) * spacing) ** 2).sum(axis=1))
        order = np.lexsort((dist, ti))           # nearest prediction first per truth object
        first = np.ones(len(order), dtype=bool)
        first[1:] = ti[order][1:] != ti[order][:-1]
        best = dist[order][first]
        tp = len(best)
        residual = float(best.mean()) if tp else math.nan
    return {"TP": tp, "FP": n_p - tp, "FN": n_t - tp,
            "Precision": _ratio(tp, n_p), "Recall": _ratio(tp, n_t),
            "F1": _ratio(2 * tp, n_p + n_t), "Residual": residual}


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


# --------------------------------------------------------------------------- everything

@dataclass
class Evaluation:
    """Scores of one segmentation against its ground truth.

    ``scores`` maps score names (the columns of ``emseg evaluate``'s table) to
    numbers; ``pred_table``/``truth_table`` are the measurement tables of the
    objects, kept for pooled statistics over many images.
    """

    scores: dict
    pred_table: object = field(repr=False, default=None)
    truth_table: object = field(repr=False, default=None)
    matching: Matching = field(repr=False, default=None)


def evaluate(pred, truth, prob=None, *, pixel_size=None, connectivity=8, iou_threshold=0.5,
             column="MinFeret", seed=0):
    """Every EMSeg score of one 2D segmentation.

    Parameters
    ----------
    pred, truth : (M, N) ndarray of int or bool
        Segmentation and ground truth: label images or binary masks (split
        into objects with ``connectivity``).
    prob : (M, N) ndarray of float, optional
        Foreground probability map of the segmentation; adds Youden's index.
    pixel_size : float or (width, height), optional
        Pixel size in nm, for the centre residual and the measurements.
    connectivity : {8, 4}, optional
        How mask pixels join into objects (default 8, as ImageJ).
    iou_threshold : float, optional
        IoU needed for a match in the instance scores (default 0.5).
    column : str, optional
        Measurement column whose distribution is compared (default MinFeret).
    seed : int, optional
        Seed of the Monte-Carlo Wilcoxon tests.

    Returns
    -------
    Evaluation
        ``scores`` holds, in order: pixel ``IoU``, ``Dice``, ``Precision``,
        ``Recall``; ``Youden J`` and ``Youden threshold`` (NaN without
        ``prob``); ``Pixel error``, ``Rand error``, ``Info error``; instance
        counts ``Objects (pred)``, ``Objects (truth)``, ``TP``, ``FP``, ``FN``
        and ``Precision@t``, ``Recall@t``, ``F1@t``, ``Matched IoU`` (t the
        threshold); ``Inst. IoU (pred)``, ``Inst. IoU (truth)``; ``SEG``,
        ``SEG*``, ``DET``; ``delta_d``, ``delta_r``; Wilcoxon p-values
        ``p ECD``, ``p Circ.`` over all objects; ``Center F1``,
        ``Center residual``; and the distribution errors of ``column``
        (``<column> mean err`` ... ``<column> KS``).
    """
    from .measure import NUMERIC_COLUMNS, measure

    pred, truth = _pair(pred, truth, ndims=(2,))
    check_choice(connectivity, (4, 8), "connectivity")
    check_choice(column, NUMERIC_COLUMNS, "column")
    if prob is not None:
        prob = _check_prob(prob, truth.shape)
    pred = to_instances(pred, connectivity=connectivity)
    truth = to_instances(truth, connectivity=connectivity)

    s = {}
    px = pixel_scores(pred, truth)
    s.update({k: px[k] for k in ("IoU", "Dice", "Precision", "Recall")})
    j, thr = youden_index(prob, truth) if prob is not None else (math.nan, math.nan)
    s["Youden J"], s["Youden threshold"] = j, thr
    s["Pixel error"] = pixel_error(pred, truth)
    s["Rand error"] = rand_error(pred, truth).error
    s["Info error"] = information_error(pred, truth).error

    m = match_instances(pred, truth, iou_threshold=iou_threshold)
    t = f"{m.threshold:g}"
    s.update({"Objects (pred)": m.n_pred, "Objects (truth)": m.n_truth,
              "TP": m.tp, "FP": m.fp, "FN": m.fn,
              f"Precision@{t}": m.precision, f"Recall@{t}": m.recall, f"F1@{t}": m.f1,
              "Matched IoU": m.mean_iou})
    s["Inst. IoU (pred)"], s["Inst. IoU (truth)"] = instance_iou(pred, truth)
    s["SEG"], s["SEG*"] = ctc_seg(pred, truth)
    s["DET"] = ctc_det(pred, truth)

    pt, tt = (measure(lab, pixel_size=pixel_size) for lab in (pred, truth))
    morph = morphology_errors(m, pt, tt)
    s["delta_d"], s["delta_r"] = morph["delta_d"], morph["delta_r"]
    s["p ECD"] = wilcoxon_mc(pt["ECD"], tt["ECD"], seed=seed)
    s["p Circ."] = wilcoxon_mc(pt["Circ."], tt["Circ."], seed=seed)
    c = center_detection(pred, truth, pixel_size=pixel_size)
    s["Center F1"], s["Center residual"] = c["F1"], c["Residual"]
    d = distribution_errors(pt[column], tt[column])
    for k in ("mean", "median", "D10", "D90"):
        s[f"{column} {k} err"] = d[k]
    s[f"{column} KS"] = d["KS"]
    return Evaluation(s, pt, tt, m)


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


def keep_reference(pred, truth, truth_keep, *, iou_threshold=0.5):
    """Which predicted instances are fit for statistics, by the reference.

    A predicted instance is "keep" when it matches (IoU >= ``iou_threshold``,
    one to one, :func:`match_instances`) a reference instance that the
    reference keep mask marks fit (more than half of its pixels in
    ``truth_keep``). Used to score a classifier filter applied to an
    automatic segmentation, and to train one on it.

    Parameters
    ----------
    pred, truth : (M, N) ndarray of int
        Predicted and reference instances.
    truth_keep : (M, N) ndarray of bool or int
        Reference keep mask (non-zero = fit).

    Returns
    -------
    (pred.max() + 1,) ndarray of bool
        Index = predicted label (index 0 False).
    """
    pred, truth = _pair(pred, truth, ndims=(2,))
    truth_keep = np.asarray(truth_keep)
    if truth_keep.shape != truth.shape:
        raise ValueError(f"truth_keep {truth_keep.shape} and truth {truth.shape} differ in shape")
    t = np.asarray(truth, np.int64).ravel()
    n_t = int(t.max()) + 1 if t.size else 1
    fit = np.bincount(t, weights=(truth_keep.ravel() > 0), minlength=n_t) \
        > 0.5 * np.bincount(t, minlength=n_t)
    fit[0] = False
    m = match_instances(pred, truth, iou_threshold=iou_threshold)
    out = np.zeros(int(np.asarray(pred).max()) + 1, bool)
    out[np.asarray(m.pred_labels, np.int64)] = fit[np.asarray(m.truth_labels, np.int64)]
    return out
