"""Exporting trained models to model folders and loading them for inference.

Inference needs only ``saved_model/`` (a TensorFlow SavedModel written by
Keras' ``model.export``) and ``model.yaml``: no Keras training code, no
pickles, no custom objects.
"""

import os
import platform
from pathlib import Path

import numpy as np

from .. import __version__, io
from .about import about
from .config import ModelConfig
from .registry import ModelInfo, find_model

__all__ = ["export_model", "model_metadata", "update_postprocess", "SavedModelPredictor",
           "load_keras_model", "KERAS_WEIGHTS",
           "load_predictor", "shared_predictor", "SEGMENTING_TASKS"]


def _versions():
    from ._tf import keras, tf

    return {"emseg": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def model_metadata(config, *, training=None, scores=None, description=None):
    """The ``model.yaml`` mapping for a model (see the README's model format)."""
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    meta = {
        "name": config.name,
        "task": config.task,
        "description": description if description is not None else config.description,
        "format": "tensorflow_saved_model",
        "architecture": config.architecture,
        "input": {"axes": "byxc", "dtype": "float32", "channels": config.input_channels,
                  "range": [0.0, 1.0], "divisor": 2 ** config.depth},
        "output": {"axes": "byxc", "dtype": "float32", "activation": "sigmoid",
                   "classes": list(config.classes)},
        "pixel_size_nm": float(config.pixel_size),
        "tile_size": int(config.tile_size),
        "halo": int(config.halo),
        "normalization": dict(config.normalization),
        "threshold": float(config.threshold),
        "postprocess": dict(config.postprocess),
        **about(config.architecture),
        "training": training or {},
        "scores": scores or {},
        "software": _versions(),
    }
    if config.ndim == 3:
        # a volume model: (z, y, x) blocks, CryoVesNet's names for the block and its kept centre
        meta["input"]["axes"] = meta["output"]["axes"] = "bzyxc"
        meta["axes"] = "ZYX"
        meta["voxel_size_nm"] = [float(config.pixel_size)] * 3
        meta["block_size"] = int(config.tile_size)
        meta["roi_size"] = int(config.tile_size - 2 * config.halo)
    if config.report:
        meta["report"] = list(config.report)
    if config.task == "semantic":
        # one class per pixel: the arg-max of a softmax, no threshold
        meta["output"]["activation"] = "softmax"
        del meta["threshold"]
    if config.task == "classifier":
        # what a classifier's scores mean; segmentation post-processing does not apply
        del meta["postprocess"]
        meta["score_weights"] = list(config.score_weights)
    return meta


#: A semantic model's Keras weights beside its SavedModel (:func:`load_keras_model`).
KERAS_WEIGHTS = "model.weights.h5"


def load_keras_model(model):
    """The Keras model of an exported semantic model (name, folder or ModelInfo), rebuilt
    from its ``config.json`` and loaded with its weights: nothing in the files is run."""
    from .networks import build_model

    info = model if isinstance(model, ModelInfo) else find_model(model)
    weights = Path(info.path) / KERAS_WEIGHTS
    if not weights.is_file():
        raise ValueError(f"model {info.name!r} has no Keras weights ({KERAS_WEIGHTS}); "
                         f"export it again with this EMSeg version")
    config = ModelConfig.from_json(io.read_text(Path(info.path) / "config.json"))
    keras_model = build_model(config)
    keras_model.load_weights(weights)
    return keras_model, config


def export_model(model, config, folder, *, training=None, scores=None, description=None,
                 overwrite=False):
    """Write a model folder: ``saved_model/``, ``config.json``, ``model.yaml``.

    Parameters
    ----------
    model : keras.Model or path-like
        The trained model or a ``.keras`` checkpoint.
    config : ModelConfig
    folder : path-like
        Target folder (e.g. ``models/<name>``); written through a temporary
        folder and renamed, so a failed export leaves nothing behind.
    training, scores : dict, optional
        Training data description and evaluation scores for ``model.yaml``.
    description : str, optional
    overwrite : bool, optional
        Replace an existing folder.

    Returns
    -------
    ModelInfo
    """
    from . import losses  # noqa: F401 - registers EMSeg's losses for loading checkpoints
    from ._tf import keras

    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise ValueError(f"{folder} exists (use overwrite=True / --overwrite to replace it)")
    if not isinstance(model, keras.Model):
        path = Path(model)
        if not path.is_file():
            raise ValueError(f"model: no such checkpoint {path}")
        model = keras.models.load_model(path, compile=False)     # the network only
    with io.atomic_folder(folder) as tmp:
        model.export(os.fspath(tmp / "saved_model"), format="tf_saved_model", verbose=False)
        if config.task == "semantic":
            # the Keras weights too: Grad-CAM needs the layers, rebuilt from config.json
            model.save_weights(tmp / KERAS_WEIGHTS)
        io.write_text(tmp / "config.json", config.to_json())
        io.write_yaml(tmp / "model.yaml", model_metadata(
            config, training=training, scores=scores, description=description))
    return ModelInfo(config.name, folder, io.read_yaml(folder / "model.yaml"))


def update_postprocess(folder, settings, *, scores=None):
    """Change post-processing settings of an exported model in place, e.g. a setting measured
    on its validation data after the export; ``config.json`` and ``model.yaml`` stay in step.

    Parameters
    ----------
    folder : path-like
        An exported model folder.
    settings : dict
        Post-processing keys and values, checked as when the model is loaded (unknown keys
        and bad values are refused and nothing is written).
    scores : dict, optional
        Entries added to the ``scores`` of ``model.yaml`` (what the settings were measured as).

    Returns
    -------
    ModelInfo
    """
    from dataclasses import replace

    folder = Path(folder)
    if not (folder / "config.json").is_file() or not (folder / "model.yaml").is_file():
        raise ValueError(f"folder: {folder} is not an exported model (config.json and "
                         "model.yaml)")
    if not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict, got {type(settings).__name__}")
    config = ModelConfig.from_json(io.read_text(folder / "config.json"))
    # the dataclass checks the merged settings (unknown keys, ranges) on construction
    config = replace(config, postprocess={**config.postprocess, **settings})
    meta = io.read_yaml(folder / "model.yaml")
    meta["postprocess"] = dict(config.postprocess)
    if scores:
        meta["scores"] = {**(meta.get("scores") or {}), **dict(scores)}
    io.write_text(folder / "config.json", config.to_json())
    io.write_yaml(folder / "model.yaml", meta)
    return ModelInfo(config.name, folder, io.read_yaml(folder / "model.yaml"))


class SavedModelPredictor:
    """Runs an exported model on batches of normalised tiles.

    Parameters
    ----------
    info : ModelInfo
        From :func:`emseg.models.find_model`.
    lazy : bool, optional
        Load TensorFlow and the SavedModel at the first call instead of now,
        so that a command can check its inputs (and report a missing file at
        once) before paying for the model; ``meta`` and ``info`` are there
        either way.

    Calling it with a ``(batch, rows, columns, channels)`` float32 array
    returns the ``(batch, rows, columns, classes)`` float32 probabilities.
    """

    def __init__(self, info, *, lazy=False):
        if not isinstance(info, ModelInfo):
            raise TypeError(f"info must be a ModelInfo, got {type(info).__name__}")
        self.info = info
        self.meta = info.meta
        self._serve = None
        #: how many times this object loaded TensorFlow's SavedModel (0 until the first call)
        self.loads = 0
        if not lazy:
            self.load()

    def __reduce__(self):
        # sent to another process (a Dask worker) as its folder: there it becomes that
        # process's one predictor of the folder, so a worker loads each model once
        return shared_predictor, (os.fspath(self.info.path),)

    def load(self):
        """Load the SavedModel now (once); raises ValueError for a damaged one."""
        if self._serve is not None:
            return self
        from ._tf import tf

        try:
            loaded = tf.saved_model.load(os.fspath(Path(self.info.path) / "saved_model"))
        except Exception as exc:  # TF raises many kinds for a damaged model
            raise ValueError(f"{self.info.path}: cannot load the SavedModel "
                             f"({exc.__class__.__name__})") from None
        self._loaded = loaded
        self._tf = tf
        self.loads += 1
        if hasattr(loaded, "serve"):           # Keras' export: serve(x)
            self._serve = loaded.serve
        elif "serving_default" in getattr(loaded, "signatures", {}):
            # a plain SavedModel (e.g. from a Zoo package): keyword input, dict output
            fn = loaded.signatures["serving_default"]
            (key,) = fn.structured_input_signature[1].keys()
            self._serve = lambda x: fn(**{key: x})
        else:
            raise ValueError(f"{self.info.path}: the SavedModel has neither a serve endpoint nor "
                             "a serving_default signature")
        return self

    @property
    def saved_model(self):
        """The loaded TensorFlow SavedModel object (loads it if needed)."""
        return self.load()._loaded

    def __call__(self, batch):
        self.load()
        batch = np.asarray(batch, np.float32)
        out = self._serve(self._tf.constant(batch))
        if isinstance(out, dict):              # outputs by name: the one there is
            if len(out) != 1:
                raise ValueError(f"{self.info.path}: the model has {len(out)} outputs; EMSeg "
                                 "needs one")
            (out,) = out.values()
        return np.asarray(out, np.float32)


_SHARED = {}


def shared_predictor(folder):
    """This process's one lazy :class:`SavedModelPredictor` of the model in ``folder``.

    What a predictor becomes when it is sent to another process (a Dask worker): every task
    there that names the same folder uses the same loaded model. A model whose ``model.yaml``
    changed since is found anew.
    """
    folder = Path(folder).resolve()
    yaml = folder / "model.yaml"
    if not yaml.is_file():
        raise ValueError(f"{folder}: not an exported model (no model.yaml)")
    key = (os.fspath(folder), yaml.stat().st_mtime_ns)
    if key not in _SHARED:
        _SHARED[key] = SavedModelPredictor(find_model(folder), lazy=True)
    return _SHARED[key]


#: the tasks whose models segment an image: a foreground and its objects, or classes
SEGMENTING_TASKS = ("segmentation", "semantic")


def load_predictor(model=None, *, task=None, lazy=False):
    """A :class:`SavedModelPredictor` for a model name, folder or ModelInfo.

    Parameters
    ----------
    model : str, path or ModelInfo, optional
        The model; None for the default model of ``task`` (its first task when a tuple).
    task : str or tuple of str, optional
        The task(s) the model must do, e.g. :data:`SEGMENTING_TASKS`; any when None.
    lazy : bool
        Find the model and read its ``model.yaml`` now, load TensorFlow at the first call.
    """
    tasks = (task,) if task is None or isinstance(task, str) else tuple(task)
    if not tasks or not all(t is None or isinstance(t, str) for t in tasks):
        raise ValueError(f"task must be a task name or a tuple of them, got {task!r}")
    info = model if isinstance(model, ModelInfo) else find_model(
        model, task=tasks[0] if model is None or len(tasks) == 1 else None)
    if tasks[0] is not None and info.task not in tasks:
        raise ValueError(f"model {info.name!r} is a {info.task} model, not a {tasks[0]} model")
    return SavedModelPredictor(info, lazy=lazy)
