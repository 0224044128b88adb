"""TIFF: calibration from every metadata source EMSeg knows, images and stacks, writers.

Read: ImageJ calibration (unit, ``spacing=`` for stacks), OME-XML
``PhysicalSizeX/Y/Z``, Zeiss SEM tag 34118 (``ap_image_pixel_size``),
FEI/Thermo Fisher ``[Scan] PixelWidth/Height``, TIFF resolution tags with a
unit, in that order. Write: label images/volumes and grey-level images as
ImageJ TIFFs that Fiji opens with their scale.
"""

import xml.etree.ElementTree as ET

import numpy as np

from .._validate import (NO_CLASS, check_label_array, check_nd_array, check_pixel_size,
                         check_spacing)
from .calibration import UNIT_TO_NM, unit_to_nm
from .errors import ImageReadError, collected_log
from .files import atomic_write

__all__ = ["read_tiff", "write_labels", "write_image", "z_slices", "TIFF_SUFFIXES"]

TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8")


def _pair(pw, ph, factor):
    if pw is None or ph is None or factor is None:
        return None
    pw, ph = float(pw) * factor, float(ph) * factor
    if not (np.isfinite(pw) and np.isfinite(ph) and pw > 0 and ph > 0):
        return None
    return pw, ph


def _resolution(page):
    """(pixel width, pixel height) in resolution-unit lengths, from the tags."""
    xr = page.tags.get("XResolution")
    yr = page.tags.get("YResolution")
    if xr is None or yr is None:
        return None, None

    def inv(v):
        num, den = v.value
        return den / num if num else None
    return inv(xr), inv(yr)


def _imagej_calibration(tif):
    meta = tif.imagej_metadata or {}
    factor = unit_to_nm(meta.get("unit"))
    pw, ph = _resolution(tif.pages[0])
    return _pair(pw, ph, factor)


def _ome_calibration(tif):
    try:
        root = ET.fromstring(tif.ome_metadata)
    except (ET.ParseError, TypeError):
        return None
    for el in root.iter():
        if el.tag.endswith("Pixels"):
            sx, sy = el.get("PhysicalSizeX"), el.get("PhysicalSizeY")
            if sx is None:
                return None
            sy = sy if sy is not None else sx
            fx = unit_to_nm(el.get("PhysicalSizeXUnit", "µm"))
            fy = unit_to_nm(el.get("PhysicalSizeYUnit", el.get("PhysicalSizeXUnit", "µm")))
            if fx is None or fy is None:
                return None
            return _pair(float(sx) * fx, float(sy) * fy, 1.0)
    return None


def _zeiss_calibration(tif):
    meta = tif.sem_metadata or {}
    entry = meta.get("ap_image_pixel_size") or meta.get("ap_pixel_size")
    if not isinstance(entry, tuple) or len(entry) < 3:
        return None
    factor = unit_to_nm(entry[2])
    return _pair(entry[1], entry[1], factor)


def _fei_calibration(tif):
    meta = tif.fei_metadata or {}
    scan = meta.get("Scan") or meta.get("EScan") or {}
    pw, ph = scan.get("PixelWidth"), scan.get("PixelHeight")
    if pw is None:
        return None
    return _pair(pw, ph if ph is not None else pw, 1e9)  # metres


def _tag_calibration(page):
    unit = page.tags.get("ResolutionUnit")
    code = int(unit.value) if unit is not None else 2
    factor = {2: UNIT_TO_NM["inch"], 3: UNIT_TO_NM["cm"]}.get(code)
    pw, ph = _resolution(page)
    if pw == 1 and ph == 1 and unit is None:
        return None  # tags merely defaulted
    return _pair(pw, ph, factor)


def _imagej_spacing(tif):
    """z spacing in nm of an ImageJ stack: ``spacing=`` in its unit, else
    ImageJ's own default of one unit per slice (FileSaver omits spacing=1)."""
    meta = tif.imagej_metadata or {}
    factor = unit_to_nm(meta.get("unit"))
    if factor is None:
        return None
    return float(meta.get("spacing", 1.0)) * factor


def _ome_spacing(tif):
    try:
        root = ET.fromstring(tif.ome_metadata)
    except (ET.ParseError, TypeError):
        return None
    for el in root.iter():
        if el.tag.endswith("Pixels") and el.get("PhysicalSizeZ") is not None:
            factor = unit_to_nm(el.get("PhysicalSizeZUnit", "µm"))
            return None if factor is None else float(el.get("PhysicalSizeZ")) * factor
    return None


#: Where a TIFF's calibration can come from, in order of preference.
_SOURCES = (("ImageJ calibration", _imagej_calibration, _imagej_spacing, "is_imagej"),
            ("OME-XML PhysicalSize", _ome_calibration, _ome_spacing, "is_ome"),
            ("Zeiss SEM tag 34118", _zeiss_calibration, None, "is_sem"),
            ("FEI/Thermo Fisher metadata", _fei_calibration, None, "is_fei"))


