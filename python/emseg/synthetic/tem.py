"""Negative-stain TEM images of extracellular vesicles with exact labels (pure NumPy/SciPy).

The physics, in the order a real micrograph gets it (FRU-Net's paper 000 and the negative-stain
literature it cites):

1. **Stain**: a heavy-metal stain (ammonium molybdate, uranyl acetate) dries around what
   lies on the carbon film; the image is dark where the stain is thick. The film's stain layer
   varies smoothly in thickness and is, depending on the preparation, smooth or coarse and
   grainy.
2. **Vesicles** (sEVs, 30-200 nm) exclude stain from their body, which looks lighter, and
   collapse into cups while drying: the stain pools in the cup (interior darker than the
   background, one side deeper than the other) or hardly enters it (lighter interior). Their
   membrane is a thin bright line at the edge, and stain pools around them in a dark halo.
   They lie singly or in clusters of touching vesicles, slightly irregular ellipses.
3. **Debris that is not a vesicle** (unlabelled): stain precipitate (clusters of dense grains),
   protein aggregates (irregular stain-excluding blobs with a dark rim), membrane fragments
   (open arcs of membrane with their halo) and particles too small to be sEVs (lipoproteins,
   8-22 nm).
4. **Imaging**: transmission ``exp(-mu * stain)``, uneven illumination, a slight blur, shot
   noise, and a 16-bit detector with its own offset and gain.

Labels: every vesicle out to the outer edge of its membrane, numbered 1..n; where vesicles
touch, each pixel goes to the vesicle whose outline it is deepest inside. Sizes are in nm,
so the same call at another ``pixel_size`` draws the same sample at another magnification.
"""

import numbers

import numpy as np
from scipy import ndimage as ndi

from .._validate import check_positive
from .base import SyntheticImage, _check_shape, _keep_largest_pieces, _range
from .noise import perlin_noise

__all__ = ["tem_vesicles", "TEM_CONTRASTS", "TEM_BACKGROUNDS"]

#: How a vesicle's interior looks against the background.
TEM_CONTRASTS = ("dark", "light", "mixed")
#: The stain layer of the film.
TEM_BACKGROUNDS = ("smooth", "grainy")


