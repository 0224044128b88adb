"""Segmentation networks: configuration, architectures, training, export, loading.

``emseg.models`` is the only part of EMSeg that imports TensorFlow, and only
in its submodules :mod:`~emseg.models.networks`, :mod:`~emseg.models.training`
and :mod:`~emseg.models.saved`; importing this package (configs, the model
registry) does not load TensorFlow.
"""

from .config import ARCHITECTURES, POSTPROCESS_DEFAULTS, ModelConfig
from .registry import DEFAULT_MODEL, ModelInfo, find_model, list_models, model_dirs

__all__ = ["ARCHITECTURES", "POSTPROCESS_DEFAULTS", "ModelConfig", "DEFAULT_MODEL", "ModelInfo",
           "find_model", "list_models", "model_dirs"]
