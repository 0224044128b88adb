"""Physical pixel and voxel sizes: units, plausibility, and which source wins.

Sizes are always in nm. A 2D image's pixel size is ``(width, height)`` of a
pixel (ImageJ's pixelWidth, pixelHeight), a volume's voxel size is
``(z, y, x)`` in array-axis order. EMSeg never guesses a size: it comes from
the user (``--pixel-size``) or from the file, and one from a file that no
electron microscope produces (a CryoVesNet user's MRC header said 0.0018 nm)
is an error telling how to pass the right one.
"""

import math
import re

__all__ = ["UNIT_TO_NM", "PLAUSIBLE_NM", "unit_to_nm", "check_plausible", "resolve_pixel_size",
           "describe_size"]

#: Length units understood in metadata, with their size in nm.
UNIT_TO_NM = {
    "pm": 1e-3, "a": 0.1, "å": 0.1, "Å": 0.1, "\u212b": 0.1, "angstrom": 0.1, "nm": 1.0,
    "nanometer": 1.0, "nanometre": 1.0, "nanometers": 1.0, "nanometres": 1.0, "um": 1e3, "µm": 1e3, "\u03bcm": 1e3,
    "micron": 1e3, "microns": 1e3, "micrometer": 1e3, "micrometre": 1e3, "micrometers": 1e3,
    "micrometres": 1e3, "mm": 1e6, "cm": 1e7, "m": 1e9, "meter": 1e9, "metre": 1e9,
    "meters": 1e9, "metres": 1e9, "inch": 2.54e7,
}


def unit_to_nm(unit):
    """Size of one ``unit`` in nm, or None when the unit is not a length."""
    if unit is None:
        return None
    # ImageJ writes non-ASCII units as Java escapes ("\\u00B5m" for µm).
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), str(unit))
    return UNIT_TO_NM.get(text.strip().lower())


#: Smallest and largest pixel or voxel size (nm) accepted from a file or an option.
PLAUSIBLE_NM = (0.01, 1e4)


def _isotropic(size):
    # MRC headers store cella / mx in float32: equal sizes may differ in the last bits
    return max(size) - min(size) <= 1e-6 * max(abs(v) for v in size)


def _fmt(size):
    """One number when every axis has the same size, else ``a x b (x c)``."""
    if _isotropic(size):
        return f"{float(size[0]):g}"
    return " x ".join(f"{float(v):g}" for v in size)


def check_plausible(size, *, what="pixel size", origin=None):
    """Return ``size`` (a sequence of nm) as floats, or raise if any value is
    zero, negative, not finite, below 0.01 nm or above 10 µm.

    Parameters
    ----------
    size : sequence of float
        Per-axis sizes in nm.
    what : str, optional
        "pixel size" or "voxel size", for the message.
    origin : str, optional
        Where the size came from ("x.mrc: ... from MRC header"), for the message.

    Raises
    ------
    ValueError
        Saying how to pass the right size with ``--pixel-size``.
    """
    try:
        values = tuple(float(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a sequence of numbers, got {size!r}") from None
    if not values:
        raise ValueError(f"{what} is empty")
    low, high = PLAUSIBLE_NM
    bad = [v for v in values if not (math.isfinite(v) and low <= v <= high)]
    if bad:
        where = f" {origin}" if origin else ""
        raise ValueError(
            f"{what} {_fmt(values)} nm{where} is not plausible (EM pixels are 0.01 nm to 10 µm); "
            f"give the right one with --pixel-size NM (pixel_size= in Python)")
    return values


def resolve_pixel_size(given, *read, path=None, what="pixel size"):
    """The pixel size to use, and where it came from.

    ``given`` (an explicit size: ``--pixel-size``) always wins; otherwise the
    first calibrated ``(size, metadata)`` pair read from a file, checked with
    :func:`check_plausible` (an absurd size in a file is an error, never
    silently used or replaced). The message names ``path``, else the
    metadata's own ``path`` (as :func:`emseg.io.read_image` sets it).

    Returns
    -------
    (size, source) : (tuple or None, str or None)
        ``(None, None)`` when nothing is calibrated (the caller decides
        whether that is an error).
    """
    if given is not None:
        return given, "--pixel-size"
    for size, meta in read:
        if size is not None:
            source, where = meta.get("pixel_size_source"), path or meta.get("path")
            check_plausible(size, what=what,
                            origin=" ".join(x for x in (f"in {where}" if where else "",
                                                        f"from {source}" if source else "") if x))
            return size, source
    return None, None


def describe_size(size, source=None):
    """``"7.344 nm from Zeiss SEM tag 34118"``, ``"2 x 3 nm (anisotropic)"`` or
    ``"uncalibrated (pixels)"``."""
    if size is None:
        return "uncalibrated (pixels)"
    size = tuple(float(v) for v in size)
    text = f"{_fmt(size)} nm" + ("" if _isotropic(size) else " (anisotropic)")
    return f"{text} from {source}" if source else text
