"""BioImage Model Zoo packages of EMSeg models: ``rdf.yaml`` (the spec's current format),
TensorFlow SavedModel and Keras v3 weights, test tensors made by EMSeg, a cover, documentation.

A package lets any Zoo consumer (bioimageio.core, deepImageJ, ilastik, ...)
run the network exactly as EMSeg does on one tile: the input is the grey-level
image already at the model's pixel size (the axes' ``scale``, in nm); the
spec's ``scale_range`` + ``clip`` pre-processing is EMSeg's percentile
normalisation; the output is the per-class probability map. What the spec
cannot express (rescaling to the pixel size, tiling with a halo, the
instance post-processing chain and its tuned threshold) is in
``config.emseg``, which :mod:`emseg.models.zoo_import` reads back.
"""

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .. import __version__, io
from .about import about
from .config import ModelConfig
from .registry import ModelInfo, find_model

__all__ = ["export_bioimageio", "emseg_prediction", "normalized"]

_INPUT, _OUTPUT = "raw", "probabilities"


def _about(meta):
    defaults = about(meta.get("architecture", ""))
    return (meta.get("authors") or defaults["authors"], meta.get("license") or defaults["license"],
            meta.get("cite") or defaults["cite"])


def _spatial_axes(meta):
    """``"yx"`` or ``"zyx"`` from model.yaml's input axes (``byxc``, ``bzyxc``)."""
    axes = str(meta.get("input", {}).get("axes", "byxc"))
    if axes not in ("byxc", "bzyxc"):
        raise ValueError(f"model input axes {axes!r}: only byxc (2D) and bzyxc (3D) can be packaged")
    return axes[1:-1]