def z_slices(axes, shape):
    """Number of z slices of a series (Z, or generic pages I/Q), 1 for an image."""
    return int(np.prod([n for a, n in zip(axes, shape) if a in "ZIQ"] or [1]))


def read_tiff(path):
    """Read a TIFF (ImageJ hyperstack, OME-TIFF, Zeiss, FEI, plain) and its calibration.

    Returns ``(data, pixel_size, metadata)`` as :func:`emseg.io.read_image`
    describes; a stack of several slices has ``metadata["voxel_size"]``
    ``(z, y, x)`` in nm when its z spacing is known (ImageJ ``spacing=``,
    OME ``PhysicalSizeZ``). What tifffile complains about in a file it can
    still read is in ``metadata["warnings"]``; a file it cannot read raises
    :class:`~emseg.io.ImageReadError` naming what is wrong.
    """
    with collected_log("tifffile") as complaints:
        try:
            data, size, meta = _read_tiff(path)
        except Exception as exc:
            text = str(exc)
            what = "not a TIFF file" if "not a TIFF" in text else "truncated or damaged TIFF"
            raise ImageReadError(f"{what} ({exc.__class__.__name__}: {text})") from None
    if complaints:
        meta["warnings"] = [*meta.get("warnings", []), *dict.fromkeys(complaints)]
    return data, size, meta


def _read_tiff(path):
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data = series.asarray()
        size, meta = tiff_calibration(tif)
        return data, size, meta


def tiff_calibration(tif):
    """``(pixel size, metadata)`` of an open ``tifffile.TiffFile``'s first series, as
    :func:`read_tiff` gives them, without reading its pixels."""
    series = tif.series[0]
    meta = {"format": "tiff", "axes": series.axes, "shape": tuple(series.shape),
            "dtype": str(series.dtype)}
    size, spacing = None, None
    for source, reader, z_reader, flag in _SOURCES:
        if getattr(tif, flag):
            size = reader(tif)
            if size is not None:
                meta["pixel_size_source"] = source
                spacing = z_reader(tif) if z_reader else None
                break
    if size is None:
        size = _tag_calibration(tif.pages[0])
        if size is not None:
            meta["pixel_size_source"] = "TIFF resolution tags"
    if size is not None and spacing is not None and z_slices(series.axes, series.shape) > 1:
        meta["voxel_size"] = (spacing, size[1], size[0])
    return size, meta


def _calibration(pixel_size, unit):
    """``(resolution kwargs, unit)`` for tifffile, or ``({}, None)`` when uncalibrated."""
    if pixel_size is None:
        return {}, None
    pw, ph = check_pixel_size(pixel_size)
    return {"resolution": (1.0 / pw, 1.0 / ph)}, unit


def _stack_calibration(voxel_size, unit):
    """tifffile arguments for a (z, y, x) voxel size: resolution and ImageJ ``spacing``."""
    if voxel_size is None:
        return {}, {}
    dz, dy, dx = check_spacing(voxel_size, 3, "voxel_size")
    return {"resolution": (1.0 / dx, 1.0 / dy)}, {"spacing": dz, "unit": unit}


def write_labels(path, labels, pixel_size=None, *, unit="nm", voxel_size=None):
    """Write a label image or label volume as a TIFF that ImageJ/Fiji opens with its scale.

    Parameters
    ----------
    path : str or os.PathLike
        Output ``.tif`` file; written atomically.
    labels : (M, N) or (P, M, N) ndarray of int or bool
        Labels (stored as uint16 when they fit, else uint32, which ImageJ
        opens as 32-bit). A volume becomes an ImageJ z-stack.
    pixel_size : float or (float, float), optional
        Pixel width and height in ``unit`` (images).
    unit : str, optional
        Length unit written to the ImageJ calibration.
    voxel_size : (float, float, float), optional
        ``(z, y, x)`` voxel size in ``unit`` (volumes; z becomes ``spacing=``).
    """
    import tifffile

    labels = check_label_array(labels, "labels")
    top = int(labels.max()) if labels.size else 0
    if top > np.iinfo(np.uint32).max:
        raise ValueError(f"labels: largest label {top} does not fit in uint32")
    dtype = np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32
    data = labels.astype(dtype)
    kwargs, meta = _tiff_calibration(data, pixel_size, voxel_size, unit)

    def writer(tmp):
        if dtype == np.uint16:
            tifffile.imwrite(tmp, data, imagej=True, metadata=meta, compression="zlib", **kwargs)
        else:
            # ImageJ hyperstacks cannot hold uint32; an ImageJ description on a
            # plain TIFF still carries the calibration that Fiji reads.
            desc = f"ImageJ=1.53t\nimages={data.shape[0] if data.ndim == 3 else 1}\n" + "".join(
                f"{k}={v}\n" for k, v in (("slices", data.shape[0] if data.ndim == 3 else None),
                                          ("unit", meta.get("unit")),
                                          ("spacing", meta.get("spacing"))) if v is not None)
            tifffile.imwrite(tmp, data, description=desc, metadata=None, compression="zlib",
                             photometric="minisblack", **kwargs)
    return atomic_write(path, writer)


