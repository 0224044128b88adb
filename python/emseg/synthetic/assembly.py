"""Training masks from particle shapes (the BAM workflow, paper 004, steps 1-2 and 4).

- :func:`shape_crops`: the user's particle outlines as centred ``size x size`` crops at one
  common scale (the WGAN's training data; sizes keep their ratios).
- :func:`clean_shape`: a generated mask binarised, holes filled, opened, its largest piece.
- :func:`assemble_mask`: generated particles, each scaled by N(1, sd) clipped at 3 sd and
  rotated, placed where Perlin noise says agglomerates are, later ones on top, with exact
  counts and a bound on how much any particle is hidden.
- :func:`filter_artifacts`: drop the mask particles a generated image did not draw.

Pure NumPy/SciPy/scikit-image functions.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .._validate import check_nd_array
from .noise import perlin_noise

__all__ = ["shape_crops", "clean_shape", "assemble_mask", "AssembledMask", "filter_artifacts",
           "ARTIFACT_METHODS"]

_CROSS = ndi.generate_binary_structure(2, 1)


def shape_crops(masks, size=64, *, margin=4):
    """Centre particle masks in ``size x size`` crops at one common scale.

    Parameters
    ----------
    masks : sequence of 2D arrays
        One particle per mask (non-zero), each in its own box or a whole image.
    size : int, optional
    margin : int, optional
        Free pixels kept around the largest particle.

    Returns
    -------
    crops : (N, size, size) ndarray of bool
    scale : float
        Crop pixels per image pixel (the largest particle's longer side fills
        ``size - 2 * margin``); generated masks are divided by it to come back to the images'
        pixel size.
    """
    from skimage.transform import rescale as sk_rescale

    if not (isinstance(size, numbers.Integral) and size >= 16):
        raise ValueError(f"size must be an integer >= 16, got {size!r}")
    if not (isinstance(margin, numbers.Integral) and 0 <= margin < size // 4):
        raise ValueError(f"margin must be an integer in [0, size / 4), got {margin!r}")
    boxes = []
    for k, m in enumerate(masks):
        m = check_nd_array(m, f"masks[{k}]", ndims=(2,)) > 0
        found = ndi.find_objects(m.astype(np.int8))
        if not found or found[0] is None or m.sum() < 4:
            raise ValueError(f"masks[{k}] holds no particle (fewer than 4 pixels)")
        boxes.append(m[found[0]])
    if not boxes:
        raise ValueError("masks is empty: give at least one particle outline")
    longest = max(max(b.shape) for b in boxes)
    scale = (size - 2 * margin) / longest
    crops = np.zeros((len(boxes), size, size), bool)
    for k, b in enumerate(boxes):
        r = sk_rescale(b.astype(np.float32), scale, order=1, anti_aliasing=scale < 1) > 0.5
        r = r[:size, :size]
        r0, c0 = (size - r.shape[0]) // 2, (size - r.shape[1]) // 2
        crops[k, r0:r0 + r.shape[0], c0:c0 + r.shape[1]] = r
    return crops, float(scale)


def clean_shape(mask, *, drop_border=False):
    """A generated particle mask made a single solid particle: binarised (> 0), holes
    filled, opened (3x3 cross), its largest 4-connected piece; None when nothing is left, or
    with ``drop_border`` when the particle touches the crop's border (the training crops of
    :func:`shape_crops` keep a margin, so such a mask is not a particle the GAN learnt)."""
    m = ndi.binary_fill_holes(np.asarray(mask) > 0)
    m = _largest(ndi.binary_opening(m, _CROSS))
    if m is not None and drop_border and (m[0].any() or m[-1].any() or m[:, 0].any()
                                          or m[:, -1].any()):
        return None
    return m


@dataclass
class AssembledMask:
    """Result of :func:`assemble_mask`.

    Attributes
    ----------
    labels : (M, N) ndarray of int32
        Particles 1..n (the visible part of each); where two touch, the one below loses the
        pixels next to the one on top, so the 4-connected pieces of ``labels > 0`` are the
        particles, as in manual BAM masks.
    visible_fraction : (n + 1,) ndarray
        Each particle's visible area over its whole area (index = label).
    requested : int
        The number of particles asked for (``labels.max()`` is less only when no place was
        left for the rest).
    """

    labels: np.ndarray
    visible_fraction: np.ndarray
    requested: int


def _largest(mask):
    lab, n = ndi.label(mask, _CROSS)
    if n == 0:
        return None
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def _placed(shape, rng, scale, size_sd, rotate):
    """One particle as it goes into the mask: resized by N(1, sd) / scale, rotated, its
    largest 4-connected piece in its own box (None when nothing is left)."""
    from skimage.transform import rescale as sk_rescale, rotate as sk_rotate

    factor = float(np.clip(rng.normal(1.0, size_sd), 1 - 3 * size_sd, 1 + 3 * size_sd)) / scale
    m = shape.astype(np.float32)
    if rotate:
        m = sk_rotate(m, float(rng.uniform(0, 360)), resize=True, order=1)
    m = _largest(sk_rescale(m, factor, order=1, anti_aliasing=factor < 1) > 0.5)
    if m is None:
        return None
    return m[ndi.find_objects(m.astype(np.int8))[0]]


def check_assembly_options(*, size_sd, noise_threshold, max_overlap):
    """Raise ValueError naming the first of :func:`assemble_mask`'s options out of range."""
    if not 0 <= max_overlap < 1:
        raise ValueError(f"max_overlap must be in [0, 1), got {max_overlap!r}")
    if not 0 <= noise_threshold < 1:
        raise ValueError(f"noise_threshold must be in [0, 1), got {noise_threshold!r}")
    if not 0 <= size_sd < 1 / 3:
        raise ValueError(f"size_sd must be in [0, 1/3), got {size_sd!r}")


