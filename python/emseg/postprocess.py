"""From a foreground mask to labelled instances: pure functions on arrays.

The BAM workflow splits touching particles with a distance-transform
watershed (Ruehle et al. 2021); EMSeg's classical baseline uses the same step.
"""

import numbers

import numpy as np

from ._validate import check_2d_array, check_choice

__all__ = ["distance_watershed", "remove_small_objects"]


def _non_negative(value, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def distance_watershed(mask, *, h=1.0, connectivity=4):
    """Split touching objects of a mask along the necks of its distance map.

    Every regional maximum of the Euclidean distance to the background that
    rises at least ``h`` pixels above the saddle joining it to another one
    seeds one object (extended maxima); the watershed of the inverted distance map
    from those seeds, restricted to the mask, gives the objects. A connected
    component without a seed of its own becomes one object.

    Parameters
    ----------
    mask : (M, N) ndarray of bool or int
        Foreground (non-zero) pixels.
    h : float, optional
        Minimum depth, in pixels, of the neck between two objects; larger
        values split less (default 1).
    connectivity : {4, 8}, optional
        Connectivity of the seeds and of the resulting objects.

    Returns
    -------
    labels : (M, N) ndarray of int32
        0 for background, objects numbered 1..n.

    Examples
    --------
    >>> import numpy as np
    >>> rr, cc = np.indices((30, 50))
    >>> two = (np.hypot(rr - 15, cc - 14) < 11) | (np.hypot(rr - 15, cc - 34) < 11)
    >>> int(distance_watershed(two).max())
    2
    """
    from scipy import ndimage as ndi
    from skimage.morphology import local_maxima, reconstruction
    from skimage.segmentation import watershed

    mask = check_2d_array(mask, "mask") != 0
    h = _non_negative(h, "h")
    check_choice(connectivity, (4, 8), "connectivity")
    structure = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    if not mask.any():
        return np.zeros(mask.shape, np.int32)
    dist = ndi.distance_transform_edt(mask)
    # Extended maxima: the regional maxima of the map with every dome shaved
    # by h (reconstruction of dist - h under dist). Unlike skimage's h_maxima,
    # two equal peaks joined by a shallow neck give one seed, not two.
    shaved = reconstruction(dist - h, dist, method="dilation") if h > 0 else dist
    # maxima over all 8 neighbours: with 4 only, every pixel of a diagonal
    # ridge would count as a maximum
    peaks = local_maxima(shaved, connectivity=2)
    seeds, n = ndi.label(peaks & mask, structure=np.ones((3, 3), bool))
    labels = watershed(-dist, seeds, mask=mask, connectivity=1 if connectivity == 4 else 2)
    rest, _ = ndi.label(mask & (labels == 0), structure=structure)
    labels[rest > 0] = rest[rest > 0] + n
    return labels.astype(np.int32)


def remove_small_objects(labels, min_area):
    """Set objects with fewer than ``min_area`` pixels to background.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Label image.
    min_area : float
        Minimum object area in pixels (convert a physical area with the pixel
        size before calling).

    Returns
    -------
    ndarray
        A copy of ``labels`` without the small objects (labels not renumbered).
    """
    labels = check_2d_array(labels, "labels", allow_bool=False)
    if labels.dtype.kind == "f":
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    min_area = _non_negative(min_area, "min_area")
    sizes = np.bincount(labels.ravel())
    small = sizes < min_area
    small[0] = False
    out = labels.copy()
    out[small[labels]] = 0
    return out
