"""Training classifier filters: patches of image + instance encoding, the
per-instance keep score, and the score threshold tuned on validation patches.

The Keras loop, checkpoints, logs and resumption are those of segmentation
training (:func:`emseg.models.training.fit_patches`).
"""

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..segment.scaling import rescale, rescale_factor
from .config import ModelConfig
from .data import extract_patches, targets
from .training import _check_options, _finish_log, _hold_out, fit_patches

__all__ = ["ClassifierTrainingResult", "prepare_classifier_patches", "patch_instance_scores",
           "tune_score_threshold", "train_classifier"]


def prepare_classifier_patches(triples, config, *, overlap=None):
    """Cut (image, labels, keep mask, pixel size) triples into classifier patches.

    Parameters
    ----------
    triples : iterable of (image, labels, keep, pixel_size)
        2D arrays of one shape: the image, the instances to judge and the
        answer, either a keep mask (non-zero = pixels of instances fit for
        statistics) or, for a multi-class classifier, class numbers 1..K.
    config : ModelConfig
        A classifier configuration.
    overlap : int, optional
        Patch overlap (default a quarter patch).

    Returns
    -------
    x : (P, T, T, 2) float32
        Normalised image and instance encoding.
    y : (P, T, T, len(classes)) float32
    labels : (P, T, T) int32
        The instances of every patch (for tuning the per-instance threshold).
    """
    from ..filter.classifier import classifier_input
    from ..segment.scaling import normalize

    if not isinstance(config, ModelConfig) or config.task != "classifier":
        raise TypeError("config must be a classifier ModelConfig")
    size = config.tile_size
    overlap = size // 4 if overlap is None else int(overlap)
    norm = config.normalization
    xs, ys, ls = [], [], []
    for i, item in enumerate(triples):
        try:
            image, labels, keep, pixel_size = item
        except (TypeError, ValueError):
            raise ValueError(f"triples[{i}] must be (image, labels, keep, pixel_size)") from None
        image, labels, keep = np.asarray(image), np.asarray(labels), np.asarray(keep)
        if image.ndim != 2 or not image.shape == labels.shape == keep.shape:
            raise ValueError(f"triples[{i}]: image {image.shape}, labels {labels.shape} and keep "
                             f"{keep.shape} must be 2D and of the same shape")
        factor = rescale_factor(pixel_size, config.pixel_size)
        x = classifier_input(image, labels, factor)
        small_labels = rescale(np.asarray(labels, np.int32), shape=x.shape[:2], order=0)
        small_keep = rescale(np.asarray(keep, np.int32), shape=x.shape[:2], order=0)
        # the answer belongs to the instances: nothing outside them is "keep"
        small_keep = np.where(small_labels > 0, small_keep, 0)
        if norm["mode"] == "image":
            x[..., 0] = normalize(x[..., 0], norm["low"], norm["high"])
        px = extract_patches(x, size, overlap)
        if norm["mode"] == "patch":
            for p in px:
                p[..., 0] = normalize(p[..., 0], norm["low"], norm["high"])
        xs.append(px)
        ys.append(extract_patches(targets(small_keep, config.classes), size, overlap))
        ls.append(extract_patches(small_labels, size, overlap))
    if not xs:
        raise ValueError("triples is empty: no training images")
    return (np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32),
            np.concatenate(ls).astype(np.int32))


def patch_instance_scores(prob, truth, labels, weights):
    """Per (patch, instance) mean keep score and true keep fraction.

    Parameters
    ----------
    prob, truth : (P, T, T, K) ndarrays
        Predicted class probabilities and targets.
    labels : (P, T, T) ndarray of int
    weights : sequence of K floats
        Score weights (see :func:`emseg.filter.combine_scores`).

    Returns
    -------
    scores, keep : 1D ndarrays
        One entry per instance piece in a patch; ``keep`` is the mean of
        the first (keep) target over the piece.
    """
    from ..filter.classifier import combine_scores

    scores, keep = [], []
    for p, t, lab in zip(prob, truth, labels):
        n = int(lab.max()) + 1
        if n == 1:
            continue
        count = np.bincount(lab.ravel(), minlength=n)
        s = np.bincount(lab.ravel(), weights=combine_scores(p, weights).ravel(), minlength=n)
        k = np.bincount(lab.ravel(), weights=t[..., 0].ravel(), minlength=n)
        present = np.flatnonzero(count[1:]) + 1
        scores.append(s[present] / count[present])
        keep.append(k[present] / count[present])
    if not scores:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(scores), np.concatenate(keep)


