"""Particle measurements identical to ImageJ's Analyze Particles.

Every value equals what ImageJ 1.53t reports when each label is measured alone
(threshold ``v..v``, holes excluded), under the same column names and in the
same calibrated units. The sequential parts (outline tracing, perimeter, convex
hull, Feret, ellipse) live in the compiled ``_kernels`` module (Numba).
"""

import math

import numpy as np
import pandas as pd

from . import _kernels as _k
from . import _runs
from .._validate import (check_2d_array, check_choice, check_labels, check_pixel_size,
                         is_binary_mask)

__all__ = ["measure", "summarize", "MEASUREMENT_COLUMNS", "NUMERIC_COLUMNS", "INTENSITY_COLUMNS"]

#: Shape columns, in ImageJ's ResultsTable order, plus EMSeg's ECD and Border.
MEASUREMENT_COLUMNS = (
    "Label", "Area", "X", "Y", "Perim.", "BX", "BY", "Width", "Height",
    "Major", "Minor", "Angle", "Circ.", "Feret", "FeretX", "FeretY",
    "FeretAngle", "MinFeret", "AR", "Round", "Solidity", "ECD", "Border",
)
#: Shape columns that hold a number per particle (all but Label and Border).
NUMERIC_COLUMNS = tuple(c for c in MEASUREMENT_COLUMNS if c not in ("Label", "Border"))
#: Shape columns without a length unit: ratios and angles (Fiji's Display.UNITLESS too).
UNITLESS_COLUMNS = ("Circ.", "AR", "Round", "Solidity", "Angle", "FeretAngle")
#: Columns added when an intensity image is given (ImageJ's names).
INTENSITY_COLUMNS = ("Mean", "StdDev", "Min", "Max", "Median")


def _components(labels, connectivity):
    """Split ``labels`` into connected particles.

    Returns ``(comp, n, label_of_comp_or_None, stats)``, ``stats`` as
    :func:`emseg.measure._runs.label_mask` gives them.  A boolean array, or an
    integer array whose only non-zero value is 1, 255 or the dtype's maximum,
    is a binary mask: its
    components (4- or 8-connected) become the particles, numbered in raster
    order.  Otherwise each label is one particle, and a label made of several
    8-connected pieces gives one particle per piece, as ImageJ would report.
    """
    from skimage.measure import label as sk_label

    if is_binary_mask(labels):
        comp, n, stats = _runs.label_mask(labels if labels.dtype == bool else labels != 0,
                                          connectivity)
        return comp, n, None, stats
    comp, n = sk_label(labels, connectivity=2, background=0, return_num=True)
    comp = np.ascontiguousarray(comp, dtype=np.int32)
    count, bx, by, bw, bh, sx, sy = _k.component_stats(comp, n)
    return comp, n, labels, (count, bx, by, bw, bh, sx, sy, _k.moment_sums(comp, n, bx, by))


_POOL = []


