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
from .scaling import intensity_stats, normalize, sample_step, standardize

__all__ = ["blend_weights", "fit_tile", "patch_starts", "predict_tiled", "predict_rows",
           "normalization_limits",
           "region_window"]


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
                  batch_size=4, progress=None, divisor=None, multichannel=False, region=None,
                  full_shape=None, origin=None, limits=None):
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
    region : tuple of slices, optional
        Compute only this part of the map (of the whole image) from the tiles that reach it,
        blended as in the whole map. The values are the whole map's, except that a network's
        float sums may depend on how many tiles share a call (oneDNN): the last bits can
        differ unless ``batch_size`` is 1 (:func:`predict_rows` gives the whole map exactly).
    full_shape, origin : tuple of int, optional
        ``image`` is the window at ``origin`` of an image of ``full_shape``: it must hold
        every tile that reaches ``region`` (see :func:`region_window`).
    limits : tuple of float, optional
        The normalisation's values computed beforehand (mode "image": the intensities at the
        low and high percentiles; "standardize": mean and SD), required with ``full_shape``.

    Returns
    -------
    (M, N, channels) or (P, M, N, channels) ndarray of float32
        The map (of ``region`` when given).
    """
    tiling, region, jobs = _prepare(image, predict_fn, tile_size, halo, channels,
                                    normalization, batch_size, divisor, multichannel, region,
                                    full_shape, origin, limits)
    out = np.zeros(tuple(r.stop - r.start for r in region) + (channels,), np.float32)
    for done, idx, pred in tiling.predictions(jobs):
        tiling.add(out, region, idx, pred)
        if progress is not None and done:
            progress(done, len(jobs))
    release_pages(image)
    return out


def _lazy(image):
    """An array-like read in parts (a memory map is an ndarray; a zarr array, a Dask array or
    a rescaling view is not): not converted to an ndarray whole."""
    return not isinstance(image, np.ndarray) and hasattr(image, "shape") and \
        hasattr(image, "ndim") and hasattr(image, "__getitem__")


def _prepare(image, predict_fn, tile_size, halo, channels, normalization, batch_size, divisor,
             multichannel, region, full_shape, origin, limits):
    """Check :func:`predict_tiled`'s arguments; the tiling, the region and its tiles."""
    image, extra = (image if _lazy(image) and not multichannel else np.asarray(image)), None
    if multichannel:
        if image.ndim not in (3, 4) or image.shape[-1] < 1:
            raise ValueError(f"image must be (rows, columns, channels) or (planes, rows, columns, "
                             f"channels) with multichannel=True, got shape {image.shape}")
        if image.shape[-1] > 1:
            extra = np.asarray(image[..., 1:], np.float32)
        image = image[..., 0]
    if not _lazy(image):
        image = check_nd_array(image, "image", ndims=(2, 3), allow_bool=False)
    elif image.ndim not in (2, 3):
        raise ValueError(f"image must be 2D or 3D, got shape {image.shape}")
    nd = image.ndim
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
    shape = image.shape if full_shape is None else tuple(int(n) for n in full_shape)
    origin = (0,) * nd if origin is None else tuple(int(o) for o in origin)
    if len(shape) != nd or len(origin) != nd:
        raise ValueError(f"full_shape and origin need {nd} values, got {full_shape!r}, "
                         f"{origin!r}")
    region = tuple(slice(0, n) for n in shape) if region is None else tuple(region)
    if len(region) != nd or any(not 0 <= r.start < r.stop <= n for r, n in zip(region, shape)):
        raise ValueError(f"region must be {nd} non-empty slices within {shape}, got {region!r}")
    mode = None if normalization is None else normalization["mode"]
    if mode not in (None, "image", "patch", "standardize"):
        raise ValueError(f"normalization mode must be image, patch or standardize, "
                         f"got {mode!r}")
    if limits is None and mode in ("image", "standardize"):
        if full_shape is not None:
            raise ValueError("limits: a window of a larger image needs the whole image's "
                             "normalisation values (normalization_limits)")
        limits = normalization_limits(image, normalization)
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
    # the tiles that reach the region, in the whole map's order (the same sums per pixel)
    reach = [[i for i, a in enumerate(starts) if a < r.stop and min(a + t, n) > r.start]
             for (starts, _, _), r, t, n in zip(axes, region, tshape, shape)]
    jobs = list(itertools.product(*reach))
    tiling = _Tiling(image, extra, predict_fn, axes, tshape, shape, origin, pad_mode, mode,
                     normalization, limits, channels, batch_size)
    return tiling, region, jobs


