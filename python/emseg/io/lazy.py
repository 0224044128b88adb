"""Images larger than memory: read in parts, written tile by tile.

- :func:`open_lazy_image`: a 2D image on disk that slices like a NumPy array and reads only
  what is sliced: an uncompressed TIFF memory-mapped, a compressed or tiled TIFF through
  tifffile's zarr store (zarr), an OME-Zarr image (its full-resolution level, through the
  ome-zarr package), any other format read whole;
- :func:`open_ome_zarr_volume`: an OME-Zarr tomogram, read in parts;
- :func:`write_tiled_tiff`: a tiled BigTIFF written from an iterator of tiles (never the
  whole image in memory), with the calibration Fiji and EMSeg read back.
"""

import os
from pathlib import Path

import numpy as np

from .._memory import release_pages
from .errors import ImageReadError
from .files import atomic_write

__all__ = ["LazyImage", "open_lazy_image", "open_ome_zarr_volume", "write_tiled_tiff", "TILE",
           "is_zarr"]

#: The tile side of the tiled TIFFs EMSeg writes.
TILE = 512


class LazyImage:
    """A 2D image on disk, read in parts (see :func:`open_lazy_image`).

    Slicing (``image[rows, cols]``) returns an ndarray of those pixels only. ``shape``,
    ``dtype``, ``ndim``, ``size``, ``pixel_size`` (nm, (width, height) or None) and
    ``metadata`` are there without reading pixels. Close it (or use ``with``) when done.
    """

    def __init__(self, array, pixel_size, metadata, handle=None):
        self._array = array
        self._handle = handle
        self.pixel_size = pixel_size
        self.metadata = metadata
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))

    def __getitem__(self, key):
        return np.asarray(self._array[key])

    def release(self):
        """Hand back the memory pages a memory-mapped file keeps after reads."""
        release_pages(self._array) if isinstance(self._array, np.ndarray) else None

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"LazyImage({self.metadata.get('path')!r}, shape={self.shape}, dtype={self.dtype})"


def is_zarr(path):
    """Whether ``path`` is a zarr folder (``.zarr``, ``.ome.zarr``): an OME-Zarr image."""
    path = Path(os.fspath(path))
    return path.name.lower().endswith(".zarr") and path.is_dir()


def _open_ome_zarr(path):
    """An OME-Zarr image's full-resolution level and its pixel size from the multiscales'
    axes units and scale transform; ImageReadError when it cannot be read."""
    try:
        return _read_ome_zarr(path)
    except ImageReadError:
        raise
    except Exception as exc:
        raise ImageReadError(f"{path}: not a readable OME-Zarr image "
                             f"({exc.__class__.__name__}: {exc})") from None


