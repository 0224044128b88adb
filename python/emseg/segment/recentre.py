"""Moving a vesicle's centre onto the tomogram (steps of :func:`emseg.segment.refine_sphere`).

- :func:`correlation_shift`: CryoVesNet's re-centring, the peak of the cross-correlation of the
  back-projected radial profile with the tomogram, interpolated between voxels;
- :func:`cone_shift`: a coarse step from the membrane seen in 26 directions, for a start far
  from the centre (where the averaged profile is blurred and the correlation can rest on the
  near side of the membrane).

Centres in voxels (z, y, x), lengths in nm, ``spacing`` the voxel size per axis.
"""

import numpy as np
from scipy import fft as sfft
from scipy import ndimage as ndi

from ..measure.radial import distance_grid, profile_box

__all__ = ["correlation_shift", "cone_shift"]


def correlation_shift(volume, centre, profile, radius_nm, spacing, margin_nm, max_shift):
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


def _directions():
    """The 26 unit vectors to a voxel's neighbours (z, y, x)."""
    g = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
                  if (a, b, c) != (0, 0, 0)], float)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


_DIRECTIONS = _directions()


def cone_shift(volume, centre, radius_nm, spacing, margin_nm):
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