def tem_vesicles(shape=(512, 512), *, pixel_size=1.5, diameter_nm=(30.0, 200.0), n_vesicles=20,
                 contrast="mixed", background="grainy", cluster_fraction=0.3, debris=1.0,
                 illumination=0.25, counts=400.0, seed=0):
    """A negative-stain TEM image of extracellular vesicles, 16-bit, with exact labels.

    Parameters
    ----------
    shape : (int, int), optional
        Rows, columns.
    pixel_size : float, optional
        nm per pixel (the paper's images: 0.26-2.42).
    diameter_nm : (float, float), optional
        Range of vesicle diameters (drawn log-uniformly: small vesicles are the common ones).
    n_vesicles : int, optional
        Vesicles to place (fewer when the field is full).
    contrast : {"dark", "light", "mixed"}, optional
        Stain pooled in the cups (interiors darker than the background), hardly any (lighter),
        or either per vesicle.
    background : {"smooth", "grainy"}, optional
        The film's stain layer.
    cluster_fraction : float, optional
        Fraction of the vesicles placed touching another one, [0, 1].
    debris : float, optional
        Amount of non-vesicle structures relative to the default (0: none).
    illumination : float, optional
        Relative unevenness of the illumination, [0, 1).
    counts : float, optional
        Mean electrons per pixel in the background (shot noise; fewer is noisier).
    seed : int, optional

    Returns
    -------
    SyntheticImage
        ``image`` is uint16.
    """
    rows, cols = _check_shape(shape)
    px = check_positive(pixel_size, "pixel_size")
    if not 0.05 <= px <= 20:
        raise ValueError(f"pixel_size must be 0.05-20 nm (TEM of vesicles), got {pixel_size!r}")
    dlo, dhi = _range(diameter_nm, "diameter_nm")
    if not isinstance(n_vesicles, numbers.Integral) or n_vesicles < 0:
        raise ValueError(f"n_vesicles must be a non-negative integer, got {n_vesicles!r}")
    if contrast not in TEM_CONTRASTS:
        raise ValueError(f"contrast must be one of {', '.join(TEM_CONTRASTS)}, got {contrast!r}")
    if background not in TEM_BACKGROUNDS:
        raise ValueError(f"background must be one of {', '.join(TEM_BACKGROUNDS)}, "
                         f"got {background!r}")
    for value, name, hi in ((cluster_fraction, "cluster_fraction", 1.0),
                            (illumination, "illumination", 0.99)):
        if not (isinstance(value, numbers.Real) and 0 <= value <= hi):
            raise ValueError(f"{name} must be in [0, {hi:g}], got {value!r}")
    if not (isinstance(debris, numbers.Real) and 0 <= debris <= 10):
        raise ValueError(f"debris must be in [0, 10], got {debris!r}")
    counts = check_positive(counts, "counts")
    rng = np.random.default_rng(seed)

    def noise(scale_nm, octaves=1):
        return perlin_noise((rows, cols), max(scale_nm / px, 2.0), octaves=octaves,
                            seed=int(rng.integers(2 ** 31)))

    # 1. the film's stain layer
    stain = 1.0 + 0.15 * noise(400.0, 2)
    if background == "grainy":
        grain = ndi.gaussian_filter(rng.standard_normal((rows, cols)), max(1.2 / px, 0.5))
        stain += 0.25 * noise(12.0, 3) + 0.6 * grain / (grain.std() + 1e-9) * 0.25
    else:
        stain += 0.04 * noise(30.0, 2)

    # 2. vesicles: outlines first (who owns which pixel), then their stain
    ves = _place_vesicles(rng, rows, cols, px, dlo, dhi, int(n_vesicles), cluster_fraction,
                           contrast)
    rho_min = np.full((rows, cols), np.inf, np.float32)
    owner = np.zeros((rows, cols), np.int32)
    cup = np.zeros((rows, cols), np.float32)
    for k, v in enumerate(ves, start=1):
        reach = v["a"] * 1.45 + 4 * v["halo"] / px
        box = (slice(max(0, int(v["r"] - reach)), min(rows, int(v["r"] + reach) + 2)),
               slice(max(0, int(v["c"] - reach)), min(cols, int(v["c"] + reach) + 2)))
        if box[0].stop <= box[0].start or box[1].stop <= box[1].start:
            continue
        yy, xx = np.mgrid[box].astype(np.float32)
        u = (xx - v["c"]) * v["cos"] + (yy - v["r"]) * v["sin"]
        w = -(xx - v["c"]) * v["sin"] + (yy - v["r"]) * v["cos"]
        phi = np.arctan2(w, u)
        wobble = 1 + sum(amp * np.cos(n * phi + ph) for n, amp, ph in v["wobble"])
        rho = np.sqrt((u / v["a"]) ** 2 + (w / v["b"]) ** 2) / wobble
        # the collapsed cup: a bowl whose deepest point is off-centre
        q = np.sqrt(((u / v["a"]) - v["cup_off"][0]) ** 2 + ((w / v["b"]) - v["cup_off"][1]) ** 2)
        bowl = np.clip(1 - (q / 0.8) ** 2, 0, 1)
        view = rho_min[box]
        mine = rho < view
        view[mine] = rho[mine]
        owner[box][mine] = k
        cup[box][mine] = bowl[mine]
    par = {key: np.array([0.0] + [v[key] for v in ves], np.float32)
           for key in ("exclude", "pool", "membrane", "halo_depth", "halo", "a")}
    radius_px = par["a"][owner]
    # distance outside the outline, nm (about: the outline's radius times rho - 1)
    out_nm = np.where(owner > 0, (np.minimum(rho_min, 1e3) - 1) * radius_px * px, 1e6)
    edge = 1 / (1 + np.exp(np.clip(out_nm / 0.8, -50, 50)))            # 1 inside, 1.6 nm ramp
    stain = stain * (1 - par["exclude"][owner] * edge)
    stain += par["pool"][owner] * cup * edge
    stain -= par["membrane"][owner] * np.exp(-0.5 * ((out_nm + 2.0) / 1.8) ** 2)
    halo = np.exp(-np.clip(out_nm, 0, None) / np.maximum(par["halo"][owner], 1e-3))
    stain += par["halo_depth"][owner] * halo * (1 - edge)
    labels = np.where(rho_min <= 1, owner, 0).astype(np.int32)

    # 3. debris, away from the vesicles' bodies
    free = labels == 0
    stain = _add_debris(stain, free, rng, px, debris)

    # 4. imaging
    mu = rng.uniform(0.8, 1.3)
    light = 1 + illumination * (0.6 * noise(1500.0) + 0.4 * _vignette(rows, cols, rng))
    intensity = light * np.exp(-mu * stain) / np.exp(-mu)
    intensity = ndi.gaussian_filter(intensity, max(0.8 / px, 0.4))
    electrons = rng.poisson(np.clip(intensity, 0, None) * counts).astype(np.float64)
    gain = rng.uniform(6000, 16000) / counts            # background level; bodies up to ~3x
    image = rng.uniform(200, 3000) + gain * electrons + rng.normal(0, 2 * gain, (rows, cols))
    return SyntheticImage(np.clip(np.round(image), 0, 65535).astype(np.uint16),
                          _keep_largest_pieces(labels, len(ves)), px)


