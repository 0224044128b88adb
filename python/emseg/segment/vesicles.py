"""Synaptic vesicles in tomograms: the global threshold chosen by the darkness of the mask's
shell (CryoVesNet), searched where a saturating network puts its answer.

CryoVesNet thresholds the network's probability at the value whose mask has the darkest
shell (mask minus its erosion): vesicle membranes are dark in cryo-ET, so the mask whose
boundary runs along the membranes has the darkest boundary. Its search grid, 0.80 to 0.99
in steps of 0.01, ends where a saturating network's boundary only begins: run on a tomogram
its optimum is the grid's last value. Here the candidates are spread evenly on the logit of
the probability (``log(p / (1 - p))``), from 0.5 to ``1 - 1e-6`` by default, so the search is
as fine at 0.9999 as at 0.6 and finds an optimum inside the range.
"""

import numpy as np
from scipy import ndimage as ndi

from .._memory import release_pages
from .._validate import check_array_like, check_nd_array
from .blockcache import plane_cache
from .chunked import chunk_cores

__all__ = ["logit_thresholds", "shell_intensity", "shell_threshold", "adaptive_threshold",
           "grow_labels", "label_counts", "relabel"]


def _planes(array):
    """The 2D planes of an image or volume (views, also of a strided array: writing to them
    writes to ``array``)."""
    return (array[index] for index in np.ndindex(array.shape[:-2]))


def label_counts(labels, n=None):
    """Voxel count of every label (index = label), plane by plane: NumPy's bincount of a
    whole int32 volume would first make an int64 copy of it (2 GB for a 1 GB tomogram)."""
    n = int(labels.max()) + 1 if n is None else int(n)
    counts = np.zeros(n, np.int64)
    for plane in _planes(labels):
        counts += np.bincount(plane.ravel(), minlength=n)[:n]
    return counts


def logit_thresholds(low=0.5, high=1 - 1e-6, n=60):
    """``n`` probability thresholds evenly spaced on the logit scale from ``low`` to ``high``."""
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    lo, hi = np.log(low / (1 - low)), np.log(high / (1 - high))
    return 1.0 / (1.0 + np.exp(-np.linspace(lo, hi, n)))


def shell_intensity(mask, volume, *, erosion=1):
    """Mean of ``volume`` over the shell of ``mask`` (the mask minus its erosion by ``erosion``
    voxels, 6-connected) and the shell's voxel count; NaN for an empty shell."""
    shell = mask & ~ndi.binary_erosion(mask, iterations=int(erosion))
    count = int(shell.sum())
    return (float(volume[shell].mean()) if count else float("nan")), count


def shell_threshold(probability, volume, *, thresholds=None, erosion=1, min_voxels=27):
    """The probability threshold whose mask has the darkest shell in ``volume``.

    Parameters
    ----------
    probability : (Z, Y, X) or (M, N) array-like
        The network's vesicle probability, on the grid of ``volume``: an ndarray, or a
        memory map or zarr array larger than memory (both are read a slab of planes at a time).
    volume : array-like, same shape
        The tomogram (dense matter dark, as cryo-ET shows it).
    thresholds : sequence of float, optional
        Candidates (default :func:`logit_thresholds`: 0.5 to 1 - 1e-6, even in the logit).
    erosion : int, optional
        Shell thickness in voxels.
    min_voxels : int, optional
        Candidates whose shell has fewer voxels are not considered (a few stray voxels
        would otherwise win by chance).

    Returns
    -------
    threshold : float
        The candidate with the darkest shell.
    table : (K, 3) ndarray
        Every candidate's threshold, shell mean and shell voxel count.

    Raises
    ------
    ValueError
        For mismatched shapes, or when no candidate leaves a shell of ``min_voxels``.
    """
    # read slab by slab: a probability map and a tomogram larger than memory (zarr, memory map)
    probability = check_array_like(probability, "probability", ndims=(2, 3))
    volume = check_array_like(volume, "volume", ndims=(2, 3))
    if tuple(probability.shape) != tuple(volume.shape):
        raise ValueError(f"probability {probability.shape} and volume {volume.shape} differ in shape")
    if not (isinstance(erosion, (int, np.integer)) and erosion >= 1):
        raise ValueError(f"erosion must be an integer >= 1, got {erosion!r}")
    candidates = logit_thresholds() if thresholds is None else np.asarray(thresholds, float)
    if candidates.ndim != 1 or not candidates.size or np.any((candidates <= 0) | (candidates >= 1)):
        raise ValueError("thresholds must be a non-empty sequence of values in (0, 1)")
    means, counts = _shell_means(probability, volume, candidates, int(erosion))
    rows = list(zip(candidates.tolist(), means.tolist(), counts.tolist()))
    table = np.asarray(rows, float)
    usable = table[:, 2] >= min_voxels
    if not usable.any():
        raise ValueError(f"no threshold leaves a shell of {min_voxels} voxels: the probability map "
                         "holds no vesicles")
    best = np.flatnonzero(usable)[np.nanargmin(table[usable, 1])]
    return float(table[best, 0]), table


