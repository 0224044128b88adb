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
from scipy import fft as sfft
from scipy import ndimage as ndi

from .._validate import check_label_array, check_nd_array, check_spacing
from ..measure.radial import distance_grid, fit_membrane, profile_box, radial_profile

__all__ = ["Spheres", "FEATURES", "initial_spheres", "refine_sphere", "refine_spheres",
           "mahalanobis_pvalues", "resolve_overlaps", "draw_spheres"]

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


def initial_spheres(labels, voxel_size):
    """CryoVesNet's start: centroid (voxels) and half the longest bounding-box edge (nm) of
    every segment; returns ``(ids, centres, radii)``."""
    labels = check_label_array(labels, "labels", ndims=(3,))
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    boxes = ndi.find_objects(labels)
    ids, centres, radii = [], [], []
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        sub = labels[box] == k
        local = np.argwhere(sub).mean(axis=0)
        centres.append(local + [s.start for s in box])
        radii.append(0.5 * max((s.stop - s.start) * sp for s, sp in zip(box, spacing)))
        ids.append(k)
    return (np.asarray(ids, int), np.asarray(centres, float).reshape(-1, 3),
            np.asarray(radii, float))


def _recentre_shift(volume, centre, profile, radius_nm, spacing, margin_nm, max_shift):
    """Shift (voxels, z/y/x) that brings the back-projected profile onto the tomogram: the
    peak of their normalised cross-correlation over shifts up to ``max_shift`` voxels,
    interpolated between voxels by a parabola per axis.

    The template is the profile back-projected inside the ball of radius ``r + margin`` (0
    outside it, so that neighbours and membranes in a box's corners do not pull the centre);
    where the shifted ball leaves the tomogram (a vesicle cut by its face) only the voxels
    inside count, and the correlation is divided by the template's energy over them, so the
    peak is not drawn towards the inside.
    """
    c = np.asarray(centre, float)
    half = (radius_nm + margin_nm) / spacing
    lim = np.maximum(1, np.ceil(max_shift).astype(int))
    lo = np.floor(c - half).astype(int)
    hi = np.ceil(c + half).astype(int) + 1
    d = distance_grid(hi - lo, c - lo, spacing)
    ball = d <= radius_nm + margin_nm
    y = profile.mean
    ok = np.isfinite(y)
    if ball.sum() < 27 or ok.sum() < 2:
        return np.zeros(3)
    template = np.interp(d, profile.distance[ok], y[ok])
    template = np.where(ball, template - template[ball].mean(), 0.0)
    # the image around the template, wider by the shifts; outside the tomogram: masked
    shape = hi - lo + 2 * lim
    src = tuple(slice(max(0, a - m), min(n, b + m)) for a, b, m, n in
                zip(lo, hi, lim, volume.shape))
    if any(sl.stop - sl.start < 1 for sl in src):
        return np.zeros(3)
    dst = tuple(slice(sl.start - (a - m), sl.stop - (a - m)) for sl, a, m in zip(src, lo, lim))
    block = np.asarray(volume[src], np.float32)
    image = np.zeros(shape, np.float32)
    image[dst] = block - block.mean()
    # zero padding to fast FFT sizes keeps the correlation exact for the shifts looked at
    fast = [sfft.next_fast_len(int(n), real=True) for n in shape]
    axes = (0, 1, 2)
    ft = np.conj(sfft.rfftn(template.astype(np.float32), s=fast, axes=axes))
    window = tuple(slice(0, 2 * m + 1) for m in lim)
    num = sfft.irfftn(sfft.rfftn(image, s=fast, axes=axes) * ft, s=fast, axes=axes)[window]
    if all(d.start == 0 and d.stop == n for d, n in zip(dst, shape)):
        cc = num                    # inside the tomogram: the template's energy is constant
    else:
        inside = np.zeros(shape, np.float32)
        inside[dst] = 1.0
        ft2 = np.conj(sfft.rfftn((template ** 2).astype(np.float32), s=fast, axes=axes))
        energy = sfft.irfftn(sfft.rfftn(inside, s=fast, axes=axes) * ft2, s=fast,
                             axes=axes)[window]
        cc = np.where(energy > 1e-6 * energy.max(), num / np.sqrt(np.maximum(energy, 1e-30)),
                      -np.inf)
    peak = np.unravel_index(int(np.argmax(cc)), cc.shape)
    shift = np.zeros(3)
    for a in range(3):
        i = peak[a]
        shift[a] = i - lim[a]
        if 0 < i < cc.shape[a] - 1:
            idx = list(peak)
            vals = []
            for j in (i - 1, i, i + 1):
                idx[a] = j
                vals.append(cc[tuple(idx)])
            den = vals[0] - 2 * vals[1] + vals[2]
            if np.isfinite(den) and den < 0:
                shift[a] += np.clip(0.5 * (vals[0] - vals[2]) / den, -0.5, 0.5)
    return shift


