"""The volume pipeline: synaptic vesicles in a tomogram, from voxels to instances.

Rescale to the network's voxel size, predict in blended 3D blocks, restrict to an optional
region, threshold where the mask's shell is darkest (CryoVesNet's rule on a logit grid),
adaptive local thresholds that split merged vesicles and grow partial ones, growth of the
found vesicles to the network's voxel-wise threshold, CryoVesNet's shape filter, and back to
the tomogram's grid. Pure NumPy/SciPy: the network comes in as a callable
(:class:`emseg.models.saved.SavedModelPredictor` for exported models).
"""

from dataclasses import dataclass

import numpy as np

from .._validate import check_nd_array, check_spacing
from .scaling import rescale, rescale_factor
from .tiling import predict_tiled
from .vesicles import (adaptive_threshold, grow_labels, label_counts, logit_thresholds, relabel,
                       shell_threshold)

__all__ = ["VolumeSegmentation", "segment_volume", "volume_model_settings"]


@dataclass
class VolumeSegmentation:
    """Result of :func:`segment_volume`.

    Attributes
    ----------
    labels : (Z, Y, X) ndarray of int32
        Vesicles numbered 1..n on the tomogram's grid.
    probability : (Z, Y, X) ndarray of float32
        The network's vesicle probability on the tomogram's grid (0 outside the region).
    voxel_size : (float, float, float)
        The tomogram's voxel size (z, y, x) in nm.
    threshold : float
        The global threshold (the darkest shell's, or the fixed one).
    thresholds : (n + 1,) ndarray of float
        The local threshold each vesicle was cut at (index = label; 0 unused).
    shell_table : (K, 3) ndarray or None
        The shell search: every candidate threshold, its shell mean and voxel count.
    spheres : Spheres or None
        The refined spheres (:mod:`emseg.segment.spheres`) when the refinement ran; then
        ``labels`` holds them and ``thresholds`` follows their order. (The segments before
        it are not kept, to bound memory: ``postprocess={"refine": False}`` gives them, and
        :func:`emseg.segment.refine_spheres` refines them.)
    """

    labels: np.ndarray
    probability: np.ndarray
    voxel_size: tuple
    threshold: float
    thresholds: np.ndarray
    shell_table: object
    spheres: object = None


def volume_model_settings(meta):
    """Check that ``meta`` (a ``model.yaml`` mapping) describes a volume segmentation
    model and return (classes, voxel size nm, block, halo, divisor, normalisation,
    post-processing settings)."""
    from ..models.config import check_vesicle_options, is_volume_model

    if not isinstance(meta, dict):
        raise TypeError("meta must be the model's model.yaml mapping")
    if meta.get("task", "segmentation") != "segmentation":
        raise ValueError(f"model {meta.get('name')!r} is a {meta.get('task')} model, "
                         "not a segmentation model")
    try:
        axes = str(meta["input"]["axes"]).lower()
        classes = list(meta["output"]["classes"])
        model_px = float(meta["pixel_size_nm"])
        tile, halo = int(meta["tile_size"]), int(meta["halo"])
        divisor = int(meta.get("input", {}).get("divisor", tile))
        norm = dict(meta["normalization"])
        options = dict(meta.get("postprocess") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"model metadata incomplete or invalid ({exc})") from None
    if not is_volume_model(meta):
        raise ValueError(f"model {meta.get('name')!r} segments 2D images (axes {axes}), "
                         "not volumes")
    return classes, model_px, tile, halo, divisor, norm, check_vesicle_options(options)


