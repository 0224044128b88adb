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

__all__ = ["segment_classical"]


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
