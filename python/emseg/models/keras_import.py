"""Importing a Keras HDF5 segmentation model (``emseg import-model keras|cryovesnet FILE.h5``).

A Keras HDF5 file holds its architecture as JSON (``model_config``) and its weights as
arrays. EMSeg never lets Keras deserialise the file: the JSON is read with :mod:`json`,
every layer must be a built-in Keras layer from a fixed list (a ``Lambda`` layer holds
Python code and a custom class would run the file's author's code, so both are refused,
with the reason), initialisers, regularisers and constraints are dropped (inference does not
need them, and they are where legacy configs name classes), and the graph is rebuilt with
Keras 3 layer by layer with the fixed input size opened up (``None``), so the network runs on
blocks of any size. The weights are then copied by layer name and the model exported as a
SavedModel with a ``model.yaml`` from the options (pixel size, block, halo, normalisation)
or a preset (``cryovesnet``).
"""

import json
import os
from pathlib import Path

import numpy as np

from .. import __version__, io
from .config import POSTPROCESS_DEFAULTS, VESICLE_DEFAULTS, check_vesicle_options
from .registry import ModelInfo, model_dirs

__all__ = ["PRESETS", "ALLOWED_LAYERS", "read_keras_hdf5", "rebuild_keras_model",
           "import_keras_hdf5"]

#: Built-in Keras layers an imported model may use (no code, no custom objects).
ALLOWED_LAYERS = frozenset(
    [f"{kind}{d}D" for d in (1, 2, 3) for kind in (
        "Conv", "MaxPooling", "AveragePooling", "UpSampling", "ZeroPadding", "Cropping",
        "SpatialDropout")]
    + ["Conv2DTranspose", "Conv3DTranspose", "SeparableConv2D", "DepthwiseConv2D",
       "InputLayer", "BatchNormalization", "LayerNormalization", "GroupNormalization",
       "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Dropout",
       "GaussianNoise", "GaussianDropout", "Concatenate", "Add", "Subtract", "Multiply",
       "Average", "Maximum", "Minimum", "Identity"])

#: Keras' built-in activations by name (a dict or another name would be a custom object).
_ACTIVATIONS = {"linear", "relu", "sigmoid", "softmax", "tanh", "elu", "selu", "softplus",
                "softsign", "swish", "silu", "gelu", "exponential", "hard_sigmoid",
                "leaky_relu", "relu6", "mish", None}

#: What a published network needs besides its file. ``cryovesnet``: CryoVesNet's 3D U-Net
#: (paper 001, Methods): 2.2 nm voxels (its pipeline rescales by voxel size in Å / 22),
#: trained on 32^3 patches with a 24^3 region of interest, i.e. 4 voxels of margin, applied to
#: 64^3 blocks; each tomogram standardised to mean 0, SD 1.
PRESETS = {
    "cryovesnet": {
        "name": "cryovesnet", "pixel_size": 2.2, "tile_size": 64, "halo": 4,
        "normalization": {"mode": "standardize"}, "classes": ["vesicle"], "threshold": 0.5,
        "description": "CryoVesNet's published 3D U-Net for synaptic vesicles in cryo-ET "
                       "(Khosrozadeh et al.), trained on rat synaptosome tomograms; "
                       "imported from its Keras HDF5 file.",
        "license": "GPL-3.0-only",
        "cite": [{"text": "Khosrozadeh A, Seeger R, Witz G, et al. CryoVesNet: a dedicated "
                          "framework for synaptic vesicle segmentation in cryo-electron "
                          "tomograms. 2024."}],
    },
}