def predict_rows(image, predict_fn, *, tile_size, halo, channels, normalization=None,
                 batch_size=4, divisor=None, limits=None, progress=None):
    """:func:`predict_tiled`'s map of a whole image or volume, a band of rows (planes) at a time.

    Yields ``(rows, band)``: a slice along the first axis and the map there, as soon as no
    later tile reaches those rows. The bands, in order, are exactly the whole map, bit for bit
    (the same tiles, in the same network calls, summed in the same order); only one row of
    tiles (one tile deep) is in memory, whatever the image size. A band is a view of that
    memory, valid until the next band is asked for (store or copy it first: a volume's band
    of planes is gigabytes).
    Arguments as :func:`predict_tiled` (``image`` may be any array that slices).
    """
    tiling, region, jobs = _prepare(image, predict_fn, tile_size, halo, channels,
                                    normalization, batch_size, divisor, False, None, None, None,
                                    limits)
    starts = tiling.axes[0][0]
    n, t = tiling.shape[0], tiling.tshape[0]
    top = 0                               # the first row not handed out yet
    last = {row: max(k for k, idx in enumerate(jobs) if idx[0] == row) for row in
            {idx[0] for idx in jobs}}
    # while a row of tiles is added, the buffer starts where the rows handed out end (the
    # previous row's successor): it must reach that row's last tile, one tile deep when no
    # row is skipped
    rows = sorted(last)
    tops = [0] + [starts[r + 1] if r + 1 < len(starts) else n for r in rows[:-1]]
    depth = max(starts[r] + t - top for r, top in zip(rows, tops)) if rows else 1
    buffer = np.zeros((min(n, max(1, depth)),) + tiling.shape[1:] + (channels,), np.float32)
    for k, (done, idx, pred) in enumerate(tiling.predictions(jobs)):
        view = (slice(top, min(n, top + buffer.shape[0])),) + region[1:]
        tiling.add(buffer, view, idx, pred)
        if progress is not None and done:
            progress(done, len(jobs))
        if k == last[idx[0]]:
            # every tile of this row is in: the rows above the next row of tiles are final
            end = starts[idx[0] + 1] if idx[0] + 1 < len(starts) else n
            end = min(end, n)
            if end > top:
                yield slice(top, end), buffer[:end - top]
                # the rows above are done: a memory-mapped image's pages read for them go
                # back (a tomogram's worth would stay resident otherwise)
                release_pages(image)
                _shift_up(buffer, end - top)
                top = end
    release_pages(image)


def _shift_up(buffer, d):
    """``buffer[:-d] = buffer[d:]`` and zeros below, a plane at a time: NumPy would copy the
    overlapping source whole first (gigabytes for a band of a tomogram's planes)."""
    m = buffer.shape[0]
    for i in range(max(0, m - d)):
        buffer[i] = buffer[i + d]
    buffer[max(0, m - d):] = 0