def _sizes(meta):
    """(minimum input size, step, test size) of every spatial axis: multiples of the network's
    divisor, at least four halos so that the valid centre is not empty."""
    step = int(meta.get("input", {}).get("divisor", 1)) or 1
    halo = int(meta.get("halo", 0))
    low = max(4 * halo, 2 * step, 16)
    low = -(-low // step) * step
    test = max(low, -(-min(256, int(meta.get("tile_size", 256))) // step) * step)
    return low, step, test


def _test_input(meta, spatial, size):
    """Raw intensities at the model's pixel size: a crop of the bundled SEM sample (2D), or a
    stack of crops (3D)."""
    from ..segment.scaling import rescale
    from ..workflows.files import sample_files

    image, pixel, _ = io.read_image(sample_files()[0])
    image = image[:int(image.shape[0] * 0.9)]          # the sample's data bar is not specimen
    factor = pixel[0] / float(meta["pixel_size_nm"])
    small = rescale(image.astype(np.float32), factor, order=1)
    reps = [-(-size // n) for n in small.shape]
    small = np.tile(small, reps)[:size, :size]
    channels = int(meta.get("input", {}).get("channels", 1))
    if len(spatial) == 3:
        small = np.stack([np.roll(small, 7 * k, axis=1) for k in range(size)])
    return np.repeat(small[None, ..., None], channels, axis=-1).astype(np.float32)


def normalized(meta, raw):
    """EMSeg's normalisation of a ``(1, [z,] y, x, c)`` test input, channel by channel, with
    the model's percentiles."""
    from ..segment.scaling import normalize

    norm = dict(meta.get("normalization", {}))
    low, high = float(norm.get("low", 1.0)), float(norm.get("high", 99.8))
    return np.stack([normalize(raw[0, ..., c], low, high) for c in range(raw.shape[-1])], -1)[None]


def emseg_prediction(predictor, meta, raw):
    """What EMSeg computes for a test input: its normalisation, then the network."""
    return predictor(normalized(meta, raw)).astype(np.float32)


def _bundle(inner, target, n_spatial, channels):
    """The loaded SavedModel ``inner`` re-exported so that ``serve`` returns
    ``{"probabilities": ...}`` (bioimageio.core maps outputs by name), zipped as the spec's
    ``tensorflow_saved_model_bundle``."""
    from ._tf import tf

    spec = tf.TensorSpec([None] * (n_spatial + 1) + [channels], tf.float32)

    class Package(tf.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[spec], autograph=False)
        def serve(self, x):
            return {_OUTPUT: self.model.serve(x)}

    module = Package(inner)
    folder = Path(tempfile.mkdtemp(prefix="sm-", dir=target.parent))
    try:
        tf.saved_model.save(module, os.fspath(folder / "sm"), signatures={"serving_default": module.serve})
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted((folder / "sm").rglob("*")):
                if f.is_file():
                    z.write(f, f.relative_to(folder / "sm").as_posix())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _keras_weights(info, loaded, target, raw_norm, expected):
    """The Keras v3 model rebuilt from ``config.json`` with the SavedModel's variables, saved
    as ``.keras``; None (no Keras weights) when the folder has no buildable config or the
    rebuilt model does not reproduce the SavedModel."""
    from ._tf import keras
    from .networks import build_model

    cfg_path = Path(info.path) / "config.json"
    if not cfg_path.is_file():
        return None
    try:
        config = ModelConfig.from_json(io.read_text(cfg_path))
        model = build_model(config)
    except (ValueError, TypeError, KeyError):
        return None
    source = list(loaded.variables)
    if len(source) != len(model.variables) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(source, model.variables)):
        return None
    for a, b in zip(source, model.variables):
        b.assign(a.numpy())
    again = np.asarray(model(raw_norm, training=False))
    if not np.allclose(again, expected, atol=1e-6):
        return None
    model.save(os.fspath(target))
    return keras.__version__


def _cover(raw, prob, target):
    """A 2:1 cover: the test input and the probability of the first class side by side."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    centre = raw.shape[1] // 2
    img = raw[0, centre] if raw.ndim == 5 else raw[0]
    p = prob[0, centre] if prob.ndim == 5 else prob[0]
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), dpi=100)
    axes[0].imshow(img[..., 0], cmap="gray")
    axes[1].imshow(p[..., 0], cmap="magma", vmin=0, vmax=1)
    for ax, title in zip(axes, ("input", "probability")):
        ax.set_axis_off()
        ax.set_title(title)
    fig.subplots_adjust(0, 0, 1, 0.92, 0.02, 0)
    fig.savefig(target, format="png")
    plt.close(fig)


def _activation(meta):
    return str(meta.get("output", {}).get("activation", "sigmoid"))


def _afterwards(meta):
    """The documentation's line on what EMSeg does with the probabilities."""
    post = meta.get("postprocess") or {}
    restore = "(in `config.emseg`; `emseg import-model bioimageio rdf.yaml` restores it)."
    if meta.get("task") == "semantic":
        inst = ", ".join(post.get("instance_classes") or []) or "none"
        return ("- Classes: every pixel takes its most probable class; the connected regions of "
                f"the instance classes ({inst}) are measured as ImageJ does " + restore)
    return (f"- Instances: threshold {meta.get('threshold')} and EMSeg's "
            f"`{post.get('chain', '')}` post-processing chain " + restore)


def _documentation(meta, spatial, authors, license_, cite):
    lines = [f"# {meta['name']}", "", str(meta.get("description", "")), "",
             "Exported from [EMSeg](https://github.com/emseg/emseg) " + __version__ + ".", "",
             "## How EMSeg runs it", "",
             f"- Bring the image to **{meta['pixel_size_nm']} nm per pixel** (the axes' scale) "
             "first; the network only works at its training scale.",
             f"- Normalise: intensities between the {meta['normalization'].get('low', 1)}th and "
             f"{meta['normalization'].get('high', 99.8)}th percentiles of the whole image mapped "
             "to [0, 1] and clipped (the package's `scale_range` + `clip`).",
             f"- Predict in tiles of {meta.get('tile_size')} pixels with a halo of "
             f"{meta.get('halo')} pixels (discarded at tile borders); output channels "
             f"{', '.join(meta.get('output', {}).get('classes', []))} ({_activation(meta)} "
             "probabilities).", _afterwards(meta), "", "## Training", ""]
    for k, v in (meta.get("training") or {}).items():
        lines.append(f"- {k}: {v}")
    scores = (meta.get("scores") or {}).get("mean") or {}
    if scores:
        lines += ["", "## Scores", "", f"On {meta['scores'].get('data', 'held-out data')}:", ""]
        lines += [f"- {k}: {v}" for k, v in scores.items()]
    lines += ["", "# Validation", "",
              "EMSeg wrote `test_output.npy` by running `test_input.npy` through its own "
              "normalisation and the SavedModel; the package's pre-processing and either weight "
              "format reproduce it to 1e-5 (`config.bioimageio.reproducibility_tolerance`, "
              "checked with bioimageio.core when EMSeg's tests run)."]
    lines += ["", "## Licence and citation", "", f"Licence: {license_}. Authors: "
              + ", ".join(a["name"] for a in authors) + ".", ""]
    lines += [f"- {c['text']}" + (f" doi:{c['doi']}" if c.get("doi") else "") for c in cite]
    return "\n".join(lines) + "\n"


def _package_name(name):
    """The Zoo's name rules (5-128 letters, digits, space, ``_-()``): other characters become
    ``-``, a short name gets the ``emseg-`` prefix (EMSeg's own name is in ``config.emseg``)."""
    import re

    clean = re.sub(r"[^A-Za-z0-9_\- ()]", "-", str(name))[:128]
    return clean if len(clean) >= 5 else f"emseg-{clean}"


def _rdf(meta, spatial, sizes, files, tf_version, keras_version, authors, license_, cite):
    from bioimageio.spec.model.v0_5 import ModelDescr

    low, step, _ = sizes
    scale = float(meta["pixel_size_nm"])
    halo = int(meta.get("halo", 0))
    norm = meta.get("normalization", {})
    channels = int(meta.get("input", {}).get("channels", 1))
    classes = [str(c) for c in meta.get("output", {}).get("classes", [])]
    in_axes = [{"type": "batch"}] + [
        {"type": "space", "id": a, "size": {"min": low, "step": step}, "scale": scale,
         "unit": "nanometer"} for a in spatial] + [
        {"type": "channel", "channel_names": ["grey"] if channels == 1
         else [f"channel{i}" for i in range(channels)]}]
    out_axes = [{"type": "batch"}] + [
        {"type": "space", "id": a, "size": {"tensor_id": _INPUT, "axis_id": a}, "halo": halo,
         "scale": scale, "unit": "nanometer"} for a in spatial] + [
        {"type": "channel", "channel_names": classes}]
    weights = {"tensorflow_saved_model_bundle": {"source": files["bundle"],
                                                 "tensorflow_version": tf_version}}
    if keras_version:
        weights["keras_v3"] = {"source": files["keras"], "keras_version": keras_version,
                               "backend": ["tensorflow", tf_version],
                               "parent": "tensorflow_saved_model_bundle"}
    emseg = {k: meta[k] for k in ("name", "task", "architecture", "pixel_size_nm", "tile_size",
                                  "halo", "normalization", "threshold", "postprocess", "input",
                                  "output", "score_weights") if k in meta}
    return {
        "type": "model", "format_version": ModelDescr.implemented_format_version,
        "name": _package_name(meta["name"]), "description": str(meta.get("description") or meta["name"]),
        "authors": authors, "cite": cite, "license": license_,
        "documentation": {"source": files["doc"]}, "covers": [{"source": files["cover"]}],
        "tags": ["electron-microscopy", "segmentation", "emseg", f"{len(spatial)}d",
                 str(meta.get("architecture", "")).replace("_", "-")],
        "version": "1.0",
        "inputs": [{"id": _INPUT, "axes": in_axes, "test_tensor": {"source": files["input"]},
                    "sample_tensor": {"source": files["sample_input"]},
                    "data": {"type": "float32"},
                    "description": f"grey-level image at {scale:g} nm per pixel",
                    "preprocessing": [
                        {"id": "scale_range", "kwargs": {
                            "axes": list(spatial), "min_percentile": float(norm.get("low", 1.0)),
                            "max_percentile": float(norm.get("high", 99.8)), "eps": 1e-6}},
                        {"id": "clip", "kwargs": {"min": 0.0, "max": 1.0}}]}],
        "outputs": [{"id": _OUTPUT, "axes": out_axes, "test_tensor": {"source": files["output"]},
                     "sample_tensor": {"source": files["sample_output"]},
                     "data": {"type": "float32", "range": [0.0, 1.0]},
                     "description": f"probability of each class ({_activation(meta)})"}],
        "weights": weights,
        "config": {"bioimageio": {"reproducibility_tolerance": [
            {"absolute_tolerance": 1e-5, "relative_tolerance": 0.0,
             "mismatched_elements_per_million": 0}]},
                   "emseg": {"version": __version__, **emseg}},
    }


def _validate(folder):
    """Load ``folder/rdf.yaml`` with bioimageio.spec; ValueError listing what is wrong."""
    from bioimageio.spec import ValidationContext, load_description

    with ValidationContext(perform_io_checks=True):
        descr = load_description(folder / "rdf.yaml")
    summary = descr.validation_summary
    if summary.status not in ("passed", "valid-format"):
        errors = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for d in summary.details
                           for e in d.errors)
        raise ValueError(f"the exported package does not validate: {errors or summary.status}")
    return descr


def _zip_folder(folder, target):
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)


def export_bioimageio(model, output, *, overwrite=False):
    """Write a BioImage Model Zoo package of an EMSeg model.

    Parameters
    ----------
    model : str, path-like or ModelInfo
        Installed model name or model folder.
    output : path-like
        Package folder to create (``rdf.yaml`` and its files), or a ``.zip``
        file. Written through a temporary folder: a failed export leaves
        nothing behind.
    overwrite : bool, optional

    Returns
    -------
    Path
        The package folder or zip file, validated with bioimageio.spec.
    """
    from ._tf import tf
    from .saved import SavedModelPredictor

    info = model if isinstance(model, ModelInfo) else find_model(model)
    meta = info.meta
    if info.task not in ("segmentation", "semantic"):
        raise ValueError(f"model {info.name!r} is a {info.task} model: its input stacks the image "
                         "with instance outlines, which the Zoo's per-tensor pre-processing "
                         "cannot normalise; only segmentation and multi-class (semantic) models "
                         "are packaged")
    output = Path(output)
    if output.exists() and not overwrite:
        raise ValueError(f"{output} exists (use overwrite=True / --overwrite to replace it)")
    spatial = _spatial_axes(meta)
    sizes = _sizes(meta)
    authors, license_, cite = _about(meta)

    def fill(tmp):
        files = {"input": "test_input.npy", "output": "test_output.npy", "cover": "cover.png",
                 "doc": "README.md", "bundle": "tf_saved_model.zip", "keras": "model.keras",
                 "sample_input": "sample_input.tif", "sample_output": "sample_output.tif"}
        raw = _test_input(meta, spatial, sizes[2])
        predictor = SavedModelPredictor(info)      # its SavedModel serves all three uses
        expected = emseg_prediction(predictor, meta, raw)
        np.save(tmp / files["input"], raw)
        np.save(tmp / files["output"], expected)
        import tifffile    # the same tensors as images, for viewers (the spec's sample tensors)
        tifffile.imwrite(tmp / files["sample_input"], raw)
        tifffile.imwrite(tmp / files["sample_output"], expected)
        _bundle(predictor.saved_model, tmp / files["bundle"], len(spatial), raw.shape[-1])
        keras_version = _keras_weights(info, predictor.saved_model, tmp / files["keras"],
                                       normalized(meta, raw), expected)
        _cover(raw, expected, tmp / files["cover"])
        io.write_text(tmp / files["doc"], _documentation(meta, spatial, authors, license_, cite))
        io.write_yaml(tmp / "rdf.yaml", _rdf(meta, spatial, sizes, files, tf.__version__,
                                             keras_version, authors, license_, cite))
        _validate(tmp)

    if output.suffix.lower() == ".zip":
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".emseg-zoo-", dir=output.parent) as d:
            fill(Path(d))
            io.atomic_write(output, lambda part: _zip_folder(Path(d), part))
    else:
        with io.atomic_folder(output) as tmp:
            fill(tmp)
    return output
