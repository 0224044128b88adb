"""Keras 3 architectures: FRU-Net, MultiRes U-Net and a plain U-Net.

All are fully convolutional with ``(None, None, channels)`` inputs, so the
exported SavedModel accepts any tile whose sides are multiples of
``2**depth``; outputs are per-class sigmoid probabilities.
"""

import keras
from keras import layers

from .config import ModelConfig

__all__ = ["build_model", "fru_net", "multires_unet", "unet"]


def _conv(filters, size, name=None, activation=None):
    return layers.Conv2D(filters, size, padding="same", activation=activation,
                         kernel_initializer="he_normal", name=name)


# ----------------------------------------------------------------- FRU-Net

def _fru_residual(x, filters, dropout, shortcut=None):
    """ELU-Conv-Dropout-ELU-Conv with an additive skip (FRU-Net, Fig. S2).

    ``shortcut`` (expanding path) is the 1x1 channel-reduction of the
    concatenated input; in the contracting path the input itself is added.
    """
    y = layers.ELU(alpha=1.0)(x)
    y = _conv(filters, 3)(y)
    y = layers.Dropout(dropout)(y)
    y = layers.ELU(alpha=1.0)(y)
    y = _conv(filters, 3)(y)
    return layers.Add()([x if shortcut is None else shortcut, y])


def fru_net(config):
    """Fully Residual U-Net (Gomez-de-Mariscal et al. 2019).

    Contracting levels: 3x3 convolution + residual layer, 2x2 average pooling,
    ``base_filters * 2**level`` feature maps; a connection residual layer
    without doubling; expanding levels: up-sampling, concatenation with the
    contracting features, residual layer with a 1x1 reduction shortcut;
    a final 3x3 convolution and a 1x1 sigmoid convolution.
    """
    inputs = keras.Input((None, None, config.input_channels), name="image")
    x, skips = inputs, []
    for level in range(config.depth):
        f = config.base_filters * 2 ** level
        x = _conv(f, 3)(x)
        x = _fru_residual(x, f, config.dropout)
        skips.append(x)
        x = layers.AveragePooling2D(2)(x)
    x = _fru_residual(x, config.base_filters * 2 ** (config.depth - 1), config.dropout)
    for level in reversed(range(config.depth)):
        f = config.base_filters * 2 ** level
        x = layers.UpSampling2D(2)(x)
        x = layers.Concatenate()([skips[level], x])
        shortcut = _conv(f, 1)(x)
        x = _fru_residual(x, f, config.dropout, shortcut=shortcut)
    x = _conv(config.base_filters, 3, activation="elu")(x)
    outputs = _conv(len(config.classes), 1, name="probability", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name=config.name)


# ---------------------------------------------------------- MultiRes U-Net

def _bn(x, activation=None):
    x = layers.BatchNormalization(scale=False)(x)
    return layers.Activation(activation)(x) if activation else x


def _multires_block(x, units, alpha=1.67):
    """Three chained 3x3 convolutions (W/6, W/3, W/2 maps) concatenated, plus
    a 1x1 residual (Ibtehaz & Rahman 2020)."""
    w = alpha * units
    f1, f2, f3 = max(1, int(w / 6)), max(1, int(w / 3)), max(1, int(w / 2))
    shortcut = _bn(_conv(f1 + f2 + f3, 1)(x))
    a = _bn(_conv(f1, 3)(x), "relu")
    b = _bn(_conv(f2, 3)(a), "relu")
    c = _bn(_conv(f3, 3)(b), "relu")
    y = _bn(layers.Concatenate()([a, b, c]))
    return _bn(layers.Activation("relu")(layers.Add()([shortcut, y])))


def _res_path(x, filters, length):
    """Chain of 3x3 convolutions with 1x1 residuals on a skip connection."""
    for _ in range(length):
        shortcut = _bn(_conv(filters, 1)(x))
        x = _bn(_conv(filters, 3)(x), "relu")
        x = _bn(layers.Activation("relu")(layers.Add()([shortcut, x])))
    return x


def _u_shape(config, block, skip=None):
    """The U-Net skeleton shared by MultiRes U-Net and U-Net: ``block`` at
    every level, 2x2 max pooling down, transposed convolution up,
    concatenation with the (optionally ``skip``-processed) level features,
    dropout in the bottleneck, 1x1 sigmoid output."""
    inputs = keras.Input((None, None, config.input_channels), name="image")
    x, skips = inputs, []
    for level in range(config.depth):
        units = config.base_filters * 2 ** level
        x = block(x, units)
        skips.append(skip(x, units, config.depth - level) if skip else x)
        x = layers.MaxPooling2D(2)(x)
    x = block(x, config.base_filters * 2 ** config.depth)
    if config.dropout:
        x = layers.Dropout(config.dropout)(x)
    for level in reversed(range(config.depth)):
        units = config.base_filters * 2 ** level
        x = layers.Conv2DTranspose(units, 2, strides=2, padding="same")(x)
        x = block(layers.Concatenate()([skips[level], x]), units)
    outputs = _conv(len(config.classes), 1, name="probability", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name=config.name)


def multires_unet(config):
    """MultiRes U-Net: MultiRes blocks and Res paths (the BAM workflow's network)."""
    return _u_shape(config, _multires_block, _res_path)


# ------------------------------------------------------------------- U-Net

def _double_conv(x, filters):
    x = _conv(filters, 3, activation="relu")(x)
    return _conv(filters, 3, activation="relu")(x)


def unet(config):
    """Plain U-Net baseline: two 3x3 ReLU convolutions per level, max pooling,
    transposed-convolution up-sampling, dropout in the bottleneck."""
    return _u_shape(config, _double_conv)


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
