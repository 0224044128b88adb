"""Reading images and volumes of any supported format (the one entry point, by file ending)."""

import os
from pathlib import Path

import numpy as np

from .errors import ImageReadError
from .microscope import MICROSCOPE_SUFFIXES, read_microscope
from .mrc import MRC_SUFFIXES, read_mrc
from .tiff import TIFF_SUFFIXES, read_tiff

__all__ = ["ImageReadError", "read_image", "read_volume", "image_shape", "IMAGE_SUFFIXES"]

_OTHER_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

#: Every file ending :func:`read_image` reads.
IMAGE_SUFFIXES = TIFF_SUFFIXES + MRC_SUFFIXES + MICROSCOPE_SUFFIXES + _OTHER_SUFFIXES


def read_image(path):
    """Read an image or volume and its physical pixel size.

    Parameters
    ----------
    path : str or os.PathLike
        TIFF (including ImageJ hyperstacks and OME-TIFF), MRC/REC/MAP, Gatan
        DM3/DM4, FEI/Thermo Fisher SER and EMD (Velox, Berkeley), PNG, JPEG,
        BMP or GIF.

    Returns
    -------
    array : ndarray
        Pixel data as stored (hyperstacks keep all axes; see
        ``metadata["axes"]``); MRC data are memory-mapped, read-only.
    pixel_size_nm : (float, float) or None
        Pixel width and height in nm from ImageJ calibration, OME
        ``PhysicalSizeX/Y``, Zeiss SEM (tag 34118, ``ap_image_pixel_size``),
        FEI/Thermo Fisher ``[Scan] PixelWidth/Height``, TIFF resolution tags
        with a unit, in that order of preference, or the MRC header, or the
        DM/SER/EMD calibration; None when uncalibrated.
    metadata : dict
        ``path``, ``format``, ``axes``, ``shape``, ``dtype``; when calibrated,
        ``pixel_size_source``; for stacks and volumes with a known z
        spacing, ``voxel_size`` ``(z, y, x)`` in nm; for MRC, ``origin``
        and ``nstart`` (to write results with the input's header).

    Raises
    ------
    ImageReadError
        When the file is missing, unreadable or not a supported image.
    """
    path = Path(os.fspath(path))
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if not path.is_file():
        raise ImageReadError(f"{path}: not a file")
    suffix = path.suffix.lower()
    try:
        reader = {**dict.fromkeys(TIFF_SUFFIXES, read_tiff), **dict.fromkeys(MRC_SUFFIXES, read_mrc),
                  **dict.fromkeys(MICROSCOPE_SUFFIXES, read_microscope)}.get(suffix)
        if reader is not None:
            data, size, meta = reader(path)
            return data, size, {**meta, "path": str(path)}
        if suffix in _OTHER_SUFFIXES:
            from skimage.io import imread
            data = imread(path)
            meta = {"format": suffix.lstrip("."), "shape": data.shape, "dtype": str(data.dtype),
                    "axes": "YXS"[: data.ndim] if data.ndim == 3 else "YX"[: data.ndim]}
            return data, None, {**meta, "path": str(path)}
    except ImageReadError as exc:
        raise ImageReadError(f"{path}: {exc}") from None
    except Exception as exc:
        raise ImageReadError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from None
    raise ImageReadError(
        f"{path}: unsupported file type {suffix or '(none)'}; use TIFF, MRC, DM3/DM4, SER, EMD, "
        "PNG or JPEG")


def image_shape(path):
    """The shape and axes of a file's image data, ``(shape, axes)``, from the header alone
    for TIFF and MRC (a 2 GB file costs its header), by reading the file otherwise.

    Raises
    ------
    ImageReadError
        As :func:`read_image`.
    """
    path = Path(os.fspath(path))
    suffix = path.suffix.lower()
    from .lazy import is_zarr
    if is_zarr(path):
        from .lazy import _open_ome_zarr
        data, _, meta = _open_ome_zarr(path)
        return tuple(data.shape), meta["axes"]
    if path.is_file() and suffix in TIFF_SUFFIXES:
        import tifffile
        try:
            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                return tuple(series.shape), series.axes
        except Exception:           # read_image gives the reason
            pass
    data, _, meta = read_image(path)      # MRC: memory-mapped, the header only
    return tuple(data.shape), meta.get("axes", "")


def read_volume(path):
    """Read a 3D volume (MRC/REC tomogram, TIFF stack, ImageJ hyperstack, OME-Zarr) and its
    voxel size.

    Singleton axes (one channel, one time point) are dropped; what remains
    must be ``(Z, Y, X)`` with one channel.

    Returns
    -------
    volume : (Z, Y, X) ndarray or array-like
        Memory-mapped for MRC; for OME-Zarr the zarr array, read when sliced.
    voxel_size_nm : (float, float, float) or None
        ``(z, y, x)`` in nm; None when the file gives no calibration or no z
        spacing (``metadata["pixel_size_source"]`` still tells an x/y size).
    metadata : dict
        As :func:`read_image`, ``axes`` now ``"ZYX"``.

    Raises
    ------
    ImageReadError
        For missing or unreadable files; ValueError for 2D images and
        multi-channel stacks.
    """
    from .lazy import is_zarr, open_ome_zarr_volume

    if is_zarr(path):
        # read in parts: an array-like, sliced when needed (emseg.workflows.load_volume
        # reads it whole for the in-memory run)
        return open_ome_zarr_volume(path)
    data, _, meta = read_image(path)
    axes = meta.get("axes", "")
    if len(axes) == data.ndim:
        keep = [i for i, n in enumerate(data.shape) if n > 1]
        if "S" in axes and data.shape[axes.index("S")] > 1:
            raise ValueError(f"{path}: RGB data ({data.shape}) where a grey-level volume is expected")
        if "C" in axes and data.shape[axes.index("C")] > 1:
            raise ValueError(f"{path}: {data.shape[axes.index('C')]} channels; a volume must "
                             "have one (split the channels first)")
        data = data.reshape([data.shape[i] for i in keep]) if len(keep) != data.ndim else data
    else:
        data = np.squeeze(data)
    if data.ndim != 3:
        raise ValueError(f"{path}: {data.ndim}D data of shape {meta.get('shape')} where a 3D "
                         "volume (z, y, x) is expected")
    meta = {**meta, "axes": "ZYX", "shape": data.shape}
    return data, meta.get("voxel_size"), meta
