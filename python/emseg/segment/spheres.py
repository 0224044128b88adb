"""Vesicles as spheres: CryoVesNet's radial-profile refinement, at sub-voxel precision.

Pyto's connector and tether analysis needs every synaptic vesicle as a sphere with the right
centre and radius; a segmentation is shrunk along z by the missing wedge and often off-centre.
CryoVesNet (paper 001, "Segmentation refinement using radial profile", "Outlier detection and
refinement") turns each segment into a sphere and refines it against the tomogram:

1. start at the segment's centroid with half its bounding box's longest edge as radius;
2. radius from the radial profile (:func:`emseg.measure.radial.fit_membrane`: the outer edge
   of the membrane between the membrane's centre and the outer fringe);
3. back-project the profile to 3D and shift the centre to the peak of its cross-correlation
   with the tomogram in a box of edge ``2 r + c``; repeat 2-3 up to 10 times, until the centre
   stops moving or has moved more than half the first box's diagonal;
4. features (radius, thickness, membrane and lumen intensity, correlation of the profile with
   the mean profile), their Mahalanobis distance and its p-value; outliers are refined again
   with boxes growing by 2 voxels per iteration;
5. overlapping spheres shrink until they touch; vesicles outside a region are dropped.

Where EMSeg differs, and why:

- Centres and radii are not rounded to whole voxels (CryoVesNet rounds both, which alone costs
  delta_d about 0.045 at 2.2 nm): profiles are binned from the sub-voxel centre, the
  correlation peak is interpolated between voxels and spheres are drawn from exact centres.
- The outer edge of the membrane is, by default, where the profile rises most steeply from the
  membrane to the outside (``edge="steepest"``), not at the minimum of its second derivative
  (CryoVesNet's, ``edge="second_derivative"``): the steepest point of a blurred edge stays at
  the edge whatever the blur, while the second derivative's minimum lies one blur width
  outside it. On a phantom tomogram whose membranes are blurred shells (benchmarks/
  vesicles_cryoet.py) CryoVesNet's rule made every vesicle too large (delta_d 0.076, worse than
  the segmentation it refines); the steepest rise gave 0.010.
- Where exactly a blurred membrane's outer edge lies is a labelling convention (annotators
  and simulators differ by about a nanometre, a large share of delta_d and Dice at 2 nm
  voxels), and a network learns the one of its training labels. The radius is the rule's
  edge plus ``edge_offset_nm``, the model's ``refine_offset_nm``: the median distance from
  the rule's edge to the edge of the training generator's labels, measured on the model's
  validation tomograms (:func:`emseg.measure.label_edge_offsets`) and saved with it. The
  refinement then corrects centres, shapes and each vesicle's radius without moving the
  convention the segmentation had.
- The p-value uses as many degrees of freedom as there are features (the chi-squared law of a
  Mahalanobis distance of k Gaussian features has k; the paper writes k - 1), and the mean and
  covariance are estimated without the clear outliers (re-estimated twice without p < 0.01)
  and without vesicles cut by the tomogram's faces (partial profiles).
- Outliers (p below ``refine_p``, 0.3 as in the paper: by construction 30 % of perfectly good
  vesicles) are refined again and flagged, not removed (``remove_p=0`` by default): on the
  phantom, removing those still below p = 0.001 removed 5 true vesicles and no false one. A
  segment is removed when its profile shows no membrane (no minimum darker than both the lumen
  and the outside), which is what the false segments there had.
- Vesicles cut by the tomogram's faces (their segment touches a face, or their sphere
  reaches beyond one) are refined and measured but keep their segment's voxels in the label
  image: a partial profile draws the centre inwards, and the segment is already cut where the
  vesicle is. They are flagged (``border``), not judged as outliers and not removed for want
  of a membrane.
"""

import os
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .._memory import release_pages
from .._validate import check_array_like, check_label_array, check_nd_array, check_spacing
from ..measure.radial import distance_grid, fit_membrane, profile_box, radial_profile
from .blockcache import plane_cache
from .outliers import mahalanobis_pvalues, profile_correlations
from .recentre import cone_shift, correlation_shift

__all__ = ["Spheres", "FEATURES", "initial_spheres", "refine_sphere", "refine_spheres",
           "resolve_overlaps", "draw_spheres"]

#: Feature columns of :class:`Spheres`, in the order of :attr:`Spheres.features`.
FEATURES = ("Radius", "Thickness", "MembraneIntensity", "LumenIntensity", "Correlation")


