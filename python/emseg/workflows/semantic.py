"""Semantic segmentation of image files (``emseg segment`` and Fiji with a multi-class model):
the class image, one probability map per class, the class areas and the objects of the
instance classes measured as ImageJ does."""

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ClassResult", "segment_classes_array", "segment_classes_file",
           "class_output_paths", "write_class_outputs"]


@dataclass
class ClassResult:
    """Outcome of segmenting one image with a semantic model.

    Attributes
    ----------
    path : Path or None
    image : ndarray
    segmentation : emseg.segment.ClassSegmentation
    areas : pandas.DataFrame
        Per class: pixels, area (µm²) and fraction of the classified pixels.
    tables : dict of str to pandas.DataFrame
        For every instance class, the ImageJ measurements of its objects.
    pixel_size_source : str or None
    """

    path: Path
    image: object
    segmentation: object
    areas: object
    tables: dict
    pixel_size_source: str = None


def segment_classes_array(image, predictor, *, pixel_size, keep_databar=False, batch_size=4,
                          progress=None, postprocess=None):
    """Segment an image held in memory with a semantic model: classes, areas, objects.

    The one path behind ``emseg segment``, :func:`segment_classes_file` and Fiji.
    """
    from ..measure import measure
    from ..segment import class_areas, segment_classes

    if pixel_size is None:
        raise ValueError("pixel_size: the pixel size in nm is required")
    seg = segment_classes(image, predictor, predictor.meta, pixel_size=pixel_size,
                          keep_databar=keep_databar, batch_size=batch_size, progress=progress,
                          postprocess=postprocess)
    tables = {name: measure(labels, image, pixel_size=seg.pixel_size)
              for name, labels in seg.objects.items()}
    return ClassResult(None, image, seg, class_areas(seg.classes, seg.names, seg.pixel_size),
                       tables)


def segment_classes_file(path, predictor, *, pixel_size=None, keep_databar=False, batch_size=4,
                         progress=None, pixel_size_from=None, postprocess=None):
    """Segment one image file with a semantic model (pixel size as
    :func:`emseg.workflows.segment_file` finds it)."""
    from .segment import read_calibrated

    image, size, source = read_calibrated(path, pixel_size, pixel_size_from)
    res = segment_classes_array(image, predictor, pixel_size=size, keep_databar=keep_databar,
                                batch_size=batch_size, progress=progress,
                                postprocess=postprocess)
    res.path, res.pixel_size_source = Path(path), source
    return res


def class_output_paths(out, stem, meta):
    """The files :func:`write_class_outputs` writes for a semantic model's ``model.yaml``:
    ``classes`` (the class image), ``areas`` (CSV), ``overlay`` (PNG), ``prob <class>`` (one
    map per class), and for each instance class ``labels <class>`` (its objects numbered) and
    ``table <class>`` (their measurements)."""
    from .files import file_part

    out = Path(out)
    names = list(meta["output"]["classes"])
    paths = {"classes": out / f"{stem}_classes.tif", "areas": out / f"{stem}_classes.csv",
             "overlay": out / f"{stem}_classes.png"}
    for name in names:
        paths[f"prob {name}"] = out / f"{stem}_prob_{file_part(name)}.tif"
    for name in (meta.get("postprocess") or {}).get("instance_classes", []):
        paths[f"labels {name}"] = out / f"{stem}_{file_part(name)}_labels.tif"
        paths[f"table {name}"] = out / f"{stem}_{file_part(name)}_results.csv"
    return paths


def write_class_outputs(res, paths):
    """Write one semantic segmentation's files (``paths`` from :func:`class_output_paths`)."""
    import numpy as np

    from .. import io
    from ..plot import class_overlay

    seg = res.segmentation
    io.write_class_image(paths["classes"], seg.classes, seg.names, seg.pixel_size)
    for i, name in enumerate(seg.names):
        io.write_image(paths[f"prob {name}"], np.ascontiguousarray(seg.probabilities[..., i]),
                       seg.pixel_size)
    io.write_table(paths["areas"], res.areas)
    for name, table in res.tables.items():
        io.write_labels(paths[f"labels {name}"], seg.objects[name], seg.pixel_size)
        io.write_table(paths[f"table {name}"], table)
    title = None if res.path is None else res.path.name
    io.write_png(paths["overlay"], class_overlay(res.image, seg.classes, seg.names, title=title))
