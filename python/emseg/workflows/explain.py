"""Grad-CAM heat maps of a semantic model on an image file (``emseg explain``)."""

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExplainResult", "explain_file", "explain_output_paths"]


@dataclass
class ExplainResult:
    """Grad-CAM maps of one class on one image.

    Attributes
    ----------
    path : Path
    image : ndarray
    class_name : str
    maps : dict of str to (M, N) ndarray of float32
        At the image's pixel size, in [0, 1]: one per ensemble member (by architecture) and
        ``"ensemble"``, or one for a single network.
    pixel_size : (float, float)
    pixel_size_source : str
    """

    path: Path
    image: object
    class_name: str
    maps: dict
    pixel_size: tuple
    pixel_size_source: str


def explain_file(path, model, class_name, *, pixel_size=None):
    """Grad-CAM of class ``class_name`` of a semantic model (name, folder or ModelInfo) on
    an image file: the image is brought to the model's pixel size and normalisation as
    segmentation does, explained whole, and the maps brought back."""
    import numpy as np

    from ..models.gradcam import explain
    from ..models.saved import load_keras_model
    from ..segment.scaling import normalize, rescale, rescale_factor
    from .segment import read_calibrated

    keras_model, config = load_keras_model(model)
    if config.task != "semantic":
        raise ValueError(f"model {config.name!r} is a {config.task} model; Grad-CAM explains "
                         f"semantic (multi-class) models")
    if class_name not in config.classes:
        raise ValueError(f"class {class_name!r} is not one of {', '.join(config.classes)}")
    image, size, source = read_calibrated(path, pixel_size)
    small = rescale(np.asarray(image, np.float32), rescale_factor(size, config.pixel_size),
                    order=1)
    norm = config.normalization
    if norm["mode"] == "standardize":
        from ..segment.scaling import standardize
        small = standardize(small)
    else:
        small = normalize(small, norm["low"], norm["high"])
    maps = explain(keras_model, config, small, config.classes.index(class_name))
    maps = {k: np.clip(rescale(v, shape=image.shape, order=1), 0, 1).astype(np.float32)
            for k, v in maps.items()}
    return ExplainResult(Path(path), image, class_name, maps, size, source)


def explain_output_paths(out, stem, class_name, names):
    """``{map name: PNG path}`` for :class:`ExplainResult` maps named ``names``."""
    from .files import file_part

    return {n: Path(out) / f"{stem}_gradcam_{file_part(class_name)}_{file_part(n)}.png"
            for n in names}
