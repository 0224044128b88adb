"""From a probability map to labelled instances: pure functions on arrays.

Two chains, each step its own function:

- BAM workflow (Ruehle et al. 2021): threshold, then a distance-transform
  watershed splits touching particles (:func:`distance_watershed`); with a
  predicted ``boundary`` class the cuts follow the predicted contacts.
- FRU-Net (Gomez-de-Mariscal et al. 2019): threshold, remove objects touching
  the border, closing with a disc of radius 2, fill holes, remove objects
  below a physical area, split clusters of round objects at dips of their
  Radon transform (:func:`radon_split`), rescale back, smooth each boundary
  with a Gaussian (sigma 3) re-thresholded at 0.4 (:func:`smooth_boundaries`).

:func:`postprocess` runs either chain from a model's settings.
"""

import math
import numbers

import numpy as np

from .._validate import check_2d_array, check_choice, check_labels, check_positive

__all__ = ["threshold_mask", "remove_border_objects", "closing", "fill_holes", "distance_watershed",
           "remove_small_objects", "radon_split", "smooth_boundaries", "postprocess"]


def distance_watershed(mask, *, h=1.0, connectivity=4, boundary=None):
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
    boundary : (M, N) ndarray of bool, optional
        Predicted contacts between touching objects: the distance map is taken
        to the background *or* a boundary pixel, so necks along predicted
        contacts get deep; the objects still fill the whole mask.

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
    h = check_positive(h, "h", allow_zero=True)
    check_choice(connectivity, (4, 8), "connectivity")
    structure = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    if not mask.any():
        return np.zeros(mask.shape, np.int32)
    if boundary is not None:
        boundary = check_2d_array(boundary, "boundary") != 0
        if boundary.shape != mask.shape:
            raise ValueError(f"boundary {boundary.shape} and mask {mask.shape} differ in shape")
        dist = ndi.distance_transform_edt(mask & ~boundary)
    else:
        dist = ndi.distance_transform_edt(mask)
    eight = np.ones((3, 3), bool)
    comps, n_comps = ndi.label(mask, structure=eight)
    # What each component needs, for all at once: its number of regional maxima of the
    # distance map (8-connected plateaus; the components are 8-connected, so a component's
    # maxima are those of the whole map within it) and of pieces at the objects' connectivity
    peaks, n_peaks = ndi.label(local_maxima(dist, connectivity=2) & mask, structure=eight)
    maxima = _count_per_component(peaks, n_peaks, comps, n_comps)
    if connectivity == 8:
        pieces = np.ones(n_comps + 1, np.int64)
    else:
        parts, n_parts = ndi.label(mask, structure=structure)
        pieces = _count_per_component(parts, n_parts, comps, n_comps)
    # one maximum (then every level set of the map is connected: one seed, whatever h) or,
    # with h = 0, one maximum as the one seed; in one piece the watershed floods it all
    simple = (maxima == 1) & (pieces == 1)
    simple[0] = False
    used = np.ones(n_comps + 1, np.int64)     # label numbers each component takes
    used[0] = 0
    done = {}
    boxes = ndi.find_objects(comps)
    for i in np.flatnonzero(~simple[1:]) + 1:
        box = boxes[i - 1]
        # One connected component at a time, in its bounding box: the watershed's queue then
        # holds this component's seeds alone, so how it breaks ties (equal distances) does not
        # depend on the rest of the image, and a chunk of a large image gets the objects the
        # whole image gets (emseg.segment.chunked).
        own = comps[box] == i
        d = np.where(own, dist[box], 0.0)
        if h > 0:
            # Extended maxima: the regional maxima of the map with every dome shaved by h
            # (reconstruction of d - h under d). Unlike skimage's h_maxima, two equal peaks
            # joined by a shallow neck give one seed, not two.
            d_seed = reconstruction(d - h, d, method="dilation")
        else:
            d_seed = d
        # maxima over all 8 neighbours: with 4 only, every pixel of a diagonal ridge would
        # count as a maximum
        seeds, k = ndi.label(local_maxima(d_seed, connectivity=2) & own, structure=eight)
        sub = (watershed(-d, seeds, mask=own, connectivity=1 if connectivity == 4 else 2)
               if k else np.zeros(own.shape, np.int32))
        # pixels no seed reaches (a component without a seed, or cut off at 4-connectivity)
        rest, r = ndi.label(own & (sub == 0), structure=structure)
        done[i] = (own, np.where(rest > 0, rest + k, sub))
        used[i] = k + r
    first = np.cumsum(used) - used              # numbers before each component's
    lut = np.where(simple, first + 1, 0).astype(np.int32)
    labels = lut[comps]
    for i, (own, sub) in done.items():
        labels[boxes[i - 1]][own] = sub[own] + first[i]
    return labels


