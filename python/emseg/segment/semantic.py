"""Semantic segmentation: every pixel one of a model's classes (organelles in TEM/SEM).

The same data bar, rescaling and tiled prediction as :func:`emseg.segment.segment`; the
softmax maps come back to the image's pixel size and each pixel takes its most probable
class. Classes the model's ``postprocess`` names as ``instance_classes`` (mitochondria,
nuclei) are then split into objects (connected regions) that can be measured one by one.
"""

from dataclasses import dataclass

import numpy as np

from .._validate import NO_CLASS, check_label_array, check_square_pixel_size
from .pipeline import _settings, predict_maps
from .scaling import rescale

__all__ = ["ClassSegmentation", "segment_classes", "class_objects", "class_areas", "NO_CLASS"]


@dataclass
class ClassSegmentation:
    """Result of :func:`segment_classes`.

    Attributes
    ----------
    classes : (M, N) ndarray of uint8
        Class index of every pixel (``names[i]``), :data:`NO_CLASS` (255) in the data bar.
    probabilities : (M, N, K) ndarray of float32
        Each class's probability at the image's pixel size (0 in the data bar).
    names : list of str
        The model's classes.
    objects : dict of str to (M, N) ndarray of int32
        For every instance class, its connected regions numbered 1..n.
    pixel_size : (float, float)
    databar_row : int or None
    """

    classes: np.ndarray
    probabilities: np.ndarray
    names: list
    objects: dict
    pixel_size: tuple
    databar_row: object


def segment_classes(image, predict_fn, meta, *, pixel_size, keep_databar=False, batch_size=4,
                    progress=None, postprocess=None):
    """Give every pixel of ``image`` one of a semantic model's classes.

    Parameters
    ----------
    image : (M, N) ndarray
    predict_fn : callable
        The network on batches of tiles.
    meta : dict
        The semantic model's ``model.yaml``.
    pixel_size : float or (float, float)
        The image's pixel size in nm (square pixels).
    keep_databar : bool, optional
    batch_size : int, optional
    progress : callable, optional
    postprocess : dict, optional
        Overrides of the "classes" chain (``instance_classes``, ``min_area_nm2``).

    Returns
    -------
    ClassSegmentation
    """
    from ..models.config import check_class_options

    s = _settings(meta, None, postprocess, "semantic")
    options = check_class_options({k: v for k, v in s["options"].items() if k != "chain"},
                                  s["classes"])
    maps = predict_maps(image, predict_fn, meta, pixel_size=pixel_size,
                        keep_databar=keep_databar, batch_size=batch_size, progress=progress,
                        task="semantic")
    k = len(maps.classes)
    rows = maps.work_shape[0]
    prob = np.zeros(maps.image_shape + (k,), np.float32)
    for c in range(k):
        prob[:rows, :, c] = np.clip(rescale(maps.maps[..., c], shape=maps.work_shape, order=1),
                                    0, 1)
    classes = np.full(maps.image_shape, NO_CLASS, np.uint8)
    classes[:rows] = prob[:rows].argmax(-1)
    objects = class_objects(classes, maps.classes, options["instance_classes"],
                            pixel_size=maps.pixel_size, min_area_nm2=options["min_area_nm2"])
    return ClassSegmentation(classes, prob, list(maps.classes), objects, maps.pixel_size,
                             maps.databar_row)


def class_objects(classes, names, instance_classes, *, pixel_size, min_area_nm2=0.0):
    """The connected regions (8-connected, as ImageJ's particle analyser) of each instance
    class, those under ``min_area_nm2`` left out: ``{name: labels 1..n}``."""
    from skimage.measure import label

    classes = check_label_array(classes, "classes", ndims=(2,))
    pw, ph = check_square_pixel_size(pixel_size)
    unknown = [c for c in instance_classes if c not in names]
    if unknown:
        raise ValueError(f"instance_classes: {', '.join(unknown)} not among {', '.join(names)}")
    if not min_area_nm2 >= 0:
        raise ValueError(f"min_area_nm2 must be >= 0, got {min_area_nm2!r}")
    min_pixels = min_area_nm2 / (pw * ph)
    out = {}
    for name in instance_classes:
        labels = label(classes == names.index(name), connectivity=2).astype(np.int32)
        sizes = np.bincount(labels.ravel())
        small = sizes < min_pixels
        small[0] = False
        if small.any():
            labels[small[labels]] = 0
            labels = label(labels > 0, connectivity=2).astype(np.int32)
        out[name] = labels
    return out


def class_areas(classes, names, pixel_size=None):
    """Each class's pixels, area and area fraction of the classified pixels.

    Parameters
    ----------
    classes : (M, N) ndarray of int
        Class indices (:data:`NO_CLASS` pixels are not counted).
    names : sequence of str
    pixel_size : float or (float, float), optional
        nm; areas in µm² (else in pixels).

    Returns
    -------
    pandas.DataFrame
        ``Class``, ``Index``, ``Pixels``, ``Area`` (µm², or pixels), ``Fraction``.
    """
    import pandas as pd

    classes = check_label_array(classes, "classes", ndims=(2,))
    names = list(names)
    counts = np.bincount(classes.ravel(), minlength=max(len(names), NO_CLASS + 1))
    if counts[len(names):NO_CLASS].any() or counts[NO_CLASS + 1:].any():
        raise ValueError(f"classes holds values beyond the {len(names)} class names")
    counted = counts[:len(names)]
    total = counted.sum()
    scale = 1.0 if pixel_size is None else np.prod(check_square_pixel_size(pixel_size)) / 1e6
    return pd.DataFrame({"Class": names, "Index": np.arange(len(names)), "Pixels": counted,
                         "Area": counted * scale,
                         "Fraction": counted / total if total else np.nan})
