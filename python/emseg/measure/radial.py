"""Radial profiles of vesicles in a tomogram and what CryoVesNet reads off them.

A synaptic vesicle is a dense (dark) lipid bilayer around a lumen. Averaged over all directions
around its centre, the tomogram's grey value as a function of the distance ``d`` is the
vesicle's radial profile: lumen, a minimum at the membrane's centre, then the bright Fresnel
fringe of the transfer function outside it. CryoVesNet (paper 001, "Segmentation refinement
using radial profile") takes the membrane centre ``d_m`` at the profile's minimum and the
radius, the outer edge of the membrane, at the minimum of the profile's second derivative
between ``d_m`` and the fringe; the membrane thickness is twice their distance. EMSeg takes
the edge, by default, where the profile rises most steeply in that range: for a membrane
blurred by the microscope's point spread the steepest point stays on the edge, while the
second derivative's minimum moves out with the blur.

Here the profile is binned finely (a quarter of a voxel by default) with linear weights from
the exact, sub-voxel centre, and both minima are located between bins by a parabola through
three points, so centres and radii are not rounded to whole voxels. Distances are in nm with
the voxel size per axis (z, y, x); centres are in voxels (voxel ``i``'s centre is at ``i``).
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .._validate import check_label_array, check_nd_array, check_spacing

__all__ = ["RadialProfile", "MembraneFit", "radial_profile", "fit_membrane", "profile_box",
           "distance_grid", "label_edge_offsets"]


@dataclass(frozen=True)
class RadialProfile:
    """The radial average of a volume around a point.

    Attributes
    ----------
    distance : (K,) ndarray
        Bin centres in nm (0, bin, 2 bin, ...).
    mean : (K,) ndarray
        Average grey value at that distance (NaN where no voxel contributes).
    weight : (K,) ndarray
        Summed linear weights (about the number of voxels per bin).
    """

    distance: np.ndarray
    mean: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class MembraneFit:
    """What a radial profile says about a vesicle (all lengths in nm).

    Attributes
    ----------
    radius : float
        Outer edge of the membrane: the minimum of the profile's second derivative between
        the membrane centre and the outer fringe.
    membrane_centre : float
        ``d_m``, the profile's minimum.
    thickness : float
        ``2 (radius - d_m)``.
    fringe : float
        Distance of the outer fringe (the first maximum outside the membrane, or the end of
        the search range when the profile has none).
    membrane_intensity : float
        Mean profile over ``[d_m - t/2, d_m + t/2]`` (weighted by voxels).
    lumen_intensity : float
        Mean profile inside ``d_m - t/2``.
    outside_intensity : float
        Mean profile from the radius to the fringe.
    valid : bool
        The profile has a membrane: a minimum inside the search range, darker than both the
        lumen and the outside.
    """

    radius: float
    membrane_centre: float
    thickness: float
    fringe: float
    membrane_intensity: float
    lumen_intensity: float
    outside_intensity: float
    valid: bool


def distance_grid(shape, centre, spacing):
    """Distances (nm) of the voxel centres of a box of ``shape`` from ``centre`` (voxels, in
    the box's coordinates) with per-axis ``spacing`` (nm)."""
    axes = [((np.arange(n) - c) * s) ** 2 for n, c, s in zip(shape, centre, spacing)]
    return np.sqrt(axes[0][:, None, None] + axes[1][None, :, None] + axes[2][None, None, :])


def profile_box(shape, centre, half_nm, spacing):
    """The box of a volume of ``shape`` that holds every voxel within ``half_nm`` of
    ``centre`` (voxels), clipped to the volume: a tuple of slices."""
    out = []
    for n, c, s in zip(shape, centre, spacing):
        h = half_nm / s
        out.append(slice(max(0, int(np.floor(c - h))), min(n, int(np.ceil(c + h)) + 1)))
    return tuple(out)


def radial_profile(volume, centre, *, voxel_size, max_radius_nm, bin_nm=None):
    """The radial average of ``volume`` around a sub-voxel ``centre``.

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
        The tomogram (any real dtype; a memory map is read only inside the box).
    centre : (float, float, float)
        Centre in voxels (z, y, x); voxel ``i``'s centre is at ``i``.
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    max_radius_nm : float
        Largest distance averaged.
    bin_nm : float, optional
        Bin width (default a quarter of the smallest voxel size).

    Returns
    -------
    RadialProfile
    """
    volume = check_nd_array(volume, "volume", ndims=(3,), allow_bool=False)
    spacing = check_spacing(voxel_size, 3, "voxel_size")
    centre = _check_centre(centre, volume.shape, max_radius_nm, spacing)
    if not (np.isfinite(max_radius_nm) and max_radius_nm > 0):
        raise ValueError(f"max_radius_nm must be a positive number, got {max_radius_nm!r}")
    bin_nm = min(spacing) / 4 if bin_nm is None else float(bin_nm)
    if not (np.isfinite(bin_nm) and 0 < bin_nm <= max_radius_nm):
        raise ValueError(f"bin_nm must be in (0, max_radius_nm], got {bin_nm!r}")
    box = profile_box(volume.shape, centre, max_radius_nm, spacing)
    local = [c - b.start for c, b in zip(centre, box)]
    values = np.asarray(volume[box], np.float64)
    d = distance_grid(values.shape, local, spacing)
    return _binned(d, values, max_radius_nm, bin_nm)


def _binned(d, values, max_radius_nm, bin_nm):
    """Linear-weight binning of ``values`` by distance ``d`` (both flattened)."""
    n = int(np.floor(max_radius_nm / bin_nm)) + 1
    inside = d <= max_radius_nm
    b = d[inside] / bin_nm
    v = values[inside]
    i0 = np.floor(b).astype(np.int64)
    w1 = b - i0
    i1 = np.minimum(i0 + 1, n - 1)
    weight = np.bincount(i0, 1 - w1, n + 1)[:n] + np.bincount(i1, w1, n + 1)[:n]
    total = np.bincount(i0, (1 - w1) * v, n + 1)[:n] + np.bincount(i1, w1 * v, n + 1)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(weight > 1e-9, total / weight, np.nan)
    return RadialProfile(np.arange(n) * bin_nm, mean, weight)


def _check_centre(centre, shape, max_radius_nm, spacing):
    # a vesicle cut by the tomogram's face has its centre outside: allowed while the
    # averaged ball still reaches into the volume
    c = np.asarray(centre, float)
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise ValueError(f"centre must be three finite numbers (z, y, x), got {centre!r}")
    reach = max_radius_nm / np.asarray(spacing)
    if np.any(c < -0.5 - reach) or np.any(c > np.asarray(shape) - 0.5 + reach):
        raise ValueError(f"centre {tuple(c)} is farther than max_radius_nm from the volume of "
                         f"shape {shape}")
    return c


def _parabola_min(y, i):
    """Sub-bin position of the extremum of a parabola through y[i-1], y[i], y[i+1]."""
    if i <= 0 or i >= len(y) - 1:
        return float(i)
    a, b, c = y[i - 1], y[i], y[i + 1]
    den = a - 2 * b + c
    if not np.isfinite(den) or abs(den) < 1e-12:
        return float(i)
    return float(i + np.clip(0.5 * (a - c) / den, -0.5, 0.5))


def fit_membrane(profile, radius_guess_nm, *, search=(0.5, 1.5), fringe_nm=None,
                 smooth_nm=None, edge="steepest", offset_nm=0.0):
    """Membrane centre, radius and thickness of a vesicle from its radial profile.

    Parameters
    ----------
    profile : RadialProfile
        From :func:`radial_profile` around the vesicle's centre.
    radius_guess_nm : float
        The current radius (e.g. from the segmentation); the membrane's minimum is searched
        in ``search`` times it.
    search : (float, float), optional
        Range of the membrane centre as fractions of ``radius_guess_nm``.
    fringe_nm : float, optional
        How far outside the membrane centre the outer fringe is looked for (default the
        larger of 8 nm and a third of the guess).
    smooth_nm : float, optional
        Gaussian smoothing of the profile before its minima and second derivative are taken
        (default two bins: noise otherwise dominates the second derivative).
    edge : {"steepest", "second_derivative"}, optional
        Where the radius is: the steepest rise of the profile from the membrane to the
        outside (default; where a blurred edge is, whatever the blur), or CryoVesNet's minimum
        of the second derivative (one blur width further out).
    offset_nm : float, optional
        Added to the edge the rule finds: where the labels a model was trained on put the
        membrane's outer edge relative to that rule (a labelling convention, measured by
        :func:`label_edge_offsets` and saved with the model). The radius stays within the
        membrane centre and the fringe.

    Returns
    -------
    MembraneFit
    """
    if not isinstance(profile, RadialProfile):
        raise TypeError("profile must be a RadialProfile (from radial_profile)")
    if edge not in ("second_derivative", "steepest"):
        raise ValueError(f"edge must be 'second_derivative' or 'steepest', got {edge!r}")
    if not (np.isfinite(radius_guess_nm) and radius_guess_nm > 0):
        raise ValueError(f"radius_guess_nm must be a positive number, got {radius_guess_nm!r}")
    if not np.isfinite(offset_nm):
        raise ValueError(f"offset_nm must be a finite number, got {offset_nm!r}")
    lo_f, hi_f = (float(v) for v in search)
    if not 0 <= lo_f < hi_f:
        raise ValueError(f"search must be (low, high) with 0 <= low < high, got {search!r}")
    d, w = profile.distance, profile.weight
    step = float(d[1] - d[0]) if len(d) > 1 else 1.0
    y = _filled(profile.mean)
    sigma = (2 * step if smooth_nm is None else float(smooth_nm)) / step
    ys = ndi.gaussian_filter1d(y, sigma, mode="nearest") if sigma > 0 else y
    fringe_nm = max(8.0, radius_guess_nm / 3) if fringe_nm is None else float(fringe_nm)
    nan = float("nan")
    lo = int(np.ceil(lo_f * radius_guess_nm / step))
    hi = min(len(d) - 2, int(np.floor(hi_f * radius_guess_nm / step)))
    if hi - lo < 2:
        return MembraneFit(nan, nan, nan, nan, nan, nan, nan, False)
    im = lo + int(np.argmin(ys[lo:hi + 1]))
    d_m = _parabola_min(ys, im) * step
    # the outer fringe: the first maximum outside the membrane that rises at least half-way
    # from the membrane's minimum to the range's brightest value (not a bump of noise), else
    # the range's brightest bin
    end = min(len(d) - 1, im + int(np.ceil(fringe_nm / step)))
    seg = ys[im:end + 1]
    peaks = np.flatnonzero((seg[1:-1] >= seg[:-2]) & (seg[1:-1] > seg[2:])) + 1
    peaks = peaks[seg[peaks] >= seg[0] + 0.5 * (seg.max() - seg[0])]
    ifr = im + (int(peaks[0]) if len(peaks) else int(np.argmax(seg)))
    if ifr - im < 2:
        return MembraneFit(nan, d_m, nan, ifr * step, nan, nan, nan, False)
    if edge == "second_derivative":
        curve = np.gradient(np.gradient(ys, step), step)
    else:                       # steepest rise: the edge of the blurred membrane
        curve = -np.gradient(ys, step)
    ir = im + 1 + int(np.argmin(curve[im + 1:ifr + 1]))
    radius = _parabola_min(curve, ir) * step if ir < ifr else ir * step
    radius = float(np.clip(radius + offset_nm, d_m, ifr * step))
    t = 2 * (radius - d_m)

    def mean_between(a, b):
        sel = (d >= a) & (d <= b) & (w > 0)
        return float(np.average(profile.mean[sel], weights=w[sel])) if sel.any() else nan
    membrane = mean_between(d_m - t / 2, d_m + t / 2)
    lumen = mean_between(0, d_m - t / 2)
    outside = mean_between(radius, ifr * step)
    valid = bool(lo < im < hi and np.isfinite(membrane) and membrane < lumen
                 and membrane < outside and t > 0)
    return MembraneFit(float(radius), float(d_m), float(t), float(ifr * step), membrane, lumen,
                       outside, valid)


def label_edge_offsets(volume, labels, *, voxel_size, edge="steepest"):
    """Where labelled vesicles put their outer edge, relative to a profile's edge rule.

    The outer edge of a blurred membrane is a convention: annotators and simulators place
    it a fraction of a membrane apart, and a network learns the one of its training labels.
    For every labelled vesicle not cut by the volume's faces, this compares its radius in
    the labels (the radius of the ball of equal volume) with the edge :func:`fit_membrane`
    finds around the label's centroid. Their median, measured on a model's validation data
    and saved with the model, makes the sphere refinement keep the model's convention.

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
        The tomogram (membranes dark).
    labels : (Z, Y, X) ndarray of int
        The vesicles, labelled as the training data is (a ball, membrane and lumen, each).
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    edge : {"steepest", "second_derivative"}, optional
        The rule of :func:`fit_membrane`.

    Returns
    -------
    ids : (n,) ndarray of int
        The labels measured.
    offsets : (n,) ndarray of float
        Label radius minus the rule's edge, nm (NaN where the profile shows no membrane).
    """
    volume = check_nd_array(volume, "volume", ndims=(3,), allow_bool=False)
    labels = check_label_array(labels, "labels", ndims=(3,))
    if labels.shape != volume.shape:
        raise ValueError(f"labels shape {labels.shape} differs from the volume's {volume.shape}")
    spacing = check_spacing(voxel_size, 3, "voxel_size")
    if edge not in ("second_derivative", "steepest"):
        raise ValueError(f"edge must be 'second_derivative' or 'steepest', got {edge!r}")
    ids, offsets = [], []
    for k, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None or any(b.start == 0 or b.stop == n for b, n in zip(box, labels.shape)):
            continue
        inside = np.argwhere(labels[box] == k)
        centre = inside.mean(axis=0) + [b.start for b in box]
        radius = float(np.cbrt(3 * len(inside) * np.prod(spacing) / (4 * np.pi)))
        try:
            p = radial_profile(volume, centre, voxel_size=spacing,
                               max_radius_nm=1.5 * radius + 8.0)
        except ValueError:          # too small a ball for a profile
            continue
        fit = fit_membrane(p, radius, edge=edge)
        ids.append(k)
        offsets.append(radius - fit.radius if fit.valid else np.nan)
    return np.asarray(ids, int), np.asarray(offsets, float)


def _filled(y):
    """The profile with NaN bins (no voxel) filled from their neighbours."""
    y = np.asarray(y, float)
    bad = ~np.isfinite(y)
    if bad.all():
        return np.zeros_like(y)
    if bad.any():
        idx = np.arange(len(y))
        y = y.copy()
        y[bad] = np.interp(idx[bad], idx[~bad], y[~bad])
    return y
