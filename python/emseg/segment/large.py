"""The segmentation pipeline (:func:`emseg.segment.segment`) on an image larger than memory,
chunk by chunk, with the whole-image run's result.

:func:`plan_large` reads what every chunk shares from the whole image once (the data bar,
the normalisation values, the shapes). :func:`predict_map` runs the network over the whole
image a row of tiles at a time (each tile once, exactly the whole-image run's map, handed
out in bands for the caller to store); :func:`segment_chunk` then post-processes one chunk of
that map and keeps the objects whose first pixel it holds (:mod:`emseg.segment.chunked`).
The image is any array that slices (a memory-mapped or zarr-backed TIFF, an OME-Zarr level,
a Dask array). Every step computes a region exactly as the whole-image run computes it
there: rescaling (:func:`~emseg.segment.scaling.rescaled_region`), tiled prediction and
post-processing (local to each cluster of touching objects, which must fit in the margin).
Pure NumPy: the caller reads the image and writes the results (:mod:`emseg.workflows.large`).
"""

from dataclasses import dataclass

import numpy as np

from .._memory import release_pages
from .._validate import check_square_pixel_size
from .chunked import ChunkResult, chunk_block, owned_pieces, paint_pieces
from .databar import detect_databar
from .pipeline import _settings
from .postprocess import postprocess as run_chain
from .scaling import (intensity_stats, rescale_factor, rescaled_region, rescaled_shape,
                      sample_step, source_indices)
from .tiling import predict_rows

__all__ = ["LargePlan", "plan_large", "predict_map", "segment_chunk", "RescaledView"]


@dataclass
class LargePlan:
    """What every chunk of one image shares (from :func:`plan_large`).

    Attributes
    ----------
    image_shape : (int, int)
    work_shape : (int, int)
        The rows above the data bar.
    small_shape : (int, int)
        ``work_shape`` at the model's pixel size.
    pixel_size : (float, float)
    databar_row : int or None
    limits : tuple or None
        The normalisation values of the whole rescaled image.
    settings : dict
        The model's settings (``_settings``: classes, tiles, threshold, post-processing).
    """

    image_shape: tuple
    work_shape: tuple
    small_shape: tuple
    pixel_size: tuple
    databar_row: object
    limits: object
    settings: dict

    @property
    def identity(self):
        """No rescaling: the image is at the model's pixel size."""
        return self.small_shape == self.work_shape


def plan_large(image, meta, *, pixel_size, keep_databar=False, threshold=None,
               postprocess=None):
    """Read what the chunks of ``image`` share: the data bar (from the bottom rows), the
    shapes, and the normalisation values of the whole rescaled image (from an even
    subsample, read row by row).

    Parameters
    ----------
    image : (M, N) array-like
        Anything that slices like NumPy; read in parts only.
    meta : dict
        The model's ``model.yaml``.
    pixel_size : float or (float, float)
        nm per pixel (square pixels).
    keep_databar, threshold, postprocess
        As :func:`emseg.segment.segment`.

    Returns
    -------
    LargePlan
    """
    if len(getattr(image, "shape", ())) != 2:
        raise ValueError(f"image must be 2D (rows, columns), got shape "
                         f"{getattr(image, 'shape', None)}")
    pw, ph = check_square_pixel_size(pixel_size)
    s = _settings(meta, threshold, postprocess)
    rows, cols = (int(n) for n in image.shape)
    bar = None
    if not keep_databar:
        # the bar is looked for in the bottom 35 % only: read just those rows
        top = max(0, int(rows * 0.65) - 2)
        bar = detect_databar(np.asarray(image[top:]), height=rows)
    work_shape = (rows if bar is None else bar, cols)
    small_shape = rescaled_shape(work_shape, rescale_factor(pw, s["model_px"]))
    limits = _limits(image, work_shape, small_shape, s["norm"])
    return LargePlan((rows, cols), work_shape, small_shape, (pw, ph), bar, limits, s)


