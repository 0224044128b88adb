"""Instance scores: one-to-one matching at an IoU threshold, the BAM paper's
best-IoU averages, CryoVesNet's centre-in-object detection, keep references."""

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ._common import _check_threshold, _overlap, _pair, _ratio

__all__ = ["Matching", "match_instances", "instance_iou", "center_detection", "center_matches",
           "keep_reference"]


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
        from .._validate import check_pixel_size
        pw, ph = check_pixel_size(pixel_size)
        values = [ph, pw]
    else:
        from .._validate import check_spacing
        values = list(check_spacing(pixel_size, ndim, "pixel_size"))   # (z, y, x)
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
    matched_pred, _, dist = center_matches(pred, truth, pixel_size=pixel_size)
    n_p = len(np.unique(pred[pred != 0]))
    n_t = len(np.unique(truth[truth != 0]))
    tp = len(matched_pred)
    residual = float(dist.mean()) if tp else math.nan
    return {"TP": tp, "FP": n_p - tp, "FN": n_t - tp,
            "Precision": _ratio(tp, n_p), "Recall": _ratio(tp, n_t),
            "F1": _ratio(2 * tp, n_p + n_t), "Residual": residual}


def center_matches(pred, truth, *, pixel_size=None):
    """The one-to-one pairs of :func:`center_detection`: ``(pred labels, truth labels,
    centre distances)``, arrays of equal length (distances in nm, or pixels without
    ``pixel_size``; 3D sizes may be one number or ``(z, y, x)``)."""
    pred, truth = _pair(pred, truth)
    spacing = _spacing(pixel_size, pred.ndim)
    pred_ids = np.unique(pred[pred != 0])
    truth_ids = np.unique(truth[truth != 0])
    empty = (np.zeros(0, pred.dtype), np.zeros(0, truth.dtype), np.zeros(0))
    if not (len(pred_ids) and len(truth_ids)):
        return empty
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
    keep = order[first]
    return pred_ids[cand[keep]], truth_ids[ti[keep]], dist[keep]


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
