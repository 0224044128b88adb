"""Shared argument checks: every public function names the argument at fault."""

import numbers

import numpy as np

#: Value of a class image's pixels that belong to no class (a data bar's rows): class images
#: (semantic segmentations) hold class indices 0..K-1 (K < 255) or this.
NO_CLASS = 255


def check_2d_array(value, name, *, allow_bool=True):
    """Return ``value`` as a 2D real-valued ndarray or raise naming ``name``."""
    return check_nd_array(value, name, ndims=(2,), allow_bool=allow_bool)


def check_nd_array(value, name, *, ndims=(2, 3), allow_bool=True):
    """Return ``value`` as a real-valued ndarray of one of ``ndims`` dimensions
    (rows, columns / planes, rows, columns) or raise naming ``name``."""
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except Exception as exc:  # pragma: no cover - numpy's own message
            raise TypeError(f"{name} must be an array, got {type(value).__name__}") from exc
    if value.dtype == object or value.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
    if value.dtype.kind == "b" and not allow_bool:
        raise TypeError(f"{name} must not be boolean")
    if value.ndim == 3 and value.shape[-1] in (3, 4) and min(value.shape[:2]) > 4:
        raise ValueError(
            f"{name} looks like an RGB(A) image of shape {value.shape}; "
            "convert it to a single channel first")
    if value.ndim not in ndims:
        what = {2: "2D (rows, columns)", 3: "3D (planes, rows, columns)"}
        raise ValueError(f"{name} must be {' or '.join(what[d] for d in ndims)}, "
                         f"got shape {value.shape}")
    if value.size == 0:
        raise ValueError(f"{name} is empty (shape {value.shape})")
    return value


def check_array_like(value, name, *, ndims=(2, 3), allow_bool=True):
    """:func:`check_nd_array` for data that may be larger than memory: an array-like with
    ``shape``, ``dtype`` and slicing (a zarr or Dask array) is checked from its metadata and
    returned as it is, to be read in parts; anything else as :func:`check_nd_array`."""
    if isinstance(value, np.ndarray) or not all(
            hasattr(value, a) for a in ("shape", "dtype", "__getitem__")):
        return check_nd_array(value, name, ndims=ndims, allow_bool=allow_bool)
    dtype = np.dtype(value.dtype)
    if dtype.kind not in "biuf" or (dtype.kind == "b" and not allow_bool):
        raise TypeError(f"{name} must hold {'numbers' if allow_bool else 'non-boolean numbers'}, "
                        f"got dtype {dtype}")
    shape = tuple(int(n) for n in value.shape)
    if len(shape) not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions, got "
                         f"shape {shape}")
    if not np.prod(shape):
        raise ValueError(f"{name} is empty (shape {shape})")
    return value


def check_labels(labels, name="labels"):
    """Validate a label image or binary mask: 2D, integer or boolean, >= 0."""
    return _check_label_values(check_2d_array(labels, name), name)


def _check_label_values(labels, name):
    if labels.dtype.kind == "f":
        raise TypeError(
            f"{name} must be an integer label image or a binary mask, got "
            f"floating-point dtype {labels.dtype}")
    if labels.dtype.kind == "i" and labels.min() < 0:
        raise ValueError(f"{name} must not contain negative labels (minimum {labels.min()})")
    return labels


def check_label_array(value, name, *, ndims=(2, 3)):
    """Validate a 2D or 3D label image or mask (integer or boolean, >= 0)."""
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.dtype == object or value.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
    if value.ndim not in ndims:
        dims = " or ".join(f"{d}D" for d in ndims)
        raise ValueError(f"{name} must be {dims}, got shape {value.shape}")
    if value.size == 0:
        raise ValueError(f"{name} is empty (shape {value.shape})")
    return _check_label_values(value, name)


def is_binary_mask(values):
    """True for a boolean array or integers whose only non-zero value is 1, 255
    or the dtype's maximum: such an array is a mask, not a label image."""
    if values.dtype.kind == "b":
        return True
    top = values.max()
    return bool(top in (1, 255, np.iinfo(values.dtype).max) and
                not np.any((values != 0) & (values != top)))


def check_pixel_size(pixel_size, name="pixel_size"):
    """Return ``(pw, ph)`` floats from a scalar or a pair, or ``(1, 1)`` for None."""
    if pixel_size is None:
        return 1.0, 1.0
    if isinstance(pixel_size, numbers.Real) and not isinstance(pixel_size, bool):
        pair = (float(pixel_size), float(pixel_size))
    else:
        try:
            pair = tuple(float(v) for v in pixel_size)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be a number or a (width, height) pair, got {pixel_size!r}") from None
        if len(pair) != 2:
            raise ValueError(f"{name} must have 2 values (width, height), got {len(pair)}")
    if not all(np.isfinite(v) and v > 0 for v in pair):
        raise ValueError(f"{name} must be positive and finite, got {pixel_size!r}")
    return pair


def check_spacing(spacing, ndim, name="spacing"):
    """Per-axis sizes in nm, in array-axis order ((z,) y, x), as a tuple of
    ``ndim`` positive finite floats; a scalar means the same size on every axis."""
    if isinstance(spacing, numbers.Real) and not isinstance(spacing, bool):
        values = (float(spacing),) * ndim
    else:
        try:
            values = tuple(float(v) for v in spacing)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number or {ndim} numbers (one per axis), "
                            f"got {spacing!r}") from None
        if len(values) != ndim:
            raise ValueError(f"{name} must have {ndim} values (one per axis), got {len(values)}")
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{name} must be positive and finite, got {spacing!r}")
    return values


def check_choice(value, choices, name):
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value


def check_positive(value, name, *, allow_zero=False):
    """Return ``value`` as a float if it is a finite positive (or, with
    ``allow_zero``, non-negative) real number; else raise naming ``name``."""
    import math
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) \
        and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
                         f"number, got {value!r}")
    return float(value)


def check_square_pixel_size(pixel_size, name="pixel_size", *, why=""):
    """``(pw, ph)`` as :func:`check_pixel_size`, refusing pixels more than 1 %
    from square (``why`` is appended to the message, e.g. "for this method")."""
    pw, ph = check_pixel_size(pixel_size, name)
    if abs(pw - ph) / max(pw, ph) > 0.01:
        raise ValueError(f"{name} must be (nearly) square{' ' + why if why else ''}, "
                         f"got {pw} x {ph} nm")
    return pw, ph
