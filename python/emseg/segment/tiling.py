"""Tiled inference: probability maps of images and volumes of any size.

:func:`predict_tiled` runs a network (any callable on batches of tiles) over
a 2D image or a 3D volume in overlapping tiles and blends them with
complementary sine ramps along each axis, so tile borders leave no seams;
memory is bounded by the output map plus one batch of tiles.

TensorFlow is not imported here: the network comes in as a callable
(:class:`emseg.models.saved.SavedModelPredictor` for exported models).
"""

import itertools
import math
import numbers

import numpy as np

from .._memory import release_pages
from .._validate import check_nd_array
from .scaling import intensity_stats, normalize, standardize

__all__ = ["blend_weights", "fit_tile", "patch_starts", "predict_tiled"]


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


def _per_axis(value, ndim, name):
    """An int or one int per axis, as a tuple of ``ndim`` ints."""
    values = (value,) * ndim if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != ndim or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{name} must be an integer or {ndim} integers (one per axis), "
                         f"got {value!r}")
    return tuple(int(v) for v in values)


def _pad_to(block, shape, mode):
    """``block`` padded at the end of its first ``len(shape)`` axes up to ``shape``."""
    pads = [(0, t - n) for t, n in zip(shape, block.shape)]
    if not any(p for _, p in pads):
        return block
    return np.pad(block, pads + [(0, 0)] * (block.ndim - len(shape)), mode=mode)


