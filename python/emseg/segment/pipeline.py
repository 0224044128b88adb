"""The one segmentation pipeline: data bar, rescale to the model's pixel
size, tiled prediction, post-processing chain, rescale back.

TensorFlow is not imported here: the network comes in as a callable
(:class:`emseg.models.saved.SavedModelPredictor` for exported models).
"""

from dataclasses import dataclass

import numpy as np

from .._validate import check_2d_array, check_square_pixel_size
from .databar import detect_databar
from .postprocess import postprocess as run_chain
from .scaling import rescale, rescale_factor
from .tiling import predict_tiled

__all__ = ["Segmentation", "segment", "ModelMaps", "predict_maps", "labels_from_maps"]


@dataclass
class Segmentation:
    """Result of :func:`segment`.

    Attributes
    ----------
    labels : (M, N) ndarray of int32
        Objects numbered 1..n (0 inside the data bar).
    probability : (M, N) ndarray of float32
        Foreground probability at the image's pixel size (0 in the data bar).
    databar_row : int or None
        First row of the detected data bar.
    pixel_size : (float, float)
        The image's pixel size in nm.
    threshold : float
        Threshold applied.
    """

    labels: np.ndarray
    probability: np.ndarray
    databar_row: object
    pixel_size: tuple
    threshold: float


@dataclass
class ModelMaps:
    """Result of :func:`predict_maps`: a network's output before post-processing.

    Attributes
    ----------
    maps : (m, n, classes) ndarray of float32
        The network's output for the specimen rows, at the *model's* pixel size.
    classes : list of str
        The model's output classes (``maps[..., i]`` is ``classes[i]``).
    model_pixel_size : float
        The model's pixel size in nm.
    work_shape : (int, int)
        Shape of the specimen rows at the image's pixel size (above the data bar).
    image_shape : (int, int)
        Shape of the whole image.
    databar_row : int or None
    pixel_size : (float, float)
        The image's pixel size in nm.
    """

    maps: np.ndarray
    classes: list
    model_pixel_size: float
    work_shape: tuple
    image_shape: tuple
    databar_row: object
    pixel_size: tuple


