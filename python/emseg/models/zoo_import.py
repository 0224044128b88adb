"""Importing a BioImage Model Zoo package as an EMSeg model folder (``emseg import-model
bioimageio RDF.yaml``).

The package is validated with bioimageio.spec; its TensorFlow weights become
``saved_model/`` (a SavedModel bundle is unpacked, Keras v3 / HDF5 models are
loaded without running code from them and exported), its axes, pixel size and
pre-processing become ``model.yaml``. Packages exported by EMSeg carry their
threshold and post-processing chain in ``config.emseg``; others get EMSeg's
defaults. The import then runs the package's own test input through EMSeg and
reports how far the result is from the package's test output.
"""

import io as _stdio
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .. import __version__, io
from .config import CLASS_DEFAULTS, POSTPROCESS_DEFAULTS
from .registry import ModelInfo, model_dirs

__all__ = ["import_bioimageio", "TEST_KEY"]

#: ``model.yaml`` score recording how well EMSeg reproduces the package's test output.
TEST_KEY = "max |difference| to the package's test output"


def _load(source):
    from bioimageio.spec import load_model_description
    from bioimageio.spec.model.v0_5 import ModelDescr

    try:
        descr = load_model_description(os.fspath(source), format_version="latest",
                                       perform_io_checks=True)
    except (ValueError, OSError) as exc:      # bioimageio.spec lists problems on several lines
        lines = [ln.strip().lstrip("- ") for ln in str(exc).splitlines() if ln.strip()]
        detail = "; ".join(lines[1:] if len(lines) > 1 else lines)
        raise ValueError(f"{source}: not a valid BioImage Model Zoo model ({detail})") from None
    if not isinstance(descr, ModelDescr):
        summary = getattr(descr, "validation_summary", None)
        errors = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for d in
                           (summary.details if summary else []) for e in d.errors)
        raise ValueError(f"{source}: not a valid BioImage Model Zoo model ({errors or 'invalid'})")
    return descr


def _axes(tensor, what):
    """Spatial axis ids of a ``batch, space..., channel`` tensor (EMSeg feeds channels last)."""
    kinds = [a.type for a in tensor.axes]
    ids = [str(a.id) for a in tensor.axes]
    spatial = [i for i, k in zip(ids, kinds) if k == "space"]
    expected = ["batch"] + ["space"] * len(spatial) + ["channel"]
    if kinds != expected or spatial not in (["y", "x"], ["z", "y", "x"]):
        raise ValueError(f"{what} axes {' '.join(ids)}: EMSeg runs TensorFlow models on "
                         "(batch, [z,] y, x, channel) tensors")
    return spatial, tensor.axes


def _pixel_size(axes, given):
    from ..io import check_plausible, unit_to_nm

    if given is not None:
        return float(given)
    sizes = []
    for a in axes:
        if a.type == "space":
            factor = unit_to_nm(str(a.unit)) if a.unit is not None else None
            if factor is None:
                raise ValueError("the package gives no length unit for its axes; give the pixel "
                                 "size with --pixel-size NM")
            sizes.append(float(a.scale) * factor)
    if max(sizes) - min(sizes) > 1e-6 * max(sizes):
        raise ValueError(f"anisotropic axes {sizes} nm: EMSeg models have one pixel size")
    return check_plausible(sizes[:1], origin="in the package's axes")[0]


def _normalization(tensor, emseg):
    if emseg.get("normalization"):
        return dict(emseg["normalization"])
    ops = [p for p in (tensor.preprocessing or []) if p.id not in ("ensure_dtype", "clip")]
    if len(ops) == 1 and ops[0].id == "scale_range":
        k = ops[0].kwargs
        return {"mode": "image", "low": float(k.min_percentile), "high": float(k.max_percentile)}
    names = ", ".join(p.id for p in ops) or "none"
    raise ValueError(f"pre-processing {names}: EMSeg normalises by percentiles (scale_range); "
                     "this model expects another normalisation")