def refine_sphere(volume, centre, radius_nm, *, voxel_size, iterations=10, margin_nm=8.0,
                  tolerance=0.05, edge="steepest"):
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
        return p, fit_membrane(p, r, edge=edge)
    profile, fit = measure(c, radius)
    moves = 0
    for _ in range(int(iterations)):
        if not fit.valid:
            break
        radius = fit.radius
        shift = _recentre_shift(volume, c, profile, radius, spacing, margin_nm,
                                max_shift=np.maximum(2.0, 0.4 * radius / spacing))
        # far from the centre the averaged profile is blurred and its radius too small, and
        # the correlation can rest on the near side of the membrane: where the membrane seen
        # in separate directions says the centre is more than a voxel away, go there
        # (the first two moves: after them the centre is near)
        if moves < 2:
            coarse = _cone_shift(volume, c, max(radius, float(radius_nm)), spacing, margin_nm)
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


def _directions():
    """The 26 unit vectors to a voxel's neighbours (z, y, x)."""
    g = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
                  if (a, b, c) != (0, 0, 0)], float)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


_DIRECTIONS = _directions()


def _cone_shift(volume, centre, radius_nm, spacing, margin_nm):
    """Centre correction (voxels) from the membrane seen in 26 directions: in the cone around
    each direction the profile's minimum (the membrane's centre) is at ``rho + u . delta``
    for a sphere ``delta`` (nm) away; ``delta`` by least squares, each direction weighted by
    the depth of its minimum (directions the missing wedge blurs count little)."""
    c = np.asarray(centre, float)
    box = profile_box(volume.shape, c, radius_nm + margin_nm, spacing)
    if any(b.stop - b.start < 3 for b in box):
        return np.zeros(3)
    local = np.asarray([cc - b.start for cc, b in zip(c, box)])
    values = np.asarray(volume[box], np.float64)
    axes = [(np.arange(b.stop - b.start) - lc) * sp for b, lc, sp in zip(box, local, spacing)]
    vec = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    d = np.linalg.norm(vec, axis=1)
    lo, hi = 0.6 * radius_nm, min(1.4 * radius_nm, radius_nm + margin_nm)
    sel = (d >= lo) & (d <= hi)
    if sel.sum() < 100:
        return np.zeros(3)
    vec, d, v = vec[sel], d[sel], values.reshape(-1)[sel]
    cone = np.argmax(vec @ _DIRECTIONS.T / d[:, None], axis=1)
    step = 0.5 * float(min(spacing))
    nb = int(np.ceil((hi - lo) / step)) + 1
    idx = cone * nb + np.minimum(((d - lo) / step).astype(int), nb - 1)
    n = len(_DIRECTIONS) * nb
    counts = np.bincount(idx, minlength=n).reshape(-1, nb)
    sums = np.bincount(idx, v, minlength=n).reshape(-1, nb)
    rows, depth, where = [], [], []
    for k in range(len(_DIRECTIONS)):
        ok = counts[k] > 0
        if ok.sum() < 5:
            continue
        prof = np.interp(np.arange(nb), np.flatnonzero(ok), sums[k][ok] / counts[k][ok])
        prof = ndi.gaussian_filter1d(prof, 1.0, mode="nearest")
        i = int(np.argmin(prof))
        if i in (0, nb - 1):
            continue
        a, b, cc = prof[i - 1], prof[i], prof[i + 1]
        den = a - 2 * b + cc
        frac = 0.5 * (a - cc) / den if den > 0 else 0.0
        rows.append(k)
        where.append(lo + (i + np.clip(frac, -0.5, 0.5) + 0.5) * step)
        depth.append(max(0.0, float(np.median(prof) - b)))
    if len(rows) < 8 or sum(depth) <= 0:
        return np.zeros(3)
    u = _DIRECTIONS[rows]
    w = np.sqrt(np.asarray(depth))
    design = np.column_stack([np.ones(len(rows)), u]) * w[:, None]
    sol, *_ = np.linalg.lstsq(design, np.asarray(where) * w, rcond=None)
    return sol[1:] / spacing


