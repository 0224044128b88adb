"""Keeping the particles fit for statistics (``emseg filter``, ``segment
--classifier``, Fiji's Classifier Filter)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import resolve_pixel_size
from .files import load_image, load_labels

__all__ = ["FilterResult", "filter_array", "filter_file"]


def filter_array(image, labels, classifier=None, *, pixel_size, min_score=None, ranges=(),
                 exclude_border=False, connectivity=8, batch_size=4, progress=None, table=None):
    """Measure a segmentation held in memory and keep the particles fit for statistics.

    The one filtering path behind ``emseg filter``, ``emseg segment
    --classifier`` and the Fiji plugin's backends.

    Parameters
    ----------
    image : (M, N) ndarray
        The grey-level image (the classifier's input, and Mean/Min/Max).
    labels : (M, N) ndarray of int
        Instances (0 = background), or a binary mask whose connected
        components (``connectivity`` 4 or 8) are the particles.
    classifier : SavedModelPredictor, optional
        A loaded classifier filter (``predictor.meta["task"] == "classifier"``);
        None applies only the rule filters.
    pixel_size : float or (float, float)
        Pixel size in nm.
    min_score : float, optional
        Minimum classifier score (default: the classifier's tuned threshold).
    ranges : iterable of "COL=LO:HI" or (col, lo, hi), optional
    exclude_border : bool, optional
    connectivity : {4, 8}, optional
        For binary masks.
    table : pandas.DataFrame, optional
        The measurements of ``labels`` (instance labels) with ``image``
        already made (e.g. by :func:`segment_array`), so they are not
        computed again.

    Returns
    -------
    FilterResult
        All particles' measurements with ``Score`` and ``Kept`` columns, the
        particles and the label image holding only the kept ones (numbers
        unchanged).
    """
    from ..filter import apply_filters, classify, filter_labels, parse_range
    from ..measure import measure

    if pixel_size is None:
        raise ValueError("pixel_size: the pixel size in nm is required")
    ranges = [parse_range(r) if isinstance(r, str) else r for r in ranges]
    if min_score is not None and not 0 <= min_score <= 1:
        raise ValueError(f"min_score must be in [0, 1], got {min_score!r}")
    from .._validate import check_labels, is_binary_mask

    labels = check_labels(labels, "labels")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    if table is None:
        if is_binary_mask(labels):
            from skimage.measure import label as sk_label
            labels = sk_label(labels != 0, connectivity=1 if connectivity == 4 else 2).astype(np.int32)
        table = measure(labels, image, pixel_size=pixel_size)
    scores = None
    if classifier is not None:
        result = classify(image, labels, classifier, classifier.meta, pixel_size=pixel_size,
                          batch_size=batch_size, progress=progress)
        scores = result.scores
        min_score = result.threshold if min_score is None else min_score
    table = apply_filters(table, scores=scores, min_score=0.5 if min_score is None else min_score,
                          ranges=ranges, exclude_border=exclude_border)
    return FilterResult(table, labels, filter_labels(labels, table.loc[table["Kept"], "Label"]),
                        image, pixel_size)


@dataclass
class FilterResult:
    """Outcome of :func:`filter_array` / :func:`filter_file`.

    Attributes
    ----------
    table : pandas.DataFrame
        Every particle's measurements with ``Score`` and ``Kept``.
    labels : ndarray of int
        All particles (a binary mask's components numbered as in ``table``).
    filtered : ndarray of int
        Only the kept particles, numbers unchanged.
    image : ndarray, optional
    pixel_size : (float, float), optional
    pixel_size_source : str, optional
    path, labels_path : Path, optional
        The files read (:func:`filter_file`).
    """

    table: object
    labels: np.ndarray
    filtered: np.ndarray
    image: np.ndarray = None
    pixel_size: tuple = None
    pixel_size_source: str = None
    path: Path = None
    labels_path: Path = None


def filter_file(image_path, labels_path, classifier=None, *, pixel_size=None, min_score=None,
                ranges=(), exclude_border=False, connectivity=8, batch_size=4, progress=None):
    """Filter the particles of a label image file (see :func:`filter_array`).

    The pixel size is ``pixel_size`` when given, else the image's (or the
    label image's) calibration; without any it is an error.

    Returns
    -------
    FilterResult
    """
    image, image_size, image_meta = load_image(image_path)
    labels, label_size, label_meta = load_labels(labels_path, allow_empty=True)
    if image.shape != labels.shape:
        raise ValueError(f"{labels_path}: labels {labels.shape} and image {image.shape} "
                         "differ in shape")
    size, source = resolve_pixel_size(pixel_size, (image_size, image_meta),
                                          (label_size, label_meta))
    if size is None:
        raise ValueError(f"{image_path}: no pixel size in the files; give it with --pixel-size (nm)")
    res = filter_array(image, labels, classifier, pixel_size=size, min_score=min_score,
                       ranges=ranges, exclude_border=exclude_border, connectivity=connectivity,
                       batch_size=batch_size, progress=progress)
    res.pixel_size_source, res.path, res.labels_path = source, Path(image_path), Path(labels_path)
    return res