def _count_per_component(regions, n_regions, comps, n_comps):
    """How many of the labelled ``regions`` (each inside one component) every component of
    ``comps`` holds (index = component; 0 unused)."""
    inside = regions > 0
    owner = np.zeros(n_regions + 1, np.int64)
    owner[regions[inside]] = comps[inside]      # a region's pixels all name its component
    return np.bincount(owner[1:], minlength=n_comps + 1).astype(np.int64)


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
    min_area = check_positive(min_area, "min_area", allow_zero=True)
    sizes = np.bincount(labels.ravel())
    small = sizes < min_area
    small[0] = False
    out = labels.copy()
    out[small[labels]] = 0
    return out


def threshold_mask(prob, threshold=0.5):
    """Foreground where ``prob >= threshold``."""
    prob = check_2d_array(prob, "prob", allow_bool=False)
    if not isinstance(threshold, numbers.Real) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    return prob >= threshold


def remove_border_objects(labels, edges=((True, True), (True, True))):
    """Set objects touching the image border to background (copy).

    ``edges``: per axis, whether the array's (first, last) side is the image's border (a
    chunk of a larger image has sides that are not).
    """
    labels = check_labels(labels, "labels")
    (top, bottom), (left, right) = edges
    sides = [side for side, on in ((labels[0], top), (labels[-1], bottom), (labels[:, 0], left),
                                   (labels[:, -1], right)) if on]
    edge = np.unique(np.concatenate(sides)) if sides else np.zeros(0, labels.dtype)
    out = labels.copy()
    out[np.isin(labels, edge[edge > 0])] = 0
    return out


def closing(mask, radius=2):
    """Binary closing with a disc of ``radius`` pixels (smooths contours, FRU-Net)."""
    from scipy import ndimage as ndi
    from skimage.morphology import disk

    mask = check_2d_array(mask, "mask") != 0
    if not isinstance(radius, numbers.Integral) or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    if radius == 0:
        return mask
    # pad so that objects at the border are not eroded by the outside
    pad = np.pad(mask, radius, mode="edge")
    return ndi.binary_closing(pad, disk(radius))[radius:-radius, radius:-radius]


def fill_holes(mask):
    """Fill holes (background not connected to the image border) of a mask."""
    from scipy import ndimage as ndi

    return ndi.binary_fill_holes(check_2d_array(mask, "mask") != 0)


def _split_once(obj, depth, min_area):
    """Best Radon cut of one object's mask: (line mask or None)."""
    rr, cc = np.nonzero(obj)
    r0, c0 = rr.mean(), cc.mean()
    best = None
    for theta in np.deg2rad(np.arange(0, 180, 4)):
        # Radon transform of the binary object at angle theta: number of
        # object pixels on each line of normal (sin, cos) (bins of 1 pixel)
        t = (cc - c0) * np.cos(theta) + (rr - r0) * np.sin(theta)
        b = np.floor(t - t.min()).astype(np.int64)
        proj = np.bincount(b).astype(np.float64)
        if proj.size < 5:
            continue
        proj = np.convolve(proj, np.ones(3) / 3, mode="same")
        left = np.maximum.accumulate(proj)
        right = np.maximum.accumulate(proj[::-1])[::-1]
        rel = 1 - proj / np.minimum(left, right)      # depth of each dip
        rel[[0, -1]] = 0
        k = int(np.argmax(rel))
        if rel[k] >= depth and (best is None or rel[k] > best[0]):
            line = b == k
            side = b < k
            if side.sum() >= min_area and (~side & ~line).sum() >= min_area:
                best = (rel[k], line)
    if best is None:
        return None
    cut = np.zeros_like(obj)
    cut[rr[best[1]], cc[best[1]]] = True
    return cut