def _geometry(comp, n, stats, pw, ph):
    """:func:`_kernels.particle_geometry` of all components, in ranges of about equal pixel
    counts measured by threads at once (``NUMBA_NUM_THREADS`` of them: one in a Dask
    worker) when there are enough particles to pay for it."""
    import numba

    count, bx, by, bw, bh, sx, sy, sums = stats
    out = np.zeros((n + 1, _k.N_GEOMETRY), np.float64)
    threads = max(1, min(int(numba.config.NUMBA_NUM_THREADS), n // 16))
    if threads == 1:
        _k.particle_geometry(comp, 1, n + 1, count, bx, by, bw, bh, sx, sy, sums, pw, ph, out)
        return out
    if not _POOL or _POOL[0][0] < threads:
        from concurrent.futures import ThreadPoolExecutor
        _POOL[:] = [(threads, ThreadPoolExecutor(threads, thread_name_prefix="emseg-measure"))]
    # split where the cumulative pixel count crosses equal shares (work ~ outline + pixels)
    cum = np.cumsum(count[1:])
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, threads) / threads) + 1
    bounds = np.concatenate([[1], cuts, [n + 1]])
    jobs = [_POOL[0][1].submit(_k.particle_geometry, comp, int(a), int(b), count, bx, by, bw,
                               bh, sx, sy, sums, pw, ph, out)
            for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    for job in jobs:
        job.result()
    return out


def measure(labels, image=None, *, pixel_size=None, connectivity=8, unit=None, origin=None,
            image_shape=None):
    """Measure every particle of a label image or binary mask as ImageJ does.

    Parameters
    ----------
    labels : (M, N) ndarray of int or bool
        Label image (0 = background, each positive value one particle) or a
        binary mask (boolean, or integers whose only non-zero value is 1, 255
        or the dtype's maximum), which is first split into connected
        components.
    image : (M, N) ndarray, optional
        Intensity image; adds Mean, StdDev, Min, Max and Median.
    pixel_size : float or (float, float), optional
        Pixel width and height (along columns, along rows) in nm, as ImageJ's
        ``pixelWidth``/``pixelHeight``. None measures in pixels.
    connectivity : {8, 4}, optional
        Connectivity used to split a binary mask (8 is ImageJ's default).
        Ignored for label images.
    unit : str, optional
        Length unit recorded in ``table.attrs["unit"]``; defaults to "nm" when
        ``pixel_size`` is given, else "pixel".
    origin : (int, int), optional
        ``labels`` (and ``image``) are a crop whose first pixel is at (row, column)
        ``origin`` of a larger image: positions (X, Y, BX, BY, FeretX, FeretY) are given in
        that image, with the same values as measuring it whole (chunked segmentation).
    image_shape : (int, int), optional
        The larger image's shape, for ``Border`` (default: ``labels``' own).

    Returns
    -------
    table : pandas.DataFrame
        One row per particle, ordered by label then raster position, with the
        columns of ImageJ's ResultsTable (``MEASUREMENT_COLUMNS``; see
        ImageJ's documentation for each), plus ``ECD`` = 2*sqrt(Area/pi) and
        ``Border`` (True when the particle touches the image edge).
        Lengths are in ``unit``, areas in ``unit``^2; X, Y, BX, BY are
        calibrated, FeretX, FeretY, Angle and Solidity are not (as in ImageJ).

    Examples
    --------
    >>> import numpy as np
    >>> disc = np.hypot(*np.mgrid[-20:21, -20:21]) <= 15
    >>> t = measure(disc, pixel_size=2.0)
    >>> round(float(t["ECD"].iloc[0]) / 2, 1)   # radius in nm
    30.0
    """
    labels = check_labels(labels)
    check_choice(connectivity, (4, 8), "connectivity")
    if image is not None:
        image = check_2d_array(image, "image")
        if image.shape != labels.shape:
            raise ValueError(
                f"image shape {image.shape} differs from labels shape {labels.shape}")
    calibrated = pixel_size is not None
    pw, ph = check_pixel_size(pixel_size)
    if unit is None:
        unit = "nm" if calibrated else "pixel"

    oy, ox = _origin(origin)
    height, width = labels.shape if image_shape is None else _shape(image_shape, labels, oy, ox)

    comp, n, label_values, stats = _components(labels, connectivity)
    count, bx, by, bw, bh, sx, sy, _ = stats
    geo = _geometry(comp, n, stats, pw, ph)
    if ox or oy:
        # the kernels work in the crop's frame: differences of integer coordinates, so shifted
        # positions are exactly those of the whole image
        geo[:, _k.G_FERET_X] += ox
        geo[:, _k.G_FERET_Y] += oy

    ids = np.arange(1, n + 1)
    if label_values is None:
        lab = ids.astype(np.int64)
        order = slice(None)             # already in raster order
    else:
        lab = label_values[sy[1:], sx[1:]].astype(np.int64)
        order = np.lexsort((ids, lab))  # by label, then raster order
    g = geo[1:]
    cnt = count[1:].astype(np.float64)
    area = cnt * pw * ph
    perim = (g[:, _k.G_PERIM_SUMDX] * pw + g[:, _k.G_PERIM_SUMDY] * ph
             - g[:, _k.G_PERIM_CORNERS] * ((pw + ph) - math.sqrt(pw * pw + ph * ph)))
    # ImageJ scales the ellipse only for (nearly) square pixels, else gives 0.
    psize = pw if abs(pw - ph) / pw < 0.01 else 0.0
    major = g[:, _k.G_MAJOR] * psize
    minor = g[:, _k.G_MINOR] * psize
    with np.errstate(divide="ignore", invalid="ignore"):
        circ = np.where(perim == 0, 0.0, 4.0 * math.pi * area / (perim * perim))
        circ = np.minimum(circ, 1.0)
        ar = major / minor
        rnd = 4.0 * area / (math.pi * major * major)
        solidity = cnt / g[:, _k.G_HULL_AREA]
    gx, gy = bx[1:] + ox, by[1:] + oy
    border = (gx == 0) | (gy == 0) | (gx + bw[1:] == width) | (gy + bh[1:] == height)

    cols = {
        "Label": lab,
        "Area": area,
    }
    if image is not None:
        # ImageJ holds any non-integer image as 32-bit float.
        is_float = image.dtype.kind == "f"
        pixels = image.astype(np.float32) if is_float else image
        stats = _k.intensity_stats(comp, n, count,
                                   np.ascontiguousarray(pixels, np.float64), is_float)[1:]
        for i, name in enumerate(INTENSITY_COLUMNS):
            cols[name] = stats[:, i]
    cols.update({
        "X": (gx + g[:, _k.G_XM] + 0.5) * pw,
        "Y": (gy + g[:, _k.G_YM] + 0.5) * ph,
        "Perim.": perim,
        "BX": gx * pw,
        "BY": gy * ph,
        "Width": bw[1:] * pw,
        "Height": bh[1:] * ph,
        "Major": major,
        "Minor": minor,
        "Angle": g[:, _k.G_ANGLE],
        "Circ.": circ,
        "Feret": g[:, _k.G_FERET],
        "FeretX": g[:, _k.G_FERET_X],
        "FeretY": g[:, _k.G_FERET_Y],
        "FeretAngle": g[:, _k.G_FERET_ANGLE],
        "MinFeret": g[:, _k.G_MIN_FERET],
        "AR": ar,
        "Round": rnd,
        "Solidity": solidity,
        "ECD": 2.0 * np.sqrt(area / math.pi),
        "Border": border,
    })
    table = pd.DataFrame({k: np.asarray(v)[order] for k, v in cols.items()})
    table.attrs["unit"] = unit
    table.attrs["pixel_size"] = (pw, ph)
    return table


def _origin(origin):
    if origin is None:
        return 0, 0
    try:
        oy, ox = (int(v) for v in origin)
    except (TypeError, ValueError):
        raise ValueError(f"origin must be (row, column) integers, got {origin!r}") from None
    if oy < 0 or ox < 0 or (oy, ox) != tuple(origin):
        raise ValueError(f"origin must be non-negative integers, got {origin!r}")
    return oy, ox


def _shape(image_shape, labels, oy, ox):
    try:
        height, width = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be (rows, columns), got {image_shape!r}") from None
    if oy + labels.shape[0] > height or ox + labels.shape[1] > width:
        raise ValueError(f"image_shape {tuple(image_shape)}: the crop at {(oy, ox)} of shape "
                         f"{labels.shape} does not fit in it")
    return height, width


def summarize(table, columns=("MinFeret", "ECD")):
    """Number-based size-distribution statistics of measurement columns.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`measure` (or any table with the columns).
    columns : str or sequence of str, optional
        Columns to summarise.

    Returns
    -------
    summary : pandas.DataFrame
        One row per column with ``count``, ``mean``, ``SD`` (n - 1), ``median``
        and the number-weighted percentiles ``D10``, ``D50``, ``D90`` (linear
        interpolation between order statistics). NaN where undefined.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if isinstance(columns, str):
        columns = (columns,)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"columns not in table: {', '.join(missing)}")
    rows = []
    for c in columns:
        v = pd.to_numeric(table[c], errors="coerce").to_numpy(np.float64)
        v = v[np.isfinite(v)]
        n = v.size
        d10, d50, d90 = np.percentile(v, [10, 50, 90]) if n else (np.nan,) * 3
        rows.append({
            "column": c, "count": n,
            "mean": v.mean() if n else np.nan,
            "SD": v.std(ddof=1) if n > 1 else np.nan,
            "median": np.median(v) if n else np.nan,
            "D10": d10, "D50": d50, "D90": d90,
        })
    out = pd.DataFrame(rows).set_index("column")
    out.attrs.update(table.attrs)
    return out