def tune_score_threshold(scores, keep, *, beta=0.5):
    """Minimum score that maximises F-beta of the kept instances.

    ``beta`` = 0.5 weighs precision twice as much as recall: a wrongly kept
    (occluded, merged) particle biases the size distribution, a wrongly
    dropped whole one only costs a count. Ties go to the threshold nearest
    0.5; without instances of both kinds the threshold is 0.5.

    Returns
    -------
    threshold, precision, recall : float
    """
    scores, keep = np.asarray(scores, float), np.asarray(keep, float) > 0.5
    if scores.size == 0 or keep.all() or not keep.any():
        return 0.5, math.nan, math.nan
    best = None
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        kept = scores >= t
        tp = float(np.sum(kept & keep))
        precision = tp / kept.sum() if kept.any() else 0.0
        recall = tp / keep.sum()
        f = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall) \
            if precision + recall else 0.0
        key = (round(f, 6), -abs(t - 0.5))
        if best is None or key > best[0]:
            best = (key, float(t), precision, recall)
    return best[1], best[2], best[3]


@dataclass
class ClassifierTrainingResult:
    """What :func:`train_classifier` produced.

    Attributes
    ----------
    config : ModelConfig
        With the tuned per-instance score threshold.
    model : keras.Model
    folder : Path
    history : list of dict
    precision, recall : float
        Of kept instances on the validation patches at the tuned threshold.
    """

    config: ModelConfig
    model: object
    folder: Path
    history: list
    precision: float
    recall: float


def train_classifier(triples, config, folder, *, epochs=100, batch_size=8, learning_rate=1e-4,
                     loss="bce", class_weights=None, validation_fraction=0.1, patience=10,
                     seed=0, resume=False, augment_options=None, verbose=1, overlap=None,
                     validation_triples=None, lr_decay=None):
    """Train a classifier filter on (image, labels, keep, pixel size) triples.

    The same patching, augmentation (intensity changes on the image channel
    only), checkpoints and logs as :func:`train_model`; the per-instance
    score threshold is then tuned on the validation patches
    (:func:`tune_score_threshold`).

    Parameters
    ----------
    triples : iterable of (image, labels, keep, pixel_size)
        See :func:`prepare_classifier_patches`.
    config : ModelConfig
        ``task="classifier"``, ``input_channels=2``.
    folder : path-like
    validation_triples : iterable, optional
        Separate validation data instead of a fraction of the patches.

    Other parameters are those of :func:`train_model`.

    Returns
    -------
    ClassifierTrainingResult
    """
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    if config.task != "classifier":
        raise ValueError("config: train_classifier needs task='classifier'")
    _check_options(folder, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                   loss=loss, class_weights=class_weights, patience=patience, resume=resume,
                   lr_decay=lr_decay)
    folder = Path(folder)
    x, y, lab = prepare_classifier_patches(triples, config, overlap=overlap)
    if validation_triples is not None:
        xv, yv, labv = prepare_classifier_patches(validation_triples, config, overlap=overlap)
    else:
        (x, y, _), (xv, yv, labv) = _hold_out((x, y, lab), validation_fraction, seed)
    aug = augment_options
    if aug is not False:
        aug = {"intensity_channels": 1, **(aug or {})}
    model, history = fit_patches(x, y, xv, yv, config, folder, epochs=epochs, batch_size=batch_size,
                                 learning_rate=learning_rate, loss=loss,
                                 class_weights=class_weights, patience=patience, seed=seed,
                                 resume=resume, augment_options=aug, verbose=verbose,
                                 lr_decay=lr_decay)
    prob = model.predict(xv, batch_size=batch_size, verbose=0)
    scores, keep = patch_instance_scores(prob, yv, labv, config.score_weights)
    threshold, precision, recall = tune_score_threshold(scores, keep)
    config = replace(config, threshold=threshold)
    _finish_log(folder, config, threshold=threshold, validation_precision=precision,
                validation_recall=recall, validation_instances=int(scores.size))
    return ClassifierTrainingResult(config, model, folder, history, precision, recall)
