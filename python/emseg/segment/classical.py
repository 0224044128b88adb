"""Classical segmentation baseline: Gaussian smoothing, Otsu, distance watershed.

The reference every learned model must beat on the real-data benchmark, and a
usable segmenter for clean images of well-separated, bright (or dark)
particles. Parameters are physical (nm) so they carry over between
magnifications.
"""

import math

import numpy as np

from .._validate import check_2d_array, check_positive, check_square_pixel_size
from .postprocess import distance_watershed, remove_small_objects

__all__ = ["segment_classical", "vesicles_classical", "tem_vesicles_classical"]


def segment_classical(image, pixel_size, *, sigma_nm=10.0, neck_nm=7.5, min_area_nm2=math.pi * 15 ** 2,
                      bright=True, threshold=None):
    """Segment particles by smoothing, Otsu thresholding and a distance watershed.

    Parameters
    ----------
    image : (M, N) ndarray
        Grey-level micrograph (crop away the microscope's data bar first).
    pixel_size : float or (float, float)
        Pixel size in nm (width, height); the two must be about equal.
    sigma_nm : float, optional
        Standard deviation of the Gaussian smoothing, in nm (0 = none).
    neck_nm : float, optional
        Minimum depth of the neck between two touching particles, in nm
        (the ``h`` of :func:`emseg.segment.postprocess.distance_watershed`).
    min_area_nm2 : float, optional
        Objects smaller than this area (nm^2) are dropped (default pi * 15^2,
        the FRU-Net paper's minimum).
    bright : bool, optional
        True when particles are brighter than the background (SEM secondary
        electrons), False for dark particles (bright-field TEM).
    threshold : float, optional
        Fixed threshold on the score map (0..1) instead of Otsu's.

    Returns
    -------
    labels : (M, N) ndarray of int32
        Particles numbered 1..n.
    score : (M, N) ndarray of float32
        The smoothed image rescaled to [0, 1], particles high: a foreground
        score map for ROC/Youden analysis.
    threshold : float
        The threshold applied to ``score``.
    """
    from scipy import ndimage as ndi
    from skimage.filters import threshold_otsu

    image = check_2d_array(image, "image", allow_bool=False)
    pw, ph = check_square_pixel_size(pixel_size, why="for this method")
    sigma = check_positive(sigma_nm, "sigma_nm", allow_zero=True) / pw
    h = check_positive(neck_nm, "neck_nm", allow_zero=True) / pw
    min_area = check_positive(min_area_nm2, "min_area_nm2", allow_zero=True) / (pw * ph)
    if threshold is not None:
        threshold = check_positive(threshold, "threshold", allow_zero=True)
        if threshold > 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")

    smooth = ndi.gaussian_filter(image.astype(np.float32), sigma) if sigma > 0 else image.astype(np.float32)
    if not bright:
        smooth = -smooth
    lo, hi = float(smooth.min()), float(smooth.max())
    score = (smooth - lo) / (hi - lo) if hi > lo else np.zeros_like(smooth)
    if threshold is None:
        threshold = float(threshold_otsu(score)) if hi > lo else 1.0
    mask = ndi.binary_fill_holes(score > threshold)
    labels = distance_watershed(mask, h=h, connectivity=4)
    labels = remove_small_objects(labels, min_area)
    return labels, score.astype(np.float32), threshold


def tem_vesicles_classical(image, pixel_size, *, sigma_nm=3.0, background_nm=300.0,
                           neck_nm=10.0, min_area_nm2=math.pi * 15 ** 2, min_solidity=0.9):
    """Extracellular vesicles in negative-stain TEM without a network, either contrast.

    What TEM ExosomeAnalyzer-like tools do with intensity alone: vesicles differ from the
    stain around them (lighter bodies, or dark pooled-stain cups inside a light rim), so the
    smoothed image's absolute deviation from its slowly varying background, in units of the
    background's spread, is thresholded (Otsu), holes are filled, touching vesicles are
    split by a distance watershed, and objects that are too small or not convex enough (stain
    precipitate, irregular protein aggregates) are dropped.

    Parameters
    ----------
    image : (M, N) ndarray
        Grey-level micrograph (any bit depth).
    pixel_size : float or (float, float)
        nm per pixel (square pixels).
    sigma_nm : float, optional
        Gaussian smoothing against shot noise.
    background_nm : float, optional
        Scale of the background (stain thickness, illumination): larger than any vesicle.
    neck_nm : float, optional
        Minimum neck depth between touching vesicles.
    min_area_nm2 : float, optional
        Smaller objects are dropped (FRU-Net's pi * 15^2).
    min_solidity : float, optional
        Objects less convex than this (area over convex hull area) are dropped.

    Returns
    -------
    labels : (M, N) ndarray of int32
    """
    from scipy import ndimage as ndi
    from skimage.filters import threshold_otsu
    from skimage.measure import regionprops

    image = check_2d_array(image, "image", allow_bool=False)
    pw, ph = check_square_pixel_size(pixel_size, why="for this method")
    sigma = check_positive(sigma_nm, "sigma_nm") / pw
    big = check_positive(background_nm, "background_nm") / pw
    h = check_positive(neck_nm, "neck_nm", allow_zero=True) / pw
    min_area = check_positive(min_area_nm2, "min_area_nm2", allow_zero=True) / (pw * ph)
    if not 0 <= min_solidity <= 1:
        raise ValueError(f"min_solidity must be in [0, 1], got {min_solidity!r}")
    img = image.astype(np.float32)
    smooth = ndi.gaussian_filter(img, sigma)
    background = ndi.gaussian_filter(ndi.median_filter(img[::4, ::4], size=5),
                                     big / 4)
    background = ndi.zoom(background, np.asarray(img.shape) / np.asarray(background.shape),
                          order=1)[: img.shape[0], : img.shape[1]]
    deviation = smooth - background
    spread = 1.4826 * np.median(np.abs(deviation - np.median(deviation))) or 1.0
    score = np.abs(deviation) / spread
    if score.max() <= score.min():
        return np.zeros(img.shape, np.int32)
    mask = ndi.binary_fill_holes(score > threshold_otsu(score))
    mask = ndi.binary_opening(mask, iterations=max(1, int(round(2.0 / pw))))
    labels = distance_watershed(mask, h=h, connectivity=4)
    labels = remove_small_objects(labels, min_area)
    keep = [r.label for r in regionprops(labels) if r.solidity >= min_solidity]
    lut = np.zeros(int(labels.max()) + 1, np.int32)
    lut[keep] = np.arange(1, len(keep) + 1)
    return lut[labels]