def _limits(image, work_shape, small_shape, norm):
    """:func:`normalization_limits` of the whole rescaled image or volume, computed from the
    rows (planes) of its subsample alone (each rescaled row exactly as the whole rescale
    gives it)."""
    if norm["mode"] == "patch":
        return None
    step = sample_step(small_shape)
    rest = (slice(None, None, step),) * (len(small_shape) - 1)
    wanted = list(range(0, small_shape[0], step))
    rows = []
    band = max(1, int(2 ** 22 // max(1, int(np.prod(small_shape[1:])))))   # rows per read
    for a in range(0, len(wanted), max(1, band // step)):
        group = wanted[a:a + max(1, band // step)]
        if tuple(small_shape) == tuple(work_shape):
            block = np.asarray(image[group[0]:group[-1] + 1])
            rows.append(block[(slice(None, None, step),) + rest].copy())
            release_pages(image)     # a memory-mapped tomogram: the sampled planes are done
            continue
        # the source rows these rescaled rows read, once; then each row from memory
        i0, _, _ = source_indices(work_shape[0], small_shape[0], group[0], group[0] + 1, 1)
        _, i1, _ = source_indices(work_shape[0], small_shape[0], group[-1], group[-1] + 1, 1)
        lo, hi = int(i0[0]), int(i1[-1]) + 1
        block = np.asarray(image[lo:hi])
        for r in group:
            region = (slice(r, r + 1),) + tuple(slice(0, n) for n in small_shape[1:])
            row = rescaled_region(block, small_shape, region, order=1, in_shape=work_shape,
                                  origin=(lo,) + (0,) * (len(small_shape) - 1))
            rows.append(row[(slice(None),) + rest])
        del block
        release_pages(image)
    sample = np.concatenate(rows)
    # the subsample whole-image prediction takes (normalization_limits), row by row
    if norm["mode"] == "image":
        return tuple(np.percentile(sample, [norm["low"], norm["high"]]))
    return intensity_stats(sample, max_samples=np.inf)


def _small_region(plan, block):
    """The part of the rescaled image that the block's labels and probabilities come from."""
    out = []
    for r, n_in, n_out in zip(block, plan.small_shape, plan.work_shape):
        if plan.identity:
            out.append(r)
            continue
        i0, i1, _ = source_indices(n_in, n_out, r.start, r.stop, 1)
        n0, _, _ = source_indices(n_in, n_out, r.start, r.stop, 0)
        out.append(slice(int(min(i0.min(), n0.min())), int(max(i1.max(), n0.max())) + 1))
    return tuple(out)


class RescaledView:
    """The image (or volume) at the model's pixel size, computed where it is sliced (each
    pixel exactly as the whole-image rescale gives it): what :func:`predict_map` tiles.
    ``plan`` needs ``small_shape``, ``work_shape`` and ``identity``."""

    def __init__(self, image, plan):
        self._image, self._plan = image, plan
        self.wrapped = image            # for release_pages
        self.shape = tuple(plan.small_shape)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))
        self.dtype = np.dtype(image.dtype)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        if not (len(key) == self.ndim and
                all(isinstance(k, slice) and k.step in (None, 1) for k in key)):
            raise TypeError("RescaledView: slice it with contiguous slices")
        region = tuple(slice(*k.indices(n)[:2]) for k, n in zip(key, self.shape))
        if any(r.stop <= r.start for r in region):
            return np.zeros(tuple(max(0, r.stop - r.start) for r in region), self.dtype)
        if self._plan.identity:
            return np.asarray(self._image[region])
        return rescaled_region(self._image, self.shape, region, order=1,
                               in_shape=self._plan.work_shape)


def predict_map(image, predict_fn, plan, write, *, batch_size=4, progress=None):
    """The network's map of the whole image at the model's pixel size, handed to
    ``write(rows, band)`` a band of rows at a time: exactly the whole-image run's map (the
    same tiles, batches, normalisation and sums), each tile predicted once, two rows of tiles
    in memory.

    Parameters
    ----------
    image : (M, N) array-like
    predict_fn : callable
    plan : LargePlan
    write : callable(slice, ndarray)
        Stores rows ``rows`` of the map (``(rows, small columns, classes)`` float32).
    """
    s = plan.settings
    # the view covers the rows above the data bar only, as the whole-image run's rescale
    for rows, band in predict_rows(RescaledView(image, plan), predict_fn, tile_size=s["tile"], halo=s["halo"],
                                   channels=len(s["classes"]), normalization=s["norm"],
                                   batch_size=batch_size, divisor=s["divisor"],
                                   limits=plan.limits, progress=progress):
        write(rows, band)


def segment_chunk(image, maps, meta, plan, core, *, margin, measure=True):
    """Post-process one chunk of a large image's map and keep the objects whose first pixel
    it holds.

    Parameters
    ----------
    image : (M, N) array-like
        The whole image (read in parts only): the intensities of the measurements.
    maps : array-like
        The whole map at the model's pixel size (:func:`predict_map`'s bands, in a zarr
        array or any array that slices): ``plan.small_shape + (classes,)``.
    meta : dict
        The model's ``model.yaml``.
    plan : LargePlan
        :func:`plan_large` of ``image``.
    core : tuple of slices
        The chunk, within ``plan.work_shape`` (:func:`emseg.segment.chunked.chunk_cores`).
    margin : int
        Context on each side, in the image's pixels: larger than the largest cluster of
        touching objects.
    measure : bool, optional
        Measure the kept objects (ImageJ's columns, positions in the whole image).

    Returns
    -------
    (ChunkResult, ndarray of float32)
        The kept objects (and their table) and the foreground probability of the core.
    """
    s = plan.settings
    block = chunk_block(core, plan.work_shape, margin)
    small = _small_region(plan, block)
    prob_maps = np.asarray(maps[small + (slice(None),)], np.float32)
    origin = [r.start for r in small]

    def back(labels):
        return rescaled_region(labels, plan.work_shape, block, order=0,
                               in_shape=plan.small_shape, origin=origin)
    boundary = (prob_maps[..., s["classes"].index("boundary")] if "boundary" in s["classes"]
                else None)
    edges = tuple((r.start == 0, r.stop == n) for r, n in zip(small, plan.small_shape))
    labels = run_chain(prob_maps[..., 0], s["model_px"], s["options"],
                       threshold=s["threshold"], boundary=boundary, resize=back, edges=edges)
    prob = np.clip(rescaled_region(prob_maps[..., 0], plan.work_shape, core, order=1,
                                   in_shape=plan.small_shape, origin=origin), 0, 1)
    pieces = owned_pieces(labels, block, core, plan.work_shape)
    table = None
    if measure:
        from ..measure import measure as measure_labels

        kept = paint_pieces(pieces, np.arange(1, len(pieces) + 1), block)
        table = measure_labels(kept, np.asarray(image[block]), pixel_size=plan.pixel_size,
                               origin=[b.start for b in block], image_shape=plan.image_shape)
    return ChunkResult(core, pieces, table), prob.astype(np.float32)
