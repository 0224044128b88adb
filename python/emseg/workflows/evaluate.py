"""Scoring segmentation files against ground truth (``emseg evaluate``)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import resolve_pixel_size
from .files import load_image, load_labels

__all__ = ["EvaluateResult", "evaluate_files", "evaluation_table", "pooled_scores",
           "fru_net_table",
           "VolumeEvaluation", "evaluate_volume_files", "volume_evaluation_table",
           "ClassEvaluation", "evaluate_class_files", "class_evaluation_tables"]


@dataclass
class EvaluateResult:
    """Outcome of scoring one segmentation file against its ground truth."""

    name: str
    pred_path: Path
    truth_path: Path
    prob_path: Path = None
    evaluation: object = None
    pixel_size: tuple = None
    pixel_size_source: str = None


def evaluate_files(name, pred_path, truth_path, prob_path=None, *, pixel_size=None,
                   connectivity=8, iou_threshold=0.5, column="MinFeret"):
    """Score one segmentation file (label image or mask) against its ground truth.

    The pixel size is ``pixel_size`` when given, else the ground truth's
    calibration, else the prediction's, else none (pixels).

    Returns
    -------
    EvaluateResult
        Errors (unreadable files, shapes that differ) propagate as exceptions
        naming the file.
    """
    from ..metrics import evaluate

    truth, size, meta = load_labels(truth_path, allow_empty=True)
    pred, psize, pmeta = load_labels(pred_path, allow_empty=True)
    if pred.shape != truth.shape:
        raise ValueError(f"{pred_path}: shape {pred.shape} differs from ground truth "
                         f"{truth_path} {truth.shape}")
    prob = None
    if prob_path is not None:
        prob = load_image(prob_path)[0]
        if prob.shape != truth.shape:
            raise ValueError(f"{prob_path}: shape {prob.shape} differs from ground truth "
                             f"{truth_path} {truth.shape}")
    size, source = resolve_pixel_size(pixel_size, (size, meta), (psize, pmeta))
    ev = evaluate(pred, truth, prob, pixel_size=size, connectivity=connectivity,
                  iou_threshold=iou_threshold, column=column)
    return EvaluateResult(name, Path(pred_path), Path(truth_path),
                          Path(prob_path) if prob_path else None, ev, size, source)


def evaluation_table(results, *, mean_row=True):
    """One row of scores per image (column ``Image`` first), and a ``mean`` row.

    The mean skips NaN (scores undefined for an image); for the object counts
    it is the mean count per image.
    """
    import pandas as pd

    if not results:
        raise ValueError("results is empty: nothing to tabulate")
    table = pd.DataFrame([{"Image": r.name, **r.evaluation.scores} for r in results])
    if mean_row:
        means = table.drop(columns="Image").mean(skipna=True)
        table = pd.concat([table, pd.DataFrame([{"Image": "mean", **means}])], ignore_index=True)
    return table


def fru_net_table(results):
    """The FRU-Net paper's Table 1: a row per image and an ``all`` row pooled over every
    object of every image (:func:`emseg.metrics.fru_net_scores`)."""
    import pandas as pd

    from ..metrics import fru_net_scores

    if not results:
        raise ValueError("results is empty: nothing to tabulate")
    rows = [{"Image": r.name, **fru_net_scores(r.evaluation)} for r in results]
    rows.append({"Image": "all", **fru_net_scores([r.evaluation for r in results])})
    return pd.DataFrame(rows)


def _pooled_detection(tp, fp, fn):
    """Counts and the precision, recall and F1 from the totals (NaN where undefined)."""
    return {"TP": tp, "FP": fp, "FN": fn,
            "Precision": tp / (tp + fp) if tp + fp else float("nan"),
            "Recall": tp / (tp + fn) if tp + fn else float("nan"),
            "F1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")}


def pooled_scores(results, column="MinFeret"):
    """Scores over all objects of all images together.

    Returns
    -------
    dict
        Total ``TP``, ``FP``, ``FN``; ``Precision``, ``Recall``, ``F1`` from
        those totals (the way the CryoVesNet and StarDist papers pool), and the
        distribution errors of ``column`` for all predicted versus all true
        particles (the size distribution a study would report).
    """
    from ..metrics import distribution_errors

    if not results:
        raise ValueError("results is empty: nothing to pool")
    tp = sum(r.evaluation.matching.tp for r in results)
    fp = sum(r.evaluation.matching.fp for r in results)
    fn = sum(r.evaluation.matching.fn for r in results)
    out = _pooled_detection(tp, fp, fn)
    pred = np.concatenate([r.evaluation.pred_table[column].to_numpy(float) for r in results])
    truth = np.concatenate([r.evaluation.truth_table[column].to_numpy(float) for r in results])
    for k, v in distribution_errors(pred, truth).items():
        out[f"{column} {k}" + ("" if k == "KS" else " err")] = v
    return out


@dataclass
class VolumeEvaluation:
    """Outcome of scoring one vesicle segmentation volume against its ground truth."""

    name: str
    pred_path: Path
    truth_path: Path
    scores: dict
    voxel_size: tuple
    voxel_size_source: str


def _label_volume(path):
    from .._validate import check_label_array
    from .. import io as _io

    data, size, meta = _io.read_volume(path)
    data = np.asarray(data)
    if data.dtype.kind == "f":
        if not np.all(np.mod(data, 1) == 0):
            raise TypeError(f"{path}: floating-point voxels where integer labels are expected")
        data = data.astype(np.int64)
    try:
        return check_label_array(data, "labels", ndims=(3,)), size, meta
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


def evaluate_volume_files(name, pred_path, truth_path, prob_path=None, *, voxel_size=None,
                          threshold=0.5):
    """Score a vesicle label volume against its ground truth with CryoVesNet's columns
    (:func:`emseg.metrics.vesicle_scores`); with a probability volume, "Mask Dice" is the
    Dice of ``prob > threshold``.

    The voxel size is ``voxel_size`` when given, else the truth's, else the prediction's;
    one is needed (the centre residual is in nm).
    """
    from .. import io as _io
    from ..metrics import vesicle_scores

    truth, size, meta = _label_volume(truth_path)
    pred, psize, pmeta = _label_volume(pred_path)
    if pred.shape != truth.shape:
        raise ValueError(f"{pred_path}: shape {pred.shape} differs from ground truth "
                         f"{truth_path} {truth.shape}")
    mask = None
    if prob_path is not None:
        prob = np.asarray(_io.read_volume(prob_path)[0])
        if prob.shape != truth.shape:
            raise ValueError(f"{prob_path}: shape {prob.shape} differs from ground truth "
                             f"{truth_path} {truth.shape}")
        mask = prob > threshold
    size, source = resolve_pixel_size(voxel_size, (size, meta), (psize, pmeta),
                                      what="voxel size")
    if size is None:
        raise ValueError(f"{truth_path}: no voxel size in the files; give --pixel-size (nm)")
    scores = vesicle_scores(pred, truth, voxel_size=size, mask=mask)
    return VolumeEvaluation(name, Path(pred_path), Path(truth_path), scores, tuple(size), source)


def volume_evaluation_table(results):
    """One row per tomogram (column ``Tomogram`` first) and a ``pooled`` row: counts summed,
    F1 from the totals, the other scores averaged."""
    import pandas as pd

    if not results:
        raise ValueError("results is empty: nothing to tabulate")
    table = pd.DataFrame([{"Tomogram": r.name, **r.scores} for r in results])
    tp, fp, fn = (int(table[c].sum()) for c in ("TP", "FP", "FN"))
    pooled = {"Tomogram": "pooled", **table.drop(columns="Tomogram").mean(skipna=True),
              **_pooled_detection(tp, fp, fn)}
    return pd.concat([table, pd.DataFrame([pooled])], ignore_index=True)


@dataclass
class ClassEvaluation:
    """A class image scored against its ground truth (:func:`evaluate_class_files`)."""

    name: str
    pred_path: Path
    truth_path: Path
    names: list
    confusion: np.ndarray


def evaluate_class_files(name, pred_path, truth_path, *, names=None, class_map=None):
    """Score a semantic segmentation (a class image) against a ground-truth class mask.

    Parameters
    ----------
    name : str
    pred_path, truth_path : path-like
        The class image (``emseg segment`` with a semantic model: values are class indices,
        255 no class) and the truth (class indices, or coded values with ``class_map``).
    names : list of str, optional
        The class names; default those the class image carries, else those of
        ``class_map``'s order.
    class_map : dict of int to int, optional
        The truth's coded values to class indices (:func:`emseg.workflows.parse_class_map`).

    Returns
    -------
    ClassEvaluation
    """
    from .. import io as _io
    from ..metrics import confusion_matrix
    from .training import apply_class_map

    pred = load_labels(pred_path, allow_empty=True)[0]
    truth = load_labels(truth_path, allow_empty=True)[0]
    if pred.shape != truth.shape:
        raise ValueError(f"{pred_path}: shape {pred.shape} differs from ground truth "
                         f"{truth_path} {truth.shape}")
    carried = _io.read_class_names(pred_path) if Path(pred_path).suffix.lower() in (
        ".tif", ".tiff") else None
    if names is None:
        names = carried
    elif carried is not None and list(carried) != list(names):
        raise ValueError(f"{pred_path}: its classes ({', '.join(carried)}) are not "
                         f"{', '.join(names)}")
    if names is None:
        raise ValueError(f"{pred_path}: not a class image written by EMSeg; give the classes "
                         f"(--class-map)")
    if class_map is not None:
        truth = apply_class_map(truth, class_map, what=str(truth_path))
    k = len(names)
    for path, data, what in ((truth_path, truth, "ground truth"), (pred_path, pred, "classes")):
        bad = (data >= k) & (data != _io.NO_CLASS)
        if bad.any():
            raise ValueError(f"{path}: {what} value {int(data[bad][0])} is no class index "
                             f"(0..{k - 1}); give --class-map for coded masks")
    return ClassEvaluation(name, Path(pred_path), Path(truth_path), list(names),
                           confusion_matrix(pred, truth, k))


def class_evaluation_tables(results):
    """Per image: the mean Jaccard index and F1 and each class's Jaccard index; pooled over
    all images' pixels: each class's Jaccard, F1, precision, recall and support, and the
    means (:func:`emseg.metrics.confusion_scores`).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
    """
    import pandas as pd

    from ..metrics import confusion_scores

    if not results:
        raise ValueError("results is empty: nothing to tabulate")
    names = results[0].names
    if any(r.names != names for r in results):
        raise ValueError("the class images name different classes")
    rows = []
    for r in results:
        s = confusion_scores(r.confusion, names)
        rows.append({"Image": r.name, "mean IoU": s.loc["mean", "IoU"],
                     "mean F1": s.loc["mean", "Dice"],
                     **{f"IoU {n}": s.loc[n, "IoU"] for n in names}})
    pooled = confusion_scores(sum(r.confusion for r in results), names)
    pooled = pooled.rename(columns={"Dice": "F1"})
    pooled.index.name = "Class"
    return pd.DataFrame(rows), pooled.reset_index()
