"""A microscope file as ImageJ holds an image: one grey-level plane (or a stack of them, for a
tomogram) in 8-bit, 16-bit or 32-bit float, with its pixel or voxel size (``emseg convert``,
Fiji's Open Microscope File...)."""

import numpy as np

from ..io import resolve_pixel_size
from .files import load_image

__all__ = ["imagej_dtype", "imagej_image", "imagej_volume"]


def imagej_dtype(array):
    """uint8/uint16/float32 as ImageJ holds them; bool becomes 0/255, other integers 16-bit when
    every value fits (0..65535), anything else 32-bit float (values kept)."""
    array = np.asarray(array)
    if array.dtype in (np.uint8, np.uint16, np.float32):
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if array.dtype.kind in "iu" and (array.size == 0 or (array.min() >= 0 and array.max() <= 65535)):
        return array.astype(np.uint16)
    return array.astype(np.float32)


def imagej_image(path):
    """Read a 2D image file (any format EMSeg reads: DM3/DM4, SER, EMD, MRC, TIFF, ...).

    Returns
    -------
    (image, pixel_size, source)
        The image as :func:`imagej_dtype` makes it, ``(width, height)`` in nm
        or None, and where the size came from ("DM4 calibration", ...).
    """
    image, size, meta = load_image(path)
    size, source = resolve_pixel_size(None, (size, meta))
    return imagej_dtype(image), size, source


def imagej_volume(path):
    """Read a volume file (MRC/REC, TIFF stack) as an ImageJ stack.

    Returns
    -------
    (volume, voxel_size, source)
        The (z, y, x) volume as :func:`imagej_dtype` makes it (read whole), the voxel size
        ``(z, y, x)`` in nm or None, and where it came from ("MRC header", ...).
    """
    from .segment import load_volume

    volume, size, meta = load_volume(path)
    size, source = resolve_pixel_size(None, (size, meta), what="voxel size")
    return imagej_dtype(np.asarray(volume)), size, source
