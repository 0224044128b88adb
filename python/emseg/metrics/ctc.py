"""Cell Tracking Challenge SEG, SEG* and DET (as in the FRU-Net paper)."""

import math
import numbers

import numpy as np

from ._common import _overlap, _pair, _ratio

__all__ = ["CTC_WEIGHTS", "ctc_seg", "ctc_det"]


#: Cell Tracking Challenge weights of the detection graph operations.
CTC_WEIGHTS = {"false_negative": 10.0, "false_positive": 1.0, "split": 5.0}


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
