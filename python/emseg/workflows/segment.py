"""Segmenting image files and tomograms with a loaded model (``emseg segment``, Fiji's
Segment Particles)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import io as _io
from .._memory import release_pages
from ..io import resolve_pixel_size
from .files import file_calibration, load_image

__all__ = ["SegmentResult", "segment_array", "segment_file", "read_calibrated", "VolumeResult", "load_volume",
           "volume_input", "segment_volume_array", "segment_volume_file"]


@dataclass
class SegmentResult:
    """Outcome of segmenting one file."""

    path: Path
    image: np.ndarray
    segmentation: object
    table: object
    pixel_size_source: str


def segment_array(image, predictor, *, pixel_size, threshold=None, keep_databar=False,
                  postprocess=None, batch_size=4, progress=None):
    """Segment an image held in memory with a loaded model and measure its particles.

    The one segmentation path behind ``emseg segment``, :func:`segment_file`
    and the Fiji plugin's in-process backend, so all give the same result.

    Parameters
    ----------
    image : (M, N) ndarray
        Grey-level image.
    predictor : callable with a ``meta`` attribute
        An :class:`emseg.models.saved.SavedModelPredictor`.
    pixel_size : float or (float, float)
        Pixel size in nm (required: a network only works at its training scale).

    Returns
    -------
    (Segmentation, pandas.DataFrame)
        The segmentation and the ImageJ measurements of its particles.
    """
    from ..measure import measure
    from ..segment import segment

    if pixel_size is None:
        raise ValueError("pixel_size: the pixel size in nm is required")
    seg = segment(image, predictor, predictor.meta, pixel_size=pixel_size, threshold=threshold,
                  postprocess=postprocess, keep_databar=keep_databar, batch_size=batch_size,
                  progress=progress)
    return seg, measure(seg.labels, image, pixel_size=pixel_size)


def segment_file(path, predictor, *, pixel_size=None, threshold=None, keep_databar=False,
                 postprocess=None, batch_size=4, progress=None, pixel_size_from=None):
    """Segment one image file with a loaded model and measure its particles.

    The pixel size is ``pixel_size`` when given, else the file's calibration,
    else that of the file ``pixel_size_from`` (the original a copy was made
    from: Fiji passes the file it opened, whose vendor metadata ImageJ cannot
    read); an uncalibrated file without either is an error (a network only
    works at the scale it was trained for, so EMSeg never guesses it).

    Parameters
    ----------
    path : path-like
    predictor : callable with a ``meta`` attribute
        An :class:`emseg.models.saved.SavedModelPredictor`.
    pixel_size_from : path-like, optional

    Returns
    -------
    SegmentResult
    """
    image, size, source = read_calibrated(path, pixel_size, pixel_size_from)
    seg, table = segment_array(image, predictor, pixel_size=size, threshold=threshold,
                               keep_databar=keep_databar, postprocess=postprocess,
                               batch_size=batch_size, progress=progress)
    return SegmentResult(Path(path), image, seg, table, source)


def read_calibrated(path, pixel_size=None, pixel_size_from=None):
    """A 2D image file and its pixel size: ``(image, (width, height) nm, source)``.

    The pixel size is ``pixel_size`` when given, else the file's calibration, else that of
    the file ``pixel_size_from``; none of them is an error (a network only works at the
    scale it was trained for, so EMSeg never guesses it).
    """
    image, size, meta = load_image(path)
    read = [(size, meta)]
    if pixel_size is None and size is None and pixel_size_from is not None:
        read.append(file_calibration(pixel_size_from, with_meta=True))
    size, source = resolve_pixel_size(pixel_size, *read)
    if size is None:
        raise ValueError(f"{path}: no pixel size in the file; give it with --pixel-size (nm)")
    return image, size, source


@dataclass
class VolumeResult:
    """Outcome of segmenting one tomogram file."""

    path: Path
    volume: np.ndarray              # as read (memory-mapped for MRC)
    segmentation: object
    table: object
    voxel_size_source: str
    metadata: dict


def load_volume(path, *, what="volume", lazy=False):
    """Read a 3D grey-level volume and check it is one: ``(volume, voxel_size, metadata)``.

    Refuses single images (one slice), 4D and RGB data (:func:`emseg.io.read_volume`),
    constant volumes, and integer volumes that are mostly 0 (a label volume passed where a
    tomogram is expected; an 8-bit tomogram is never mostly exactly 0). An OME-Zarr volume
    is read whole, or, with ``lazy``, left on disk to be read in parts (an MRC file is
    memory-mapped either way).
    """
    from ..segment.scaling import sample_step

    volume, size, meta = _io.read_volume(path)
    if min(volume.shape) < 2:
        raise ValueError(f"{path}: {what} of shape {volume.shape}: a volume needs at least 2 "
                         "voxels along every axis")
    step = sample_step(volume.shape)
    sample = np.asarray(volume[::step, ::step, ::step])
    release_pages(volume)       # the check read pages of the whole file
    if not np.isfinite(sample).all():
        raise ValueError(f"{path}: the {what} holds NaN or infinite values")
    if sample.min() == sample.max():
        raise ValueError(f"{path}: the {what} is empty (every voxel is {sample.flat[0]:g})")
    if sample.dtype.kind in "iub" and np.mean(sample == 0) > 0.5 and sample.min() == 0:
        raise ValueError(f"{path}: this looks like a label volume (integers, "
                         f"{np.mean(sample == 0):.0%} zeros), not a tomogram")
    if not lazy and not isinstance(volume, np.ndarray):
        volume = np.asarray(volume[...])
    return volume, size, meta


def volume_input(path):
    """Whether a file holds a volume (True) or a 2D image (False), from its shape (read from
    the header for TIFF and MRC files)."""
    shape, axes = _io.image_shape(path)
    shape = [n for a, n in zip(axes, shape) if a not in "SC"] if len(axes) == len(shape) \
        else list(shape)
    return sum(n > 1 for n in shape) >= 3


def segment_volume_array(volume, predictor, *, voxel_size, mask=None, threshold=None,
                         postprocess=None, batch_size=1, progress=None):
    """Segment the vesicles of a tomogram held in memory and tabulate them.

    The one volume path behind ``emseg segment``, :func:`segment_volume_file`, the Fiji
    plugin's in-process backend and the napari widget.

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
    predictor : callable with a ``meta`` attribute
        A volume model's :class:`emseg.models.saved.SavedModelPredictor`.
    voxel_size : float or (float, float, float)
        (z, y, x) in nm (required: a network only works at its training scale).
    mask : (Z, Y, X) ndarray of bool, optional
        The region the vesicles must lie in.
    postprocess : dict, optional
        Overrides of the model's "vesicles" settings (``{"refine": False}``: the
        segmentation without the sphere refinement).

    Returns
    -------
    (VolumeSegmentation, pandas.DataFrame)
        The segmentation and :func:`emseg.measure.sphere_table` of the refined spheres, or
        :func:`emseg.measure.vesicle_table` without the refinement.
    """
    from ..measure import sphere_table, vesicle_table
    from ..segment import segment_volume

    if voxel_size is None:
        raise ValueError("voxel_size: the voxel size in nm is required")
    seg = segment_volume(volume, predictor, predictor.meta, voxel_size=voxel_size, mask=mask,
                         threshold=threshold, postprocess=postprocess, batch_size=batch_size,
                         progress=progress)
    if seg.spheres is not None:
        table = sphere_table(seg.spheres, seg.labels, seg.voxel_size, thresholds=seg.thresholds)
    else:
        table = vesicle_table(seg.labels, seg.voxel_size, thresholds=seg.thresholds)
    return seg, table


def segment_volume_file(path, predictor, *, voxel_size=None, mask=None, threshold=None,
                        postprocess=None, batch_size=1, progress=None):
    """Segment the vesicles of one tomogram file (MRC/REC, TIFF stack) with a 3D model.

    The voxel size is ``voxel_size`` when given, else the file's (MRC header, ImageJ or
    OME spacing); an uncalibrated volume without it is an error.

    Parameters
    ----------
    path : path-like
    predictor : callable with a ``meta`` attribute
        A volume model's :class:`emseg.models.saved.SavedModelPredictor`.
    voxel_size : float or (float, float, float), optional
        (z, y, x) in nm.
    mask : path-like, optional
        A region volume of the same shape (non-zero inside): vesicles only there.
    postprocess : dict, optional
        Overrides of the model's "vesicles" settings (``{"refine": False}``: the
        segmentation without the sphere refinement).

    Returns
    -------
    VolumeResult
        ``table`` is :func:`emseg.measure.sphere_table` of the refined spheres, or
        :func:`emseg.measure.vesicle_table` without the refinement.
    """
    from .._validate import check_spacing
    from ..segment.volume import volume_model_settings

    volume_model_settings(predictor.meta)   # a 2D model is refused before reading anything
    volume, size, meta = load_volume(path, what="tomogram")
    if voxel_size is not None:
        voxel_size = check_spacing(voxel_size, 3, "voxel_size")
    size, source = resolve_pixel_size(voxel_size, (size, meta), what="voxel size")
    if size is None:
        xy = meta.get("pixel_size_source")
        raise ValueError(f"{path}: no voxel size in the file"
                         f"{' (only an x/y pixel size from ' + xy + ')' if xy else ''}; "
                         "give it with --pixel-size (nm)")
    region = None
    if mask is not None:
        region, _, _ = _io.read_volume(mask)
        if region.shape != volume.shape:
            raise ValueError(f"{mask}: mask shape {region.shape} differs from {path} "
                             f"{volume.shape}")
        region = np.asarray(region) != 0
    seg, table = segment_volume_array(volume, predictor, voxel_size=size, mask=region,
                                      threshold=threshold, postprocess=postprocess,
                                      batch_size=batch_size, progress=progress)
    return VolumeResult(Path(path), volume, seg, table, source, meta)