def vesicles_classical(volume, voxel_size, *, diameter_nm=(20.0, 80.0), membrane_nm=5.0,
                       dark_fraction=0.15):
    """Segment vesicles in a tomogram without a network: closed dark rings, filled.

    Membranes are dark in cryo-ET: the darkest ``dark_fraction`` of the smoothed voxels are
    taken as membrane, every (y, x) plane's enclosed holes are filled (a vesicle's cross
    section is a closed ring; planes, not 3D, because the missing wedge opens the shells at
    their poles), an opening by the membrane thickness removes open membranes and noise,
    and a distance watershed separates touching vesicles. Segments whose equivalent diameter
    is outside ``diameter_nm`` or whose extent (volume / bounding box) is not ball-like
    (0.25-0.75) are dropped.

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    diameter_nm : (float, float), optional
        Range of vesicle diameters kept.
    membrane_nm : float, optional
        Membrane thickness (smoothing and opening scale).
    dark_fraction : float, optional
        Fraction of voxels taken as membrane.

    Returns
    -------
    (Z, Y, X) ndarray of int32
        Vesicles numbered 1..n.
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import watershed

    from .._validate import check_nd_array, check_spacing

    volume = check_nd_array(volume, "volume", ndims=(3,), allow_bool=False)
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    lo, hi = (float(v) for v in diameter_nm)
    if not 0 < lo < hi:
        raise ValueError(f"diameter_nm must be (low, high) with 0 < low < high, got {diameter_nm!r}")
    check_positive(membrane_nm, "membrane_nm")
    if not 0 < dark_fraction < 1:
        raise ValueError(f"dark_fraction must be in (0, 1), got {dark_fraction!r}")
    smooth = ndi.gaussian_filter(np.asarray(volume, np.float32), membrane_nm / 4 / spacing)
    dark = smooth < np.percentile(smooth, 100 * dark_fraction)
    filled = np.stack([ndi.binary_fill_holes(plane) for plane in dark])
    r = np.maximum(1, np.rint(membrane_nm / 2 / spacing).astype(int))
    ball = np.ones(tuple(2 * r + 1), bool)
    zz, yy, xx = np.ogrid[tuple(slice(-k, k + 1) for k in r)]
    ball &= (zz / r[0]) ** 2 + (yy / r[1]) ** 2 + (xx / r[2]) ** 2 <= 1
    mask = ndi.binary_opening(filled, structure=ball)
    distance = ndi.distance_transform_edt(mask, sampling=spacing)
    # one marker per vesicle: maxima of the distance at least a smallest radius apart
    size = np.maximum(3, np.rint(lo / 2 / spacing).astype(int) | 1)
    peaks = (distance == ndi.maximum_filter(distance, size=tuple(size))) & (distance >= lo / 4)
    markers, _ = ndi.label(peaks)
    labels = watershed(-distance, markers, mask=mask)
    counts = np.bincount(labels.ravel())
    boxes = ndi.find_objects(labels)
    keep = np.zeros(len(counts), bool)
    voxel = float(np.prod(spacing))
    for i, box in enumerate(boxes, start=1):
        if box is None:
            continue
        d = (6 * counts[i] * voxel / np.pi) ** (1 / 3)
        extent = counts[i] / np.prod([s.stop - s.start for s in box])
        keep[i] = lo <= d <= hi and 0.25 <= extent <= 0.75
    lut = np.zeros(len(counts), np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1)
    return lut[labels]
