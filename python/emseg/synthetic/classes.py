"""Multi-class scenes with exact class labels: membrane-bound organelles on cytoplasm."""

import numbers

import numpy as np

__all__ = ["organelle_classes", "ORGANELLE_CLASSES"]

#: The classes of :func:`organelle_classes`, by class index.
ORGANELLE_CLASSES = ("background", "membrane", "organelle")


def organelle_classes(shape=(128, 128), *, n=6, radius=(6, 11), membrane=3, noise=0.05, seed=0):
    """Round organelles (bright) inside dark membranes on a mid-grey background.

    A small semantic-segmentation scene whose classes are told apart by grey value and
    shape, for tests and smoke runs of multi-class training.

    Parameters
    ----------
    shape : (int, int)
    n : int, optional
        Organelles (they may overlap).
    radius : (int, int), optional
        Outer radius range in pixels (membrane included).
    membrane : int, optional
        Membrane width in pixels.
    noise : float, optional
        SD of the Gaussian noise on the [0, 1] image.
    seed : int, optional

    Returns
    -------
    image : (M, N) ndarray of float32 in about [0, 1]
    classes : (M, N) ndarray of uint8
        Class indices into :data:`ORGANELLE_CLASSES`.
    """
    from skimage.draw import disk

    if len(shape) != 2 or min(shape) < 2 * radius[1] + 2:
        raise ValueError(f"shape must be 2D and at least {2 * radius[1] + 2} pixels, got {shape}")
    if not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not 0 < membrane < radius[0] <= radius[1]:
        raise ValueError(f"need 0 < membrane < radius[0] <= radius[1], got {membrane}, {radius}")
    rng = np.random.default_rng(seed)
    classes = np.zeros(shape, np.uint8)
    lo = radius[1] + 1
    for _ in range(n):
        r, c = rng.integers(lo, shape[0] - lo), rng.integers(lo, shape[1] - lo)
        rad = int(rng.integers(radius[0], radius[1] + 1))
        classes[disk((r, c), rad, shape=shape)] = 1
        classes[disk((r, c), rad - membrane, shape=shape)] = 2
    image = np.choose(classes, [0.5, 0.1, 0.8]).astype(np.float32)
    image += rng.normal(0, noise, shape).astype(np.float32)
    return image, classes
