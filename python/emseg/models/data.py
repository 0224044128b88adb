"""Training data: patches, per-class targets, validation split, augmentation.

Pure NumPy/SciPy functions on arrays (no TensorFlow, no files); rescaling
and normalisation are the inference code's own (:mod:`emseg.segment.scaling`),
so training and prediction see the same pixels.
"""

import numbers

import numpy as np

from .._validate import check_label_array
from ..segment.tiling import patch_starts

__all__ = ["extract_patches", "targets", "augment", "augment_volume", "split_validation"]


def extract_patches(image, size, overlap=0, *, ndim=2):
    """Overlapping patches of side ``size`` covering an image or volume (padded by
    reflection where it is smaller than a patch).

    Parameters
    ----------
    image : ndarray
        ``ndim`` spatial axes first, then any channel axes.
    size, overlap : int
    ndim : {2, 3}, optional
        Spatial axes: 2 for images, 3 for volumes.

    Returns
    -------
    (K, size, size, ...) or (K, size, size, size, ...) ndarray
    """
    import itertools

    image = np.asarray(image)
    if ndim not in (2, 3) or image.ndim < ndim:
        raise ValueError(f"image must have at least ndim={ndim} axes, got shape {image.shape}")
    pad = [(0, max(0, size - n)) for n in image.shape[:ndim]]
    if any(p[1] for p in pad):
        mode = "reflect" if min(image.shape[:ndim]) > 1 else "edge"
        image = np.pad(image, pad + [(0, 0)] * (image.ndim - ndim), mode=mode)
    starts = [patch_starts(n, size, overlap) for n in image.shape[:ndim]]
    out = [image[tuple(slice(s, s + size) for s in corner)]
           for corner in itertools.product(*starts)]
    return np.stack(out)


def targets(mask, classes, *, semantic=False):
    """Per-class training targets from a mask.

    Parameters
    ----------
    mask : (M, N) or (P, M, N) ndarray of int or bool
        Binary mask, instance labels or multi-class mask (values 1..K).
    classes : list of str
        The model's classes. One class: foreground = ``mask > 0``.
        ``["particle", "boundary"]``: the mask is read as instance labels and
        ``boundary`` marks object pixels next to another object or to the
        background (2 pixels wide), where touching objects must be cut.
        Otherwise class ``i`` is ``mask == i + 1``.
    semantic : bool, optional
        A semantic model's mask: every pixel's value is its class index ``i``
        (``classes[i]``); the targets are one-hot.

    Returns
    -------
    (..., len(classes)) ndarray of float32
    """
    from skimage.segmentation import find_boundaries

    mask = check_label_array(mask, "mask")
    if not classes:
        raise ValueError("classes must not be empty")
    if semantic:
        if mask.max() >= len(classes):
            raise ValueError(f"mask holds class value {int(mask.max())}, but there are "
                             f"{len(classes)} classes (values 0..{len(classes) - 1})")
        return np.eye(len(classes), dtype=np.float32)[mask.astype(np.intp)]
    if len(classes) == 1:
        return (mask > 0).astype(np.float32)[..., None]
    if "boundary" in classes:
        out = np.zeros(mask.shape + (len(classes),), np.float32)
        fg = mask > 0
        edge = find_boundaries(mask.astype(np.int64), mode="inner", connectivity=1) & fg
        # touching contacts: dilate one more pixel into the objects so a cut is 2+ px wide
        from scipy import ndimage as ndi
        contact = find_boundaries(mask.astype(np.int64), mode="inner", connectivity=2) & fg
        edge |= ndi.binary_dilation(contact & ~_next_to_background(fg)) & fg
        for i, name in enumerate(classes):
            out[..., i] = edge if name == "boundary" else fg
        return out
    return np.stack([(mask == i + 1) for i in range(len(classes))], -1).astype(np.float32)


def _next_to_background(fg):
    from scipy import ndimage as ndi
    return ndi.binary_dilation(~fg, structure=np.ones((3,) * fg.ndim, bool))


def split_validation(n, fraction=0.1, *, seed=0):
    """Indices (train, validation) of ``n`` samples, ``fraction`` kept aside
    (at least one when ``n >= 2``), chosen at random with ``seed``."""
    if not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(fraction * n))
    if fraction > 0 and n >= 2:
        k = max(k, 1)
    return np.sort(order[k:]), np.sort(order[:k])


