"""The plugin's in-process backend: a Python class implementing the Java
``org.emseg.fiji.Backend`` interface, running EMSeg's workflows on ImageJ's
pixel arrays (registered by :func:`emseg.imagej.fiji.start`)."""

import os
import sys
from contextlib import contextmanager

import numpy as np

from ..models.config import report_columns
from .fiji import _PKG, _image_data_to_numpy, _java, _java_table


@contextmanager
def _models_dir(folder):
    """The plugin's extra model folder, seen by the registry as ``$EMSEG_MODELS``
    (as the command-line backend passes it)."""
    if not folder:
        yield
        return
    old = os.environ.get("EMSEG_MODELS")
    os.environ["EMSEG_MODELS"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("EMSEG_MODELS", None)
        else:
            os.environ["EMSEG_MODELS"] = old


def _segmentation_to_java(seg, table, width, height, source=None, report=()):
    import jpype

    java = _java()
    labels = java.jarray("i", np.ascontiguousarray(seg.labels, dtype=np.int32).ravel())
    prob = java.jarray("f", np.ascontiguousarray(seg.probability, dtype=np.float32).ravel())
    bar = -1 if seg.databar_row is None else int(seg.databar_row)
    pw, ph = seg.pixel_size
    columns = jpype.JArray(jpype.JString)([c for c in report if c in table.columns])
    return java.jclass(f"{_PKG}.Segmentation")(width, height, labels, prob, _java_table(table),
                                               bar, float(pw), float(ph), source, columns)


def _class_segmentation_to_java(res, width, height, source=None):
    """An ``org.emseg.fiji.Segmentation`` holding an ``org.emseg.fiji.ClassImage``: the same
    content as the files of :func:`emseg.workflows.write_class_outputs`."""
    import jpype

    from ..plot import class_colours

    java = _java()
    seg = res.segmentation
    k = len(seg.names)
    classes = java.jarray("b", np.ascontiguousarray(seg.classes, np.uint8).view(np.int8).ravel())
    names = jpype.JArray(jpype.JString)(list(seg.names))
    rgb = class_colours(k).astype(np.int32)
    colours = java.jarray("i", (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])
    prob = jpype.JArray(jpype.JFloat, 2)(k)
    for i in range(k):
        prob[i] = java.jarray("f", np.ascontiguousarray(seg.probabilities[..., i]).ravel())
    instances = list(res.tables)
    objects = jpype.JArray(jpype.JInt, 2)(len(instances))
    tables = jpype.JArray(java.jclass(f"{_PKG}.Table"))(len(instances))
    for i, name in enumerate(instances):
        objects[i] = java.jarray("i", np.ascontiguousarray(seg.objects[name], np.int32).ravel())
        tables[i] = _java_table(res.tables[name])
    image = java.jclass(f"{_PKG}.ClassImage")(width, height, classes, names, colours, prob,
                                              _java_table(res.areas),
                                              jpype.JArray(jpype.JString)(instances), objects,
                                              tables)
    bar = -1 if seg.databar_row is None else int(seg.databar_row)
    pw, ph = seg.pixel_size
    return java.jclass(f"{_PKG}.Segmentation")(image, bar, float(pw), float(ph), source)


def _volume_data(volume, size, title, path=None):
    """An ``org.emseg.fiji.VolumeData`` of a uint8/uint16/float32 (z, y, x) volume, one Java
    array per slice; ``size`` (z, y, x) nm or None."""
    import jpype

    java = _java()
    kind, view = {"uint8": ("b", np.int8), "uint16": ("s", np.int16),
                  "float32": ("f", np.float32)}[str(volume.dtype)]
    depth, h, w = volume.shape
    planes = jpype.JArray(jpype.JObject)(depth)
    for z in range(depth):
        planes[z] = java.jarray(kind, np.ascontiguousarray(volume[z]).view(view).ravel())
    pd, ph, pw = size if size is not None else (0.0, 0.0, 0.0)
    return java.jclass(f"{_PKG}.VolumeData")(title, w, h, planes, float(pw), float(ph), float(pd),
                                             path)


def _volume_data_to_numpy(data):
    """``(volume, voxel_size (z, y, x) or None)`` of an ``org.emseg.fiji.VolumeData``."""
    from .fiji import _plane

    kind = str(data.pixelType())
    volume = np.stack([_plane(data.planes[z], kind, data.width, data.height)
                       for z in range(data.depth)])
    size = (float(data.pixelDepth), float(data.pixelHeight), float(data.pixelWidth)) \
        if data.isCalibrated() else None
    return volume, size


def _volume_segmentation_to_java(seg, table, title):
    """An ``org.emseg.fiji.VolumeSegmentation``: 16-bit label planes (32-bit float past 65535
    labels, as ImageJ holds them) and the vesicle table."""
    labels = seg.labels
    labels = labels.astype(np.uint16 if labels.max(initial=0) <= 65535 else np.float32)
    data = _volume_data(labels, seg.voxel_size, title)
    return _java().jclass(f"{_PKG}.VolumeSegmentation")(data, _java_table(table))


_BACKEND_CLASS = None


def _backend_class():
    """The Python class implementing ``org.emseg.fiji.Backend`` (made once the JVM runs)."""
    global _BACKEND_CLASS
    if _BACKEND_CLASS is not None:
        return _BACKEND_CLASS
    java = _java()
    from .. import __version__

    JImplements, JOverride = java.implements(f"{_PKG}.Backend")
    BackendException = java.jclass(f"{_PKG}.BackendException")

    @JImplements
    class InProcessBackend:
        """Runs EMSeg in this Python process on ImageJ's pixel arrays."""

        def __init__(self):
            self._models = {}

        def _predictor(self, model, models_dir, task="segmentation"):
            from ..models.saved import load_predictor
            key = (model, models_dir, task)
            if key not in self._models:
                with _models_dir(models_dir):
                    self._models[key] = load_predictor(model, task=task)
            return self._models[key]

        @JOverride
        def describe(self):
            return f"in-process: Python {sys.version.split()[0]} ({sys.executable})"

        @JOverride
        def version(self):
            return __version__

        @JOverride
        def segment(self, image, options, progress):
            from ..workflows.files import file_calibration
            from ..workflows.segment import segment_array
            from ..workflows.semantic import segment_classes_array
            try:
                array, size = _image_data_to_numpy(image)
                source = None
                if size is None and image.sourcePath is not None:
                    # ImageJ does not read Zeiss/FEI/vendor calibration; EMSeg's reader does
                    size, source = file_calibration(str(image.sourcePath))
                if size is None:
                    raise ValueError(f"{image.title}: no pixel size; give it in nm")
                from ..models.saved import SEGMENTING_TASKS
                predictor = self._predictor(str(options.model), None if options.modelsDir is None
                                            else str(options.modelsDir), task=SEGMENTING_TASKS)
                threshold = None if np.isnan(options.threshold) else float(options.threshold)

                def tiles(done, total):
                    progress.update(int(done), int(total), "tiles")
                if predictor.meta.get("task") == "semantic":
                    if threshold is not None:
                        raise ValueError("threshold: a multi-class model gives each pixel its "
                                         "most probable class; leave it 0")
                    res = segment_classes_array(array, predictor, pixel_size=size,
                                                keep_databar=bool(options.keepDatabar),
                                                progress=tiles)
                    return _class_segmentation_to_java(res, image.width, image.height, source)
                seg, table = segment_array(array, predictor, pixel_size=size, threshold=threshold,
                                           keep_databar=bool(options.keepDatabar), progress=tiles)
                return _segmentation_to_java(seg, table, image.width, image.height, source,
                                             report_columns(predictor.meta))
            except (ValueError, TypeError, OSError) as exc:
                raise BackendException(str(exc)) from None

        @JOverride
        def measure(self, labels, intensity, connectivity, progress):
            from .._validate import check_labels
            from ..measure import measure
            try:
                lab, size = _image_data_to_numpy(labels)
                lab = check_labels(lab)
                if not lab.any():
                    raise ValueError(f"{labels.title}: label image is empty (no particle pixels)")
                image = None
                if intensity is not None:
                    image, isize = _image_data_to_numpy(intensity)
                    if size is None:
                        size = isize
                table = measure(lab, image, pixel_size=size, connectivity=int(connectivity))
                return _java_table(table)
            except (ValueError, TypeError, OSError) as exc:
                raise BackendException(str(exc)) from None

        @JOverride
        def classify(self, image, labels, options, progress):
            from ..workflows.filter import filter_array
            try:
                array, size = _image_data_to_numpy(image)
                lab, lsize = _image_data_to_numpy(labels)
                size = size if size is not None else lsize
                if size is None:
                    raise ValueError(f"{image.title}: no pixel size; give it in nm")
                name = str(options.classifier)
                classifier = None if options.rulesOnly() else self._predictor(
                    name, None if options.modelsDir is None else str(options.modelsDir),
                    task="classifier")
                min_score = None if np.isnan(options.minScore) else float(options.minScore)

                def tiles(done, total):
                    progress.update(int(done), int(total), "tiles")
                res = filter_array(array, lab, classifier, pixel_size=size, min_score=min_score,
                                   ranges=[str(r) for r in options.ranges],
                                   exclude_border=bool(options.excludeBorder), progress=tiles)
                return _java_table(res.table)
            except (ValueError, TypeError, OSError) as exc:
                raise BackendException(str(exc)) from None

        @JOverride
        def segmentVolume(self, volume, options, progress):
            from ..workflows.segment import segment_volume_array
            try:
                array, size = _volume_data_to_numpy(volume)
                if size is None:
                    raise ValueError(f"{volume.title} has no voxel size in nm: give it (or set "
                                     "it with Image > Properties...); EMSeg never guesses it")
                predictor = self._predictor(str(options.model), None if options.modelsDir is None
                                            else str(options.modelsDir))
                threshold = None if np.isnan(options.threshold) else float(options.threshold)

                def steps(done, total):
                    progress.update(int(done), int(total), "blocks")
                seg, table = segment_volume_array(
                    array, predictor, voxel_size=size, threshold=threshold,
                    postprocess=None if options.refine else {"refine": False}, progress=steps)
                return _volume_segmentation_to_java(seg, table, f"{volume.title}_labels")
            except (ValueError, TypeError, OSError) as exc:
                raise BackendException(str(exc)) from None

        @JOverride
        def openVolume(self, path, progress):
            from pathlib import Path

            from ..workflows.convert import imagej_image, imagej_volume
            from ..workflows.segment import volume_input
            try:
                path = str(path)
                if volume_input(path):
                    volume, size, _ = imagej_volume(path)
                else:
                    image, size, _ = imagej_image(path)
                    volume = image[None]
                    size = None if size is None else (size[0], size[1], size[0])
                return _volume_data(volume, size, Path(path).name, str(Path(path).resolve()))
            except (ValueError, TypeError, OSError) as exc:
                raise BackendException(str(exc)) from None

    _BACKEND_CLASS = InProcessBackend
    return InProcessBackend