def assemble_mask(shapes, shape, n_particles, *, scale=1.0, size_sd=0.1, noise_scale=None,
                  noise_threshold=0.5, max_overlap=0.5, rotate=True, tries=50, seed=0):
    """Assemble particle shapes into an instance mask with agglomerates.

    Parameters
    ----------
    shapes : sequence of 2D bool arrays
        Particle shapes (e.g. the WGAN's, cleaned with :func:`clean_shape`), drawn in turn.
    shape : (int, int)
        Rows, columns of the mask.
    n_particles : int
    scale : float, optional
        The shapes' pixels per mask pixel (:func:`shape_crops`' scale).
    size_sd : float, optional
        Each particle is resized by N(1, size_sd), clipped at 3 sd (paper: 0.1).
    noise_scale : float, optional
        Perlin noise cell size in pixels (default a quarter of the mask's width, the paper's
        frequency); centres are drawn where the noise, in [0, 1], exceeds ``noise_threshold``.
    noise_threshold : float, optional
        0.5 as the paper; 0 places particles anywhere.
    max_overlap : float, optional
        The largest fraction of any particle that may be hidden by later ones (and by the
        separating line): 0.5 for SEM agglomerates, 0.05 for TEM-like samples.
    rotate : bool, optional
        Rotate each particle by a random angle.
    tries : int, optional
        Positions tried per particle before it is given up.
    seed : int, optional

    Returns
    -------
    AssembledMask
    """
    rows, cols = (int(v) for v in shape)
    if rows < 16 or cols < 16:
        raise ValueError(f"shape must be at least 16 x 16, got {shape}")
    if not (isinstance(n_particles, numbers.Integral) and n_particles >= 1):
        raise ValueError(f"n_particles must be a positive integer, got {n_particles!r}")
    check_assembly_options(size_sd=size_sd, noise_threshold=noise_threshold,
                           max_overlap=max_overlap)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    shapes = [np.asarray(s, bool) for s in shapes]
    shapes = [s for s in shapes if s.sum() >= 4]
    if not shapes:
        raise ValueError("shapes holds no particle of at least 4 pixels")
    rng = np.random.default_rng(seed)
    cell = noise_scale if noise_scale is not None else cols / 4
    field = (perlin_noise((rows, cols), cell, octaves=2, seed=int(rng.integers(2 ** 31))) + 1) / 2
    allowed = np.flatnonzero(field.ravel() > noise_threshold)
    if allowed.size == 0:
        allowed = np.arange(rows * cols)
    labels = np.zeros((rows, cols), np.int32)
    whole, boxes = [0], [None]          # every particle's whole area and box
    for i in range(int(n_particles)):
        part = _placed(shapes[i % len(shapes)], rng, scale, size_sd, rotate)
        if part is None:
            continue
        for _ in range(int(tries)):
            centre = np.unravel_index(allowed[int(rng.integers(allowed.size))], (rows, cols))
            r0, c0 = centre[0] - part.shape[0] // 2, centre[1] - part.shape[1] // 2
            if _try_place(labels, part, r0, c0, len(whole), whole, boxes, max_overlap):
                whole.append(int(part.sum()))
                boxes.append((slice(r0, r0 + part.shape[0]), slice(c0, c0 + part.shape[1])))
                break
    n = len(whole) - 1
    visible = np.bincount(labels.ravel(), minlength=n + 1).astype(float)
    fraction = np.zeros(n + 1)
    fraction[1:] = visible[1:] / np.maximum(np.asarray(whole[1:], float), 1)
    return AssembledMask(labels, fraction, int(n_particles))