def segment_volume(volume, predict_fn, meta, *, voxel_size, mask=None, threshold=None,
                   postprocess=None, batch_size=1, progress=None):
    """Segment the vesicles of a tomogram with a 3D model.

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
        The tomogram (dense matter dark, as reconstructed); a memory map is read block by block.
    predict_fn : callable
        The network on batches of blocks (see :func:`~emseg.segment.tiling.predict_tiled`).
    meta : dict
        The model's ``model.yaml``: voxel size, block size and halo, normalisation, threshold
        and the "vesicles" post-processing settings.
    voxel_size : float or (float, float, float)
        The tomogram's voxel size in nm, (z, y, x).
    mask : (Z, Y, X) ndarray, optional
        Region (non-zero) the vesicles must lie in, e.g. the cytoplasm: the probability is
        set to 0 outside it before thresholding.
    threshold : float, optional
        A fixed global threshold instead of the model's rule.
    postprocess : dict, optional
        Overrides of the model's "vesicles" settings (see
        :data:`emseg.models.VESICLE_DEFAULTS`; ``{"refine": False}`` skips the sphere
        refinement).
    batch_size : int, optional
        Blocks per network call.
    progress : callable, optional
        ``progress(done, total)`` over the blocks, then over the refined vesicles.

    Returns
    -------
    VolumeSegmentation
    """
    volume, spacing, settings, options = _check_inputs(volume, meta, voxel_size, mask, threshold,
                                                       postprocess, check_nd_array)
    classes, model_px, tile, halo, divisor, norm = settings
    if mask is not None:
        mask = np.asarray(mask)
    factor = rescale_factor(spacing, model_px)
    small = rescale(volume if all(abs(f - 1) < 1e-3 for f in factor)
                    else np.asarray(volume, np.float32), factor, order=1)
    prob = predict_tiled(small, predict_fn, tile_size=tile, halo=halo, channels=len(classes),
                         normalization=norm, batch_size=batch_size, progress=progress,
                         divisor=divisor)[..., 0]
    if mask is not None:
        prob *= rescale(mask != 0, shape=small.shape, order=0)
    t, table = _global_threshold(prob, small, meta, options, threshold)
    # the network's voxel-wise threshold (tuned on validation patches) bounds any growth
    grow_to = float(meta.get("threshold", 0.5))
    del small
    labels, cut = _vesicle_segments(prob, t, grow_to, model_px, options)
    if labels.shape != volume.shape:
        labels = rescale(labels, shape=volume.shape, order=0)
        labels, cut = _drop_small(labels, cut, 1)
        prob = np.clip(rescale(prob, shape=volume.shape, order=1), 0, 1)
    labels = labels.astype(np.int32, copy=False)
    labels, cut, spheres = _refine(volume, labels, cut, spacing, mask, options, progress)
    return VolumeSegmentation(labels, prob.astype(np.float32, copy=False), spacing, float(t), cut,
                              table, spheres)


def _check_inputs(volume, meta, voxel_size, mask, threshold, postprocess, check_array):
    """What :func:`segment_volume` and the in-parts run check before anything runs: the
    volume (through ``check_array``), the voxel size, the model's settings with the
    overrides, the mask's shape and the threshold."""
    from ..models.config import check_vesicle_options

    volume = check_array(volume, "volume", ndims=(3,), allow_bool=False)
    shape = tuple(int(n) for n in volume.shape)
    if min(shape) < 2:
        raise ValueError(f"volume must have at least 2 voxels along every axis, got shape "
                         f"{shape}")
    spacing = check_spacing(voxel_size, 3, "voxel_size")
    *settings, options = volume_model_settings(meta)
    options = check_vesicle_options({**options, **(postprocess or {})})
    if mask is not None and tuple(mask.shape) != shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} differs from the volume's {shape}")
    if threshold is not None and not 0 < float(threshold) < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    return volume, spacing, tuple(settings), options


def _global_threshold(prob, volume, meta, options, threshold):
    """The global threshold (the fixed one, or the darkest shell's in ``volume``) and the
    shell search's table (None for a fixed threshold)."""
    if threshold is not None or options["threshold_rule"] == "fixed":
        return float(meta.get("threshold", 0.5) if threshold is None else threshold), None
    candidates = logit_thresholds(options["shell_low"], options["shell_high"],
                                  options["shell_steps"])
    try:
        return shell_threshold(prob, volume, thresholds=candidates, erosion=options["erosion"],
                               min_voxels=options["min_voxels"])
    except ValueError:          # nothing above the lowest candidate: no vesicles
        return float(candidates[0]), None


