"""Synthetic cryo-electron tomograms of synapses with exact vesicle labels (pure NumPy/SciPy).

The physics, in the order a real tomogram gets it:

1. **Density**: synaptic vesicles as lipid-bilayer shells (two dense leaflets about 1.5 nm
   apart, outer diameter 30-60 nm, membrane 4-5 nm, lumen slightly denser than the cytosol) in
   a tightly packed cluster (some touching), a plasma membrane (a gently curved bilayer sheet),
   a few large non-spherical organelles with double membranes, a few large endosome-like
   vesicles and small cytosolic densities (ribosome-sized blobs); the vesicles pack around the
   organelles.
2. **Missing wedge**: tilt series of about +-60 degrees around the y axis leave no information
   in the Fourier wedge around the beam (z) direction, so membranes perpendicular to the beam
   fade and spheres stretch along z.
3. **Contrast transfer**: the phase-contrast transfer function of a 300 kV microscope at a few
   micrometres underfocus (dense matter dark, with the first fringe), applied in 3D on the
   in-plane frequency.
4. **Noise**: white noise through the same transfer function and wedge (so it is correlated as
   a reconstruction's noise is), at a low signal-to-noise ratio.

Labels are the vesicles' membranes and lumens (the region CryoVesNet labels), each vesicle's
centre and outer radius are returned exactly (sub-voxel), in z/y/x order.
"""

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["SyntheticTomogram", "synapse_tomogram", "ctf_1d"]


@dataclass(frozen=True)
class SyntheticTomogram:
    """A synthetic tomogram with its exact answer.

    Attributes
    ----------
    volume : (Z, Y, X) ndarray of float32
        Grey values, dense matter dark, zero mean, unit standard deviation.
    labels : (Z, Y, X) ndarray of int32
        Synaptic vesicles (membrane and lumen), numbered 1..n; 0 elsewhere (also for the
        plasma membrane, organelles, endosomes and densities, which are not vesicles).
    voxel_size : float
        Isotropic voxel size in nm.
    centres : (n, 3) ndarray of float
        Vesicle centres in voxels (z, y, x), row i for label i + 1.
    radii : (n,) ndarray of float
        Outer radii in nm (outer edge of the membrane).
    """

    volume: np.ndarray
    labels: np.ndarray
    voxel_size: float
    centres: np.ndarray
    radii: np.ndarray


def ctf_1d(frequency, *, defocus_um=4.0, voltage_kv=300.0, cs_mm=2.7, amplitude=0.07):
    """The phase-contrast transfer function at spatial ``frequency`` (1/nm), sign convention
    that makes dense matter dark at low frequency (negative values)."""
    volt = voltage_kv * 1e3
    wavelength = 12.2643 / np.sqrt(volt * (1 + 0.97848e-6 * volt)) * 0.1        # nm
    k2 = np.asarray(frequency, float) ** 2
    chi = np.pi * wavelength * (defocus_um * 1e3) * k2 - 0.5 * np.pi * (cs_mm * 1e6) \
        * wavelength ** 3 * k2 ** 2
    return -(np.sqrt(1 - amplitude ** 2) * np.sin(chi) + amplitude * np.cos(chi))


def _shell(d, radius, thickness, leaflet):
    """Density of a bilayer of outer radius ``radius`` at distance ``d`` from its centre: two
    Gaussian leaflets ``leaflet`` nm wide, ``thickness`` apart (outer edges)."""
    inner = radius - thickness + leaflet
    outer = radius - leaflet
    w = leaflet / 2.0
    return np.exp(-0.5 * ((d - outer) / w) ** 2) + np.exp(-0.5 * ((d - inner) / w) ** 2)


def _pack(rng, shape_nm, n, radius_nm, region, spacing_nm):
    """Vesicle centres (nm, z/y/x) and radii packed where ``region(centre, radius)`` allows,
    without overlap (touching allowed down to ``spacing_nm``)."""
    centres, radii = [], []
    tries = 0
    while len(centres) < n and tries < 200 * n:
        tries += 1
        r = rng.uniform(*radius_nm)
        c = rng.uniform(0, shape_nm)        # the tomogram's faces may cut vesicles, as real ones do
        if not region(c, r):
            continue
        if centres:
            dist = np.linalg.norm(np.asarray(centres) - c, axis=1)
            if np.any(dist < np.asarray(radii) + r + spacing_nm):
                continue
        centres.append(c)
        radii.append(r)
    return np.asarray(centres, float).reshape(-1, 3), np.asarray(radii, float)


