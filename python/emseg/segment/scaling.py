"""Bringing images and volumes to a model's pixel/voxel size and back, and
percentile normalisation. Pure NumPy/SciPy on 2D and 3D arrays; sizes per
axis in nm, in array-axis order ((z,) y, x).
"""

import math
import numbers

import numpy as np

__all__ = ["rescale_factor", "rescale", "rescaled_shape", "rescaled_region", "source_indices",
           "normalize", "standardize", "intensity_stats", "sample_step"]


def _positive(v, name):
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not v > 0 or not math.isfinite(v):
        raise ValueError(f"{name} must be a positive number of nm, got {v!r}")
    return float(v)


def rescale_factor(pixel_size, model_pixel_size):
    """Zoom factor that brings an image of ``pixel_size`` nm to ``model_pixel_size`` nm.

    Parameters
    ----------
    pixel_size, model_pixel_size : float or sequence of float
        Sizes in nm, a number (every axis) or one per axis (e.g. a tomogram's
        ``(z, y, x)`` voxel size with a coarser z).

    Returns
    -------
    float or tuple of float
        A number when both are numbers, else one factor per axis.

    Examples
    --------
    >>> rescale_factor(7.344, 8.0)
    0.918
    >>> rescale_factor((4.4, 2.2, 2.2), 2.2)
    (2.0, 1.0, 1.0)
    """
    scalar = all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                 for v in (pixel_size, model_pixel_size))
    if scalar:
        return _positive(pixel_size, "pixel_size") / _positive(model_pixel_size, "model_pixel_size")
    sizes = []
    for v, name in ((pixel_size, "pixel_size"), (model_pixel_size, "model_pixel_size")):
        if isinstance(v, numbers.Real) and not isinstance(v, bool):
            sizes.append([_positive(v, name)])
        else:
            try:
                sizes.append([_positive(x, name) for x in v])
            except TypeError:
                raise ValueError(f"{name} must be a positive number of nm or one per axis, "
                                 f"got {v!r}") from None
    n = max(len(s) for s in sizes)
    if any(len(s) not in (1, n) for s in sizes):
        raise ValueError(f"pixel_size {pixel_size!r} and model_pixel_size {model_pixel_size!r} "
                         "have different numbers of axes")
    px, model = (s * n if len(s) == 1 else s for s in sizes)
    return tuple(a / b for a, b in zip(px, model))


