"""Segmentation and classifier networks: configuration, architectures, training, export,
loading.

``emseg.models`` is the only part of EMSeg that imports TensorFlow, always
through :mod:`~emseg.models._tf` (which keeps TensorFlow's start-up notices off
stderr) and only in its submodules :mod:`~emseg.models.networks`,
:mod:`~emseg.models.losses`, :mod:`~emseg.models.training` and
:mod:`~emseg.models.saved`; importing this package (configs, the model
registry) does not load TensorFlow.
"""

import os

# TensorFlow's C++ log below errors is noise for users (set before TensorFlow loads).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .config import (ARCHITECTURES, ENCODER_ARCHITECTURES, POSTPROCESS_DEFAULTS, TASKS,
                     VESICLE_DEFAULTS, VOLUME_ARCHITECTURES, ModelConfig)
from .registry import (DEFAULT_CLASSIFIER, DEFAULT_MODEL, DEFAULT_VOLUME_MODEL, ModelInfo,
                       find_model, list_models, model_dirs)

__all__ = ["ARCHITECTURES", "ENCODER_ARCHITECTURES", "POSTPROCESS_DEFAULTS", "TASKS",
           "VESICLE_DEFAULTS", "VOLUME_ARCHITECTURES", "ModelConfig", "DEFAULT_MODEL", "DEFAULT_VOLUME_MODEL",
           "DEFAULT_CLASSIFIER", "ModelInfo", "find_model", "list_models", "model_dirs"]
