"""SEM particles with exact labels: the simple scene of the bundled example
(:func:`particle_labels`, :func:`render_micrograph`) and agglomerated
non-spherical particles as secondary-electron SEM images
(:func:`sem_agglomerates`)."""

import math

import numpy as np

from .._validate import check_positive
from .base import SyntheticImage, _check_shape, _keep_largest_pieces, _range
from .noise import perlin_noise

__all__ = ["particle_labels", "render_micrograph", "sem_agglomerates"]


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
    # Occlusion can cut a particle in pieces: keep each label's largest piece,
    # renumbered consecutively (fully hidden particles vanish).
    return _keep_largest_pieces(labels, int(n_particles)).astype(dtype)


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


def _rounded_polygon(rng, radius, roundness):
    """Mask of an irregular polygon with rounded corners, centred in its box."""
    from scipy import ndimage as ndi
    from skimage.draw import polygon

    n = int(rng.integers(5, 10))
    phi = np.sort(rng.uniform(0, 2 * np.pi, n) + np.linspace(0, 2 * np.pi, n, endpoint=False)) % (2 * np.pi)
    phi.sort()
    aspect = rng.uniform(0.7, 1.0)
    theta = rng.uniform(0, np.pi)
    r = radius * rng.uniform(0.85, 1.1, n)
    u, v = r * np.cos(phi), r * np.sin(phi) * aspect
    x = u * np.cos(theta) - v * np.sin(theta)
    y = u * np.sin(theta) + v * np.cos(theta)
    half = int(np.ceil(radius * 1.3)) + 3
    box = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    rr, cc = polygon(y + half, x + half, box.shape)
    box[rr, cc] = 1
    # Rounding: blur and re-threshold (keeps the area, rounds the corners).
    box = ndi.gaussian_filter(box, roundness * radius) > 0.5
    return box, half