def _correlations(profiles, fits):
    """Pearson correlation of every profile with the mean profile, aligned at the radius
    (distance minus radius, from -10 nm or the smallest radius to +6 nm)."""
    valid = [f.valid for f in fits]
    if not any(valid):
        return np.full(len(fits), np.nan)
    r_min = min(f.radius for f, v in zip(fits, valid) if v)
    step = float(profiles[0].distance[1] - profiles[0].distance[0])
    s = np.arange(-min(10.0, 0.8 * r_min), 6.0 + step / 2, step)
    rows = []
    for p, f in zip(profiles, fits):
        ok = np.isfinite(p.mean)
        if not f.valid or ok.sum() < 2:
            rows.append(np.full(len(s), np.nan))
        else:
            rows.append(np.interp(f.radius + s, p.distance[ok], p.mean[ok]))
    rows = np.asarray(rows)
    valid = np.asarray(valid)
    centred = rows - rows.mean(axis=1, keepdims=True)
    mean = np.nanmean(rows[valid], axis=0)
    mean = mean - mean.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(valid & (norms > 0), centred @ mean / norms, np.nan)
    return out


def mahalanobis_pvalues(features, *, reference=None, trim_p=0.01, rounds=2):
    """Squared Mahalanobis distances of feature vectors and their chi-squared p-values.

    Parameters
    ----------
    features : (n, k) ndarray
        One row per vesicle; rows with a NaN get NaN.
    reference : (n,) ndarray of bool, optional
        The rows the mean and covariance are estimated from (default all).
    trim_p : float, optional
        The mean and covariance are estimated again without the rows whose p-value is below
        this (``rounds`` times), so clear outliers do not set the scale they are judged by.
    rounds : int, optional

    Returns
    -------
    d2, p : (n,) ndarray
        ``D^2`` and ``1 - CDF_chi2(D^2, k)``.
    """
    from scipy.stats import chi2

    x = np.asarray(features, float)
    if x.ndim != 2:
        raise ValueError(f"features must be (n, k), got shape {x.shape}")
    n, k = x.shape
    d2 = np.full(n, np.nan)
    p = np.full(n, np.nan)
    good = np.all(np.isfinite(x), axis=1)
    if reference is None:
        reference = np.ones(n, bool)
    reference = np.asarray(reference, bool)
    if reference.shape != (n,):
        raise ValueError(f"reference must be one boolean per row ({n}), got shape "
                         f"{reference.shape}")
    use = good & reference
    if use.sum() <= k + 1:          # too few to estimate a covariance: nobody is an outlier
        d2[good], p[good] = 0.0, 1.0
        return d2, p
    for _ in range(int(rounds) + 1):
        mu = x[use].mean(axis=0)
        cov = np.cov(x[use], rowvar=False)
        inv = np.linalg.pinv(np.atleast_2d(cov))
        diff = x[good] - mu
        d2[good] = np.einsum("ij,jk,ik->i", diff, inv, diff)
        p[good] = chi2.sf(d2[good], k)
        trimmed = good & reference & (p >= trim_p)
        if trimmed.sum() <= k + 1 or np.array_equal(trimmed, use):
            break
        use = trimmed
    return d2, p


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


