"""Classifier filter: keep only the particles fit for size statistics.

Partially occluded, border-cut, merged or split particles bias size
distributions. The BAM workflow (Ruehle et al. 2021) feeds the image and the
segmentation to a second network that scores every pixel as belonging to a
particle worth keeping; a particle's score is the mean over its pixels and it
is kept when the score reaches a threshold.

Everything here works on NumPy arrays; the network comes in as a callable
(:class:`emseg.models.saved.SavedModelPredictor`).
"""

from dataclasses import dataclass

import numpy as np

from .._validate import check_2d_array, check_labels, check_square_pixel_size

__all__ = ["encode_instances", "classifier_input", "combine_scores", "instance_scores",
           "Classification", "classify"]


def encode_instances(labels):
    """The classifier's instance channel: 1 inside an instance, 0.5 on its
    outline (pixels next to another label or the background), 0 elsewhere.

    The outline keeps touching instances apart, which a binary mask would
    not; the network sees where the segmentation put each cut.

    Parameters
    ----------
    labels : (M, N) ndarray of int

    Returns
    -------
    (M, N) ndarray of float32
    """
    from skimage.segmentation import find_boundaries

    labels = check_labels(labels, "labels")
    out = (labels > 0).astype(np.float32)
    out[find_boundaries(labels, mode="inner", connectivity=1) & (labels > 0)] = 0.5
    return out


def classifier_input(image, labels, factor=1.0):
    """Image and instance channels at the classifier's pixel size.

    Parameters
    ----------
    image : (M, N) ndarray
        Raw intensities (normalised later, with the model's settings).
    labels : (M, N) ndarray of int
    factor : float, optional
        Zoom factor to the model's pixel size (see
        :func:`emseg.segment.rescale_factor`).

    Returns
    -------
    (P, Q, 2) ndarray of float32
    """
    from ..segment.scaling import rescale

    image = check_2d_array(image, "image", allow_bool=False)
    labels = check_labels(labels, "labels")
    if image.shape != labels.shape:
        raise ValueError(f"image {image.shape} and labels {labels.shape} differ in shape")
    small = rescale(image.astype(np.float32), factor, order=1)
    # nearest-neighbour labels, then the outline at the network's scale (1 px wide)
    small_labels = rescale(np.asarray(labels, np.int32), shape=small.shape, order=0)
    return np.stack([small, encode_instances(small_labels)], -1).astype(np.float32)


def combine_scores(probabilities, weights=None):
    """Per-pixel keep score from class probabilities: ``clip(sum w_i p_i, 0, 1)``.

    Parameters
    ----------
    probabilities : (M, N, K) ndarray
    weights : sequence of K floats, optional
        Default: the first class alone (a single keep class).

    Returns
    -------
    (M, N) ndarray of float32
    """
    p = np.asarray(probabilities, np.float32)
    if p.ndim != 3 or p.shape[-1] < 1:
        raise ValueError(f"probabilities must be (rows, columns, classes), got shape {p.shape}")
    if weights is None:
        weights = [1.0] + [0.0] * (p.shape[-1] - 1)
    w = np.asarray(weights, np.float32)
    if w.shape != (p.shape[-1],) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be {p.shape[-1]} finite numbers, got {weights!r}")
    return np.clip(p @ w, 0, 1).astype(np.float32)


def instance_scores(labels, score_map):
    """Mean score over every instance's pixels.

    Parameters
    ----------
    labels : (M, N) ndarray of int
    score_map : (M, N) ndarray of float

    Returns
    -------
    (labels.max() + 1,) ndarray of float64
        Index = label; NaN for index 0 and labels not present.
    """
    labels = check_labels(labels, "labels")
    score_map = check_2d_array(score_map, "score_map", allow_bool=False)
    if score_map.shape != labels.shape:
        raise ValueError(f"score_map {score_map.shape} and labels {labels.shape} differ in shape")
    lab = np.asarray(labels, np.int64).ravel()
    n = int(lab.max()) + 1 if lab.size else 1
    count = np.bincount(lab, minlength=n).astype(np.float64)
    total = np.bincount(lab, weights=np.asarray(score_map, np.float64).ravel(), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, total / count, np.nan)
    out[0] = np.nan
    return out


@dataclass
class Classification:
    """Result of :func:`classify`.

    Attributes
    ----------
    scores : (n + 1,) ndarray of float64
        Mean keep score per label (index = label, NaN where absent).
    score_map : (M, N) ndarray of float32
        Per-pixel keep score at the image's pixel size.
    threshold : float
        The model's tuned threshold (the default minimum score).
    """

    scores: np.ndarray
    score_map: np.ndarray
    threshold: float


def classify(image, labels, predict_fn, meta, *, pixel_size, batch_size=4, progress=None):
    """Score every instance of a segmentation with a classifier network.

    Parameters
    ----------
    image : (M, N) ndarray
        The grey-level image the labels outline.
    labels : (M, N) ndarray of int
        Instances (0 = background), from a segmentation or a manual mask.
    predict_fn : callable
        The classifier on batches of ``(batch, rows, columns, 2)`` tiles.
    meta : dict
        The classifier's ``model.yaml`` mapping.
    pixel_size : float or (float, float)
        The image's pixel size in nm (square pixels).
    batch_size : int, optional
    progress : callable, optional
        ``progress(done, total)`` over the tiles.

    Returns
    -------
    Classification
    """
    from ..segment.scaling import rescale, rescale_factor
    from ..segment.tiling import predict_tiled

    image = check_2d_array(image, "image", allow_bool=False)
    labels = check_labels(labels, "labels")
    if image.shape != labels.shape:
        raise ValueError(f"image {image.shape} and labels {labels.shape} differ in shape")
    pw, _ = check_square_pixel_size(pixel_size)
    if not isinstance(meta, dict):
        raise TypeError("meta must the classifier's model.yaml mapping")
    if meta.get("task") != "classifier":
        raise ValueError(f"model {meta.get('name')!r} is a {meta.get('task', 'segmentation')} "
                         "model, not a classifier")
    try:
        classes = list(meta["output"]["classes"])
        weights = [float(w) for w in meta["score_weights"]]
        model_px = float(meta["pixel_size_nm"])
        tile, halo = int(meta["tile_size"]), int(meta["halo"])
        divisor = int(meta.get("input", {}).get("divisor", tile))
        norm = dict(meta["normalization"])
        threshold = float(meta["threshold"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"classifier metadata incomplete or invalid ({exc})") from None
    if len(weights) != len(classes):
        raise ValueError("classifier metadata: score_weights and classes differ in length")
    rows = _last_labelled_row(labels)
    score_map = np.zeros(image.shape, np.float32)
    if rows == 0:
        return Classification(instance_scores(labels, score_map), score_map, threshold)
    # rows below the last instance (a data bar) would only skew the normalisation
    x = classifier_input(image[:rows], labels[:rows], rescale_factor(pw, model_px))
    prob = predict_tiled(x, predict_fn, tile_size=tile, halo=halo, channels=len(classes),
                         normalization=norm, batch_size=batch_size, progress=progress,
                         divisor=divisor, multichannel=True)
    score = combine_scores(prob, weights)
    score_map[:rows] = np.clip(rescale(score, shape=(rows, image.shape[1]), order=1), 0, 1)
    return Classification(instance_scores(labels, score_map), score_map, threshold)


def _last_labelled_row(labels):
    any_row = np.flatnonzero(np.asarray(labels).any(axis=1))
    return int(any_row[-1]) + 1 if any_row.size else 0


# ------------------------------------------------------------ rule filters


