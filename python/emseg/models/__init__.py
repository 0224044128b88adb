"""Segmentation and classifier networks: configuration, architectures, training, export,
loading.

``emseg.models`` is the only part of EMSeg that imports TensorFlow, and only
in its submodules :mod:`~emseg.models.networks`, :mod:`~emseg.models.training`
and :mod:`~emseg.models.saved`; importing this package (configs, the model
registry) does not load TensorFlow.
"""

import os

# TensorFlow's C++ start-up chatter (CPU features, missing CUDA) is noise for users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .config import ARCHITECTURES, POSTPROCESS_DEFAULTS, TASKS, ModelConfig
from .registry import (DEFAULT_CLASSIFIER, DEFAULT_MODEL, ModelInfo, find_model, list_models,
                       model_dirs)

__all__ = ["ARCHITECTURES", "POSTPROCESS_DEFAULTS", "TASKS", "ModelConfig", "DEFAULT_MODEL",
           "DEFAULT_CLASSIFIER", "ModelInfo", "find_model", "list_models", "model_dirs"]