def _shell_means(probability, volume, thresholds, erosion, slab_voxels=2 ** 24):
    """Shell mean and voxel count of ``probability > t`` for every ``t`` at once.

    A voxel lies in the shell of threshold ``t`` when ``p > t`` and its erosion (the minimum of
    ``p`` over the ``erosion``-fold 6-neighbourhood, 0 beyond the array, as binary erosion
    sees the border) is ``<= t``: it belongs to the shells of the thresholds in
    ``[erosion(p), p)``. So one grey erosion and two cumulative sums give all candidates (the
    same numbers as eroding every mask, in one pass over the volume instead of one per
    candidate), computed in slabs of planes to bound the memory: up to 32 planes and about
    ``slab_voxels`` voxels (a few at a 2048^2 plane). The slabs depend on the shape alone, so
    a tomogram in memory and the same one in parts sum in the same order.
    """
    order = np.argsort(thresholds)
    th = np.asarray(thresholds, float)[order]
    k = len(th)
    sums, counts = np.zeros(k + 1), np.zeros(k + 1)
    cross = ndi.generate_binary_structure(len(probability.shape), 1)
    n = probability.shape[0]
    slab = max(1, min(32, int(slab_voxels // max(1, np.prod(probability.shape[1:])))))
    for z0 in range(0, n, slab):
        z1 = min(n, z0 + slab)
        a, b = max(0, z0 - erosion), min(n, z1 + erosion)
        p = np.asarray(probability[a:b], np.float32)
        low = p
        for _ in range(erosion):
            low = ndi.grey_erosion(low, footprint=cross, mode="constant", cval=0.0)
        p, low = p[z0 - a:z0 - a + (z1 - z0)], low[z0 - a:z0 - a + (z1 - z0)]
        inside = p > th[0]
        if not inside.any():
            continue
        pv, lv = p[inside], low[inside]
        v = np.asarray(volume[z0:z1], np.float64)[inside]
        # shell of th[j] for first <= j < last
        first = np.searchsorted(th, lv, side="left")
        last = np.searchsorted(th, pv, side="left")
        for idx, sign in ((first, 1.0), (last, -1.0)):
            sums += sign * np.bincount(idx, weights=v, minlength=k + 1)
            counts += sign * np.bincount(idx, minlength=k + 1)
        release_pages(volume)       # a memory-mapped tomogram: the slab is done
    sums, counts = np.cumsum(sums)[:k], np.rint(np.cumsum(counts)[:k])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    out_m, out_c = np.empty(k), np.empty(k)
    out_m[order], out_c[order] = means, counts
    return out_m, out_c


def relabel(labels, lut):
    """``labels[...] = lut[labels]`` in place, plane by plane: NumPy's ``take`` would first
    make an int64 copy of the whole index volume."""
    for plane in _planes(labels):
        np.take(lut, plane, out=plane, mode="clip")
    return labels


def _segments(probability, threshold, min_voxels=1, *, out=None, chunk_shape=None):
    """Label ``probability > threshold`` (6-connected, int32: skimage's label would give
    int64, twice the memory), drop segments below ``min_voxels`` and renumber before the
    bounding boxes are found: a noisy map's hundreds of thousands of specks never become
    Python objects. With ``out`` (an int32 array-like, e.g. zarr) the labelling runs chunk
    by chunk into it (:func:`emseg.segment.components.label_components`): the same labels."""
    if out is None:
        mask = probability > threshold
        labels = np.empty(mask.shape, np.int32)
        n = int(ndi.label(mask, output=labels))
        del mask        # freed before the counts
        counts = label_counts(labels, n + 1)
        boxes = None
    else:
        from .components import label_components

        # the specks go as the chunks are labelled
        comps = label_components(probability, out, chunk_shape=chunk_shape,
                                 threshold=threshold, connectivity=1, min_size=min_voxels)
        labels, n, counts = out, comps.n, comps.counts
    keep = np.flatnonzero(counts >= min_voxels)
    keep = keep[keep > 0]
    if out is not None:
        # the kept segments' boxes only: a noisy map's millions of specks never become slices
        boxes = [tuple(slice(int(a), int(b)) for a, b in zip(comps.starts[k], comps.stops[k]))
                 for k in keep]
    if len(keep) < n:
        lut = np.zeros(n + 1, np.int32)
        lut[keep] = np.arange(1, len(keep) + 1)
        if out is None:
            relabel(labels, lut)
        else:
            for core in chunk_cores(labels.shape, chunk_shape):
                labels[core] = lut[np.asarray(labels[core])]
        counts = np.concatenate([[counts[0]], counts[keep]])
        n = len(keep)
    volumes = counts[1:].astype(float)
    if boxes is None:
        boxes = ndi.find_objects(labels)
    sides = np.array([[s.stop - s.start for s in b] for b in boxes]) if n else np.ones((0, 1))
    return labels, volumes, volumes / np.prod(sides, axis=1), boxes


def _grow_box(box, shape, margin):
    return tuple(slice(max(0, s.start - margin), min(n, s.stop + margin)) for s, n in zip(box, shape))


def adaptive_threshold(probability, threshold, *, z_split=1.0, max_extent=0.25, z_grow=-1.0,
                       min_extent=0.35, steps=24, min_voxels=27, floor=0.05, max_cluster=20.0,
                       out=None, chunk_shape=128):
    """CryoVesNet's adaptive local thresholding of vesicle segments.

    The mask ``probability > threshold`` is labelled (6-connected). A segment much larger
    than the others (volume z-score > ``z_split``) and far from a ball (extent, its volume over
    its bounding box's, < ``max_extent``; a ball has pi/6 = 0.52) probably holds several
    vesicles: its threshold is raised locally, step by step on the logit scale, to the lowest
    value that separates the most pieces of at least ``min_voxels`` (one raise splits a chain of
    three touching vesicles into three, not two). A segment much smaller than the others
    (z-score < ``z_grow``) is probably part of a vesicle: its threshold is lowered locally as
    long as it stays ball-like (extent >= ``min_extent``) and touches no other segment.

    Parameters
    ----------
    probability : (Z, Y, X) or (M, N) ndarray
    threshold : float
        The global threshold (e.g. :func:`shell_threshold`'s).
    steps : int, optional
        Candidate local thresholds on each side, even in the logit between ``threshold``
        and ``1 - 1e-6`` (raising) or ``floor`` (lowering).
    max_cluster : float, optional
        Only segments of at most this many times the median segment volume are split: a
        larger one is a membrane sheet or an organelle, not a cluster of vesicles (and
        splitting it would cost the memory of its whole bounding box several times).
    floor : float, optional
        The lowest local threshold a growing segment may reach (e.g. the network's voxel-wise
        threshold: below it the network itself says "not vesicle").
    out : array-like of int32, optional
        For a map larger than memory (``probability`` a zarr array or memory map): where the
        labels go (e.g. a zarr array), written chunk by chunk and box by box; then only
        the segments' boxes are ever in memory. The result equals the in-memory one.
    chunk_shape : int or tuple of int, optional
        The chunks of that labelling.

    Returns
    -------
    labels : ndarray of int32 or ``out``
        The vesicle segments, numbered 1..n.
    thresholds : (n + 1,) ndarray of float
        The threshold each segment was cut at (index = label, 0 unused).
    """
    if out is None:
        probability = check_nd_array(probability, "probability", ndims=(2, 3))
    else:
        probability = check_array_like(probability, "probability", ndims=(2, 3))
        if tuple(getattr(out, "shape", ())) != tuple(probability.shape):
            raise ValueError(f"out must have the probability's shape {probability.shape}")
    if not 0 < float(threshold) < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    # specks below min_voxels are noise: they neither count in the statistics nor get pieces
    labels, volumes, extents, boxes = _segments(probability, threshold, min_voxels, out=out,
                                                chunk_shape=chunk_shape)
    cut = [float("nan")]
    if not volumes.size:
        return labels, np.asarray(cut)
    sd = volumes.std()
    z = (volumes - volumes.mean()) / sd if sd > 0 else np.zeros_like(volumes)
    median = np.median(volumes)
    higher = logit_thresholds(float(threshold), 1 - 1e-6, steps + 1)[1:]
    lower = (logit_thresholds(float(floor), float(threshold), steps + 1)[::-1][1:]
             if 0 < floor < threshold else np.zeros(0))
    # (array in a box, the value that marks the piece there or None for a mask, box, threshold):
    # the pieces of a split segment share one array, so a huge segment costs one box, not one
    # box per piece
    pieces = []
    lazy = out is not None
    # in parts, the boxes (in label order: plane after plane) come from a few cached blocks
    lab, prob = (plane_cache(labels), plane_cache(probability)) if lazy else (labels,
                                                                              probability)
    for i, box in enumerate(boxes):
        own = lab[box] == i + 1
        chosen = [(own, None, float(threshold))]
        if z[i] > z_split and extents[i] < max_extent and \
                volumes[i] <= max_cluster * median:
            p = np.where(own, prob[box], np.float32(0))   # float32: boxes can be large
            # the lowest local threshold that separates the most pieces of min_voxels
            best = (1, None, None, None)
            for t in higher:
                parts, _ = ndi.label(p > t)
                sizes = np.bincount(parts.ravel())[1:]
                count = int(np.sum(sizes >= min_voxels))
                if count > best[0]:
                    best = (count, parts, float(t), np.flatnonzero(sizes >= min_voxels) + 1)
                if count == 0:
                    break
                del parts
            if best[1] is not None:
                # the pieces are cores: give every voxel of the segment to its core (watershed
                # on the probability), so that split vesicles keep their full size
                from skimage.segmentation import watershed
                _, parts, t, ids = best
                lut = np.zeros(int(parts.max()) + 1, np.int32)
                lut[ids] = np.arange(1, len(ids) + 1)
                basins = watershed(-p, lut[parts], mask=own)
                del parts
                chosen = [(basins, k, t) for k in range(1, len(ids) + 1)]
            del p
        elif z[i] < z_grow:
            big = _grow_box(box, labels.shape, 4)
            lab_big, prob_big = lab[big], prob[big]
            mine = lab_big == i + 1
            others = (lab_big > 0) & ~mine
            del lab_big
            for t in lower:
                grown, _ = ndi.label(prob_big > t)
                keep = np.unique(grown[mine])
                region = np.isin(grown, keep[keep > 0])
                vol = region.sum()
                bb = ndi.find_objects(region.astype(np.int32))[0]
                if (region & others).any() or vol / np.prod([s.stop - s.start for s in bb]) \
                        < min_extent:
                    break
                chosen = [(region, None, float(t))]
            del prob_big
            if chosen[0][0].shape != own.shape:
                box = big
        for source, value, t in chosen:
            pieces.append((source, value, box, t))
    del lab, prob
    # the pieces are held in their boxes: the label array itself is reused for the result
    labels[...] = 0
    target = plane_cache(labels) if lazy else labels
    for k, (source, value, box, t) in enumerate(pieces, start=1):
        view = target[box]
        mask = source if value is None else source == value
        view[mask & (view == 0)] = k
        if lazy:
            target[box] = view          # the cache's boxes are copies
        cut.append(t)
    if lazy:
        target.flush()
    return labels, np.asarray(cut)


def grow_labels(probability, labels, threshold, *, margin=4, chunk_shape=128):
    """Grow every labelled segment into the neighbouring voxels whose probability exceeds
    ``threshold``, by a watershed on the probability, so that touching segments share the
    voxels between them and never merge.

    The darkest-shell threshold puts a vesicle's boundary on its membrane's dark centre,
    half a membrane inside the vesicle's outer edge; growing the found vesicles to the
    network's voxel-wise threshold gives them back their full extent without changing which
    vesicles were found. Each segment grows by at most ``margin`` voxels (the work is done in
    its bounding box, so memory stays small for any tomogram).

    Parameters
    ----------
    probability : ndarray, 2D or 3D
    labels : ndarray of int, same shape
        Segments (changed in place and returned).
    threshold : float
        Voxels above it may join a segment.
    margin : int, optional
    chunk_shape : int or tuple of int, optional
        When ``labels`` is not an ndarray (a zarr array larger than memory): the chunks
        its boxes are found in; each segment's box is then read, grown and written back,
        one after the other as in memory.

    Returns
    -------
    ndarray or array-like
        ``labels``.
    """
    from skimage.segmentation import watershed

    in_memory = isinstance(labels, np.ndarray)
    probability = (check_nd_array if in_memory else check_array_like)(
        probability, "probability", ndims=(2, 3))
    if tuple(labels.shape) != tuple(probability.shape):
        raise ValueError(f"labels {labels.shape} and probability {probability.shape} differ")
    if not 0 < float(threshold) < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    if not (isinstance(margin, (int, np.integer)) and margin >= 1):
        raise ValueError(f"margin must be an integer >= 1, got {margin!r}")
    if in_memory:
        boxes = ndi.find_objects(labels)
        lab_src, prob_src = labels, probability
    else:
        from .components import label_stats

        _, boxes = label_stats(labels, None, chunk_shape=chunk_shape)
        # the boxes, in label order, from a few cached blocks (one call per box is slow)
        lab_src, prob_src = plane_cache(labels), plane_cache(probability)
    shape = tuple(labels.shape)
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        big = _grow_box(box, shape, int(margin))
        lab = lab_src[big]
        p = np.asarray(prob_src[big], np.float32)
        grown = watershed(-p, lab, mask=(p > threshold) | (lab > 0))
        lab[(lab == 0) & (grown == k)] = k
        if not in_memory:
            lab_src[big] = lab
    if not in_memory:
        lab_src.flush()
    return labels