def augment(image, target, rng, *, rotation=15.0, elastic=0.5, intensity=0.15, noise=0.03,
            intensity_channels=None):
    """A randomly transformed copy of one (image, target) training pair.

    Flips and 90-degree rotations always; with probability 1/2 each: a small
    rotation (up to ``rotation`` degrees), an elastic distortion (``elastic``
    x 8 pixels displacement, smooth), a brightness/contrast/gamma change
    (``intensity``) and Gaussian noise (``noise`` SD). Geometric changes
    move the target with nearest-neighbour sampling.

    Parameters
    ----------
    image : (M, N) or (M, N, C) ndarray of float32, values in [0, 1]
    target : (M, N, K) ndarray of float32
        A 4D target, ``(P, M, N, K)``, is a volume's: see :func:`augment_volume`.
    rng : numpy.random.Generator
    intensity_channels : int, optional
        Only the first this many image channels get the intensity change and
        noise (a classifier's instance channel is not an intensity); default all.

    Returns
    -------
    image, target : ndarrays of the same shapes
    """
    from scipy import ndimage as ndi

    image = np.asarray(image, np.float32)
    target = np.asarray(target, np.float32)
    if target.ndim == 4:
        return augment_volume(image, target, rng, intensity=intensity, noise=noise)
    if image.shape[:2] != target.shape[:2]:
        raise ValueError(f"image {image.shape} and target {target.shape} differ in size")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    squeeze = image.ndim == 2
    if squeeze:
        image = image[..., None]
    k = int(rng.integers(4))
    image, target = np.rot90(image, k), np.rot90(target, k)
    if rng.random() < 0.5:
        image, target = image[:, ::-1], target[:, ::-1]
    rows, cols = image.shape[:2]
    coords = None
    if rotation and rng.random() < 0.5:
        a = np.deg2rad(rng.uniform(-rotation, rotation))
        rr, cc = np.indices((rows, cols), dtype=np.float32)
        r0, c0 = (rows - 1) / 2, (cols - 1) / 2
        coords = np.stack([r0 + (rr - r0) * np.cos(a) - (cc - c0) * np.sin(a),
                           c0 + (rr - r0) * np.sin(a) + (cc - c0) * np.cos(a)])
    if elastic and rng.random() < 0.5:
        if coords is None:
            coords = np.indices((rows, cols), dtype=np.float32)
        for axis in range(2):
            field = ndi.gaussian_filter(rng.standard_normal((rows, cols)).astype(np.float32), 8)
            field *= elastic * 8 / (field.std() + 1e-6)
            coords[axis] += field
    if coords is not None:
        image = np.stack([ndi.map_coordinates(image[..., c], coords, order=1, mode="reflect")
                          for c in range(image.shape[-1])], -1)
        target = np.stack([ndi.map_coordinates(target[..., c], coords, order=0, mode="reflect")
                           for c in range(target.shape[-1])], -1)
    c = image.shape[-1] if intensity_channels is None else int(intensity_channels)
    grey = _intensity_change(image[..., :c], rng, intensity, noise)
    image = np.concatenate([grey, image[..., c:]], -1) if c < image.shape[-1] else grey
    image = np.ascontiguousarray(image, np.float32)
    return (image[..., 0] if squeeze else image), np.ascontiguousarray(target, np.float32)


def augment_volume(image, target, rng, *, intensity=0.15, noise=0.03):
    """A randomly transformed copy of one (volume, target) training pair.

    The transformations keep a tomogram's physics: flips along every axis,
    90-degree rotations and transposition in the (y, x) plane only (the
    missing wedge and the coarser z resolution point along z, so z is never
    swapped with y or x), and with probability 1/2 each a
    brightness/contrast/gamma change (``intensity``) and Gaussian noise
    (``noise`` SD).

    Parameters
    ----------
    image : (P, M, N) or (P, M, N, C) ndarray of float32, values in [0, 1]
    target : (P, M, N, K) ndarray of float32
    rng : numpy.random.Generator

    Returns
    -------
    image, target : ndarrays of the same shapes
    """
    image = np.asarray(image, np.float32)
    target = np.asarray(target, np.float32)
    if target.ndim != 4 or image.shape[:3] != target.shape[:3] or image.ndim not in (3, 4):
        raise ValueError(f"image {image.shape} and target {target.shape} must be a volume "
                         "(P, M, N[, C]) and its (P, M, N, K) target")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    squeeze = image.ndim == 3
    if squeeze:
        image = image[..., None]
    for axis in range(3):
        if rng.random() < 0.5:
            image, target = np.flip(image, axis), np.flip(target, axis)
    k = int(rng.integers(4))
    image, target = np.rot90(image, k, axes=(1, 2)), np.rot90(target, k, axes=(1, 2))
    if image.shape[1] == image.shape[2] and rng.random() < 0.5:
        image, target = image.transpose(0, 2, 1, 3), target.transpose(0, 2, 1, 3)
    image = np.ascontiguousarray(_intensity_change(image, rng, intensity, noise), np.float32)
    return (image[..., 0] if squeeze else image), np.ascontiguousarray(target, np.float32)


def _intensity_change(grey, rng, intensity, noise):
    """With probability 1/2 each: a gamma/contrast/brightness change, Gaussian noise."""
    if intensity and rng.random() < 0.5:
        gamma = np.exp(rng.uniform(-intensity, intensity) * 2)
        grey = np.clip(grey, 0, 1) ** gamma
        grey = grey * (1 + rng.uniform(-intensity, intensity)) + rng.uniform(-intensity, intensity)
    if noise and rng.random() < 0.5:
        grey = grey + rng.normal(0, rng.uniform(0, noise), grey.shape).astype(np.float32)
    return grey
