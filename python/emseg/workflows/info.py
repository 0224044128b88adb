"""What a file holds: axes, shape, dtype, value range, pixel/voxel size and its
source (``emseg info``). Reads through :mod:`emseg.io` only; no TensorFlow."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import io as _io

__all__ = ["FileInfo", "file_info"]


@dataclass
class FileInfo:
    """Summary of one image or volume file.

    Attributes
    ----------
    path : Path
    format : str
        "tiff", "mrc", "png", ...
    axes : str
        tifffile/ImageJ axis letters of the stored data ("YX", "ZYX", "YXS", ...).
    shape : tuple of int
    dtype : str
    minimum, maximum : float
        Value range (NaN for empty data).
    size : tuple of float or None
        Pixel size ``(width, height)`` of an image, or voxel size
        ``(z, y, x)`` of a volume whose z spacing is known, in nm.
    volume : bool
        Several z slices (MRC volume, TIFF stack).
    source : str or None
        Where ``size`` came from ("Zeiss SEM tag 34118", "MRC header", ...).
    problem : str or None
        Why ``size`` cannot be used as it is (not plausible), with the fix.
    warnings : tuple of str
        Header defects the reader worked around (e.g. an MRC file without
        its ``MAP`` stamp).
    """

    path: Path
    format: str
    axes: str
    shape: tuple
    dtype: str
    minimum: float
    maximum: float
    size: tuple = None
    volume: bool = False
    source: str = None
    problem: str = None
    warnings: tuple = ()

    def describe(self):
        """The lines ``emseg info`` prints for this file."""
        what = "voxel size (z, y, x)" if self.volume else "pixel size"
        size = _io.describe_size(self.size, self.source)
        if self.volume and self.size is None and self.source:
            size = f"x/y calibrated from {self.source}, z spacing unknown"
        lines = [f"{self.path}: {self.format.upper()}, axes {self.axes}, shape "
                 f"{'x'.join(str(n) for n in self.shape)}, {self.dtype}, values "
                 f"{self.minimum:g} to {self.maximum:g}",
                 f"  {what}: {size}"]
        lines += [f"  warning: {w}" for w in (self.problem, *self.warnings) if w]
        return lines


def _value_range(data):
    """Minimum and maximum, a plane at a time so a memory-mapped volume is never copied whole."""
    if data.size == 0:
        return float("nan"), float("nan")
    if data.ndim <= 2:
        return float(np.min(data)), float(np.max(data))
    lo, hi = np.inf, -np.inf
    for plane in data.reshape((-1,) + data.shape[-2:]):
        lo, hi = min(lo, float(plane.min())), max(hi, float(plane.max()))
    return lo, hi


def file_info(path):
    """Read what :class:`FileInfo` reports about an image or volume file.

    Raises
    ------
    emseg.io.ImageReadError
        For missing, unreadable or unsupported files.
    """
    data, size, meta = _io.read_image(path)
    axes = meta.get("axes", "")
    volume = _io.z_slices(axes, data.shape) > 1
    source = meta.get("pixel_size_source")
    if volume:
        size = meta.get("voxel_size")
    lo, hi = _value_range(data)
    problem = None
    if size is not None:
        try:
            _io.check_plausible(size, what="voxel size" if volume else "pixel size",
                                origin=f"from {source}" if source else None)
        except ValueError as exc:
            problem = str(exc)
    return FileInfo(Path(path), meta.get("format", "?"), axes, tuple(data.shape),
                    meta.get("dtype", str(data.dtype)), lo, hi, None if size is None else
                    tuple(float(v) for v in size), volume, source, problem,
                    tuple(meta.get("warnings", ())))
