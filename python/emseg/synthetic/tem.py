"""Negative-stain TEM vesicles with exact labels."""

import numbers

import numpy as np

from .._validate import check_positive
from .base import SyntheticImage, _check_shape, _keep_largest_pieces, _range
from .noise import perlin_noise

__all__ = ["tem_vesicles"]


def tem_vesicles(shape=(512, 512), *, pixel_size=1.5, diameter_nm=(30.0, 200.0), n_vesicles=20,
                 cup_fraction=0.4, debris=30, seed=0):
    """A negative-stain TEM image of extracellular vesicles.

    Vesicles are ellipses with a dark stain rim and a lighter interior; a
    fraction are collapsed into cup shapes (a dark crescent inside); stain
    debris (small dark blobs, not labelled) and a textured grey background
    with noise complete the image.

    Parameters
    ----------
    shape : (int, int), optional
    pixel_size : float, optional
        Pixel size in nm.
    diameter_nm : (float, float), optional
        Range of vesicle diameters, nm.
    n_vesicles : int, optional
    cup_fraction : float, optional
        Fraction of cup-shaped vesicles, [0, 1].
    debris : int, optional
        Number of debris blobs.
    seed : int, optional

    Returns
    -------
    SyntheticImage
    """
    from scipy import ndimage as ndi

    rows, cols = _check_shape(shape)
    px = check_positive(pixel_size, "pixel_size")
    dlo, dhi = _range(diameter_nm, "diameter_nm")
    if not isinstance(n_vesicles, numbers.Integral) or n_vesicles < 0:
        raise ValueError(f"n_vesicles must be a non-negative integer, got {n_vesicles!r}")
    if not isinstance(debris, numbers.Integral) or debris < 0:
        raise ValueError(f"debris must be a non-negative integer, got {debris!r}")
    if not 0 <= cup_fraction <= 1:
        raise ValueError(f"cup_fraction must be in [0, 1], got {cup_fraction!r}")
    rng = np.random.default_rng(seed)
    image = 150 + 18 * perlin_noise((rows, cols), 60, octaves=3, seed=int(rng.integers(2 ** 31)))
    labels = np.zeros((rows, cols), np.int32)
    yy, xx = np.indices((rows, cols), dtype=np.float32)
    k = 0
    for _ in range(int(n_vesicles)):
        a = rng.uniform(dlo, dhi) / 2 / px
        b = a * rng.uniform(0.75, 1.0)
        cr, cc = rng.uniform(0, rows), rng.uniform(0, cols)
        theta = rng.uniform(0, np.pi)
        u = (xx - cc) * np.cos(theta) + (yy - cr) * np.sin(theta)
        v = -(xx - cc) * np.sin(theta) + (yy - cr) * np.cos(theta)
        rho = np.sqrt((u / a) ** 2 + (v / b) ** 2)
        if (labels[rho <= 1.1] > 0).any():
            continue  # vesicles lie side by side on the grid, they do not stack
        inside = rho <= 1
        k += 1
        labels[inside] = k
        rim_width = max(1.0, rng.uniform(3, 6) / px) / min(a, b)
        rim = np.exp(-((rho - 1) / rim_width) ** 2)
        image += np.where(rho <= 1.3, -70 * rim + 25 * (rho < 1), 0)
        if rng.uniform() < cup_fraction:
            off = rng.uniform(0.3, 0.5)
            crescent = inside & (np.hypot(u / a - off, v / b) > 0.8) & (rho < 0.9)
            image[crescent] -= 45
    for _ in range(int(debris)):
        r = rng.uniform(1.5, 6) / px * 2
        cr, cc = rng.uniform(0, rows), rng.uniform(0, cols)
        blob = np.hypot(yy - cr, xx - cc) < r * (1 + 0.3 * rng.standard_normal())
        image[blob] -= rng.uniform(30, 70)
    image = ndi.gaussian_filter(image, 1.0) + rng.normal(0, 8, image.shape)
    return SyntheticImage(np.clip(image, 0, 255).astype(np.uint8),
                          _keep_largest_pieces(labels, k), px)
