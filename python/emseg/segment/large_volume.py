"""The vesicle pipeline (:func:`emseg.segment.segment_volume`) on a tomogram larger than
memory, with the in-memory run's result.

The tomogram is read in parts (a memory-mapped MRC, a zarr array); the probability map and
the labels live in zarr arrays the caller provides (on disk), and every step works a slab,
a chunk or one vesicle's box at a time:

- the network runs over the rescaled tomogram a row of blocks at a time
  (:func:`~emseg.segment.tiling.predict_rows`, the in-memory map bit for bit), with the
  normalisation values of the whole rescaled tomogram (from its subsample, plane by plane);
- the darkest-shell threshold is searched slab by slab (:func:`shell_threshold`);
- the segments are labelled chunk by chunk with their global statistics
  (:mod:`emseg.segment.components`), then split or grown, grown to the network's threshold
  and filtered one box at a time (:func:`adaptive_threshold`, :func:`grow_labels`);
- labels and probabilities go back to the tomogram's grid chunk by chunk (each voxel from its
  global index, :func:`~emseg.segment.scaling.rescaled_region`);
- the spheres are refined from the vesicles' boxes and drawn box by box
  (:func:`~emseg.segment.spheres.refine_spheres`).

Pure NumPy on array-likes: no file is opened here (:mod:`emseg.workflows` does that).
"""

from dataclasses import dataclass

import numpy as np

from .._validate import check_array_like
from .chunked import chunk_cores
from .large import RescaledView, _limits
from .scaling import rescale_factor, rescaled_region, rescaled_shape
from .tiling import predict_rows
from .volume import (VolumeSegmentation, _check_inputs, _drop_small, _global_threshold, _refine,
                     _vesicle_segments)

__all__ = ["segment_volume_large", "VolumePlan"]


@dataclass
class VolumePlan:
    """The shapes of a large tomogram's run: ``work_shape`` the tomogram's, ``small_shape``
    at the model's voxel size."""

    work_shape: tuple
    small_shape: tuple

    @property
    def identity(self):
        """No rescaling: the tomogram is at the model's voxel size."""
        return self.small_shape == self.work_shape


class _Float32:
    """A volume read as float32 (what the in-memory run rescales)."""

    def __init__(self, volume):
        self._volume = self.wrapped = volume
        self.shape = tuple(volume.shape)
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, key):
        return np.asarray(self._volume[key], np.float32)


class _Nonzero:
    """A region volume read as booleans."""

    def __init__(self, mask):
        self._mask = self.wrapped = mask
        self.shape = tuple(mask.shape)
        self.dtype = np.dtype(bool)

    def __getitem__(self, key):
        return np.asarray(self._mask[key]) != 0


def _store(stores, name, shape, dtype):
    """``stores(name, shape, dtype)``, checked to be what was asked for."""
    array = stores(name, shape, dtype)
    what = f"stores({name!r})"
    if tuple(getattr(array, "shape", ())) != tuple(shape):
        raise ValueError(f"{what} must have shape {tuple(shape)}, got "
                         f"{getattr(array, 'shape', None)}")
    if np.dtype(getattr(array, "dtype", None)) != np.dtype(dtype):
        raise TypeError(f"{what} must hold {np.dtype(dtype)}, got {getattr(array, 'dtype', None)}")
    return array


def segment_volume_large(volume, predict_fn, meta, *, voxel_size, stores, mask=None,
                         threshold=None, postprocess=None, batch_size=1, chunk_shape=128,
                         progress=None):
    """Segment the vesicles of a tomogram larger than memory: :func:`segment_volume`'s
    result, with the labels and probabilities in ``stores``.

    Parameters
    ----------
    volume : (Z, Y, X) array-like
        The tomogram, read in parts (a memory map, a zarr array).
    predict_fn, meta, voxel_size, threshold, postprocess, batch_size
        As :func:`emseg.segment.segment_volume`.
    stores : callable(name, shape, dtype) -> array-like
        Makes the on-disk arrays the run works in (e.g. zarr arrays in a temporary folder):
        "probability_small" and "labels_small" at the model's voxel size, and, when the
        tomogram is rescaled, "probability" and "labels" on its grid. Each must take slice
        assignment and give back what was written.
    mask : (Z, Y, X) array-like, optional
        Region (non-zero) the vesicles must lie in.
    chunk_shape : int or tuple of int, optional
        The chunks the labels are counted and rewritten in.
    progress : callable(done, total), optional
        Over the network's blocks, then over the refined vesicles.

    Returns
    -------
    VolumeSegmentation
        ``labels`` and ``probability`` are the arrays from ``stores`` on the tomogram's grid.
    """
    volume, spacing, settings, options = _check_inputs(volume, meta, voxel_size, mask, threshold,
                                                       postprocess, check_array_like)
    classes, model_px, tile, halo, divisor, norm = settings
    shape = tuple(int(n) for n in volume.shape)
    if not callable(stores):
        raise TypeError("stores must be a callable(name, shape, dtype) giving arrays")
    factor = rescale_factor(spacing, model_px)
    plan = VolumePlan(shape, rescaled_shape(shape, factor))
    # the in-memory run rescales the tomogram as float32 (unless it is left as it is)
    source = volume if plan.identity else _Float32(volume)
    small = RescaledView(source, plan)
    limits = _limits(source, plan.work_shape, plan.small_shape, norm)
    prob = _store(stores, "probability_small", plan.small_shape, np.float32)
    region = None if mask is None else _Nonzero(mask)
    for rows, band in predict_rows(small, predict_fn, tile_size=tile, halo=halo,
                                   channels=len(classes), normalization=norm,
                                   batch_size=batch_size, divisor=divisor, limits=limits,
                                   progress=progress):
        p = band[..., 0]
        if region is not None:
            part = (rows,) + tuple(slice(0, n) for n in plan.small_shape[1:])
            p = p * rescaled_region(region, plan.small_shape, part, order=0, in_shape=shape)
        prob[rows] = p
    t, table = _global_threshold(prob, small, meta, options, threshold)
    grow_to = float(meta.get("threshold", 0.5))
    labels, cut = _vesicle_segments(prob, t, grow_to, model_px, options,
                                    out=_store(stores, "labels_small", plan.small_shape,
                                               np.int32),
                                    chunk_shape=chunk_shape)
    if not plan.identity:
        full_labels = _store(stores, "labels", shape, np.int32)
        full_prob = _store(stores, "probability", shape, np.float32)
        for core in chunk_cores(shape, chunk_shape):
            full_labels[core] = rescaled_region(labels, shape, core, order=0,
                                                in_shape=plan.small_shape)
            full_prob[core] = np.clip(rescaled_region(prob, shape, core, order=1,
                                                      in_shape=plan.small_shape), 0, 1)
        labels, prob = full_labels, full_prob
        labels, cut = _drop_small(labels, cut, 1, chunk_shape=chunk_shape)
    labels, cut, spheres = _refine(volume, labels, cut, spacing, mask, options, progress,
                                   chunk_shape=chunk_shape)
    return VolumeSegmentation(labels, prob, spacing, float(t), cut, table, spheres)