def radon_split(labels, *, depth=0.25, min_area=1.0, max_splits=16):
    """Split clustered round objects along dips of their Radon transform.

    The projection of two touching round objects along the line through
    their contact is shorter than along lines through their centres: the
    sinogram has a dip (a "hole", FRU-Net) there. For every object, the
    projection with the deepest relative dip (``1 - dip / min(peak on each
    side)``) at or above ``depth`` is cut along its line, when both parts
    keep at least ``min_area`` pixels; parts are split again until no dip is
    deep enough.

    Parameters
    ----------
    labels : (M, N) ndarray of int or bool
        Objects (a binary mask is split into 8-connected components first).
    depth : float, optional
        Minimum relative depth of a dip, in (0, 1).
    min_area : float, optional
        Minimum area of each part, pixels.
    max_splits : int, optional
        Most cuts per object.

    Returns
    -------
    (M, N) ndarray of int32
        Objects numbered 1..n; the cut pixels join the part they touch most.
    """
    from scipy import ndimage as ndi
    from skimage.measure import label as sk_label
    from skimage.segmentation import expand_labels

    labels = check_labels(labels, "labels")
    if not isinstance(depth, numbers.Real) or not 0 < depth < 1:
        raise ValueError(f"depth must be in (0, 1), got {depth!r}")
    if labels.dtype == bool or labels.max() <= 1:
        labels = sk_label(labels > 0, connectivity=2)
    out = np.zeros(labels.shape, np.int32)
    n = 0
    for sl, lab in zip(ndi.find_objects(labels), range(1, int(labels.max()) + 1)):
        if sl is None:
            continue
        sl = (slice(max(sl[0].start - 1, 0), sl[0].stop + 1), slice(max(sl[1].start - 1, 0), sl[1].stop + 1))
        obj = labels[sl] == lab
        pieces, todo = [], [obj]
        while todo and len(pieces) + len(todo) <= max_splits:
            part = todo.pop()
            cut = _split_once(part, depth, min_area)
            if cut is None:
                pieces.append(part)
                continue
            parts = sk_label(part & ~cut, connectivity=1)
            if parts.max() < 2:
                pieces.append(part)
                continue
            sizes = np.bincount(parts.ravel())[1:]
            big = np.argsort(sizes)[::-1][:2] + 1
            grown = expand_labels(np.where(np.isin(parts, big), parts, 0), 2) * part
            todo.extend(grown == b for b in big)
        pieces.extend(todo)
        window = out[sl]
        for piece in pieces:
            n += 1
            window[piece & (window == 0)] = n
    return out


def smooth_boundaries(labels, sigma=3.0, threshold=0.4):
    """Smooth each object's outline: Gaussian blur of its mask, re-thresholded.

    A threshold a little below 0.5 keeps the object's size (FRU-Net: sigma 3,
    t 0.4). Where two smoothed objects overlap, the pixel goes to the one
    with the larger blurred value.

    Returns
    -------
    (M, N) ndarray of int32
    """
    from scipy import ndimage as ndi

    labels = check_labels(labels, "labels")
    if not isinstance(sigma, numbers.Real) or sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    if not isinstance(threshold, numbers.Real) or not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    labels = labels.astype(np.int32)
    if sigma == 0:
        return labels
    out = np.zeros_like(labels)
    score = np.zeros(labels.shape, np.float32)
    m = int(math.ceil(4 * sigma)) + 1
    for lab, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None:
            continue
        sl = tuple(slice(max(s.start - m, 0), min(s.stop + m, dim)) for s, dim in zip(sl, labels.shape))
        blurred = ndi.gaussian_filter((labels[sl] == lab).astype(np.float32), sigma, mode="nearest")
        win_out, win_score = out[sl], score[sl]
        take = (blurred >= threshold) & (blurred > win_score)
        win_out[take] = lab
        win_score[take] = blurred[take]
    return out


