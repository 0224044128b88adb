"""Synthetic label images and micrographs with known content (pure NumPy).

Used for the bundled example, the tests, the benchmarks and, above all, as
training data that can be shipped: :func:`sem_agglomerates` draws SEM-like
agglomerated non-spherical particles and :func:`tem_vesicles` negatively
stained vesicles, each with exact instance labels and a pixel size (the BAM
workflow trains its segmentation network on such simulated images only).
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import check_positive

__all__ = ["particle_labels", "render_micrograph", "perlin_noise", "SyntheticImage",
           "sem_agglomerates", "tem_vesicles", "FITNESS_CLASSES", "ClassifierExample",
           "segmentation_errors", "sem_classifier_example"]


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


@dataclass(frozen=True)
class SyntheticImage:
    """A synthetic micrograph with its exact answer.

    Attributes
    ----------
    image : (M, N) ndarray of uint8
    labels : (M, N) ndarray of int32
        Visible part of every object, numbered 1..n.
    pixel_size : float
        Pixel size in nm.
    visible_fraction : (n + 1,) ndarray of float, optional
        Visible part of every object's whole area (index = label, 0 unused):
        below 1 when other objects hide part of it or the image border cuts
        it (:func:`sem_agglomerates` only).
    cut_by_border : (n + 1,) ndarray of bool, optional
        Objects that extend beyond the image.
    """

    image: np.ndarray
    labels: np.ndarray
    pixel_size: float
    visible_fraction: np.ndarray = None
    cut_by_border: np.ndarray = None


def _check_shape(shape):
    if len(shape) != 2 or not all(isinstance(s, numbers.Integral) and s >= 8 for s in shape):
        raise ValueError(f"shape must be (rows, columns) of integers >= 8, got {shape}")
    return int(shape[0]), int(shape[1])


def _range(value, name):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (low, high), got {value!r}") from None
    if not 0 < lo <= hi:
        raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {value!r}")
    return lo, hi


def perlin_noise(shape, scale, *, octaves=1, seed=0):
    """Perlin gradient noise, about in [-1, 1].

    Parameters
    ----------
    shape : (int, int)
        Rows, columns.
    scale : float
        Size of the coarsest lattice cell, in pixels.
    octaves : int, optional
        Number of octaves, each at half the cell size and half the amplitude.
    seed : int, optional

    Returns
    -------
    (M, N) ndarray of float32
    """
    rows, cols = (int(s) for s in shape)
    if rows < 1 or cols < 1:
        raise ValueError(f"shape must be positive, got {shape}")
    scale = check_positive(scale, "scale")
    if not isinstance(octaves, numbers.Integral) or octaves < 1:
        raise ValueError(f"octaves must be a positive integer, got {octaves!r}")
    rng = np.random.default_rng(seed)
    out = np.zeros((rows, cols), np.float64)
    amp, total = 1.0, 0.0
    for _ in range(int(octaves)):
        cell = max(scale, 1.0)
        y = np.arange(rows) / cell
        x = np.arange(cols) / cell
        ny, nx = int(y[-1]) + 2, int(x[-1]) + 2
        angles = rng.uniform(0, 2 * np.pi, (ny, nx))
        gy, gx = np.sin(angles), np.cos(angles)
        y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
        fy, fx = (y - y0)[:, None], (x - x0)[None, :]
        Y0, X0 = y0[:, None], x0[None, :]

        def dot(dy, dx):
            return gy[Y0 + dy, X0 + dx] * (fy - dy) + gx[Y0 + dy, X0 + dx] * (fx - dx)

        def fade(t):
            return t * t * t * (t * (t * 6 - 15) + 10)

        uy, ux = fade(fy), fade(fx)
        top = dot(0, 0) + ux * (dot(0, 1) - dot(0, 0))
        bottom = dot(1, 0) + ux * (dot(1, 1) - dot(1, 0))
        out += amp * (top + uy * (bottom - top)) * math.sqrt(2)
        total += amp
        amp, scale = amp / 2, scale / 2
    return (out / total).astype(np.float32)


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


def _keep_largest_pieces(labels, n, *, return_lut=False):
    """Keep each label's largest 8-connected piece; renumber 1..m (and return
    the old -> new label table with ``return_lut``)."""
    from skimage.measure import label as sk_label

    pieces = sk_label(labels, connectivity=2, background=0)
    sizes = np.bincount(pieces.ravel())
    owner = np.zeros(sizes.size, np.int64)
    owner[pieces.ravel()] = labels.ravel()
    best = np.zeros(n + 1, np.int64)
    order = np.argsort(sizes[1:], kind="stable") + 1
    best[owner[order]] = order
    keep = best[owner] == np.arange(sizes.size)
    keep[0] = True
    labels = np.where(keep[pieces], labels, 0)
    present = np.unique(labels[labels > 0])
    lut = np.zeros(n + 1, np.int32)
    lut[present] = np.arange(1, present.size + 1)
    return (lut[labels], lut) if return_lut else lut[labels]


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


#: Fitness classes of a classifier example: index + 1 is the value in
#: :attr:`ClassifierExample.classes` (0 is background).
FITNESS_CLASSES = ("keep", "occluded", "cut", "missegmented")


@dataclass(frozen=True)
class ClassifierExample:
    """Training data for the classifier filter with its exact answer.

    Attributes
    ----------
    image : (M, N) ndarray of uint8
    labels : (M, N) ndarray of int32
        Instances as a segmentation gave them (with deliberate errors).
    classes : (M, N) ndarray of uint8
        Per pixel of every instance, its fitness class: 1 + the index in
        :data:`FITNESS_CLASSES` (1 keep, 2 occluded, 3 cut by the border,
        4 merged or split by the segmentation); 0 background.
    pixel_size : float
    """

    image: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    pixel_size: float

    @property
    def keep(self):
        """Binary keep mask: pixels of the instances fit for statistics."""
        return self.classes == 1


def _touching_pairs(labels):
    """Distinct (a, b) label pairs, a < b, that touch 4-connected."""
    pairs = set()
    for x, y in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        sel = (x != y) & (x > 0) & (y > 0)
        a, b = np.minimum(x[sel], y[sel]), np.maximum(x[sel], y[sel])
        pairs.update(zip(a.tolist(), b.tolist()))
    return sorted(pairs)


def segmentation_errors(labels, *, merge=0.1, split=0.08, outline=(-1, 0, 1), seed=0):
    """Corrupt an exact instance annotation the ways segmentation goes wrong.

    Touching pairs are merged into one instance (probability ``merge`` per
    pair, each instance merged at most once); other instances are cut in two
    by a straight line through their centroid (probability ``split``);
    finally every outline moves by the same number of pixels, drawn from
    ``outline`` (+1 grows into the background, -1 peels the outer pixel
    ring, which also opens 1-pixel gaps between touching instances, as
    manual 4-connected annotations have).

    Parameters
    ----------
    labels : (M, N) ndarray of int
    merge, split : float, optional
        Probabilities in [0, 1].
    outline : sequence of int, optional
        Outline shifts to draw from, pixels in [-2, 2].
    seed : int, optional

    Returns
    -------
    labels : (M, N) ndarray of int32
        Consecutive labels 1..m.
    origin : (m + 1,) ndarray of int64
        The input label each output instance comes from (the first of a
        merged pair); index 0 unused.
    wrong : (m + 1,) ndarray of bool
        Instances that were merged or split.
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import expand_labels, find_boundaries

    from ._validate import check_labels

    labels = np.asarray(check_labels(labels, "labels"), np.int64)
    for value, name in ((merge, "merge"), (split, "split")):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    shifts = [int(v) for v in outline]
    if not shifts or any(not -2 <= v <= 2 for v in shifts):
        raise ValueError(f"outline must be a non-empty sequence of integers in [-2, 2], got {outline!r}")
    rng = np.random.default_rng(seed)
    n = int(labels.max())
    target = np.arange(n + 1)                    # merged instance -> partner
    wrong = np.zeros(n + 1, bool)
    for a, b in _touching_pairs(labels):
        if not (wrong[a] or wrong[b]) and rng.random() < merge:
            target[b] = a
            wrong[a] = wrong[b] = True
    out = target[labels]
    origin = list(range(n + 1))
    flags = list(wrong)
    objects = ndi.find_objects(out)
    for k, box in enumerate(objects, start=1):
        if box is None or wrong[k] or rng.random() >= split:
            continue
        inside = out[box] == k
        rr, cc = np.nonzero(inside)
        if rr.size < 40:
            continue
        angle = rng.uniform(0, np.pi)
        side = (rr - rr.mean()) * np.cos(angle) - (cc - cc.mean()) * np.sin(angle) > 0
        if not 0.25 <= side.mean() <= 0.75:
            continue
        new = len(origin)
        view = out[box]
        view[rr[side], cc[side]] = new
        origin.append(k)
        flags.append(True)
        flags[k] = True
    shift = shifts[int(rng.integers(len(shifts)))]
    if shift > 0:
        out = expand_labels(out, shift)
    for _ in range(-shift):
        out = np.where(find_boundaries(out, mode="inner", connectivity=1), 0, out)
    present = np.unique(out[out > 0])
    lut = np.zeros(len(origin), np.int64)
    lut[present] = np.arange(1, present.size + 1)
    origin = np.asarray(origin, np.int64)[present]
    return (lut[out].astype(np.int32), np.concatenate([[0], origin]),
            np.concatenate([[False], np.asarray(flags, bool)[present]]))