@dataclass
class Spheres:
    """Refined vesicles (row ``i`` for the ``i``-th kept vesicle).

    Attributes
    ----------
    centres : (n, 3) ndarray
        Centres in voxels (z, y, x); voxel ``i``'s centre is at ``i``.
    radii : (n,) ndarray
        Outer membrane radius in nm (after overlaps are resolved).
    features : (n, 5) ndarray
        :data:`FEATURES`: radius before overlap shrinking, thickness (nm), membrane and lumen
        intensity, correlation of the profile with the mean profile.
    mahalanobis : (n,) ndarray
        Squared Mahalanobis distance ``D^2`` of the features.
    pvalue : (n,) ndarray
        ``1 - CDF_chi2(D^2, k)``.
    refined : (n,) ndarray of int
        Iterations of the last refinement (centre moves; plus the growing-box rounds of an
        outlier).
    source : (n,) ndarray of int
        The label of the segment each sphere came from.
    border : (n,) ndarray of bool
        The vesicle is cut by the tomogram's faces (partial profile: not judged as an
        outlier, not removed, drawn as its segment; without a membrane in its profile it
        keeps its first sphere's centre and radius).
    profiles : list of RadialProfile
        Each vesicle's final radial profile (for plots).
    fits : list of MembraneFit
        What was read off each profile (membrane centre, fringe, radius before overlaps).
    removed : dict
        Source label -> why it was removed ("no membrane", "outlier", "outside region").
    """

    centres: np.ndarray
    radii: np.ndarray
    features: np.ndarray
    mahalanobis: np.ndarray
    pvalue: np.ndarray
    refined: np.ndarray
    source: np.ndarray
    border: np.ndarray
    profiles: list
    fits: list
    removed: dict


def initial_spheres(labels, voxel_size, *, boxes=None):
    """CryoVesNet's start: centroid (voxels) and half the longest bounding-box edge (nm) of
    every segment; returns ``(ids, centres, radii)``. With ``boxes`` (every label's box, as
    ``find_objects`` gives them) ``labels`` may be any array-like: only the boxes are read."""
    if boxes is None:
        labels = check_label_array(labels, "labels", ndims=(3,))
        boxes = ndi.find_objects(labels)
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    ids, centres, radii = [], [], []
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        sub = np.asarray(labels[box]) == k
        local = np.argwhere(sub).mean(axis=0)
        centres.append(local + [s.start for s in box])
        radii.append(0.5 * max((s.stop - s.start) * sp for s, sp in zip(box, spacing)))
        ids.append(k)
    return (np.asarray(ids, int), np.asarray(centres, float).reshape(-1, 3),
            np.asarray(radii, float))


def refine_sphere(volume, centre, radius_nm, *, voxel_size, iterations=10, margin_nm=8.0,
                  tolerance=0.05, edge="steepest", edge_offset_nm=0.0):
    """Refine one vesicle's centre and radius against the tomogram (steps 2-3 above).

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
        The tomogram (membranes dark).
    centre : (float, float, float)
        Starting centre in voxels (z, y, x).
    radius_nm : float
        Starting radius.
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    iterations : int, optional
        Most centre moves.
    margin_nm : float, optional
        Half of CryoVesNet's constant ``c``: the correlation box has edge ``2 (r + margin)``.
    tolerance : float, optional
        Convergence: the centre moved less than this (voxels).
    edge : {"steepest", "second_derivative"}, optional
        How the radius is read off the profile (:func:`emseg.measure.radial.fit_membrane`).
    edge_offset_nm : float, optional
        Added to that edge: the model's labelling convention (``offset_nm`` of
        :func:`~emseg.measure.radial.fit_membrane`).

    Returns
    -------
    centre : (3,) ndarray
        Refined centre (voxels).
    fit : MembraneFit
        The membrane fit of the final profile (``fit.radius`` is the refined radius).
    profile : RadialProfile
    moves : int
        Centre moves made.
    """
    volume = check_nd_array(volume, "volume", ndims=(3,), allow_bool=False)
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    c = np.asarray(centre, float)
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise ValueError(f"centre must be three finite numbers (z, y, x), got {centre!r}")
    if not (np.isfinite(radius_nm) and radius_nm > 0):
        raise ValueError(f"radius_nm must be a positive number, got {radius_nm!r}")
    if not (isinstance(iterations, (int, np.integer)) and iterations >= 0):
        raise ValueError(f"iterations must be a non-negative integer, got {iterations!r}")
    start = c.copy()
    # CryoVesNet's limit: half the diagonal of the first box
    edge0 = 2 * (radius_nm + margin_nm) / spacing
    limit = 0.5 * np.sqrt(np.sum(edge0 ** 2))
    radius = float(radius_nm)

    def measure(at, r):
        p = radial_profile(volume, at, voxel_size=spacing, max_radius_nm=1.5 * r + margin_nm)
        return p, fit_membrane(p, r, edge=edge, offset_nm=edge_offset_nm)
    profile, fit = measure(c, radius)
    moves = 0
    for _ in range(int(iterations)):
        if not fit.valid:
            break
        radius = fit.radius
        shift = correlation_shift(volume, c, profile, radius, spacing, margin_nm,
                                  max_shift=np.maximum(2.0, 0.4 * radius / spacing))
        # far from the centre the averaged profile is blurred and its radius too small, and
        # the correlation can rest on the near side of the membrane: where the membrane seen
        # in separate directions says the centre is more than a voxel away, go there
        # (the first two moves: after them the centre is near)
        if moves < 2:
            coarse = cone_shift(volume, c, max(radius, float(radius_nm)), spacing, margin_nm)
            if np.linalg.norm(coarse) > max(1.0, 2 * np.linalg.norm(shift)):
                shift = coarse
        moved = np.linalg.norm(shift)
        new = c + shift
        # the centre may leave the volume (a vesicle cut by its face), not the sphere
        reach = radius / spacing
        if np.linalg.norm(new - start) > limit or np.any(new < -0.5 - reach) or \
                np.any(new > np.asarray(volume.shape) - 0.5 + reach):
            break
        c = new
        moves += 1
        profile, fit = measure(c, radius)
        # a blurred first profile (centre far off) moves the centre little at first: at least
        # three moves before a small one counts as converged
        if moved < tolerance and moves >= 3:
            break
    return c, fit, profile, moves