def _check(shape, voxel_size, n_vesicles):
    if len(shape) != 3 or not all(isinstance(s, numbers.Integral) and s >= 16 for s in shape):
        raise ValueError(f"shape must be (z, y, x) of integers >= 16, got {shape}")
    if not (isinstance(voxel_size, numbers.Real) and 0.5 <= float(voxel_size) <= 10):
        raise ValueError(f"voxel_size must be 0.5-10 nm (cryo-ET), got {voxel_size!r}")
    if not (isinstance(n_vesicles, numbers.Integral) and n_vesicles >= 0):
        raise ValueError(f"n_vesicles must be a non-negative integer, got {n_vesicles!r}")
    return tuple(int(s) for s in shape), float(voxel_size)


def synapse_tomogram(shape=(64, 128, 128), *, voxel_size=2.2, n_vesicles=40,
                     diameter_nm=(30.0, 60.0), membrane_nm=4.5, tilt_deg=60.0, defocus_um=4.0,
                     snr=0.3, seed=0):
    """A synthetic synapse tomogram: a vesicle cluster near a plasma membrane, with distractors,
    missing wedge, CTF and correlated noise.

    Parameters
    ----------
    shape : (int, int, int)
        Tomogram size (z, y, x) in voxels.
    voxel_size : float, optional
        Isotropic voxel size in nm (cryo-ET: 1.5-3).
    n_vesicles : int, optional
        Vesicles to place (fewer when the cluster region is full).
    diameter_nm : (float, float), optional
        Range of outer vesicle diameters.
    membrane_nm : float, optional
        Bilayer thickness.
    tilt_deg : float, optional
        Largest tilt angle of the simulated tilt series (the missing wedge is beyond it).
    defocus_um : float, optional
        Underfocus of the transfer function.
    snr : float, optional
        Signal-to-noise ratio (variance of the filtered signal over that of the noise).
    seed : int, optional

    Returns
    -------
    SyntheticTomogram
    """
    shape, vs = _check(shape, voxel_size, n_vesicles)
    lo, hi = (float(v) for v in diameter_nm)
    if not 0 < lo <= hi:
        raise ValueError(f"diameter_nm must be (low, high) with 0 < low <= high, got {diameter_nm}")
    if not 0 < tilt_deg <= 90:
        raise ValueError(f"tilt_deg must be in (0, 90], got {tilt_deg}")
    if not snr > 0:
        raise ValueError(f"snr must be > 0, got {snr}")
    rng = np.random.default_rng(seed)
    size_nm = np.asarray(shape) * vs
    zz, yy, xx = (np.arange(n) * vs + vs / 2 for n in shape)    # voxel centres, nm
    Z, Y, X = np.meshgrid(zz, yy, xx, indexing="ij", sparse=True)
    density = np.zeros(shape, np.float32)
    leaflet = min(membrane_nm / 3.0, 2.0)

    # plasma membrane: a bilayer sheet across the volume near x = 85 %, gently curved
    x0 = 0.85 * size_nm[2] + 0.05 * size_nm[2] * np.sin(2 * np.pi * Y / size_nm[1] + rng.uniform(0, 6))
    half = membrane_nm / 2 - leaflet / 2          # leaflet centres either side of the midplane
    density += (np.exp(-0.5 * ((X - x0 - half) / (leaflet / 2)) ** 2)
                + np.exp(-0.5 * ((X - x0 + half) / (leaflet / 2)) ** 2)).astype(np.float32)

    # distractors first (endosome-like vesicles, double-membrane organelles; not labelled), so
    # that the vesicle cluster packs around them instead of through them
    blockers = []                                   # (centre nm, bounding radius nm)
    cap = 0.2 * min(size_nm)                        # distractors never fill a small field

    def place(bound):
        for _ in range(50):
            c = rng.uniform(0, size_nm)
            if all(np.linalg.norm(c - bc) > br + bound for bc, br in blockers):
                blockers.append((c, bound))
                return c
        return None
    endosomes, organelles = [], []
    for _ in range(rng.integers(0, 2) + (np.prod(size_nm) > 2e7)):
        r = min(rng.uniform(40, 60), cap)
        c = place(r)
        if c is not None:
            endosomes.append((c, r))
    for _ in range(rng.integers(0, 2) + (np.prod(size_nm) > 2e7)):
        axes = np.minimum(rng.uniform(30, 70, 3), 1.5 * cap)
        c = place(axes.max())
        if c is not None:
            organelles.append((c, axes))

    # the vesicle cluster: left of the plasma membrane, packed, a few touching
    def in_cluster(c, r):
        return c[2] + r < 0.78 * size_nm[2] and all(
            np.linalg.norm(c - bc) > br + r + 2.0 for bc, br in blockers)
    centres, radii = _pack(rng, size_nm, n_vesicles, (lo / 2, hi / 2), in_cluster,
                           spacing_nm=rng.uniform(0.0, 3.0))
    labels = np.zeros(shape, np.int32)
    for i, (c, r) in enumerate(zip(centres, radii), start=1):
        box = [slice(max(0, int((c[a] - r - 3) / vs)), min(shape[a], int((c[a] + r + 3) / vs) + 1))
               for a in range(3)]
        d = np.sqrt((Z[box[0]] - c[0]) ** 2 + (Y[:, box[1]] - c[1]) ** 2
                    + (X[..., box[2]] - c[2]) ** 2)
        density[tuple(box)] += _shell(d, r, membrane_nm, leaflet).astype(np.float32)
        inside = d <= r - membrane_nm
        density[tuple(box)] += np.where(inside, 0.15, 0.0).astype(np.float32)   # denser lumen
        region = labels[tuple(box)]
        region[(d <= r) & (region == 0)] = i
    free = labels == 0
    for c, r in endosomes:
        d = np.sqrt((Z - c[0]) ** 2 + (Y - c[1]) ** 2 + (X - c[2]) ** 2)
        density += 0.9 * _shell(d, r, membrane_nm, leaflet).astype(np.float32) * free
    for c, axes in organelles:
        d = np.sqrt(((Z - c[0]) / axes[0]) ** 2 + ((Y - c[1]) / axes[1]) ** 2
                    + ((X - c[2]) / axes[2]) ** 2) * axes.min()
        for gap in (0.0, 8.0):     # outer and inner membrane
            density += 0.8 * _shell(d, axes.min() - gap, membrane_nm, leaflet).astype(
                np.float32) * free
    # cytosolic densities (ribosome-sized blobs)
    for _ in range(int(np.prod(size_nm) / 4e5)):
        c = rng.uniform(0, size_nm)
        d2 = (Z - c[0]) ** 2 + (Y - c[1]) ** 2 + (X - c[2]) ** 2
        density += (0.6 * np.exp(-d2 / (2 * rng.uniform(3, 6) ** 2))).astype(np.float32) * free

    # imaging: missing wedge and CTF in Fourier space, then correlated noise through the same
    kz, ky, kx = np.meshgrid(*(np.fft.fftfreq(n, d=vs) for n in shape), indexing="ij",
                             sparse=True)
    k_inplane = np.sqrt(kx ** 2 + ky ** 2)
    # tilt about y: a beam direction tilted by t sees the (kz, kx) plane along angle t from kx
    angle = np.degrees(np.arctan2(np.abs(kz), np.abs(kx) + 1e-12))
    wedge = (angle <= tilt_deg) | ((kx == 0) & (kz == 0))
    transfer = ctf_1d(np.sqrt(k_inplane ** 2 + kz ** 2), defocus_um=defocus_um) * wedge
    signal = np.real(np.fft.ifftn(np.fft.fftn(density) * transfer))
    noise = np.real(np.fft.ifftn(np.fft.fftn(rng.standard_normal(shape)) * transfer))
    signal /= signal.std() or 1.0
    noise /= noise.std() or 1.0
    volume = signal + noise / np.sqrt(snr)
    volume = ((volume - volume.mean()) / volume.std()).astype(np.float32)
    return SyntheticTomogram(volume, labels, vs, centres / vs - 0.5, radii)