def _try_place(labels, part, r0, c0, k, whole, boxes, max_overlap):
    """Put particle ``k`` on top at (r0, c0) if it lies inside the mask and every particle it
    covers keeps more than ``1 - max_overlap`` of itself, in one 4-connected piece."""
    rows, cols = labels.shape
    h, w = part.shape
    if r0 < 0 or c0 < 0 or r0 + h > rows or c0 + w > cols:
        return False
    # the particle plus a 1-pixel line around it: the separation from those below
    g0, g1 = max(0, r0 - 1), min(rows, r0 + h + 1)
    h0, h1 = max(0, c0 - 1), min(cols, c0 + w + 1)
    grown = np.zeros((g1 - g0, h1 - h0), bool)
    grown[r0 - g0:r0 - g0 + h, c0 - h0:c0 - h0 + w] = part
    grown = ndi.binary_dilation(grown, _CROSS)
    window = labels[g0:g1, h0:h1]
    for q in np.unique(window[grown & (window > 0)]):
        qb = boxes[q]
        left = labels[qb] == q
        # the covered pixels, in q's box coordinates
        a0, a1 = max(qb[0].start, g0), min(qb[0].stop, g1)
        b0, b1 = max(qb[1].start, h0), min(qb[1].stop, h1)
        left[a0 - qb[0].start:a1 - qb[0].start, b0 - qb[1].start:b1 - qb[1].start] &= \
            ~grown[a0 - g0:a1 - g0, b0 - h0:b1 - h0]
        if left.sum() <= (1 - max_overlap) * whole[q] or ndi.label(left, _CROSS)[1] != 1:
            return False
    window[grown & (window > 0)] = 0
    labels[r0:r0 + h, c0:c0 + w][part] = k
    return True


#: Threshold methods of :func:`filter_artifacts`.
ARTIFACT_METHODS = ("li", "otsu", "mean", "median")


def filter_artifacts(image, labels, *, method="li", dark_background=True):
    """Drop the mask particles a generated image did not draw.

    A CycleGAN image made from a mask leaves some particles out; their pixels look like
    background. The image's threshold (Li's by default, as the paper) separates particle
    from background grey levels; a particle whose mean grey level is on the background's
    side is dropped.

    Parameters
    ----------
    image : (M, N) ndarray
    labels : (M, N) ndarray of int
        Particles (0 = background).
    method : {"li", "otsu", "mean", "median"}, optional
    dark_background : bool, optional
        Background darker than particles (SEM); False for bright backgrounds (TEM).

    Returns
    -------
    kept : (M, N) ndarray of int32
        ``labels`` without the dropped particles, renumbered 1..m in their order.
    threshold : float
    dropped : (k,) ndarray of int
        The input labels dropped.
    """
    from skimage.filters import threshold_li, threshold_otsu

    image = check_nd_array(image, "image", ndims=(2,), allow_bool=False)
    labels = np.asarray(labels)
    if labels.shape != image.shape:
        raise ValueError(f"labels shape {labels.shape} differs from the image's {image.shape}")
    if labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise TypeError("labels must be non-negative integers")
    if method not in ARTIFACT_METHODS:
        raise ValueError(f"method must be one of {', '.join(ARTIFACT_METHODS)}, got {method!r}")
    img = image.astype(np.float64)
    threshold = float({"li": threshold_li, "otsu": threshold_otsu, "mean": np.mean,
                       "median": np.median}[method](img))
    n = int(labels.max()) if labels.size else 0
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    sums = np.bincount(labels.ravel(), weights=img.ravel(), minlength=n + 1)
    present = np.flatnonzero(counts[1:]) + 1
    means = sums[present] / counts[present]
    ok = means > threshold if dark_background else means < threshold
    lut = np.zeros(n + 1, np.int32)
    lut[present[ok]] = np.arange(1, int(ok.sum()) + 1)
    return lut[labels], threshold, present[~ok]