def predict_tiled(image, predict_fn, *, tile_size, halo, channels, normalization=None,
                  batch_size=4, progress=None, divisor=None, multichannel=False):
    """Probability map of a whole image or volume from a network applied to tiles.

    The same code tiles 2D images and 3D volumes: tiles, halo and the
    sine-ramp blend are per axis, and a tile's weight is the product of its
    per-axis ramps, so the weights of overlapping tiles sum to one
    everywhere. Memory: the output map plus one batch of tiles; the input is
    only read (a memory-mapped tomogram is paged in tile by tile, and each
    finished row of tiles is handed back).

    Parameters
    ----------
    image : (M, N) or (P, M, N) ndarray; with ``multichannel``, a last channel axis
        Image or volume at the network's pixel size (raw intensities). Extra
        input channels (a classifier's instance encoding) follow the first
        one, the intensity, and are passed to the network as they are.
    predict_fn : callable
        Maps a ``(batch, *tile, C)`` float32 array to
        ``(batch, *tile, channels)`` probabilities.
    tile_size, halo : int or sequence of int
        Tile side (a multiple of the network's divisor) and overlap margin,
        one number for every axis or one per axis. With ``divisor``,
        ``tile_size`` is the largest tile and each axis gets the tile side
        that covers it with the least overlap (see :func:`fit_tile`); tiles
        may then differ between axes.
    channels : int
        Number of output channels.
    normalization : dict, optional
        ``{"mode": "image"|"patch", "low": p, "high": p}``; "image" uses the
        whole image's percentiles for every tile (no tile-dependent
        contrast), "patch" stretches each tile as the FRU-Net paper does;
        ``{"mode": "standardize"}`` gives the whole image mean 0 and SD 1
        (CryoVesNet's tomogram normalisation).
        Only the first input channel is normalised. None: the image is
        already normalised.
    batch_size : int, optional
    progress : callable, optional
        Called with (tiles done, tiles total) after every batch.
    divisor : int, optional
        The network's size divisor (``2**depth``); enables fitted tiles.
    multichannel : bool, optional
        ``image`` has a last axis of input channels.

    Returns
    -------
    (M, N, channels) or (P, M, N, channels) ndarray of float32
    """
    image, extra = np.asarray(image), None
    if multichannel:
        if image.ndim not in (3, 4) or image.shape[-1] < 1:
            raise ValueError(f"image must be (rows, columns, channels) or (planes, rows, columns, "
                             f"channels) with multichannel=True, got shape {image.shape}")
        if image.shape[-1] > 1:
            extra = np.asarray(image[..., 1:], np.float32)
        image = image[..., 0]
    image = check_nd_array(image, "image", ndims=(2, 3), allow_bool=False)
    nd = image.ndim
    n_in = 1 if extra is None else 1 + extra.shape[-1]
    for v, n in ((channels, "channels"), (batch_size, "batch_size")):
        if not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{n} must be a positive integer, got {v!r}")
    tiles_max = _per_axis(tile_size, nd, "tile_size")
    if min(tiles_max) < 1:
        raise ValueError(f"tile_size must be a positive integer, got {tile_size!r}")
    halos = _per_axis(halo, nd, "halo")
    # at most a quarter of the tile: the overlaps (>= 2 halo) on both sides of a tile then
    # fit in it (CryoVesNet's 32^3 tiles with halo 8 still work)
    if any(h < 0 or 4 * h > t for h, t in zip(halos, tiles_max)):
        raise ValueError(f"halo must be an integer in [0, tile_size / 4], got {halo!r}")
    if not callable(predict_fn):
        raise TypeError("predict_fn must be callable")
    shape = image.shape
    limits, mode = None, None
    if normalization is not None:
        mode = normalization["mode"]
        if mode == "image":
            # percentiles of a subsample: exact enough, bounded memory for huge images
            step = max(1, int((image.size / 4e6) ** (1 / nd)))
            limits = np.percentile(image[(slice(None, None, step),) * nd],
                                   [normalization["low"], normalization["high"]])
        elif mode == "standardize":
            limits = intensity_stats(image)
        elif mode != "patch":
            raise ValueError(f"normalization mode must be image, patch or standardize, "
                             f"got {mode!r}")
    if divisor is None:
        tshape = tiles_max
    else:
        if not isinstance(divisor, numbers.Integral) or divisor < 1 or \
                any(t % divisor for t in tiles_max):
            raise ValueError(f"divisor must be a positive integer dividing tile_size, got {divisor!r}")
        tshape = tuple(fit_tile(n, t, h, divisor) for n, t, h in zip(shape, tiles_max, halos))
    # an axis shorter than its tile is padded by reflection (keeps the statistics), one tile
    # at a time: a thin volume is never copied whole
    pad_mode = "reflect" if min(shape) > 1 else "edge"
    axes = [blend_weights(max(n, t), t, h) for n, t, h in zip(shape, tshape, halos)]
    out = np.zeros(shape + (channels,), np.float32)
    jobs = list(itertools.product(*(range(len(starts)) for starts, _, _ in axes)))
    row = None
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b:b + batch_size]
        if chunk[0][0] != row:
            # a memory-mapped input: the rows of tiles already done need not stay resident
            row = chunk[0][0]
            release_pages(image)
        tiles = np.empty((len(chunk),) + tshape + (n_in,), np.float32)
        for k, idx in enumerate(chunk):
            window = tuple(slice(ax[0][i], min(ax[0][i] + t, n))
                           for ax, i, t, n in zip(axes, idx, tshape, shape))
            tile = _pad_to(image[window], tshape, pad_mode)
            if mode == "patch":
                tile = normalize(tile, normalization["low"], normalization["high"])
            elif mode == "image":
                tile = normalize(tile, limits=limits)
            elif mode == "standardize":
                tile = standardize(tile, stats=limits)
            tiles[k, ..., 0] = tile
            if extra is not None:
                tiles[k, ..., 1:] = _pad_to(extra[window], tshape, pad_mode)
        pred = np.asarray(predict_fn(tiles), np.float32)
        if pred.shape != (len(chunk),) + tshape + (channels,):
            raise ValueError(f"predict_fn returned shape {pred.shape}, expected "
                             f"{(len(chunk),) + tshape + (channels,)}")
        for k, idx in enumerate(chunk):
            lo = [ax[0][i] for ax, i in zip(axes, idx)]
            hi = [min(a + t, n) for a, t, n in zip(lo, tshape, shape)]
            if any(h <= a for a, h in zip(lo, hi)):
                continue  # a tile wholly in the padding
            w = 1.0
            for d, ((_, weights, total), i, a, h) in enumerate(zip(axes, idx, lo, hi)):
                ramp = weights[i][:h - a] / total[a:h]
                w = w * ramp.reshape((-1,) + (1,) * (nd - 1 - d))
            crop = tuple(slice(0, h - a) for a, h in zip(lo, hi))
            out[tuple(slice(a, h) for a, h in zip(lo, hi))] += \
                pred[k][crop] * np.asarray(w)[..., None].astype(np.float32)
        if progress is not None:
            progress(min(b + batch_size, len(jobs)), len(jobs))
    release_pages(image)
    return out


def patch_starts(length, size, overlap):
    """Start offsets of windows of ``size`` covering ``length`` with at least
    ``overlap`` overlap; the last window ends at the end (a single window at 0
    when ``length <= size``)."""
    if length <= size:
        return [0]
    stride = size - overlap
    if stride < 1:
        raise ValueError(f"overlap must be smaller than size, got {overlap} >= {size}")
    n = math.ceil((length - size) / stride) + 1
    return [int(round(i * (length - size) / (n - 1))) for i in range(n)]
