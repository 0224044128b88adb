"""Every score at once: :func:`evaluate` (what ``emseg evaluate`` reports)."""

import math
from dataclasses import dataclass, field

from .._validate import check_choice
from ._common import _pair, to_instances
from .biology import (distribution_errors, matched_values, morphology_errors, ratio_error,
                      wilcoxon_mc)
from .ctc import ctc_det, ctc_seg
from .instance import Matching, center_detection, instance_iou, match_instances
from .isbi import information_error, rand_error
from .pixel import _check_prob, pixel_error, pixel_scores, youden_index

__all__ = ["Evaluation", "evaluate", "fru_net_scores", "FRU_NET_COLUMNS"]

#: The columns of the FRU-Net paper's Table 1 (:func:`fru_net_scores`): detection and
#: segmentation over all true vesicles, the Monte-Carlo Wilcoxon p-values of diameter and
#: roundness over all objects, then over the correctly detected ones with their errors.
FRU_NET_COLUMNS = ("SEG", "DET", "p d (all)", "p r (all)", "SEG*", "delta_d", "delta_r", "TP",
                   "FP", "FP ratio", "p d (TP)", "p r (TP)")


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


def fru_net_scores(evaluations, *, seed=0):
    """The FRU-Net paper's Table 1 for a set of images, pooled over their objects.

    Parameters
    ----------
    evaluations : Evaluation or sequence of Evaluation
        From :func:`evaluate`, one per image (the measurement tables and matching they keep
        are used).
    seed : int, optional
        Seed of the Monte-Carlo Wilcoxon tests.

    Returns
    -------
    dict
        :data:`FRU_NET_COLUMNS`: ``SEG`` (mean Jaccard over all true vesicles of all images),
        ``DET`` (the images' DET weighted by their true vesicles: one minus the summed
        AOGM-D over the summed AOGM-0, each image's cost capped at its AOGM-0),
        ``p d (all)`` and ``p r (all)`` (Monte-Carlo Wilcoxon p-values of the diameters
        ``ECD`` and roundness ``Circ.`` of all segmented against all true objects);
        ``SEG*`` (mean Jaccard over the CTC-detected true vesicles); ``delta_d``, ``delta_r``,
        ``TP``, ``FP`` (objects matched at the evaluation's IoU threshold), ``FP ratio``
        (FP / (FP + TP), what the paper's FP column reports relative to detections) and
        ``p d (TP)``, ``p r (TP)`` over the matched objects.
    """
    import numpy as np

    if isinstance(evaluations, Evaluation):
        evaluations = [evaluations]
    evaluations = list(evaluations)
    if not evaluations or not all(isinstance(e, Evaluation) for e in evaluations):
        raise TypeError("evaluations must be Evaluation objects (from evaluate), at least one")
    n = np.array([e.scores["Objects (truth)"] for e in evaluations], float)
    seg = np.array([e.scores["SEG"] for e in evaluations], float)
    seg_star = np.array([e.scores["SEG*"] for e in evaluations], float)
    det = np.array([e.scores["DET"] for e in evaluations], float)
    has = n > 0
    total = n[has].sum()
    jaccard = np.where(has, np.nan_to_num(seg) * n, 0.0)          # summed Jaccard per image
    found = np.where(np.isfinite(seg_star) & (seg_star > 0), jaccard / np.where(
        seg_star > 0, seg_star, 1.0), 0.0)                        # detected true vesicles
    out = {"SEG": float(jaccard.sum() / total) if total else math.nan,
           "DET": float((det[has] * n[has]).sum() / total) if total else math.nan}

    def pooled(key, column):
        return np.concatenate([np.asarray(getattr(e, key)[column], float) for e in evaluations])

    out["p d (all)"] = wilcoxon_mc(pooled("pred_table", "ECD"), pooled("truth_table", "ECD"),
                                   seed=seed)
    out["p r (all)"] = wilcoxon_mc(pooled("pred_table", "Circ."),
                                   pooled("truth_table", "Circ."), seed=seed)
    out["SEG*"] = float(jaccard.sum() / found.sum()) if found.sum() else math.nan
    pairs = {c: [matched_values(e.matching, e.pred_table, e.truth_table, c) for e in evaluations]
             for c in ("ECD", "Circ.")}
    values = {c: tuple(np.concatenate([p[i] for p in v]) for i in (0, 1))
              for c, v in pairs.items()}
    tp = int(sum(e.matching.tp for e in evaluations))
    fp = int(sum(e.matching.fp for e in evaluations))
    out["delta_d"] = ratio_error(*values["ECD"]) if tp else math.nan
    out["delta_r"] = ratio_error(*values["Circ."]) if tp else math.nan
    out["TP"], out["FP"] = tp, fp
    out["FP ratio"] = fp / (fp + tp) if fp + tp else math.nan
    out["p d (TP)"] = wilcoxon_mc(*values["ECD"], seed=seed)
    out["p r (TP)"] = wilcoxon_mc(*values["Circ."], seed=seed)
    return out