def read_keras_hdf5(path):
    """The architecture (parsed JSON) and the weights by layer name of a Keras HDF5 model.

    Nothing in the file is executed: h5py reads its attributes and arrays.

    Returns
    -------
    config : dict
        ``model_config``: ``{"class_name": "Functional" | "Model" | "Sequential", "config": ...}``.
    weights : dict of str to list of ndarray
        Each layer's weights in their stored order.
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path}: not an HDF5 file ({exc})") from None
    with f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise ValueError(f"{path}: an HDF5 file without a Keras model_config (weights only?): "
                             "EMSeg needs the architecture too")
        config = json.loads(raw if isinstance(raw, str) else raw.decode("utf-8"))
        group = f["model_weights"] if "model_weights" in f else f
        weights = {}
        for name in _names(group.attrs.get("layer_names", [])):
            g = group[name]
            weights[name] = [np.asarray(g[w]) for w in _names(g.attrs.get("weight_names", []))]
    return config, weights


def _names(values):
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _check_layers(config, where):
    if config.get("class_name") not in ("Functional", "Model", "Sequential"):
        raise ValueError(f"{where}: a {config.get('class_name')!r} model; EMSeg imports "
                         "Functional and Sequential Keras models")
    problems = []
    for layer in config["config"]["layers"] if isinstance(config["config"], dict) \
            else config["config"]:
        cls = layer.get("class_name")
        lname = layer.get("config", {}).get("name", "?")
        if cls == "Lambda":
            problems.append(f"a Lambda layer ({lname}), which holds Python code")
        elif cls not in ALLOWED_LAYERS:
            problems.append(f"layer {lname} of class {cls!r}, not a built-in Keras layer (a "
                            "custom object, whose code would have to run)")
        else:
            act = layer.get("config", {}).get("activation")
            if not (act is None or isinstance(act, str)) or act not in _ACTIVATIONS:
                problems.append(f"layer {lname} with activation {act!r}, not a built-in one")
    if problems:
        raise ValueError(f"{where}: the model uses {'; '.join(problems)}. EMSeg never runs code "
                         "from a model file, so it cannot import this one")


_DROPPED = ("_initializer", "_regularizer", "_constraint")
_LEGACY = {"batch_input_shape", "batch_shape", "dtype", "trainable", "input_shape",
           "ragged", "sparse"}


def _layer_config(config):
    """A layer's config with what Keras 3 does not need or accept dropped."""
    out = {k: v for k, v in config.items() if not k.endswith(_DROPPED) and k not in _LEGACY}
    if isinstance(out.get("axis"), list) and len(out["axis"]) == 1:
        out["axis"] = out["axis"][0]         # Keras 2 stored normalisation axes as lists
    return out


def rebuild_keras_model(config, weights, *, open_spatial=True):
    """Rebuild a Keras 3 model from a checked ``model_config`` and its weights.

    Parameters
    ----------
    config : dict
        From :func:`read_keras_hdf5`.
    weights : dict
        From :func:`read_keras_hdf5`.
    open_spatial : bool, optional
        Replace the input's fixed spatial size by None (the network is fully convolutional),
        so it takes blocks of any size divisible by its down-sampling.

    Returns
    -------
    keras.Model
    """
    from ._tf import keras

    _check_layers(config, "model")
    body = config["config"]
    sequential = config["class_name"] == "Sequential"
    specs = body["layers"] if isinstance(body, dict) else body
    tensors, inputs = {}, []
    previous = None
    for spec in specs:
        cls, cfg = spec["class_name"], spec.get("config", {})
        name = cfg.get("name") or spec.get("name")
        if cls == "InputLayer":
            shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
            if shape is None:
                raise ValueError(f"input layer {name} has no shape")
            shape = list(shape[1:])
            if open_spatial:
                shape = [None] * (len(shape) - 1) + shape[-1:]
            x = keras.Input(tuple(shape), name=name)
            tensors[name] = previous = x
            inputs.append(x)
            continue
        if sequential and not inputs:
            shape = cfg.get("batch_input_shape")
            if shape is None:
                raise ValueError("a Sequential model without an input shape")
            shape = list(shape[1:])
            if open_spatial:
                shape = [None] * (len(shape) - 1) + shape[-1:]
            previous = keras.Input(tuple(shape), name="input")
            inputs.append(previous)
        try:
            layer = getattr(keras.layers, cls).from_config(_layer_config(cfg))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"layer {name} ({cls}): Keras 3 cannot rebuild it from its config "
                             f"({str(exc).splitlines()[-1]})") from None
        if sequential:
            args = previous
        else:
            nodes = spec.get("inbound_nodes") or []
            if len(nodes) != 1:
                raise ValueError(f"layer {name} is used {len(nodes)} times; EMSeg imports "
                                 "layers called once")
            node = nodes[0]
            if isinstance(node, dict):          # Keras 3 style node
                refs = [a["config"]["keras_history"][0] for a in node.get("args", [])
                        if isinstance(a, dict)] or \
                       [a["config"]["keras_history"][0] for a in node["args"][0]]
            else:
                refs = [inbound[0] for inbound in node]
            args = [tensors[r] for r in refs]
            args = args[0] if len(args) == 1 else args
        tensors[name] = previous = layer(args)
        stored = weights.get(name, [])
        if layer.weights or stored:
            if len(stored) != len(layer.weights):
                raise ValueError(f"layer {name}: the file has {len(stored)} weight arrays, the "
                                 f"layer needs {len(layer.weights)}")
            layer.set_weights(stored)
    if sequential:
        outputs = [previous]
    else:
        heads = body["output_layers"]
        if heads and isinstance(heads[0], str):     # Keras 3 writes a single [name, 0, 0]
            heads = [heads]
        outputs = [tensors[o[0]] for o in heads]
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs,
                       outputs[0] if len(outputs) == 1 else outputs,
                       name=str(body.get("name", "imported")) if isinstance(body, dict)
                       else "imported")