class _Tiling:
    """What :func:`predict_tiled` and :func:`predict_rows` share: the network on the tiles of
    one layout, in batches, and each tile's blended share of the map."""

    def __init__(self, image, extra, predict_fn, axes, tshape, shape, origin, pad_mode, mode,
                 normalization, limits, channels, batch_size):
        self.__dict__.update(image=image, extra=extra, predict_fn=predict_fn, axes=axes,
                             tshape=tshape, shape=shape, origin=origin, pad_mode=pad_mode,
                             mode=mode, normalization=normalization, limits=limits,
                             channels=channels, batch_size=batch_size)

    def predictions(self, jobs):
        """``(jobs done after this batch or 0, tile index, prediction)`` in the jobs' order."""
        image, tshape, bs = self.image, self.tshape, self.batch_size
        n_in = 1 if self.extra is None else 1 + self.extra.shape[-1]
        row = None
        for b in range(0, len(jobs), bs):
            chunk = jobs[b:b + bs]
            if chunk[0][0] != row:
                # a memory-mapped input: the rows of tiles already done need not stay resident
                row = chunk[0][0]
                release_pages(image)
            tiles = np.empty((len(chunk),) + tshape + (n_in,), np.float32)
            for k, idx in enumerate(chunk):
                window = tuple(slice(ax[0][i] - o, min(ax[0][i] + t, n) - o) for ax, i, t, n, o
                               in zip(self.axes, idx, tshape, self.shape, self.origin))
                if any(w.start < 0 or w.stop > m for w, m in zip(window, image.shape)):
                    raise ValueError("image: the window does not hold every tile reaching "
                                     "region")
                tile = _pad_to(np.asarray(image[window]), tshape, self.pad_mode)
                if self.mode == "patch":
                    tile = normalize(tile, self.normalization["low"], self.normalization["high"])
                elif self.mode == "image":
                    tile = normalize(tile, limits=self.limits)
                elif self.mode == "standardize":
                    tile = standardize(tile, stats=self.limits)
                tiles[k, ..., 0] = tile
                if self.extra is not None:
                    tiles[k, ..., 1:] = _pad_to(self.extra[window], tshape, self.pad_mode)
            pred = np.asarray(self.predict_fn(tiles), np.float32)
            if pred.shape != (len(chunk),) + tshape + (self.channels,):
                raise ValueError(f"predict_fn returned shape {pred.shape}, expected "
                                 f"{(len(chunk),) + tshape + (self.channels,)}")
            for k, idx in enumerate(chunk):
                yield (min(b + bs, len(jobs)) if k == len(chunk) - 1 else 0), idx, pred[k]

    def add(self, out, region, idx, pred):
        """Add a tile's blended prediction to ``out``, the map of ``region``."""
        nd = len(self.shape)
        starts = [ax[0][i] for ax, i in zip(self.axes, idx)]
        lo = [max(a, r.start) for a, r in zip(starts, region)]
        hi = [min(a + t, n, r.stop) for a, t, n, r in zip(starts, self.tshape, self.shape, region)]
        if any(h <= a for a, h in zip(lo, hi)):
            return  # a tile wholly in the padding
        w = 1.0
        for d, ((_, weights, total), i, a, h, s0) in enumerate(zip(self.axes, idx, lo, hi,
                                                                    starts)):
            ramp = weights[i][a - s0:h - s0] / total[a:h]
            w = w * ramp.reshape((-1,) + (1,) * (nd - 1 - d))
        crop = tuple(slice(a - s0, h - s0) for a, h, s0 in zip(lo, hi, starts))
        out[tuple(slice(a - r.start, h - r.start) for a, h, r in zip(lo, hi, region))] += \
            pred[crop] * np.asarray(w)[..., None].astype(np.float32)


def normalization_limits(image, normalization):
    """The values :func:`predict_tiled` normalises every tile with: the intensities at the
    ``low`` and ``high`` percentiles (mode "image") or the mean and SD (mode "standardize"),
    of an even subsample of at most about 4 million values (exact enough; bounded memory and
    reads for a huge or memory-mapped image); None for mode "patch"."""
    mode = normalization["mode"]
    if mode == "image":
        step = sample_step(image.shape)
        return tuple(np.percentile(np.asarray(image[(slice(None, None, step),) * image.ndim]),
                                   [normalization["low"], normalization["high"]]))
    if mode == "standardize":
        return intensity_stats(image)
    return None


def region_window(shape, region, *, tile_size, halo, divisor=None):
    """The part of an image of ``shape`` that :func:`predict_tiled` reads to compute
    ``region`` of its map (the tiles reaching the region), as a tuple of slices."""
    nd = len(shape)
    tiles_max = _per_axis(tile_size, nd, "tile_size")
    halos = _per_axis(halo, nd, "halo")
    tshape = tiles_max if divisor is None else tuple(
        fit_tile(n, t, h, divisor) for n, t, h in zip(shape, tiles_max, halos))
    window = []
    for n, t, h, r in zip(shape, tshape, halos, region):
        starts = blend_weights(max(n, t), t, h)[0]
        used = [a for a in starts if a < r.stop and min(a + t, n) > r.start]
        window.append(slice(min(used), min(max(used) + t, n)))
    return tuple(window)


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