def _vesicle_segments(prob, t, grow_to, model_px, options, *, out=None, chunk_shape=None):
    """The segments of the map at the global threshold ``t``: adaptive local thresholds, the
    small ones dropped, growth to the network's threshold ``grow_to`` and CryoVesNet's shape
    filter; ``(labels, thresholds)``. With ``out`` and ``chunk_shape`` every step works on
    arrays larger than memory (``prob`` a zarr array, the labels written into ``out``)."""
    lazy = {} if out is None else {"out": out, "chunk_shape": chunk_shape}
    labels, cut = adaptive_threshold(prob, t, z_split=options["z_split"],
                                     max_extent=options["max_extent"], z_grow=options["z_grow"],
                                     min_extent=options["min_extent"],
                                     steps=options["adaptive_steps"],
                                     min_voxels=options["min_voxels"], floor=grow_to,
                                     max_cluster=options["max_cluster"], **lazy)
    chunks = {} if out is None else {"chunk_shape": chunk_shape}
    labels, cut = _drop_small(labels, cut, options["min_voxels"], **chunks)
    if options["grow"] and 0 < grow_to < t:
        # the darkest shell is the membrane's centre: grow the found vesicles to the
        # network's voxel-wise threshold (tuned on validation patches) for their full extent
        grow_labels(prob, labels, grow_to,
                    margin=max(1, int(round(options["grow_nm"] / model_px))), **chunks)
    return _keep_vesicle_shapes(labels, cut, model_px, options, **chunks)


def _refine(volume, labels, cut, spacing, mask, options, progress, **chunks):
    """The sphere refinement when the settings ask for it: ``(labels, thresholds, spheres)``,
    the thresholds following the spheres' order (``chunks``: ``chunk_shape`` for labels
    larger than memory)."""
    if not options["refine"]:
        return labels, cut, None
    from ..models.config import refine_keywords
    from .spheres import refine_spheres

    labels, spheres = refine_spheres(volume, labels, voxel_size=spacing, mask=mask,
                                     **refine_keywords(options), overwrite_labels=True,
                                     progress=progress, **chunks)
    return labels, np.concatenate([[np.nan], np.asarray(cut, float)[spheres.source]]), spheres


def _keep_vesicle_shapes(labels, thresholds, voxel_nm, options, *, chunk_shape=None):
    """CryoVesNet's final filter: drop segments smaller than a ball of ``min_diameter_nm``
    or whose extent is outside [keep_min_extent, keep_max_extent] (not ball-like: membrane
    sheets, fragments of organelles), and renumber. ``labels`` is an ndarray, or (with
    ``chunk_shape``) an int32 array-like read and rewritten chunk by chunk."""
    from scipy import ndimage as ndi

    if chunk_shape is None:
        counts, boxes = label_counts(labels), ndi.find_objects(labels)
    else:
        from .components import label_stats

        counts, boxes = label_stats(labels, len(thresholds) - 1, chunk_shape=chunk_shape)
    min_voxels = np.pi / 6 * options["min_diameter_nm"] ** 3 / voxel_nm ** 3
    keep = np.zeros(len(counts), bool)
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        extent = counts[k] / np.prod([s.stop - s.start for s in box])
        keep[k] = counts[k] >= min_voxels and \
            options["keep_min_extent"] <= extent <= options["keep_max_extent"]
    counts[~keep] = 0
    return _drop_small(labels, thresholds, 1, counts=counts, chunk_shape=chunk_shape)


def _drop_small(labels, thresholds, min_voxels, counts=None, *, chunk_shape=None):
    """Remove segments below ``min_voxels`` (or with ``counts`` 0) and renumber 1..n,
    keeping each one's threshold (chunk by chunk with ``chunk_shape``, as above)."""
    if counts is None:
        if chunk_shape is None:
            counts = label_counts(labels)
        else:
            from .components import label_stats

            counts, _ = label_stats(labels, len(thresholds) - 1, chunk_shape=chunk_shape)
    keep = np.flatnonzero(counts >= min_voxels)
    keep = keep[keep > 0]
    lut = np.zeros(len(counts), np.int32)
    lut[keep] = np.arange(1, len(keep) + 1)
    thresholds = np.asarray(thresholds, float)
    if chunk_shape is None:
        labels = relabel(labels.astype(np.int32, copy=False), lut)
    else:
        from .components import relabel_chunks

        labels = relabel_chunks(labels, lut, chunk_shape=chunk_shape)
    return labels, np.concatenate([[np.nan], thresholds[keep]])
