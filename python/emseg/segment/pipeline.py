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

__all__ = ["Segmentation", "segment"]


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
    image = check_2d_array(image, "image", allow_bool=False)
    pw, ph = check_square_pixel_size(pixel_size)
    if not isinstance(meta, dict):
        raise TypeError("meta must be the model's model.yaml mapping")
    if meta.get("task", "segmentation") != "segmentation":
        raise ValueError(f"model {meta.get('name')!r} is a {meta.get('task')} model, "
                         "not a segmentation model")
    from ..models.config import is_volume_model

    if is_volume_model(meta):
        raise ValueError(f"model {meta.get('name')!r} segments volumes; give it a 3D volume "
                         "(a tomogram), not a 2D image")
    try:
        classes = list(meta["output"]["classes"])
        model_px = float(meta["pixel_size_nm"])
        tile, halo = int(meta["tile_size"]), int(meta["halo"])
        divisor = int(meta.get("input", {}).get("divisor", tile))
        norm = dict(meta["normalization"])
        options = {**meta.get("postprocess", {}), **(postprocess or {})}
        t = float(meta["threshold"] if threshold is None else threshold)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"model metadata incomplete or invalid ({exc})") from None
    if not 0 <= t <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {t}")
    bar = None if keep_databar else detect_databar(image)
    work = image[:bar] if bar is not None else image
    factor = rescale_factor(pw, model_px)
    small = rescale(work, factor, order=1)
    prob = predict_tiled(small, predict_fn, tile_size=tile, halo=halo, channels=len(classes),
                         normalization=norm, batch_size=batch_size, progress=progress,
                         divisor=divisor)
    boundary = prob[..., classes.index("boundary")] if "boundary" in classes else None
    labels = run_chain(prob[..., 0], model_px, options, threshold=t, boundary=boundary,
                            output_shape=work.shape)
    fg = rescale(prob[..., 0], shape=work.shape, order=1).astype(np.float32)
    full_labels = np.zeros(image.shape, np.int32)
    full_prob = np.zeros(image.shape, np.float32)
    full_labels[:work.shape[0]] = labels
    full_prob[:work.shape[0]] = np.clip(fg, 0, 1)
    return Segmentation(full_labels, full_prob, bar, (pw, ph), t)
