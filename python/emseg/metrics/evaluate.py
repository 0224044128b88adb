"""Every score at once: :func:`evaluate` (what ``emseg evaluate`` reports)."""

import math
from dataclasses import dataclass, field

from .._validate import check_choice
from ._common import _pair, to_instances
from .biology import distribution_errors, morphology_errors, wilcoxon_mc
from .ctc import ctc_det, ctc_seg
from .instance import Matching, center_detection, instance_iou, match_instances
from .isbi import information_error, rand_error
from .pixel import _check_prob, pixel_error, pixel_scores, youden_index

__all__ = ["Evaluation", "evaluate"]


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
    from ..measure import NUMERIC_COLUMNS, measure

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