def _spatial_dims(model):
    shape = model.inputs[0].shape
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"the model has {len(model.inputs)} inputs and {len(model.outputs)} "
                         "outputs; EMSeg runs models with one of each")
    if len(shape) not in (4, 5):
        raise ValueError(f"input shape {tuple(shape)}: EMSeg imports 2D (batch, y, x, channel) "
                         "and 3D (batch, z, y, x, channel) models")
    return len(shape) - 2


def _divisor(config):
    """2 to the number of down-sampling layers (poolings, strided convolutions): the block
    sides must be divisible by it for the up-sampling path to meet the skips again."""
    count = 0
    for spec in config["config"]["layers"]:
        cls, cfg = spec["class_name"], spec.get("config", {})
        if "Pooling" in cls and "Global" not in cls:
            count += 1
        elif cls.startswith(("Conv", "SeparableConv", "DepthwiseConv")) and \
                "Transpose" not in cls and max(np.atleast_1d(cfg.get("strides", 1))) > 1:
            count += 1
    return 2 ** min(count, 6)


def import_keras_hdf5(path, *, preset=None, name=None, models_dir=None, output=None,
                      pixel_size=None, tile_size=None, halo=None, normalization=None,
                      classes=None, threshold=None, overwrite=False):
    """Import a Keras HDF5 segmentation model as an EMSeg model folder.

    Parameters
    ----------
    path : path-like
        The ``.h5`` file (architecture and weights).
    preset : {"cryovesnet"}, optional
        Settings of a published network (:data:`PRESETS`); the options below override them.
    name : str, optional
        Model name (folder name); default the preset's or the file's stem.
    models_dir : path-like, optional
        Where the model folder goes (default: the user model folder). With ``name``
        the folder is ``models_dir / name``.
    output : path-like, optional
        The model folder to write instead (its name is the model's unless ``name``).
    pixel_size : float
        Pixel (voxel) size in nm the network works at.
    tile_size, halo : int
        Inference tile (block) side and overlap margin; default 4x the divisor and
        ``tile_size // 8``.
    normalization : dict, optional
        As in :class:`~emseg.models.ModelConfig` (default percentiles 1-99.8 per image).
    classes : list of str, optional
        Output classes (default ``["vesicle"]`` for 3D models, ``["particle"]`` for 2D).
    threshold : float, optional
        Fixed threshold (default 0.5; 3D models use the shell rule unless set).

    Returns
    -------
    ModelInfo
    """
    from ._tf import keras  # noqa: F401 - a clear failure here if TensorFlow is missing
    from .saved import SavedModelPredictor

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    settings = dict(PRESETS.get(preset, {}))
    given = {"name": name, "pixel_size": pixel_size, "tile_size": tile_size, "halo": halo,
             "normalization": normalization, "classes": classes, "threshold": threshold}
    settings.update({k: v for k, v in given.items() if v is not None})
    if settings.get("pixel_size") is None:
        raise ValueError("pixel_size: give the pixel (voxel) size in nm the network was trained "
                         "at (--pixel-size)")
    config, weights = read_keras_hdf5(path)
    _check_layers(config, str(path))
    model = rebuild_keras_model(config, weights)
    nd = _spatial_dims(model)
    divisor = _divisor(config)
    tile = int(settings.get("tile_size") or 4 * max(divisor, 16))
    halo_px = int(settings["halo"]) if settings.get("halo") is not None else tile // 8
    if tile % divisor or 4 * halo_px > tile or halo_px < 0:
        raise ValueError(f"tile_size {tile} must be a multiple of {divisor} and halo "
                         f"{halo_px} at most a quarter of it")
    out_channels = int(model.outputs[0].shape[-1])
    names = list(settings.get("classes") or (["vesicle"] if nd == 3 else ["particle"]))
    if len(names) != out_channels:
        raise ValueError(f"classes: {len(names)} names for {out_channels} output channels")
    norm = settings.get("normalization") or {"mode": "image", "low": 1.0, "high": 99.8}
    from .config import ModelConfig
    # the normalisation is checked by the config's own rules
    ModelConfig(name="check", architecture="unet3d" if nd == 3 else "unet", depth=1,
                tile_size=2, halo=0, normalization=norm)
    if output is not None and models_dir is not None:
        raise ValueError("give output or models_dir, not both")
    if output is not None:
        target = Path(output)
        model_name = str(name or target.name).strip().replace(" ", "-")
    else:
        model_name = str(settings.get("name") or path.stem).strip().replace(" ", "-")
        base = Path(models_dir) if models_dir is not None else model_dirs()[-1]
        target = base / model_name
    if not model_name or any(c in model_name for c in "/\\:"):
        raise ValueError(f"name must be a non-empty file-name-safe string, got {model_name!r}")
    if target.exists() and not overwrite:
        raise ValueError(f"{target} exists (use overwrite=True / --overwrite to replace it)")
    t = settings.get("threshold")
    post = dict(VESICLE_DEFAULTS) if nd == 3 else dict(POSTPROCESS_DEFAULTS)
    if nd == 3 and threshold is not None:
        post["threshold_rule"] = "fixed"
    if nd == 3:
        check_vesicle_options(post)
    letters = "zyx" if nd == 3 else "yx"
    meta = {
        "name": model_name, "task": "segmentation",
        "description": settings.get("description", f"Keras HDF5 model imported from {path.name}"),
        "format": "tensorflow_saved_model", "architecture": "keras_hdf5",
        "input": {"axes": f"b{letters}c", "dtype": "float32",
                  "channels": int(model.inputs[0].shape[-1]), "divisor": divisor},
        "output": {"axes": f"b{letters}c", "dtype": "float32", "activation": "sigmoid",
                   "classes": names},
        "pixel_size_nm": float(settings["pixel_size"]), "tile_size": tile, "halo": halo_px,
        "normalization": dict(norm), "threshold": float(0.5 if t is None else t),
        "postprocess": post,
        "license": settings.get("license", "unknown (see the imported file's source)"),
        "cite": settings.get("cite", []),
        "training": {"source": f"Keras HDF5 file {path.name}"
                               + (f" (preset {preset})" if preset else "")},
        "scores": {},
        "software": {"emseg": __version__},
    }
    if nd == 3:
        meta.update(axes="ZYX", voxel_size_nm=[float(settings["pixel_size"])] * 3,
                    block_size=tile, roi_size=tile - 2 * halo_px)
    with io.atomic_folder(target) as tmp:
        model.export(os.fspath(tmp / "saved_model"), format="tf_saved_model", verbose=False)
        model.save(tmp / "model.keras")
        io.write_yaml(tmp / "model.yaml", meta)
        # the SavedModel must reproduce the rebuilt network on a block
        rng = np.random.default_rng(0)
        block = rng.standard_normal((1,) + (min(tile, 4 * divisor),) * nd +
                                    (meta["input"]["channels"],)).astype(np.float32)
        got = SavedModelPredictor(ModelInfo(model_name, tmp, meta))(block)
        want = np.asarray(model(block, training=False))
        meta["scores"] = {"max |difference| SavedModel vs rebuilt Keras model":
                          float(np.max(np.abs(got - want)))}
        io.write_yaml(tmp / "model.yaml", meta)
    return ModelInfo(model_name, target, io.read_yaml(target / "model.yaml"))