def _safe_extract(data, target):
    """Unzip ``data`` into ``target``, refusing members that would land outside it."""
    with zipfile.ZipFile(_stdio.BytesIO(data)) as z:
        for m in z.infolist():
            dest = (target / m.filename).resolve()
            if not dest.is_relative_to(target.resolve()):
                raise ValueError(f"weights zip member {m.filename!r} points outside the package")
        z.extractall(target)
    inner = [p for p in target.rglob("saved_model.pb")]
    if len(inner) != 1:
        raise ValueError("the tensorflow_saved_model_bundle holds no single saved_model.pb")
    return inner[0].parent


def _builtin_only(config, where):
    """Refuse a Keras model config with Lambda layers or classes outside Keras (custom objects):
    loading them would run code from the file."""
    def walk(node):
        if isinstance(node, dict):
            cls, module = node.get("class_name"), node.get("module")
            if cls == "Lambda":
                yield "a Lambda layer"
            elif cls and module is not None and not str(module).startswith("keras"):
                yield f"custom class {module}.{cls}"
            elif cls and node.get("registered_name") and "builtins" not in str(node.get(
                    "registered_name")) and ">" in str(node.get("registered_name")):
                yield f"custom object {node['registered_name']}"
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)
    bad = sorted(set(walk(config)))
    if bad:
        raise ValueError(f"{where}: the Keras model uses {', '.join(bad)}; loading it would run "
                         "code from the file, so EMSeg refuses it (export it as a TensorFlow "
                         "SavedModel instead)")


def _keras_to_saved_model(data, suffix, target):
    from ._tf import keras

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"model{suffix}"
        path.write_bytes(data)
        if suffix == ".keras":
            with zipfile.ZipFile(path) as z:
                config = json.loads(z.read("config.json"))
            _builtin_only(config, f"keras weights ({suffix})")
            model = keras.models.load_model(path, compile=False, safe_mode=True)
        else:
            # a Keras 2 HDF5 file: rebuilt layer by layer from its checked JSON, never
            # deserialised by Keras (see emseg.models.keras_import)
            from .keras_import import read_keras_hdf5, rebuild_keras_model
            config, weights = read_keras_hdf5(path)
            try:
                model = rebuild_keras_model(config, weights)
            except ValueError as exc:
                raise ValueError(f"keras weights ({suffix}): {exc}") from None
    model.export(os.fspath(target), format="tf_saved_model", verbose=False)
    return target


def _weights(descr, work):
    w = descr.weights
    if w.tensorflow_saved_model_bundle is not None:
        data = w.tensorflow_saved_model_bundle.get_reader().read()
        return _safe_extract(data, work / "bundle"), "tensorflow_saved_model_bundle"
    for fmt, suffix in (("keras_v3", ".keras"), ("keras_hdf5", ".h5")):
        entry = getattr(w, fmt, None)
        if entry is not None:
            return _keras_to_saved_model(entry.get_reader().read(), suffix,
                                         work / "exported"), fmt
    have = ", ".join(k for k, v in w if v is not None)
    raise ValueError(f"no TensorFlow or Keras weights in the package (it has {have}); EMSeg "
                     "runs TensorFlow models only")


def _test_arrays(descr):
    x = np.load(_stdio.BytesIO(descr.inputs[0].test_tensor.get_reader().read()))
    y = np.load(_stdio.BytesIO(descr.outputs[0].test_tensor.get_reader().read()))
    return x.astype(np.float32), y.astype(np.float32)