def _place_vesicles(rng, rows, cols, px, dlo, dhi, n, cluster_fraction, contrast):
    """Vesicle parameters (pixels for positions and axes), singly or touching another."""
    ves = []
    tries = 0
    while len(ves) < n and tries < 60 * max(n, 1):
        tries += 1
        d_nm = float(np.exp(rng.uniform(np.log(dlo), np.log(dhi))))
        a = d_nm / 2 / px
        b = a * rng.uniform(0.8, 1.0)
        size = np.sqrt(a * b)
        partner = None
        if ves and rng.uniform() < cluster_fraction:
            partner = int(rng.integers(len(ves)))
            p = ves[partner]
            ang = rng.uniform(0, 2 * np.pi)
            # touching: centre distance a little below the sum of the radii (they flatten)
            dist = (np.sqrt(p["a"] * p["b"]) + size) * rng.uniform(0.93, 0.99)
            r, c = p["r"] + dist * np.sin(ang), p["c"] + dist * np.cos(ang)
        else:
            r, c = rng.uniform(-0.05 * rows, 1.05 * rows), rng.uniform(-0.05 * cols, 1.05 * cols)
        if any(np.hypot(r - v["r"], c - v["c"]) < (size + np.sqrt(v["a"] * v["b"])) * 1.05
               for i, v in enumerate(ves) if i != partner):
            continue
        theta = rng.uniform(0, np.pi)
        # both looks are drawn, so that the layout does not depend on the contrast chosen
        coin = rng.uniform() < 0.5
        looks = {True: (rng.uniform(0.25, 0.55), rng.uniform(0.7, 1.6)),       # stain in the cup
                 False: (rng.uniform(0.45, 0.8), rng.uniform(0.0, 0.25))}      # hardly any
        dark = {"dark": True, "light": False, "mixed": coin}[contrast]
        ves.append({
            "r": r, "c": c, "a": a, "b": b, "cos": np.cos(theta), "sin": np.sin(theta),
            "wobble": [(k, rng.uniform(0, 0.04), rng.uniform(0, 2 * np.pi)) for k in (2, 3, 4)],
            "cup_off": rng.uniform(-0.25, 0.25, 2),
            "exclude": looks[dark][0], "pool": looks[dark][1],
            "membrane": rng.uniform(0.25, 0.6),
            "halo_depth": rng.uniform(0.3, 1.0),
            "halo": rng.uniform(3.0, 12.0),          # nm
        })
    return ves