def sem_classifier_example(shape=(512, 512), *, pixel_size=8.0, diameter_nm=(120.0, 400.0),
                           coverage=0.3, clustering=0.7, min_visible=0.9, merge=0.1,
                           split=0.08, outline=(-1, 0, 1), seed=0):
    """A synthetic SEM image, an imperfect segmentation of it and each
    instance's fitness for size statistics, all known exactly.

    The image and the exact visible particles come from
    :func:`sem_agglomerates`; :func:`segmentation_errors` then merges, splits
    and shifts outlines. An instance is "keep" when it is one whole particle
    (at least ``min_visible`` of its area visible: isolated, or touching but
    in front), "occluded" when others hide more, "cut" when it extends
    beyond the image and "missegmented" when merged or split.

    Parameters
    ----------
    shape, pixel_size, diameter_nm, coverage, clustering :
        As :func:`sem_agglomerates`.
    min_visible : float, optional
        Visible fraction (0, 1] a whole particle needs.
    merge, split, outline :
        As :func:`segmentation_errors`.
    seed : int, optional

    Returns
    -------
    ClassifierExample
    """
    if not 0 < min_visible <= 1:
        raise ValueError(f"min_visible must be in (0, 1], got {min_visible!r}")
    rng = np.random.default_rng(seed)
    truth = sem_agglomerates(shape, pixel_size=pixel_size, diameter_nm=diameter_nm,
                             coverage=coverage, clustering=clustering,
                             seed=int(rng.integers(2 ** 31)))
    labels, origin, wrong = segmentation_errors(truth.labels, merge=merge, split=split,
                                                outline=outline, seed=int(rng.integers(2 ** 31)))
    kind = np.ones(origin.size, np.uint8)
    kind[truth.visible_fraction[origin] < min_visible] = 2
    kind[truth.cut_by_border[origin]] = 3
    kind[wrong] = 4
    kind[0] = 0
    return ClassifierExample(truth.image, labels, kind[labels], truth.pixel_size)