def rescale(array, factor=None, *, order=1, shape=None, channel_axis=None):
    """Resize a 2D image or a 3D volume by ``factor`` or to ``shape``.

    Parameters
    ----------
    array : (M, N) or (P, M, N) ndarray
        Image or volume, optionally with a channel axis (``channel_axis=-1``).
    factor : float or sequence of float, optional
        Zoom per spatial axis (one number for all). A factor within 0.1 % of
        1 on every axis returns the array unchanged (no interpolation blur
        for a negligible change).
    order : int, optional
        0 (nearest neighbour) for labels and masks, 1 (linear) for images
        and probability maps.
    shape : sequence of int, optional
        Target spatial shape instead of ``factor`` (e.g. back to the input's).
    channel_axis : {None, -1}, optional
        The last axis holds channels and is not resized.

    Returns
    -------
    ndarray
    """
    array = np.asarray(array)
    if channel_axis not in (None, -1, array.ndim - 1):
        raise ValueError(f"channel_axis must be None or -1 (last axis), got {channel_axis!r}")
    nsp = array.ndim - (channel_axis is not None)
    if nsp not in (2, 3):
        raise ValueError(f"array must be 2D or 3D (plus channels with channel_axis=-1), "
                         f"got shape {array.shape}")
    spatial = array.shape[:nsp]
    if (factor is None) == (shape is None):
        raise ValueError("give exactly one of factor and shape")
    if shape is None:
        shape = rescaled_shape(spatial, factor)
    shape = tuple(int(s) for s in tuple(shape)[:nsp])
    if len(shape) != nsp:
        raise ValueError(f"shape must have {nsp} values, got {shape!r}")
    if shape == spatial:
        return array
    # in bands of output planes/rows: the float work arrays stay small
    out = np.empty(shape + array.shape[nsp:], array.dtype)
    band = max(1, int(2 ** 22 // max(1, int(np.prod(out.shape[1:])))))
    for a in range(0, shape[0], band):
        region = (slice(a, min(a + band, shape[0])),) + tuple(slice(0, n) for n in shape[1:])
        out[region[0]] = rescaled_region(array, shape, region, order=order)
    return out


def source_indices(n_in, n_out, start, stop, order):
    """Where output pixels ``start..stop-1`` of an axis resized from ``n_in`` to ``n_out``
    pixels take their values: ``(i0, i1, w)`` for linear interpolation (``order`` 1:
    ``(1 - w) * a[i0] + w * a[i1]``), ``(i0, i0, None)`` for the nearest pixel (``order`` 0).

    Pixel centres are aligned (output pixel ``i`` is at input coordinate
    ``(i + 0.5) n_in / n_out - 0.5``), edges clamped. Each value depends on ``i`` alone, so
    any region of a resized image is computed exactly as in the whole one.
    """
    i = np.arange(start, stop, dtype=np.float64)
    c = (i + 0.5) * (n_in / n_out) - 0.5
    if order == 0:
        i0 = np.clip(np.floor(c + 0.5), 0, n_in - 1).astype(np.intp)
        return i0, i0, None
    c = np.clip(c, 0, n_in - 1)
    i0 = np.floor(c).astype(np.intp)
    return i0, np.minimum(i0 + 1, n_in - 1), (c - i0).astype(np.float32)


def rescaled_shape(shape, factor):
    """The spatial shape :func:`rescale` gives ``shape`` by ``factor``: each axis rounded,
    at least 1; a factor within 0.1 % of 1 on every axis leaves the shape as it is (no
    interpolation blur for a negligible change).

    Parameters
    ----------
    shape : sequence of int
    factor : float or sequence of float
        One number for every axis or one per axis.

    Returns
    -------
    tuple of int
    """
    shape = tuple(int(n) for n in shape)
    factors = (factor,) * len(shape) if isinstance(factor, numbers.Real) else tuple(factor)
    if len(factors) != len(shape) or not all(
            isinstance(f, numbers.Real) and f > 0 for f in factors):
        raise ValueError(f"factor must be positive, one number or {len(shape)} (one per axis), "
                         f"got {factor!r}")
    if all(abs(f - 1) < 1e-3 for f in factors):
        return shape
    return tuple(max(1, int(round(n * f))) for n, f in zip(shape, factors))


def rescaled_region(source, shape, region=None, *, order=1, in_shape=None, origin=None):
    """A region of ``source`` resized to ``shape``, reading only the pixels it needs.

    Parameters
    ----------
    source : array-like
        The input (ndarray, memory map, zarr or Dask array: anything that slices), spatial
        axes first, optionally a last channel axis (not resized); or, with ``in_shape`` and
        ``origin``, a window of a larger input.
    shape : tuple of int
        The resized spatial shape of the whole input.
    region : tuple of slices, optional
        The part of the resized image to compute (default: all of it).
    order : {0, 1}
        Nearest pixel (labels, masks) or linear interpolation (images, probabilities).
    in_shape : tuple of int, optional
        The whole input's spatial shape when ``source`` is a window of it.
    origin : tuple of int, optional
        The window's first pixel in the whole input.

    Returns
    -------
    ndarray
        The region, in the input's dtype (integers rounded).
    """
    if order not in (0, 1):
        raise ValueError(f"order must be 0 or 1, got {order!r}")
    nsp = len(shape)
    in_shape = tuple(source.shape[:nsp]) if in_shape is None else tuple(in_shape)
    origin = (0,) * nsp if origin is None else tuple(int(o) for o in origin)
    region = tuple(slice(0, n) for n in shape) if region is None else tuple(region)
    if len(in_shape) != nsp or len(region) != nsp or len(origin) != nsp:
        raise ValueError(f"shape, region, in_shape and origin need {nsp} axes each")
    axes = [source_indices(n_in, n_out, r.start, r.stop, order)
            for n_in, n_out, r in zip(in_shape, shape, region)]
    # the window of the source this region reads
    lo = [int(a[0].min()) if a[0].size else 0 for a in axes]
    hi = [int(a[1].max()) + 1 if a[1].size else 0 for a in axes]
    if any(a < o or h > o + n for a, h, o, n in zip(lo, hi, origin, source.shape[:nsp])):
        raise ValueError("source: the window does not hold the pixels this region needs")
    block = np.asarray(source[tuple(slice(a - o, h - o) for a, h, o in zip(lo, hi, origin))])
    dtype = block.dtype
    work = block if order == 0 or block.dtype.kind == "f" else block.astype(np.float32)
    for axis, ((i0, i1, w), a) in enumerate(zip(axes, lo)):
        if order == 0:
            work = np.take(work, i0 - a, axis=axis)
            continue
        shape_w = (-1,) + (1,) * (work.ndim - axis - 1)
        w = w.reshape(shape_w).astype(work.dtype if work.dtype.kind == "f" else np.float32)
        work = np.take(work, i0 - a, axis=axis) * (1 - w) + np.take(work, i1 - a, axis=axis) * w
    if dtype.kind in "iub" and order == 1:
        info = np.iinfo(dtype) if dtype.kind in "iu" else None
        work = np.rint(work)
        if info is not None:
            work = np.clip(work, info.min, info.max)
    return work.astype(dtype, copy=False)


def normalize(image, low=1.0, high=99.8, *, limits=None):
    """Linear stretch of the intensity histogram to [0, 1] between robust percentiles.

    Parameters
    ----------
    image : ndarray
        Image (M, N), volume (P, M, N) or one tile of either.
    low, high : float, optional
        Percentiles mapped to 0 and 1 (values beyond are clipped).
    limits : (float, float), optional
        Intensities to map to 0 and 1 instead of the percentiles (to
        normalise tiles of a large image with the whole image's percentiles).

    Returns
    -------
    ndarray of float32, same shape
    """
    image = np.asarray(image)
    if limits is None:
        if not 0 <= low < high <= 100:
            raise ValueError(f"need 0 <= low < high <= 100, got low={low}, high={high}")
        lo, hi = np.percentile(image, [low, high])
    else:
        lo, hi = limits
    scale = 1.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((image.astype(np.float32) - np.float32(lo)) * np.float32(scale), 0, 1)


def intensity_stats(image, *, max_samples=4e6):
    """Mean and standard deviation of an image or volume from an even subsample (at most
    about ``max_samples`` values: exact enough, bounded memory for a memory-mapped tomogram)."""
    image = np.asarray(image) if not isinstance(image, np.ndarray) else image
    step = sample_step(image.shape, max_samples)
    sample = np.asarray(image[(slice(None, None, step),) * image.ndim], np.float64)
    return float(sample.mean()), float(sample.std())


def sample_step(shape, max_samples=4e6):
    """The stride on every axis of the even subsample (at most about ``max_samples`` values)
    that image-wide statistics are taken from. One rule for the whole image and for a large
    image read in parts: their normalisation, and so their results, stay identical."""
    size = math.prod(int(n) for n in shape)
    return max(1, int((size / max_samples) ** (1 / len(shape))))


def standardize(image, *, stats=None):
    """Intensities shifted and scaled to mean 0 and standard deviation 1 (not clipped),
    as CryoVesNet normalises a tomogram.

    Parameters
    ----------
    image : ndarray
    stats : (float, float), optional
        Mean and SD to use instead of the image's own (to standardise the tiles of a large
        volume with the whole volume's; see :func:`intensity_stats`).

    Returns
    -------
    ndarray of float32, same shape
    """
    mean, sd = intensity_stats(image) if stats is None else stats
    scale = 1.0 / sd if sd > 0 else 0.0
    return ((np.asarray(image, np.float32) - np.float32(mean)) * np.float32(scale)).astype(np.float32)