def resolve_overlaps(centres, radii, voxel_size):
    """Shrink the radii of overlapping spheres so that no two overlap: every sphere loses
    half of its largest overlap with a neighbour (then every pair at most touches)."""
    from scipy.spatial import cKDTree

    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    radii = np.asarray(radii, float).copy()
    if len(radii) < 2:
        return radii
    pos = np.asarray(centres, float) * spacing
    tree = cKDTree(pos)
    pairs = tree.query_pairs(2 * float(radii.max()), output_type="ndarray")
    if len(pairs) == 0:
        return radii
    i, j = pairs[:, 0], pairs[:, 1]
    overlap = radii[i] + radii[j] - np.linalg.norm(pos[i] - pos[j], axis=1)
    cut = np.zeros(len(radii))
    np.maximum.at(cut, i, overlap / 2)
    np.maximum.at(cut, j, overlap / 2)
    return np.maximum(radii - cut, 0.0)


def draw_spheres(shape, centres, radii, voxel_size, *, dtype=np.int32, out=None):
    """Label image of spheres: voxel centres within ``radii[i]`` nm of ``centres[i]`` (voxels,
    sub-voxel) get label ``i + 1``; where spheres touch, the first keeps the voxel. With
    ``out`` (an integer array of ``shape``), the spheres are drawn into it where it is 0."""
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    if out is None:
        out = np.zeros(tuple(int(s) for s in shape), dtype)
    elif tuple(out.shape) != tuple(shape) or np.dtype(out.dtype).kind not in "iu":
        raise ValueError(f"out must be an integer array of shape {tuple(shape)}")
    in_memory = isinstance(out, np.ndarray)     # else a zarr array: read, draw, write back
    for i, (c, r) in enumerate(zip(np.asarray(centres, float), np.asarray(radii, float))):
        if not r > 0:
            continue
        box = profile_box(tuple(out.shape), c, r, spacing)
        if any(b.stop <= b.start for b in box):
            continue
        local = [cc - b.start for cc, b in zip(c, box)]
        inside = distance_grid([b.stop - b.start for b in box], local, spacing) <= r
        view = out[box] if in_memory else np.asarray(out[box])
        view[inside & (view == 0)] = i + 1
        if not in_memory:
            out[box] = view
    return out