def _tiff_calibration(data, pixel_size, voxel_size, unit):
    """tifffile keyword arguments and ImageJ metadata for an image or a volume."""
    if data.ndim == 3:
        if pixel_size is not None:
            raise ValueError("a volume's calibration is voxel_size=(z, y, x), not pixel_size")
        kwargs, meta = _stack_calibration(voxel_size, unit)
        return kwargs, {"axes": "ZYX", **meta}
    if voxel_size is not None:
        raise ValueError("voxel_size is for volumes; give a 2D image's pixel_size")
    kwargs, unit_meta = _calibration(pixel_size, unit)
    return kwargs, ({"unit": unit_meta} if unit_meta else {})


def write_image(path, image, pixel_size=None, *, unit="nm", voxel_size=None):
    """Write an 8-bit, 16-bit or float32 grey-level image (2D) or volume (3D,
    ``voxel_size`` (z, y, x)) as ImageJ TIFF with its scale."""
    import tifffile

    image = check_nd_array(image, "image", ndims=(2, 3))
    if image.dtype not in (np.uint8, np.uint16, np.float32):
        raise TypeError(f"image must be uint8, uint16 or float32, got {image.dtype}")
    kwargs, meta = _tiff_calibration(image, pixel_size, voxel_size, unit)
    return atomic_write(path, lambda tmp: tifffile.imwrite(
        tmp, image, imagej=True, metadata=meta, compression="zlib", **kwargs))


#: The ImageJ property that names a class image's classes (``0=membrane;1=glia;...``).
CLASS_PROPERTY = "emseg.classes"


def write_class_image(path, classes, names, pixel_size=None, *, unit="nm"):
    """Write a semantic segmentation: pixel value ``i`` is class ``names[i]`` (255: no class).

    An 8-bit ImageJ TIFF with the scale, a label LUT as the TIFF's palette (one colour per
    class, black for "no class"; ImageJ 1.x reads a single image's LUT from the palette, not
    from its ImageJ metadata), the class names as the ImageJ property ``emseg.classes``
    (``0=membrane;1=glia``, read back by :func:`read_class_names`) and in the image's Info.

    Parameters
    ----------
    path : path-like
        Output ``.tif``; written atomically.
    classes : (M, N) ndarray of int
        Class indices, < ``len(names)``, or 255.
    names : sequence of str
        Class names (at most 255, no ``;`` or ``=``).
    pixel_size : float or (float, float), optional
    """
    import tifffile

    classes = check_label_array(classes, "classes", ndims=(2,))
    names = [str(n) for n in names]
    if not names or len(names) >= NO_CLASS or any(not n or set(n) & set(";=\n") for n in names):
        raise ValueError(f"names must be 1-254 class names without ';', '=' or newlines, "
                         f"got {names!r}")
    bad = (classes >= len(names)) & (classes != NO_CLASS)
    if bad.any():
        raise ValueError(f"classes holds value {int(classes[bad][0])}, but there are "
                         f"{len(names)} names")
    from ..plot import class_colours

    kwargs, unit_meta = _calibration(pixel_size, unit)
    lut = np.zeros((3, 256), np.uint8)
    lut[:, :len(names)] = class_colours(len(names)).T
    listing = ";".join(f"{i}={n}" for i, n in enumerate(names))
    meta = {"Properties": {CLASS_PROPERTY: listing},
            "Info": "EMSeg class image\n" + "\n".join(f"{i} = {n}" for i, n in enumerate(names))
            + f"\n{NO_CLASS} = no class\n"}
    if unit_meta:
        meta["unit"] = unit_meta
    data = classes.astype(np.uint8)
    return atomic_write(path, lambda tmp: tifffile.imwrite(
        tmp, data, imagej=True, metadata=meta, compression="zlib", photometric="palette",
        colormap=lut.astype(np.uint16) * 257, **kwargs))


def read_class_names(path):
    """The class names a class image written by :func:`write_class_image` carries, or None
    for any other TIFF."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        props = (tif.imagej_metadata or {}).get("Properties") or {}
    listing = props.get(CLASS_PROPERTY)
    if not listing:
        return None
    pairs = [item.split("=", 1) for item in str(listing).split(";")]
    return [name for _, name in sorted((int(i), n) for i, n in pairs)]
