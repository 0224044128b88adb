"""Keras 3 architectures: FRU-Net, MultiRes U-Net and a plain U-Net.

All are fully convolutional with ``(None, None, channels)`` inputs, so the
exported SavedModel accepts any tile whose sides are multiples of
``2**depth``; outputs are per-class sigmoid probabilities. One module per
architecture; :mod:`~emseg.models.networks.blocks` holds the shared layers.
"""

from ..config import ModelConfig
from .fru_net import fru_net
from .multires_unet import multires_unet
from .unet import unet

__all__ = ["build_model", "fru_net", "multires_unet", "unet"]


_BUILDERS = {"fru_net": fru_net, "multires_unet": multires_unet, "unet": unet}


def build_model(config):
    """Build the (untrained) Keras model that ``config`` describes.

    Parameters
    ----------
    config : ModelConfig

    Returns
    -------
    keras.Model
        Input ``(batch, rows, columns, input_channels)``, output
        ``(batch, rows, columns, len(classes))`` sigmoid probabilities.
    """
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    return _BUILDERS[config.architecture](config)