def sem_agglomerates(shape=(512, 512), *, pixel_size=8.0, diameter_nm=(120.0, 400.0),
                     coverage=0.3, clustering=0.7, seed=0):
    """A secondary-electron SEM image of agglomerated non-spherical particles.

    Particles are irregular polygons with rounded corners, placed where a
    Perlin-noise field is high (``clustering`` sets how strongly they gather
    in agglomerates) and stacked in depth: later particles hide earlier ones.
    Each is shaded by a brightness gradient (detector direction) and a bright
    rim (SEM edge effect) and casts a dark crevice on the particles behind;
    the background has low-frequency texture; the image is blurred by the
    probe and has shot and read noise.

    Parameters
    ----------
    shape : (int, int), optional
        Rows, columns.
    pixel_size : float, optional
        Pixel size in nm.
    diameter_nm : (float, float), optional
        Range of particle diameters, nm.
    coverage : float, optional
        Approximate fraction of the image covered by particles, in (0, 1).
    clustering : float, optional
        0 = uniform placement, 1 = particles only in agglomerates.
    seed : int, optional

    Returns
    -------
    SyntheticImage
        ``labels`` holds the visible part of every particle (4-connected,
        one piece each), as a manual annotation of the image would;
        ``visible_fraction`` and ``cut_by_border`` say which are whole.
    """
    from scipy import ndimage as ndi

    rows, cols = _check_shape(shape)
    px = check_positive(pixel_size, "pixel_size")
    dlo, dhi = _range(diameter_nm, "diameter_nm")
    coverage = float(coverage)
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1), got {coverage!r}")
    clustering = float(clustering)
    if not 0 <= clustering <= 1:
        raise ValueError(f"clustering must be in [0, 1], got {clustering!r}")
    rng = np.random.default_rng(seed)
    sub = lambda: int(rng.integers(2 ** 31))  # noqa: E731 - seeds for the helpers

    radius_px = (dlo / 2 / px, dhi / 2 / px)
    mean_area = math.pi * np.mean(radius_px) ** 2
    n = max(1, int(coverage * rows * cols / mean_area * 1.6))  # overlap hides some
    field = perlin_noise((rows, cols), 12 * radius_px[1], octaves=2, seed=sub())
    weight = np.exp(clustering * 8 * field).ravel()
    idx = rng.choice(rows * cols, size=n, p=weight / weight.sum())
    centres = np.stack(np.unravel_index(idx, (rows, cols)), 1) + rng.uniform(0, 1, (n, 2))

    labels = np.zeros((rows, cols), np.int32)
    image = np.zeros((rows, cols), np.float32)
    dark = perlin_noise((rows, cols), 40, octaves=3, seed=sub())
    background = rng.uniform(30, 55) + 10 * dark
    image[:] = background
    light = rng.uniform(0, 2 * np.pi)
    full_area = np.zeros(n + 1, np.int64)
    whole_area = np.zeros(n + 1, np.int64)
    for k in range(1, n + 1):
        radius = rng.uniform(*radius_px)
        shape_mask, half = _rounded_polygon(rng, radius, rng.uniform(0.2, 0.45))
        r0, c0 = int(centres[k - 1, 0]) - half, int(centres[k - 1, 1]) - half
        # clip the particle's box to the image
        br0, bc0 = max(0, -r0), max(0, -c0)
        br1 = min(shape_mask.shape[0], rows - r0)
        bc1 = min(shape_mask.shape[1], cols - c0)
        if br0 >= br1 or bc0 >= bc1:
            continue
        full = np.zeros((shape_mask.shape[0] + 8, shape_mask.shape[1] + 8), bool)
        full[4:-4, 4:-4] = shape_mask
        inside_d = ndi.distance_transform_edt(full)[4:-4, 4:-4]
        outside_d = ndi.distance_transform_edt(~full)[4:-4, 4:-4]
        window = (slice(r0 + br0, r0 + br1), slice(c0 + bc0, c0 + bc1))
        crop = (slice(br0, br1), slice(bc0, bc1))
        m, din, dout = shape_mask[crop], inside_d[crop], outside_d[crop]
        yy, xx = np.indices(shape_mask.shape, dtype=np.float32)
        gradient = ((xx - half) * np.cos(light) + (yy - half) * np.sin(light))[crop] / max(radius, 1)
        # body: grey level and shading vary a lot between particles (facets
        # facing away from the detector are dark), plus a faceted texture
        body = rng.uniform(65, 165) * (1 + rng.uniform(0.15, 0.5) * gradient)
        facets = rng.uniform(5, 25) * perlin_noise(m.shape, max(2.0, 0.8 * radius), seed=sub())
        rim = rng.uniform(40, 130) * np.exp(-din / max(1.0, rng.uniform(0.08, 0.2) * radius))
        texture = 6 * rng.standard_normal(m.shape) + facets
        # crevice: a dark ring around the particle darkens what lies behind
        ring = (dout > 0) & (dout < 3) & (labels[window] > 0)
        image[window][ring] *= (0.35 + 0.2 * dout[ring])
        image[window][m] = (body + rim + texture)[m]
        labels[window][m] = k
        full_area[k] = m.sum()
        whole_area[k] = shape_mask.sum()
    # Slivers of mostly hidden particles are not annotated in real data either.
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    drop = sizes < 0.25 * full_area
    drop[0] = False
    labels[drop[labels]] = 0
    labels, lut = _keep_largest_pieces(labels, n, return_lut=True)
    m = int(lut.max())
    old = np.zeros(m + 1, np.int64)
    old[lut[lut > 0]] = np.nonzero(lut > 0)[0]
    visible = np.bincount(labels.ravel(), minlength=m + 1).astype(np.float64)
    visible_fraction = np.zeros(m + 1)
    visible_fraction[1:] = visible[1:] / np.maximum(whole_area[old[1:]], 1)
    cut = np.zeros(m + 1, bool)
    cut[1:] = full_area[old[1:]] < whole_area[old[1:]]

    image = ndi.gaussian_filter(image, rng.uniform(0.6, 1.3))
    gain = rng.uniform(0.8, 1.25)
    image = rng.poisson(np.clip(image, 0, None) * gain) / gain
    image = image + rng.normal(0, rng.uniform(1, 6), image.shape)
    gamma = rng.uniform(0.8, 1.25)
    image = 255 * (np.clip(image, 0, 255) / 255) ** gamma
    return SyntheticImage(np.clip(image, 0, 255).astype(np.uint8), labels, px,
                          np.minimum(visible_fraction, 1.0), cut)


