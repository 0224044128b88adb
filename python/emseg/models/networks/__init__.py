"""Keras 3 architectures: FRU-Net, MultiRes U-Net, a plain U-Net, U-Nets with pretrained
encoders (2D) and the CARE 3D U-Net.

All are fully convolutional with ``(None, None, channels)`` inputs (3D:
``(None, None, None, channels)``), so the
exported SavedModel accepts any tile whose sides are multiples of
``2**depth``; outputs are per-class sigmoid probabilities (a semantic model's: softmax
over its classes). One module per
architecture; :mod:`~emseg.models.networks.blocks` holds the shared layers.
"""

from ..config import ENCODER_ARCHITECTURES, ModelConfig
from .encoder_unet import encoder_unet
from .fru_net import fru_net
from .multires_unet import multires_unet
from .unet import unet
from .unet3d import unet3d

__all__ = ["build_model", "encoder_unet", "fru_net", "multires_unet", "unet", "unet3d"]


_BUILDERS = {"fru_net": fru_net, "multires_unet": multires_unet, "unet": unet,
             "unet3d": unet3d}


def build_model(config, *, encoder_weights=None):
    """Build the (untrained) Keras model that ``config`` describes.

    Parameters
    ----------
    config : ModelConfig
    encoder_weights : None, "imagenet" or path, optional
        Initial weights of a pretrained-encoder U-Net's encoder (see
        :func:`emseg.models.networks.encoders.encoder`); other architectures take none.

    Returns
    -------
    keras.Model
        Input ``(batch, rows, columns, input_channels)``, output
        ``(batch, rows, columns, len(classes))`` probabilities, sigmoid (semantic: softmax) (3D
        architectures: ``(batch, planes, rows, columns, ...)``).
    """
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    if config.architecture == "ensemble":
        return _ensemble(config)
    if config.architecture in ENCODER_ARCHITECTURES:
        return encoder_unet(config, encoder_weights=encoder_weights)
    if encoder_weights is not None:
        raise ValueError(f"encoder_weights: architecture {config.architecture} has no "
                         f"pretrained encoder")
    return _BUILDERS[config.architecture](config)


def _ensemble(config):
    """The weighted average of the members' outputs, one graph (WAE-Net): each member a
    nested model built from its own config, its output scaled by its weight, summed."""
    from .._tf import keras

    layers = keras.layers
    inputs = keras.Input((None, None, config.input_channels), name="image")
    outs = []
    for i, m in enumerate(config.members):
        member = build_model(config.member(i))
        outs.append(layers.Rescaling(m["weight"], name=f"weight{i + 1}")(member(inputs)))
    outputs = outs[0] if len(outs) == 1 else layers.Add(name="weighted_average")(outs)
    return keras.Model(inputs, outputs, name=config.name)
