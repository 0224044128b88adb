"""What every score family shares: argument checks, pairing of label images,
the overlap table of two labelings, binary scores from counts."""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_label_array, is_binary_mask


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


def _binary_scores(tp, fp, fn):
    return {
        "IoU": _ratio(tp, tp + fp + fn),
        "Dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "Precision": _ratio(tp, tp + fp),
        "Recall": _ratio(tp, tp + fn),
    }
