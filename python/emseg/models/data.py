"""Training data: patches, per-class targets, validation split, augmentation.

Pure NumPy/SciPy functions on arrays (no TensorFlow, no files); rescaling
and normalisation are the inference code's own (:mod:`emseg.segment.scaling`),
so training and prediction see the same pixels.
"""

import numbers

import numpy as np

from .._validate import check_labels
from ..segment.tiling import patch_starts

__all__ = ["extract_patches", "targets", "augment", "split_validation"]


def extract_patches(image, size, overlap=0):
    """Overlapping ``size x size`` patches covering the image (padded by reflection
    when smaller than a patch).

    Returns
    -------
    (K, size, size, ...) ndarray
    """
    image = np.asarray(image)
    pad = [(0, max(0, size - image.shape[0])), (0, max(0, size - image.shape[1]))]
    if any(p[1] for p in pad):
        image = np.pad(image, pad + [(0, 0)] * (image.ndim - 2), mode="reflect" if min(image.shape[:2]) > 1 else "edge")
    out = [image[r:r + size, c:c + size]
           for r in patch_starts(image.shape[0], size, overlap)
           for c in patch_starts(image.shape[1], size, overlap)]
    return np.stack(out)


def targets(mask, classes):
    """Per-class training targets from a mask.

    Parameters
    ----------
    mask : (M, N) ndarray of int or bool
        Binary mask, instance labels or multi-class mask (values 1..K).
    classes : list of str
        The model's classes. One class: foreground = ``mask > 0``.
        ``["particle", "boundary"]``: the mask is read as instance labels and
        ``boundary`` marks object pixels next to another object or to the
        background (2 pixels wide), where touching objects must be cut.
        Otherwise class ``i`` is ``mask == i + 1``.

    Returns
    -------
    (M, N, len(classes)) ndarray of float32
    """
    from skimage.segmentation import find_boundaries

    mask = check_labels(mask, "mask")
    if not classes:
        raise ValueError("classes must not be empty")
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
    return ndi.binary_dilation(~fg, structure=np.ones((3, 3), bool))


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
    grey = image[..., :c]
    if intensity and rng.random() < 0.5:
        gamma = np.exp(rng.uniform(-intensity, intensity) * 2)
        grey = np.clip(grey, 0, 1) ** gamma
        grey = grey * (1 + rng.uniform(-intensity, intensity)) + rng.uniform(-intensity, intensity)
    if noise and rng.random() < 0.5:
        grey = grey + rng.normal(0, rng.uniform(0, noise), grey.shape).astype(np.float32)
    image = np.concatenate([grey, image[..., c:]], -1) if c < image.shape[-1] else grey
    image = np.ascontiguousarray(image, np.float32)
    return (image[..., 0] if squeeze else image), np.ascontiguousarray(target, np.float32)