def _add_debris(stain, free, rng, px, amount):
    """Stain precipitate, protein aggregates, membrane fragments and small particles."""
    rows, cols = stain.shape
    area_um2 = rows * cols * (px / 1000) ** 2

    def disc(r0, c0, reach):
        """The box within ``reach`` pixels of a point, and the distances in it."""
        box = (slice(max(0, int(r0 - reach - 2)), min(rows, int(r0 + reach + 3))),
               slice(max(0, int(c0 - reach - 2)), min(cols, int(c0 + reach + 3))))
        if box[0].stop <= box[0].start or box[1].stop <= box[1].start:
            return box, None
        yy, xx = np.mgrid[box].astype(np.float32)
        return box, np.hypot(yy - r0, xx - c0)

    def count(per_um2):
        return int(rng.poisson(amount * per_um2 * area_um2))

    # precipitate: clusters of dense grains
    for _ in range(count(6.0)):
        r0, c0 = rng.uniform(0, rows), rng.uniform(0, cols)
        spread = rng.uniform(10, 60) / px
        for _ in range(int(rng.integers(3, 30))):
            gr, gc = r0 + rng.normal(0, spread), c0 + rng.normal(0, spread)
            rad = rng.uniform(1.0, 5.0) / px
            box, d = disc(gr, gc, rad + 2)
            if d is None:
                continue
            stain[box] += rng.uniform(1.0, 2.5) / (1 + np.exp(np.clip((d - rad) / 0.6, -50, 50)))
    # protein aggregates: irregular stain-excluding blobs with a dark rim
    for _ in range(count(3.0)):
        size = rng.uniform(20, 160) / px
        r0, c0 = rng.uniform(0, rows), rng.uniform(0, cols)
        box, d = disc(r0, c0, size * 1.3)
        if d is None:
            continue
        shape = perlin_noise(d.shape, max(size / 2, 2.0), octaves=2,
                             seed=int(rng.integers(2 ** 31)))
        blob = (shape + 0.9 * (1 - d / size)) > 0.45
        blob = ndi.binary_opening(blob, iterations=1) & free[box]
        if not blob.any():
            continue
        inside = ndi.gaussian_filter(blob.astype(np.float32), 0.8)
        rim = ndi.gaussian_filter(blob.astype(np.float32), 3.0 / px + 0.5) - inside
        texture = 1 + 0.3 * perlin_noise(d.shape, max(4.0 / px, 2.0),
                                         seed=int(rng.integers(2 ** 31)))
        stain[box] = stain[box] * (1 - rng.uniform(0.3, 0.7) * inside * texture) \
            + rng.uniform(0.5, 1.2) * np.clip(rim, 0, None) * 3
    # membrane fragments: open arcs with their halo
    for _ in range(count(2.0)):
        radius = rng.uniform(20, 90) / px
        r0, c0 = rng.uniform(0, rows), rng.uniform(0, cols)
        box, d = disc(r0, c0, radius + 12 / px)
        if d is None:
            continue
        yy, xx = np.mgrid[box].astype(np.float32)
        ang = np.arctan2(yy - r0, xx - c0)
        start, extent = rng.uniform(-np.pi, np.pi), rng.uniform(0.6, 2.6)
        on_arc = np.mod(ang - start, 2 * np.pi) < extent
        off_nm = (d - radius) * px
        line = np.exp(-0.5 * (off_nm / 1.8) ** 2) * on_arc
        halo = np.exp(-np.abs(off_nm) / 5.0) * on_arc
        stain[box] += (0.7 * halo - 0.5 * line) * free[box]
    # particles too small to be sEVs (lipoproteins): light discs with a dark halo
    for _ in range(count(12.0)):
        r0, c0 = rng.uniform(0, rows), rng.uniform(0, cols)
        radius = rng.uniform(4, 11) / px
        box, d = disc(r0, c0, radius + 8 / px)
        if d is None:
            continue
        out_nm = (d - radius) * px
        body = 1 / (1 + np.exp(np.clip(out_nm / 0.8, -50, 50)))
        stain[box] = stain[box] * (1 - 0.5 * body * free[box]) \
            + 0.6 * np.exp(-np.clip(out_nm, 0, None) / 3.0) * (1 - body) * free[box]
    return stain


def _vignette(rows, cols, rng):
    """A radial fall-off of the beam around an off-centre point, in [-1, 1]."""
    r0, c0 = rng.uniform(0.2, 0.8) * rows, rng.uniform(0.2, 0.8) * cols
    yy, xx = np.ogrid[:rows, :cols]
    d = np.hypot((yy - r0) / rows, (xx - c0) / cols)
    return (1 - 2 * d / max(d.max(), 1e-9)).astype(np.float32)