def postprocess(prob, pixel_size, options, *, threshold=0.5, boundary=None, output_shape=None,
                resize=None, edges=((True, True), (True, True))):
    """Labelled objects from a foreground probability map, by a model's chain.

    Parameters
    ----------
    prob : (M, N) ndarray of float
        Foreground probability at the *model's* pixel size.
    pixel_size : float
        Pixel size of ``prob`` in nm.
    options : dict
        The model's ``postprocess`` settings (keys of
        :data:`emseg.models.POSTPROCESS_DEFAULTS`); missing keys take the
        defaults.
    threshold : float, optional
    boundary : (M, N) ndarray of float, optional
        Predicted contact probability (a model's ``boundary`` class).
    output_shape : (int, int), optional
        Shape of the original image: labels are rescaled to it (nearest
        neighbour) before the boundary smoothing, as in FRU-Net.
    resize : callable, optional
        Does that rescaling instead (a chunk of a large image: its part of the whole
        image's rescaled labels, :func:`emseg.segment.scaling.rescaled_region`).
    edges : ((bool, bool), (bool, bool)), optional
        Per axis, whether ``prob``'s (first, last) side is the image's border, for the
        removal of border objects (a chunk's inner sides are not).

    Returns
    -------
    (rows, columns) ndarray of int32
    """
    from ..models.config import POSTPROCESS_DEFAULTS
    from .scaling import rescale

    prob = check_2d_array(prob, "prob", allow_bool=False)
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    unknown = set(options) - set(POSTPROCESS_DEFAULTS)
    if unknown:
        raise ValueError(f"options: unknown key(s) {', '.join(sorted(unknown))}")
    o = {**POSTPROCESS_DEFAULTS, **options}
    check_choice(o["chain"], ("bam", "fru_net"), "chain")
    if not isinstance(pixel_size, numbers.Real) or not pixel_size > 0:
        raise ValueError(f"pixel_size must be a positive number of nm, got {pixel_size!r}")
    min_area = o["min_area_nm2"] / pixel_size ** 2
    remove_border = o["chain"] == "fru_net" if o["remove_border"] is None else bool(o["remove_border"])
    mask = threshold_mask(prob, threshold)

    def back(labels):
        if resize is not None:
            return resize(labels)
        return labels if output_shape is None else rescale(labels, shape=output_shape, order=0)
    if o["chain"] == "bam":
        cut = None if boundary is None else check_2d_array(boundary, "boundary") >= o["boundary_threshold"]
        filled = _drop_small_components(fill_holes(mask), min_area)
        labels = distance_watershed(filled, h=o["neck_nm"] / pixel_size, boundary=cut)
        if remove_border:
            labels = remove_border_objects(labels, edges)
        labels = remove_small_objects(labels, min_area)
        return _renumber(back(labels))
    # FRU-Net chain
    from skimage.measure import label as sk_label

    labels = sk_label(mask, connectivity=2)
    if remove_border:
        labels = remove_border_objects(labels, edges)
    mask = fill_holes(closing(labels > 0, int(o["closing_radius"])))
    labels = remove_small_objects(sk_label(mask, connectivity=2), min_area)
    labels = radon_split(labels, depth=o["radon_depth"], min_area=min_area)
    return _renumber(smooth_boundaries(back(labels), o["smooth_sigma"], o["smooth_threshold"]))


def _drop_small_components(mask, min_area):
    """``mask`` without its 8-connected components of fewer than ``min_area`` pixels that do
    not touch its sides. Exact before :func:`distance_watershed` and :func:`remove_small_objects`:
    every object split from such a component is smaller still, and removing a component
    changes neither the distances nor the split of another (noise of thousands of specks
    costs nothing then). Components at the sides are kept: the array may be a chunk of a
    large image that cuts a larger component."""
    from scipy import ndimage as ndi

    comps, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    small = np.bincount(comps.ravel(), minlength=n + 1) < min_area
    small[0] = False
    small[np.concatenate([comps[0], comps[-1], comps[:, 0], comps[:, -1]])] = False
    return mask & ~small[comps]


def _renumber(labels):
    # 1..n in raster order of each object's first pixel: ImageJ's particle analyzer's order,
    # and that of chunked segmentation (emseg.segment.chunked)
    from .chunked import raster_order

    return raster_order(labels).astype(np.int32)