def _model_yaml(descr, name, spatial, in_axes, out_axes, pixel, normalization, emseg, fmt):
    step = max([int(a.size.step) for a in in_axes if a.type == "space"
                and hasattr(a.size, "step")] or [1])
    halo = max([int(getattr(a, "halo", 0) or 0) for a in out_axes] or [0])
    channels = next(a for a in in_axes if a.type == "channel")
    classes = [str(c) for c in next(a for a in out_axes if a.type == "channel").channel_names]
    tile = int(emseg.get("tile_size") or max(4 * halo, 512))
    letters = "".join(spatial)
    semantic = emseg.get("task") == "semantic"
    if semantic:
        # a multi-class model: the "classes" chain, softmax, no threshold
        post = {**CLASS_DEFAULTS, **dict(emseg.get("postprocess") or {})}
    else:
        post = {**POSTPROCESS_DEFAULTS, **dict(emseg.get("postprocess") or {})}
        if post.get("remove_border") is None:
            post["remove_border"] = False
    meta = {
        "name": name, "task": "semantic" if semantic else "segmentation",
        "description": str(descr.description),
        "format": "tensorflow_saved_model",
        "architecture": str(emseg.get("architecture") or "bioimageio"),
        "input": {"axes": f"b{letters}c", "dtype": "float32",
                  "channels": len(channels.channel_names), "range": [0.0, 1.0], "divisor": step},
        "output": {"axes": f"b{letters}c", "dtype": "float32",
                   "activation": "softmax" if semantic else "sigmoid", "classes": classes},
        "pixel_size_nm": pixel, "tile_size": tile, "halo": int(emseg.get("halo", halo)),
        "normalization": normalization,
        "threshold": float(emseg.get("threshold", 0.5)),
        "postprocess": post,
        "authors": [{"name": a.name} for a in descr.authors],
        "license": str(descr.license),
        "cite": [{"text": c.text, **({"doi": str(c.doi)} if c.doi else {})} for c in descr.cite],
        "training": {"source": f"BioImage Model Zoo package {descr.name} ({fmt} weights)"},
        "scores": {},
        "software": {"emseg": __version__},
    }
    if semantic:
        del meta["threshold"]
    return meta


def import_bioimageio(source, *, name=None, models_dir=None, pixel_size=None, overwrite=False):
    """Import a BioImage Model Zoo model package as an EMSeg model folder.

    Parameters
    ----------
    source : str or path-like
        ``rdf.yaml``, a package folder or a package ``.zip``.
    name : str, optional
        Model name (default: the package's ``config.emseg.name`` or its name).
    models_dir : path-like, optional
        Where the model folder goes (default: the user model folder,
        ``$EMSEG_MODELS`` or ``~/.local/share/emseg/models``).
    pixel_size : float, optional
        Pixel size in nm when the package's axes give no length unit.
    overwrite : bool, optional

    Returns
    -------
    ModelInfo
        The installed model; ``meta["scores"][TEST_KEY]`` is the largest
        absolute difference between EMSeg's prediction of the package's test
        input and its test output (an import above 1e-3 is refused).
    """
    from .saved import SavedModelPredictor

    descr = _load(source)
    if len(descr.inputs) != 1 or len(descr.outputs) != 1:
        raise ValueError(f"{len(descr.inputs)} inputs and {len(descr.outputs)} outputs: EMSeg runs "
                         "models with one input and one output tensor")
    emseg = dict((descr.config.model_dump().get("emseg") or {}) if descr.config else {})
    spatial, in_axes = _axes(descr.inputs[0], "input")
    out_spatial, out_axes = _axes(descr.outputs[0], "output")
    if out_spatial != spatial:
        raise ValueError("input and output have different spatial axes")
    pixel = _pixel_size(in_axes, pixel_size)
    normalization = _normalization(descr.inputs[0], emseg)
    name = str(name or emseg.get("name") or descr.name).strip().replace(" ", "-")
    base = Path(models_dir) if models_dir is not None else model_dirs()[-1]
    target = base / name
    if target.exists() and not overwrite:
        raise ValueError(f"{target} exists (use overwrite=True / --overwrite to replace it)")
    with io.atomic_folder(target) as tmp:
        saved, fmt = _weights(descr, tmp / "work")
        shutil.move(os.fspath(saved), os.fspath(tmp / "saved_model"))
        shutil.rmtree(tmp / "work", ignore_errors=True)
        meta = _model_yaml(descr, name, spatial, in_axes, out_axes, pixel, normalization, emseg,
                           fmt)
        io.write_yaml(tmp / "model.yaml", meta)
        x, y = _test_arrays(descr)
        from .zoo_export import emseg_prediction
        info = ModelInfo(name, tmp, meta)
        got = emseg_prediction(SavedModelPredictor(info), meta, x)
        difference = float(np.max(np.abs(got - y))) if got.shape == y.shape else float("inf")
        if not difference <= 1e-3:
            raise ValueError(f"EMSeg's prediction of the package's test input differs from its "
                             f"test output by {difference:.3g}; not imported")
        meta["scores"] = {TEST_KEY: difference}
        io.write_yaml(tmp / "model.yaml", meta)
    return ModelInfo(name, target, io.read_yaml(target / "model.yaml"))
