"""Segmenting image files with a loaded model (``emseg segment``, Fiji's Segment Particles)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import resolve_pixel_size
from .files import file_calibration, load_image

__all__ = ["SegmentResult", "segment_array", "segment_file"]


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
    image, size, meta = load_image(path)
    read = [(size, meta)]
    if pixel_size is None and size is None and pixel_size_from is not None:
        read.append(file_calibration(pixel_size_from, with_meta=True))
    size, source = resolve_pixel_size(pixel_size, *read)
    if size is None:
        raise ValueError(f"{path}: no pixel size in the file; give it with --pixel-size (nm)")
    seg, table = segment_array(image, predictor, pixel_size=size, threshold=threshold,
                               keep_databar=keep_databar, postprocess=postprocess,
                               batch_size=batch_size, progress=progress)
    return SegmentResult(Path(path), image, seg, table, source)