def _read_ome_zarr(path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    from .calibration import unit_to_nm

    location = parse_url(str(path), mode="r")
    nodes = [] if location is None else [n for n in Reader(location)()
                                         if any(isinstance(sp, Multiscales) for sp in n.specs)]
    if not nodes:
        raise ImageReadError(f"{path}: not an OME-Zarr image (no multiscales)")
    node = nodes[0]
    data = node.data[0]
    axes = node.metadata.get("axes") or []
    axes = [a if isinstance(a, dict) else {"name": a} for a in axes]
    names = [a.get("name", "") for a in axes] or list("tczyx"[-data.ndim:])
    # axes of length 1 (time, channel, a single z) are dropped: one 2D image (or one
    # volume) is read
    key = tuple(0 if n == 1 and name not in "yx" else slice(None)
                for n, name in zip(data.shape, names))
    if all(k == slice(None) for k in key):
        # nothing to drop: the level's zarr array itself, whose slices cost no task graph
        level = next(sp for sp in node.specs if isinstance(sp, Multiscales)).datasets[0]
        try:
            import zarr
            data = zarr.open_array(str(Path(os.fspath(path)) / level), mode="r")
        except Exception:       # a remote or unusual store: the dask array reads it too
            pass
    else:
        data = data[key]
    kept = [(name, a) for (name, a), k in zip(zip(names, axes or [{}] * len(names)), key)
            if k != 0]
    meta = {"format": "ome-zarr", "path": str(path), "axes": "".join(n.upper() for n, _ in kept),
            "shape": tuple(data.shape), "dtype": str(data.dtype)}
    size = None
    transforms = (node.metadata.get("coordinateTransformations") or [[]])[0]
    scale = next((t.get("scale") for t in transforms if t.get("type") == "scale"), None)
    if scale is not None and len(scale) == len(names):
        by_name = dict(zip(names, scale))
        units = {name: unit_to_nm(a.get("unit")) for name, a in zip(names, axes or [])}
        # every spatial axis with a unit, in nm (a volume's z too)
        meta["scale_nm"] = {n: float(by_name[n]) * units[n] for n in "zyx"
                            if n in by_name and units.get(n)}
        if all(units.get(n) for n in "yx") and all(n in by_name for n in "yx"):
            size = (float(by_name["x"]) * units["x"], float(by_name["y"]) * units["y"])
            meta["pixel_size_source"] = "OME-Zarr scale"
    return data, size, meta


def open_ome_zarr_volume(path):
    """An OME-Zarr tomogram's full-resolution level, read in parts.

    Returns
    -------
    volume : (Z, Y, X) array-like
        The zarr array (or a dask array when singleton axes were dropped): slices are read
        when asked for.
    voxel_size_nm : (float, float, float) or None
        From the multiscales' scale transform and axes units; None without them.
    metadata : dict
        ``format`` "ome-zarr", ``axes`` "ZYX", ``shape``, ``dtype``, ``voxel_size`` and
        ``pixel_size_source`` when known.

    Raises
    ------
    ImageReadError
        When the folder is not a readable OME-Zarr image of one 3D volume.
    """
    data, _, meta = _open_ome_zarr(path)
    if len(data.shape) != 3 or meta["axes"] != "ZYX":
        raise ImageReadError(f"{path}: a volume (z, y, x) is needed, got axes "
                             f"{meta['axes'] or '?'} of shape {tuple(data.shape)}")
    scale = meta.pop("scale_nm", {})
    size = None
    if all(n in scale for n in "zyx"):
        size = tuple(scale[n] for n in "zyx")
        meta.update(voxel_size=size, pixel_size_source="OME-Zarr scale")
    return data, size, meta


def open_lazy_image(path):
    """Open a 2D image for reading in parts.

    Parameters
    ----------
    path : path-like
        A TIFF (plain, ImageJ, OME, tiled, compressed, BigTIFF) is read lazily; other formats
        (:func:`emseg.io.read_image`) are read whole; an OME-Zarr folder (``.zarr``) is read
        lazily at its full resolution.

    Returns
    -------
    LazyImage

    Raises
    ------
    ImageReadError
        When the file is missing, unreadable, or not one 2D image.
    """
    from .images import read_image
    from .tiff import TIFF_SUFFIXES, tiff_calibration

    path = Path(os.fspath(path))
    if is_zarr(path):
        data, size, meta = _open_ome_zarr(path)
        meta.pop("scale_nm", None)
        image = LazyImage(data, size, meta)
    elif not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    elif path.suffix.lower() not in TIFF_SUFFIXES:
        data, size, meta = read_image(path)
        image = LazyImage(data, size, meta)
    else:
        import tifffile

        try:
            tif = tifffile.TiffFile(path)
        except Exception as exc:
            raise ImageReadError(f"{path}: not a readable TIFF ({exc.__class__.__name__}: "
                                 f"{exc})") from None
        try:
            series = tif.series[0]
            size, meta = tiff_calibration(tif)
            meta["path"] = str(path)
            if series.dataoffset is not None and not series.is_multifile:
                # contiguous and uncompressed: a memory map is the cheapest reader
                array = np.squeeze(tifffile.memmap(path, series=0, mode="r"))
            else:
                import zarr
                array = zarr.open(series.aszarr(level=0), mode="r")
            image = LazyImage(array, size, meta, handle=tif)
        except Exception as exc:
            tif.close()
            raise ImageReadError(f"{path}: not a readable TIFF ({exc.__class__.__name__}: "
                                 f"{exc})") from None
    if image.ndim != 2:
        image.close()
        raise ImageReadError(f"{path}: one 2D image is needed, got shape {image.shape}")
    return image


def write_tiled_tiff(path, tiles, shape, dtype, pixel_size=None, *, tile=TILE, unit="nm"):
    """Write a 2D image from its tiles as a tiled, compressed BigTIFF (atomically).

    Parameters
    ----------
    path : path-like
    tiles : iterable of ndarray
        The tiles in row-major order of a grid of ``tile`` x ``tile`` (edge tiles smaller).
    shape : (int, int)
    dtype : numpy dtype
    pixel_size : (float, float), optional
        Width and height in ``unit``: ImageJ-style description and resolution tags (what
        Fiji's Bio-Formats and :func:`emseg.io.read_image` read back).
    tile : int
        Multiple of 16.
    """
    import tifffile

    if tile % 16 or tile < 16:
        raise ValueError(f"tile must be a multiple of 16, got {tile}")
    shape = tuple(int(n) for n in shape)
    kwargs, desc = {}, "ImageJ=1.53t\n"
    if pixel_size is not None:
        pw, ph = pixel_size
        kwargs["resolution"] = (1.0 / pw, 1.0 / ph)
        desc += f"unit={unit}\n"
    return atomic_write(path, lambda tmp: tifffile.imwrite(
        tmp, data=iter(tiles), shape=shape, dtype=np.dtype(dtype), tile=(tile, tile),
        bigtiff=True, compression="zlib", photometric="minisblack", metadata=None,
        description=desc, **kwargs))
