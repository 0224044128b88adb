"""Vesicle detection scores in tomograms, with CryoVesNet's columns.

CryoVesNet (paper 001, "Evaluation") reports per tomogram: the Dice of the network's mask and
of the final segmentation, the diameter error delta_d = mean(1 - min/max) over the detected
vesicles, the centre residual Delta_c in nm, and TP, FN, FP, F1 where a predicted vesicle is
correct when its centre lies inside a true vesicle (one-to-one).
"""

import numpy as np

from .._validate import check_spacing
from ._common import _pair, _ratio
from .instance import center_matches
from .pixel import pixel_scores

__all__ = ["VESICLE_SCORES", "vesicle_scores"]

#: Columns of :func:`vesicle_scores`, in CryoVesNet's order.
VESICLE_SCORES = ("Mask Dice", "Dice", "delta_d", "Delta_c", "TP", "FN", "FP", "Precision",
                  "Recall", "F1")


def vesicle_scores(pred, truth, *, voxel_size, mask=None, pred_diameters=None):
    """CryoVesNet's evaluation of a vesicle segmentation.

    Parameters
    ----------
    pred, truth : (Z, Y, X) ndarray of int
        Predicted and true vesicle labels.
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    mask : (Z, Y, X) ndarray, optional
        The network's binary mask before post-processing (for "Mask Dice"; NaN without).
    pred_diameters : dict, optional
        Diameter (nm) of predicted vesicles by label (e.g. refined spheres); default the
        equivalent diameter of the labelled volume, as for the truth.

    Returns
    -------
    dict
        :data:`VESICLE_SCORES`: Dice of the masks, delta_d (mean of 1 - min/max of the
        matched diameters), Delta_c (mean matched centre distance, nm), counts and F1.
    """
    pred, truth = _pair(pred, truth, ndims=(3,))
    spacing = check_spacing(voxel_size, 3, "voxel_size")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != truth.shape:
            raise ValueError(f"mask shape {mask.shape} differs from truth shape {truth.shape}")
    p_ids, t_ids, dist = center_matches(pred, truth, pixel_size=spacing)
    voxel = float(np.prod(spacing))

    def diameters(labels, ids):
        counts = np.bincount(labels.ravel(), minlength=int(ids.max()) + 1 if len(ids) else 1)
        return np.cbrt(6 * counts[ids] * voxel / np.pi)

    dp = (np.array([float(pred_diameters[int(i)]) for i in p_ids]) if pred_diameters is not None
          else diameters(pred, p_ids))
    dt = diameters(truth, t_ids)
    n_p = len(np.unique(pred[pred != 0]))
    n_t = len(np.unique(truth[truth != 0]))
    tp = len(p_ids)
    delta_d = float(np.mean(1 - np.minimum(dp, dt) / np.maximum(dp, dt))) if tp else float("nan")
    return {"Mask Dice": pixel_scores(mask, truth)["Dice"] if mask is not None else float("nan"),
            "Dice": pixel_scores(pred, truth)["Dice"], "delta_d": delta_d,
            "Delta_c": float(dist.mean()) if tp else float("nan"),
            "TP": tp, "FN": n_t - tp, "FP": n_p - tp,
            "Precision": _ratio(tp, n_p), "Recall": _ratio(tp, n_t), "F1": _ratio(2 * tp, n_p + n_t)}
