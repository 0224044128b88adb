"""Reading and writing images, volumes, tables and model metadata: the only
part of EMSeg that touches files.

- :mod:`~emseg.io.images`: :func:`read_image` / :func:`read_volume`, any
  format by its file ending;
- :mod:`~emseg.io.tiff`: TIFF calibration from every source EMSeg knows
  (ImageJ, OME, Zeiss SEM, FEI/Thermo Fisher, resolution tags), stacks with
  their z spacing, ImageJ TIFF writers;
- :mod:`~emseg.io.mrc`: MRC/REC/MAP volumes, memory-mapped, voxel size and
  origin from the header;
- :mod:`~emseg.io.microscope`: Gatan DM3/DM4, TIA SER, Velox/Berkeley EMD
  through RosettaSciIO, with their calibration;
- :mod:`~emseg.io.calibration`: units, the plausible range of a pixel size,
  which source wins;
- :mod:`~emseg.io.lazy`: images larger than memory, read in parts and written tile by tile;
- :mod:`~emseg.io.imod`: IMOD models of vesicles (scattered points with sizes);
- :mod:`~emseg.io.files`: atomic writes, CSV, PNG, text and YAML.

Pixel sizes are in nm: ``(width, height)`` for 2D images (ImageJ's
pixelWidth, pixelHeight), ``(z, y, x)`` for volumes. Every writer is atomic
(temporary file, then rename).
"""

from .calibration import (PLAUSIBLE_NM, UNIT_TO_NM, check_plausible, describe_size,
                          resolve_pixel_size, unit_to_nm)
from .files import (atomic_folder, atomic_write, read_table, read_text, read_yaml, write_png,
                    write_table, write_text, write_yaml)
from .lazy import TILE, LazyImage, is_zarr, open_lazy_image, write_tiled_tiff
from .imod import IMOD_SUFFIXES, read_imod_points, write_imod_points
from .images import IMAGE_SUFFIXES, ImageReadError, image_shape, read_image, read_volume
from .microscope import MICROSCOPE_SUFFIXES, read_microscope
from .mrc import MRC_SUFFIXES, read_mrc, write_mrc
from .rois import ROI_SUFFIXES, read_roi_masks
from .tiff import (CLASS_PROPERTY, NO_CLASS, TIFF_SUFFIXES, read_class_names, read_tiff,
                   write_class_image, write_image, write_labels, z_slices)

__all__ = ["read_image", "read_volume", "image_shape", "read_roi_masks", "ROI_SUFFIXES", "read_tiff", "read_mrc", "write_labels", "write_image",
           "write_mrc", "write_volume", "write_table", "read_table", "write_png", "read_text",
           "write_text", "read_yaml", "write_yaml", "atomic_write", "atomic_folder", "ImageReadError", "UNIT_TO_NM",
           "PLAUSIBLE_NM", "unit_to_nm", "check_plausible", "resolve_pixel_size",
           "describe_size", "z_slices", "IMAGE_SUFFIXES", "TIFF_SUFFIXES", "MRC_SUFFIXES",
           "MICROSCOPE_SUFFIXES", "read_microscope", "write_imod_points", "read_imod_points",
           "IMOD_SUFFIXES", "write_class_image", "read_class_names", "NO_CLASS",
           "CLASS_PROPERTY", "LazyImage", "open_lazy_image", "write_tiled_tiff", "TILE", "is_zarr"]


def write_volume(path, volume, voxel_size=None, *, labels=False, origin=None, nstart=None):
    """Write a label or intensity/probability volume as MRC (``.mrc``, ``.rec``,
    ``.map``) or ImageJ TIFF stack (``.tif``), by the file ending.

    ``voxel_size`` is ``(z, y, x)`` in nm; ``origin``/``nstart`` (MRC only)
    carry the input's header over.
    """
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if suffix in MRC_SUFFIXES:
        return write_mrc(path, volume, voxel_size, origin=origin, nstart=nstart, labels=labels)
    if suffix in TIFF_SUFFIXES:
        writer = write_labels if labels else write_image
        return writer(path, volume, voxel_size=voxel_size)
    raise ValueError(f"path: cannot write a volume as {suffix or '(no ending)'}; use .mrc or .tif")
