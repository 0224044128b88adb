"""Microscope vendors' formats through RosettaSciIO: Gatan DM3/DM4, FEI/Thermo Fisher TIA
SER, Velox and Berkeley (NCEM) EMD.

RosettaSciIO (the HyperSpy project's reader library, ``rsciio``) is used
rather than ncempy: it reads all four (ncempy has no full Velox EMD reader),
is maintained by a larger community with a test file for each vendor
version, returns every axis with its scale and unit, and reads lazily.
"""

import importlib

import numpy as np

from .calibration import unit_to_nm
from .errors import ImageReadError, collected_log

__all__ = ["read_microscope", "MICROSCOPE_SUFFIXES"]

#: File ending -> (RosettaSciIO plugin, format name).
_PLUGINS = {".dm3": ("digitalmicrograph", "DM3"), ".dm4": ("digitalmicrograph", "DM4"),
            ".ser": ("tia", "SER"), ".emd": ("emd", "EMD")}

#: Every file ending :func:`read_microscope` reads.
MICROSCOPE_SUFFIXES = tuple(_PLUGINS)


def _image_signals(signals):
    """The signals that hold images or image stacks (two signal axes), in file order."""
    out = []
    for sig in signals or ():
        axes = sig.get("axes") or []
        signal_axes = [a for a in axes if not a.get("navigate", False)]
        if np.ndim(sig.get("data")) in (2, 3) and len(signal_axes) == 2:
            out.append(sig)
    return out


def _axis_nm(axis):
    """An axis' step in nm, or None when its unit is not a length (or it is uncalibrated)."""
    factor = unit_to_nm(axis.get("units"))
    scale = axis.get("scale")
    if factor is None or scale is None:
        return None
    value = float(scale) * factor
    return value if np.isfinite(value) and value > 0 else None


def read_microscope(path):
    """Read a DM3/DM4, SER or EMD file's first image (or image stack) and its pixel size.

    Returns ``(data, pixel_size, metadata)`` as :func:`emseg.io.read_image`
    describes: ``data`` is ``(Y, X)`` or ``(Z, Y, X)``; ``pixel_size`` is the
    ``(x, y)`` axis steps in nm from the file's own calibration, None when an
    axis is uncalibrated or not a length (a diffraction pattern in 1/nm);
    a stack whose third axis is a length has ``voxel_size`` ``(z, y, x)``.
    Files with several images report how many in ``metadata["images"]``.

    Raises
    ------
    ImageReadError
        For damaged files and files holding no image (a spectrum).
    """
    suffix = path.suffix.lower()
    plugin, fmt = _PLUGINS[suffix]
    module = importlib.import_module(f"rsciio.{plugin}")
    with collected_log("rsciio") as complaints:
        try:
            signals = module.file_reader(str(path), lazy=False)
        except Exception as exc:
            raise ImageReadError(f"not a readable {fmt} file ({exc.__class__.__name__}: {exc})") \
                from None
    images = _image_signals(signals)
    if not images:
        raise ImageReadError(f"{fmt} file holds no image (only spectra or other data)")
    sig = images[0]
    data = np.asarray(sig["data"])
    if data.dtype.names:   # DM's RGBA structs
        raise ImageReadError(f"{fmt} file holds an RGB image; EMSeg needs grey levels")
    axes = list(sig["axes"])
    meta = {"format": fmt.lower(), "axes": "ZYX" if data.ndim == 3 else "YX",
            "shape": data.shape, "dtype": str(data.dtype)}
    if len(images) > 1:
        meta["images"] = len(images)
    if complaints:
        meta["warnings"] = list(dict.fromkeys(complaints))
    y_nm, x_nm = _axis_nm(axes[-2]), _axis_nm(axes[-1])
    size = (x_nm, y_nm) if x_nm is not None and y_nm is not None else None
    if size is not None:
        meta["pixel_size_source"] = f"{fmt} calibration"
        if data.ndim == 3:
            z_nm = _axis_nm(axes[0])
            if z_nm is not None:
                meta["voxel_size"] = (z_nm, y_nm, x_nm)
    return data, size, meta