def refine_spheres(volume, labels, *, voxel_size, mask=None, iterations=10, margin_nm=8.0,
                   tolerance=0.05, edge="steepest", edge_offset_nm=0.0, refine_p=0.3,
                   growth=10, remove_p=0.0, workers=None, overwrite_labels=False, progress=None,
                   chunk_shape=None):
    """Turn segmented vesicles into refined spheres (the module's steps 1-5).

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
        The tomogram (membranes dark).
    labels : (Z, Y, X) ndarray of int
        The segmented vesicles, on the tomogram's grid.
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    mask : (Z, Y, X) ndarray, optional
        Region (non-zero) the vesicle centres must lie in.
    iterations, margin_nm, tolerance, edge, edge_offset_nm : optional
        Of :func:`refine_sphere`.
    refine_p : float, optional
        Vesicles with a p-value below it are refined again with growing boxes (0.3, the
        paper's threshold).
    growth : int, optional
        Most rounds of that, each box 2 voxels larger.
    remove_p : float, optional
        Vesicles (not cut by the faces) still below it afterwards are removed (default 0:
        outliers are flagged, never removed; only segments without a membrane are).
    workers : int, optional
        Threads refining vesicles at once (default: the CPU count).
    overwrite_labels : bool, optional
        Draw the result into ``labels`` (when it is int32) instead of a new array.
    progress : callable, optional
        ``progress(done, total)`` over the vesicles.
    chunk_shape : int or tuple of int, optional
        ``labels`` is an int32 array-like larger than memory (a zarr array): its counts and
        boxes are found chunk by chunk, only the vesicles' boxes are read, and the spheres
        are drawn into it (``overwrite_labels`` is implied).

    Returns
    -------
    labels : (Z, Y, X) ndarray of int32 (or the array-like)
        The refined spheres, numbered 1..n in the order of ``spheres``.
    spheres : Spheres
    """
    volume = (check_nd_array if chunk_shape is None else check_array_like)(
        volume, "volume", ndims=(3,), allow_bool=False)
    if chunk_shape is None:
        labels = check_label_array(labels, "labels", ndims=(3,))
        boxes = ndi.find_objects(labels)
    else:
        from .components import label_stats

        if np.dtype(labels.dtype) != np.int32:
            raise TypeError(f"labels must hold int32 labels, got {labels.dtype}")
        _, boxes = label_stats(labels, None, chunk_shape=chunk_shape)
    if tuple(labels.shape) != volume.shape:
        raise ValueError(f"labels shape {labels.shape} differs from the volume's {volume.shape}")
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != volume.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the volume's {volume.shape}")
    if not 0 <= remove_p <= refine_p <= 1:
        raise ValueError(f"need 0 <= remove_p <= refine_p <= 1, got remove_p={remove_p!r}, "
                         f"refine_p={refine_p!r}")
    if not (isinstance(growth, (int, np.integer)) and growth >= 0):
        raise ValueError(f"growth must be a non-negative integer, got {growth!r}")
    if edge not in ("steepest", "second_derivative"):
        raise ValueError(f"edge must be 'steepest' or 'second_derivative', got {edge!r}")
    if not np.isfinite(edge_offset_nm):
        raise ValueError(f"edge_offset_nm must be a finite number, got {edge_offset_nm!r}")
    settings = {"iterations": iterations, "margin_nm": margin_nm, "tolerance": tolerance,
                "edge": edge, "edge_offset_nm": float(edge_offset_nm)}
    # in parts, the boxes (in label order: plane after plane) come from a few cached blocks
    ids, starts, radii0 = initial_spheres(labels if chunk_shape is None else plane_cache(labels),
                                          spacing, boxes=boxes)
    total = len(ids)
    # vesicles are independent: threads (the FFTs and much of NumPy release the GIL)
    from concurrent.futures import ThreadPoolExecutor, as_completed

    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        def refine_all(indices, margin, report=False):
            futures = {pool.submit(refine_sphere, volume, starts[i], radii0[i],
                                   voxel_size=spacing, **{**settings, "margin_nm": margin}): i
                       for i in indices}
            out = {}
            for n, future in enumerate(as_completed(futures), start=1):
                out[futures[future]] = list(future.result())
                if report and progress is not None:
                    progress(n, total)
                if n % 64 == 0:
                    # a memory-mapped tomogram: the vesicles are spread over all of it, and
                    # every page read would otherwise stay resident (a tomogram's worth)
                    release_pages(volume)
            release_pages(volume)
            return out
        first = refine_all(range(total), margin_nm, report=True)
        results = [first[i] for i in range(total)]
        # vesicles cut by the tomogram's faces have partial profiles: they do not set the
        # mean and covariance the others are judged by, and are never removed as outliers
        touching = _touches_faces(boxes, volume.shape, ids)
        border = touching | np.array([_is_cut(r[0], r[1].radius if r[1].valid else r0,
                                              volume.shape, spacing)
                                      for r, r0 in zip(results, radii0)], bool)
        feats = _features(results)
        d2, p = mahalanobis_pvalues(feats, reference=~border)
        # outliers: refined again from the start with boxes growing by 2 voxels per round (all
        # outliers of a round at once); a result replaces the old one only if it is less of an
        # outlier, and a vesicle whose sphere no longer changes stops growing
        active = [int(i) for i in np.flatnonzero(np.isfinite(p) & (p < refine_p) & ~border)]
        last = {i: results[i] for i in active}
        for g in range(1, int(growth) + 1):
            if not active:
                break
            trials = refine_all(active, margin_nm + g * float(spacing.min()))
            rows = results.copy()
            for i, t in trials.items():
                if t[1].valid:
                    rows[i] = t
            _, pb = mahalanobis_pvalues(_features(rows), reference=~border)
            moving = []
            for i, t in trials.items():
                if not t[1].valid:
                    moving.append(i)
                    continue
                if pb[i] > p[i]:
                    t[3] += g
                    results[i] = t
                prev = last[i]
                same = prev[1].valid and np.linalg.norm(t[0] - prev[0]) < tolerance and \
                    abs(t[1].radius - prev[1].radius) < 0.1
                last[i] = t
                if not same:
                    moving.append(i)
            feats = _features(results)
            d2, p = mahalanobis_pvalues(feats, reference=~border)
            active = [i for i in moving if p[i] < refine_p]
    removed, keep = {}, []
    centres, radii = [], []
    for i, k in enumerate(ids):
        valid = results[i][1].valid
        c = results[i][0] if valid else starts[i]
        r = feats[i, 0] if valid else radii0[i]
        if not valid and not border[i]:
            removed[int(k)] = "no membrane"
        elif valid and not border[i] and p[i] < remove_p:
            removed[int(k)] = "outlier"
        elif mask is not None and not mask[tuple(np.clip(np.round(c).astype(int), 0,
                                                         np.asarray(volume.shape) - 1))]:
            removed[int(k)] = "outside region"
        else:
            keep.append(i)
            centres.append(c)
            radii.append(r)
            if not valid:         # cut by a face, no membrane found: its first sphere
                feats[i, 0] = r
                results[i][3] = 0
    keep = np.asarray(keep, int)
    centres = np.asarray(centres, float).reshape(-1, 3)
    radii = resolve_overlaps(centres, np.asarray(radii, float), spacing)
    # a vesicle cut by the faces is only partly in the tomogram: its sphere is drawn only
    # where its segment was (a partial profile moves the sphere inwards; the segment is
    # already cut where the truth is)
    cut = border[keep]
    lut = np.zeros(len(boxes) + 1, np.int32)
    lut[ids[keep][cut]] = np.flatnonzero(cut) + 1
    if chunk_shape is not None:
        from .components import relabel_chunks

        drawn = relabel_chunks(labels, lut, chunk_shape=chunk_shape)
    else:
        # overwrite: the segments are not needed any more (a tomogram's worth of memory saved)
        drawn = labels if overwrite_labels and labels.dtype == np.int32 else \
            np.empty(labels.shape, np.int32)
        for z in range(drawn.shape[0]):
            drawn[z] = lut[labels[z]]
    target = drawn if chunk_shape is None else plane_cache(drawn)
    draw_spheres(volume.shape, centres, np.where(cut, 0.0, radii), spacing, out=target)
    if chunk_shape is not None:
        target.flush()
    spheres = Spheres(centres, radii, feats[keep].reshape(-1, len(FEATURES)), d2[keep], p[keep],
                      np.asarray([results[i][3] for i in keep], int), ids[keep], border[keep],
                      [results[i][2] for i in keep], [results[i][1] for i in keep], removed)
    return drawn, spheres


def _features(rows):
    """:data:`FEATURES` of refinement results ``(centre, fit, profile, moves)``; NaN rows
    where no membrane was found."""
    fits = [r[1] for r in rows]
    corr = profile_correlations([r[2] for r in rows], fits)
    return np.array([[f.radius, f.thickness, f.membrane_intensity, f.lumen_intensity, q]
                     if f.valid else [np.nan] * len(FEATURES)
                     for f, q in zip(fits, corr)], float).reshape(-1, len(FEATURES))


def _touches_faces(boxes, shape, ids):
    """Whether each segment of ``ids`` (boxes as ``find_objects`` gives them) has voxels on
    a face of a volume of ``shape``."""
    out = np.zeros(len(ids), bool)
    for n, k in enumerate(ids):
        box = boxes[int(k) - 1]
        out[n] = any(b.start == 0 or b.stop == size for b, size in zip(box, shape))
    return out


def _is_cut(centre, radius_nm, shape, spacing):
    """Whether a sphere reaches beyond the volume's faces."""
    reach = radius_nm / np.asarray(spacing)
    c = np.asarray(centre, float)
    return bool(np.any(c - reach < -0.5) or np.any(c + reach > np.asarray(shape) - 0.5))