def draw_spheres(shape, centres, radii, voxel_size, *, dtype=np.int32):
    """Label image of spheres: voxel centres within ``radii[i]`` nm of ``centres[i]`` (voxels,
    sub-voxel) get label ``i + 1``; where spheres touch, the first keeps the voxel."""
    spacing = np.asarray(check_spacing(voxel_size, 3, "voxel_size"))
    out = np.zeros(tuple(int(s) for s in shape), dtype)
    for i, (c, r) in enumerate(zip(np.asarray(centres, float), np.asarray(radii, float))):
        if not r > 0:
            continue
        box = profile_box(out.shape, c, r, spacing)
        if any(b.stop <= b.start for b in box):
            continue
        local = [cc - b.start for cc, b in zip(c, box)]
        inside = distance_grid([b.stop - b.start for b in box], local, spacing) <= r
        view = out[box]
        view[inside & (view == 0)] = i + 1
    return out


def refine_spheres(volume, labels, *, voxel_size, mask=None, iterations=10, margin_nm=8.0,
                   tolerance=0.05, edge="steepest", refine_p=0.3, growth=10, remove_p=0.0,
                   workers=None, progress=None):
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
    iterations, margin_nm, tolerance, edge : optional
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
    progress : callable, optional
        ``progress(done, total)`` over the vesicles.

    Returns
    -------
    labels : (Z, Y, X) ndarray of int32
        The refined spheres, numbered 1..n in the order of ``spheres``.
    spheres : Spheres
    """
    volume = check_nd_array(volume, "volume", ndims=(3,), allow_bool=False)
    labels = check_label_array(labels, "labels", ndims=(3,))
    if labels.shape != volume.shape:
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
    settings = {"iterations": iterations, "margin_nm": margin_nm, "tolerance": tolerance,
                "edge": edge}
    ids, starts, radii0 = initial_spheres(labels, spacing)
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
            return out
        first = refine_all(range(total), margin_nm, report=True)
        results = [first[i] for i in range(total)]
        # vesicles cut by the tomogram's faces have partial profiles: they do not set the
        # mean and covariance the others are judged by, and are never removed as outliers
        touching = _touches_faces(labels, ids)
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
    drawn = draw_spheres(volume.shape, centres, np.where(cut, 0.0, radii), spacing)
    if cut.any():
        lut = np.zeros(int(labels.max()) + 1, np.int32)
        lut[ids[keep][cut]] = np.flatnonzero(cut) + 1
        for z in range(drawn.shape[0]):
            plane = lut[labels[z]]
            free = (plane > 0) & (drawn[z] == 0)
            drawn[z][free] = plane[free]
    spheres = Spheres(centres, radii, feats[keep].reshape(-1, len(FEATURES)), d2[keep], p[keep],
                      np.asarray([results[i][3] for i in keep], int), ids[keep], border[keep],
                      [results[i][2] for i in keep], [results[i][1] for i in keep], removed)
    return drawn, spheres


def _features(rows):
    """:data:`FEATURES` of refinement results ``(centre, fit, profile, moves)``; NaN rows
    where no membrane was found."""
    fits = [r[1] for r in rows]
    corr = _correlations([r[2] for r in rows], fits)
    return np.array([[f.radius, f.thickness, f.membrane_intensity, f.lumen_intensity, q]
                     if f.valid else [np.nan] * len(FEATURES)
                     for f, q in zip(fits, corr)], float).reshape(-1, len(FEATURES))


def _touches_faces(labels, ids):
    """Whether each segment of ``ids`` has voxels on a face of the volume."""
    boxes = ndi.find_objects(labels)
    out = np.zeros(len(ids), bool)
    for n, k in enumerate(ids):
        box = boxes[int(k) - 1]
        out[n] = any(b.start == 0 or b.stop == size for b, size in zip(box, labels.shape))
    return out


def _is_cut(centre, radius_nm, shape, spacing):
    """Whether a sphere reaches beyond the volume's faces."""
    reach = radius_nm / np.asarray(spacing)
    c = np.asarray(centre, float)
    return bool(np.any(c - reach < -0.5) or np.any(c + reach > np.asarray(shape) - 0.5))
