"""Synthetic label images and micrographs with known content (pure NumPy).

Used for the bundled example, the tests and the benchmarks.
"""

import numpy as np

__all__ = ["particle_labels", "render_micrograph"]


def particle_labels(shape, n_particles, *, radius=(6.0, 14.0), seed=0, lobes=0.15):
    """Random, partly touching, non-convex particles as a label image.

    Particles are ellipses whose radius is modulated by low-order harmonics
    (``lobes`` sets their relative amplitude), placed at random; a particle
    only fills pixels still free, so later particles are partly hidden by
    earlier ones and touch them, as in agglomerates. Labels are 1..n in
    placement order; particles hidden entirely are dropped and the rest
    renumbered consecutively.

    Parameters
    ----------
    shape : (int, int)
        Rows, columns.
    n_particles : int
        Number of particles to place.
    radius : (float, float), optional
        Range of the semi-axes, in pixels.
    seed : int, optional
        Seed of the random generator.
    lobes : float, optional
        Amplitude of the harmonic outline modulation (0 gives ellipses).

    Returns
    -------
    labels : ndarray of uint16 or uint32
    """
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (rows, columns) with positive sizes, got {shape}")
    if int(n_particles) < 0:
        raise ValueError(f"n_particles must be >= 0, got {n_particles}")
    lo, hi = (float(r) for r in radius)
    if not 0 < lo <= hi:
        raise ValueError(f"radius must be (low, high) with 0 < low <= high, got {radius}")
    if not 0 <= lobes < 1:
        raise ValueError(f"lobes must be in [0, 1), got {lobes}")
    rng = np.random.default_rng(seed)
    rows, cols = int(shape[0]), int(shape[1])
    dtype = np.uint16 if n_particles < 65535 else np.uint32
    labels = np.zeros((rows, cols), dtype)
    reach = int(np.ceil(hi * (1 + lobes))) + 1
    for k in range(1, int(n_particles) + 1):
        cr, cc = rng.uniform(0, rows), rng.uniform(0, cols)
        a, b = rng.uniform(lo, hi, 2)
        theta = rng.uniform(0, np.pi)
        amps = rng.uniform(-lobes, lobes, 3)
        phases = rng.uniform(0, 2 * np.pi, 3)
        r0, r1 = max(int(cr) - reach, 0), min(int(cr) + reach + 1, rows)
        c0, c1 = max(int(cc) - reach, 0), min(int(cc) + reach + 1, cols)
        if r0 >= r1 or c0 >= c1:
            continue
        rr, cc_ = np.mgrid[r0:r1, c0:c1]
        dy, dx = rr + 0.5 - cr, cc_ + 0.5 - cc
        u = dx * np.cos(theta) + dy * np.sin(theta)
        v = -dx * np.sin(theta) + dy * np.cos(theta)
        phi = np.arctan2(v, u)
        scale = 1 + sum(amps[i] * np.cos((i + 2) * phi + phases[i]) for i in range(3))
        inside = (u / a) ** 2 + (v / b) ** 2 <= scale ** 2
        window = labels[r0:r1, c0:c1]
        window[inside & (window == 0)] = k
    # Occlusion can cut a particle in pieces: keep each label's largest piece.
    from skimage.measure import label as sk_label
    pieces = sk_label(labels, connectivity=2, background=0)
    sizes = np.bincount(pieces.ravel())
    owner = np.zeros(sizes.size, np.int64)
    owner[pieces.ravel()] = labels.ravel()
    best = np.zeros(int(n_particles) + 1, np.int64)
    order = np.argsort(sizes[1:], kind="stable") + 1  # ascending: the largest wins
    best[owner[order]] = order
    keep = best[owner] == np.arange(sizes.size)
    labels[~keep[pieces]] = 0
    # Renumber consecutively (fully hidden particles vanish).
    present = np.unique(labels[labels > 0])
    lut = np.zeros(int(n_particles) + 1, dtype)
    lut[present] = np.arange(1, present.size + 1, dtype=dtype)
    return lut[labels]


def render_micrograph(labels, *, seed=0, noise=8.0):
    """An SEM-like 8-bit image of ``labels``: bright particles with brighter
    rims on a dark background, plus Gaussian noise."""
    from scipy import ndimage

    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be 2D, got shape {labels.shape}")
    rng = np.random.default_rng(seed)
    fg = labels > 0
    edges = fg & (ndimage.grey_erosion(labels, size=3) != ndimage.grey_dilation(labels, size=3))
    img = np.where(fg, 140.0, 50.0) + 60.0 * edges
    img = ndimage.gaussian_filter(img, 1.0) + rng.normal(0, noise, labels.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
