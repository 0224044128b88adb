"""Tiled inference: probability maps of images of any size, then instances.

:func:`predict_tiled` runs a network (any callable on batches of tiles) over
an image in overlapping tiles and blends them with complementary sine
ramps, so tile borders leave no seams; memory is bounded by the output map
plus one batch of tiles. :func:`segment` adds the data bar, rescaling to the
model's pixel size and back, and the model's post-processing chain.

TensorFlow is not imported here: the network comes in as a callable
(:class:`emseg.models.saved.SavedModelPredictor` for exported models).
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import check_2d_array, check_square_pixel_size
from .patches import normalize, patch_starts, rescale, rescale_factor

__all__ = ["blend_weights", "fit_tile", "predict_tiled", "Segmentation", "segment"]


def blend_weights(length, size, halo):
    """1D weights of every tile position along an axis, and their sum.

    Tiles overlap by at least ``2 * halo``; inside an overlap the weights of
    the two tiles are sin^2 and cos^2 of the same ramp (they sum to one),
    elsewhere 1. Returns ``(starts, weights, total)`` where ``weights[i]``
    (length ``size``) applies to the tile at ``starts[i]``.
    """
    starts = patch_starts(length, size, 2 * halo)
    weights = []
    for i, s in enumerate(starts):
        w = np.ones(size, np.float64)
        if i > 0:
            ov = starts[i - 1] + size - s          # overlap with the previous tile
            w[:ov] = np.sin(0.5 * np.pi * (np.arange(ov) + 0.5) / ov) ** 2
        if i + 1 < len(starts):
            ov = s + size - starts[i + 1]          # overlap with the next tile
            w[size - ov:] = np.cos(0.5 * np.pi * (np.arange(ov) + 0.5) / ov) ** 2
        weights.append(w)
    total = np.zeros(max(length, size))
    for s, w in zip(starts, weights):
        total[s:s + size] += w
    return starts, weights, total[:length]


def fit_tile(length, max_tile, halo, divisor):
    """Smallest tile side (a multiple of ``divisor``, at most ``max_tile``
    unless the image is smaller) that covers ``length`` with the fewest
    tiles overlapping by ``2 * halo``: less computation wasted on overlaps
    than fixed-size tiles (e.g. 2048 px, max 512, halo 32: 5 tiles of 464
    instead of 5 of 512)."""
    if length <= max_tile:
        return int(math.ceil(length / divisor) * divisor)
    n = math.ceil((length - 2 * halo) / (max_tile - 2 * halo))
    side = math.ceil((length + (n - 1) * 2 * halo) / n)
    return int(min(max_tile, math.ceil(side / divisor) * divisor))


def predict_tiled(image, predict_fn, *, tile_size, halo, channels, normalization=None,
                  batch_size=4, progress=None, divisor=None, multichannel=False):
    """Probability map of a whole image from a network applied to tiles.

    Parameters
    ----------
    image : (M, N) or, with ``multichannel``, (M, N, C) ndarray
        Image at the network's pixel size (raw intensities). Extra input
        channels (a classifier's instance encoding) follow the first one,
        the intensity, and are passed to the network as they are.
    predict_fn : callable
        Maps a ``(batch, tile, tile, C)`` float32 array to
        ``(batch, tile, tile, channels)`` probabilities.
    tile_size, halo : int
        Tile side (a multiple of the network's divisor) and overlap margin.
        With ``divisor``, ``tile_size`` is the largest tile and each axis
        gets the tile side that covers it with the least overlap (see
        :func:`fit_tile`); tiles may then be rectangular.
    channels : int
        Number of output channels.
    normalization : dict, optional
        ``{"mode": "image"|"patch", "low": p, "high": p}``; "image" uses the
        whole image's percentiles for every tile (no tile-dependent
        contrast), "patch" stretches each tile as the FRU-Net paper does.
        Only the first input channel is normalised. None: the image is
        already normalised.
    batch_size : int, optional
    progress : callable, optional
        Called with (tiles done, tiles total) after every batch.
    divisor : int, optional
        The network's size divisor (``2**depth``); enables fitted tiles.
    multichannel : bool, optional
        ``image`` is ``(M, N, C)``: several input channels.

    Returns
    -------
    (M, N, channels) ndarray of float32
    """
    image, extra = np.asarray(image), None
    if multichannel:
        if image.ndim != 3 or image.shape[-1] < 1:
            raise ValueError(f"image must be (rows, columns, channels) with multichannel=True, "
                             f"got shape {image.shape}")
        if image.shape[-1] > 1:
            extra = np.asarray(image[..., 1:], np.float32)
        image = image[..., 0]
    image = check_2d_array(image, "image", allow_bool=False)
    n_in = 1 if extra is None else 1 + extra.shape[-1]
    for v, n in ((tile_size, "tile_size"), (channels, "channels"), (batch_size, "batch_size")):
        if not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{n} must be a positive integer, got {v!r}")
    if not isinstance(halo, numbers.Integral) or halo < 0 or 4 * halo >= tile_size:
        raise ValueError(f"halo must be an integer in [0, tile_size / 4), got {halo!r}")
    if not callable(predict_fn):
        raise TypeError("predict_fn must be callable")
    rows, cols = image.shape
    limits, mode = None, None
    if normalization is not None:
        mode = normalization["mode"]
        if mode == "image":
            # percentiles of a subsample: exact enough, bounded memory for huge images
            step = max(1, int(math.sqrt(image.size / 4e6)))
            limits = np.percentile(image[::step, ::step], [normalization["low"], normalization["high"]])
    if divisor is None:
        th = tw = tile_size
    else:
        if not isinstance(divisor, numbers.Integral) or divisor < 1 or tile_size % divisor:
            raise ValueError(f"divisor must be a positive integer dividing tile_size, got {divisor!r}")
        th, tw = (fit_tile(n, tile_size, halo, divisor) for n in (rows, cols))
    # pad images smaller than a tile (reflection keeps the statistics)
    pr, pc = max(0, th - rows), max(0, tw - cols)
    pad_mode = "reflect" if min(rows, cols) > 1 else "edge"
    src = np.pad(image, ((0, pr), (0, pc)), mode=pad_mode) if pr or pc else image
    if extra is not None and (pr or pc):
        extra = np.pad(extra, ((0, pr), (0, pc), (0, 0)), mode=pad_mode)
    rstarts, rweights, rtotal = blend_weights(src.shape[0], th, halo)
    cstarts, cweights, ctotal = blend_weights(src.shape[1], tw, halo)
    out = np.zeros((rows, cols, channels), np.float32)
    jobs = [(i, j) for i in range(len(rstarts)) for j in range(len(cstarts))]
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b:b + batch_size]
        tiles = np.empty((len(chunk), th, tw, n_in), np.float32)
        for k, (i, j) in enumerate(chunk):
            window = (slice(rstarts[i], rstarts[i] + th), slice(cstarts[j], cstarts[j] + tw))
            tile = src[window]
            if mode == "patch":
                tile = normalize(tile, normalization["low"], normalization["high"])
            elif mode == "image":
                tile = normalize(tile, limits=limits)
            tiles[k, ..., 0] = tile
            if extra is not None:
                tiles[k, ..., 1:] = extra[window]
        pred = np.asarray(predict_fn(tiles), np.float32)
        if pred.shape != (len(chunk), th, tw, channels):
            raise ValueError(f"predict_fn returned shape {pred.shape}, expected "
                             f"{(len(chunk), th, tw, channels)}")
        for k, (i, j) in enumerate(chunk):
            r0, c0 = rstarts[i], cstarts[j]
            r1, c1 = min(r0 + th, rows), min(c0 + tw, cols)
            if r1 <= r0 or c1 <= c0:
                continue
            w = (rweights[i][:r1 - r0, None] / rtotal[r0:r1, None]) * \
                (cweights[j][None, :c1 - c0] / ctotal[None, c0:c1])
            out[r0:r1, c0:c1] += pred[k, :r1 - r0, :c1 - c0] * w[..., None].astype(np.float32)
        if progress is not None:
            progress(min(b + batch_size, len(jobs)), len(jobs))
    return out


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
    from . import postprocess as pp

    image = check_2d_array(image, "image", allow_bool=False)
    pw, ph = check_square_pixel_size(pixel_size)
    if not isinstance(meta, dict):
        raise TypeError("meta must be the model's model.yaml mapping")
    if meta.get("task", "segmentation") != "segmentation":
        raise ValueError(f"model {meta.get('name')!r} is a {meta.get('task')} model, "
                         "not a segmentation model")
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
    bar = None if keep_databar else pp.detect_databar(image)
    work = image[:bar] if bar is not None else image
    factor = rescale_factor(pw, model_px)
    small = rescale(work, factor, order=1)
    prob = predict_tiled(small, predict_fn, tile_size=tile, halo=halo, channels=len(classes),
                         normalization=norm, batch_size=batch_size, progress=progress,
                         divisor=divisor)
    boundary = prob[..., classes.index("boundary")] if "boundary" in classes else None
    labels = pp.postprocess(prob[..., 0], model_px, options, threshold=t, boundary=boundary,
                            output_shape=work.shape)
    fg = rescale(prob[..., 0], shape=work.shape, order=1).astype(np.float32)
    full_labels = np.zeros(image.shape, np.int32)
    full_prob = np.zeros(image.shape, np.float32)
    full_labels[:work.shape[0]] = labels
    full_prob[:work.shape[0]] = np.clip(fg, 0, 1)
    return Segmentation(full_labels, full_prob, bar, (pw, ph), t)