def _settings(meta, threshold, postprocess, task="segmentation"):
    """The model's settings from its model.yaml (a model of ``task``), with overrides."""
    if not isinstance(meta, dict):
        raise TypeError("meta must be the model's model.yaml mapping")
    if meta.get("task", "segmentation") != task:
        raise ValueError(f"model {meta.get('name')!r} is a {meta.get('task')} model, "
                         f"not a {task} model")
    from ..models.config import is_volume_model

    if is_volume_model(meta):
        raise ValueError(f"model {meta.get('name')!r} segments volumes; give it a 3D volume "
                         "(a tomogram), not a 2D image")
    try:
        out = {"classes": list(meta["output"]["classes"]),
               "model_px": float(meta["pixel_size_nm"]),
               "tile": int(meta["tile_size"]), "halo": int(meta["halo"]),
               "norm": dict(meta["normalization"]),
               "options": {**meta.get("postprocess", {}), **(postprocess or {})},
               # a semantic model takes the arg-max of its softmax: no threshold
               "threshold": float(0.5 if task == "semantic" else meta["threshold"]
                                  if threshold is None else threshold)}
        out["divisor"] = int(meta.get("input", {}).get("divisor", out["tile"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"model metadata incomplete or invalid ({exc})") from None
    if not 0 <= out["threshold"] <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {out['threshold']}")
    from ..models.config import CLASS_DEFAULTS, POSTPROCESS_DEFAULTS

    known = CLASS_DEFAULTS if task == "semantic" else POSTPROCESS_DEFAULTS
    unknown = set(out["options"]) - set(known)
    if unknown:
        raise ValueError(f"postprocess options: unknown key(s) {', '.join(sorted(unknown))}")
    return out


def predict_maps(image, predict_fn, meta, *, pixel_size, keep_databar=False, batch_size=4,
                 progress=None, task="segmentation"):
    """The network's output for one image: data bar, rescale, tiled prediction.

    The first half of :func:`segment`; :func:`labels_from_maps` is the second.
    Kept apart so that post-processing settings can be compared without
    predicting again.

    Parameters
    ----------
    image : (M, N) ndarray
    predict_fn : callable
        The network on batches of tiles (see :func:`predict_tiled`).
    meta : dict
        The model's ``model.yaml``.
    pixel_size : float or (float, float)
        The image's pixel size in nm (square pixels).
    keep_databar : bool, optional
        Do not look for a data bar (segment every row).
    batch_size : int, optional
    progress : callable, optional
        ``progress(done, total)`` over the tiles.
    task : {"segmentation", "semantic"}, optional
        The kind of model ``meta`` must describe.

    Returns
    -------
    ModelMaps
    """
    image = check_2d_array(image, "image", allow_bool=False)
    pw, ph = check_square_pixel_size(pixel_size)
    s = _settings(meta, None, None, task)
    bar = None if keep_databar else detect_databar(image)
    work = image[:bar] if bar is not None else image
    small = rescale(work, rescale_factor(pw, s["model_px"]), order=1)
    maps = predict_tiled(small, predict_fn, tile_size=s["tile"], halo=s["halo"],
                         channels=len(s["classes"]), normalization=s["norm"],
                         batch_size=batch_size, progress=progress, divisor=s["divisor"])
    return ModelMaps(maps, s["classes"], s["model_px"], work.shape, image.shape, bar, (pw, ph))


def labels_from_maps(maps, meta, *, threshold=None, postprocess=None):
    """Labelled objects from :func:`predict_maps`' output, by the model's chain.

    Parameters
    ----------
    maps : ModelMaps
    meta : dict
        The model's ``model.yaml`` (threshold, post-processing).
    threshold : float, optional
        Overrides the model's threshold.
    postprocess : dict, optional
        Overrides of the model's post-processing settings.

    Returns
    -------
    Segmentation
    """
    if not isinstance(maps, ModelMaps):
        raise TypeError(f"maps must be predict_maps' result, got {type(maps).__name__}")
    s = _settings(meta, threshold, postprocess)
    prob = maps.maps
    boundary = prob[..., maps.classes.index("boundary")] if "boundary" in maps.classes else None
    labels = run_chain(prob[..., 0], maps.model_pixel_size, s["options"],
                       threshold=s["threshold"], boundary=boundary, output_shape=maps.work_shape)
    fg = rescale(prob[..., 0], shape=maps.work_shape, order=1).astype(np.float32)
    full_labels = np.zeros(maps.image_shape, np.int32)
    full_prob = np.zeros(maps.image_shape, np.float32)
    rows = maps.work_shape[0]
    full_labels[:rows] = labels
    full_prob[:rows] = np.clip(fg, 0, 1)
    return Segmentation(full_labels, full_prob, maps.databar_row, maps.pixel_size,
                        s["threshold"])


def segment(image, predict_fn, meta, *, pixel_size, threshold=None, postprocess=None,
            keep_databar=False, batch_size=4, progress=None):
    """Segment one image with a model: data bar, rescale, tiled prediction, post-processing.

    Parameters
    ----------
    image : (M, N) ndarray
    predict_fn : callable
        The network on batches of tiles (see :func:`predict_tiled`).
    meta : dict
        The model's ``model.yaml`` (pixel size, tiles, normalisation,
        threshold, post-processing, classes).
    pixel_size : float or (float, float)
        The image's pixel size in nm (square pixels).
    threshold : float, optional
        Overrides the model's threshold.
    postprocess : dict, optional
        Overrides of the model's post-processing settings.
    keep_databar : bool, optional
        Do not look for a data bar (segment every row).
    batch_size : int, optional
    progress : callable, optional
        ``progress(done, total)`` over the tiles.

    Returns
    -------
    Segmentation
    """
    # settings first: a bad override fails before the network runs
    _settings(meta, threshold, postprocess)
    maps = predict_maps(image, predict_fn, meta, pixel_size=pixel_size,
                        keep_databar=keep_databar, batch_size=batch_size, progress=progress)
    return labels_from_maps(maps, meta, threshold=threshold, postprocess=postprocess)
