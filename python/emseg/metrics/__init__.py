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
    residual), :func:`vesicle_scores` (CryoVesNet's table for tomograms: mask and
    final Dice, delta_d, Delta_c, TP/FN/FP, F1), :func:`distribution_errors`
    (size-distribution agreement).
Everything at once
    :func:`evaluate`.

One module per family (:mod:`~emseg.metrics.pixel`, :mod:`~emseg.metrics.instance`,
:mod:`~emseg.metrics.ctc`, :mod:`~emseg.metrics.isbi`, :mod:`~emseg.metrics.biology`,
:mod:`~emseg.metrics.vesicles`,
:mod:`~emseg.metrics.evaluate`); every public name is re-exported here.
"""

from ._common import to_instances
from .biology import (distribution_errors, matched_values, morphology_errors, ratio_error,
                      wilcoxon_mc)
from .ctc import CTC_WEIGHTS, ctc_det, ctc_seg
from .evaluate import FRU_NET_COLUMNS, Evaluation, evaluate, fru_net_scores
from .instance import (Matching, center_detection, center_matches, instance_iou, keep_reference,
                       match_instances)
from .isbi import InformationError, RandError, information_error, rand_error
from .vesicles import VESICLE_SCORES, vesicle_scores
from .pixel import (class_scores, confusion_matrix, confusion_scores, mean_class_iou,
                    optimal_threshold,
                    pixel_error, pixel_scores, roc_curve, youden_index)

__all__ = [
    "to_instances", "pixel_scores", "class_scores", "roc_curve", "youden_index",
    "match_instances", "Matching", "instance_iou", "ctc_seg", "ctc_det", "pixel_error",
    "rand_error", "information_error", "ratio_error", "morphology_errors", "wilcoxon_mc",
    "center_detection", "center_matches", "vesicle_scores", "VESICLE_SCORES",
    "distribution_errors", "evaluate", "Evaluation", "fru_net_scores", "FRU_NET_COLUMNS",
    "matched_values", "confusion_matrix", "confusion_scores", "mean_class_iou",
    "CTC_WEIGHTS", "keep_reference", "optimal_threshold", "RandError", "InformationError",
]
