"""FRU-Net: the Fully Residual U-Net of Gomez-de-Mariscal et al. 2019 (TEM vesicles)."""

from .._tf import keras

layers = keras.layers

from .blocks import conv, output_activation


def _fru_residual(x, filters, dropout, shortcut=None):
    """ELU-Conv-Dropout-ELU-Conv with an additive skip (FRU-Net, Fig. S2).

    ``shortcut`` (expanding path) is the 1x1 channel-reduction of the
    concatenated input; in the contracting path the input itself is added.
    The branch's last convolution starts at zero, so that every residual layer starts as
    the identity (Goyal et al. 2017): without normalisation layers, He-initialised
    branches double the activations' variance at every addition, and a depth-4 FRU-Net
    starts with a saturated sigmoid that never trains.
    """
    y = layers.ELU(alpha=1.0)(x)
    y = conv(filters, 3)(y)
    y = layers.Dropout(dropout)(y)
    y = layers.ELU(alpha=1.0)(y)
    y = conv(filters, 3, initializer="zeros")(y)
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
        x = conv(f, 3)(x)
        x = _fru_residual(x, f, config.dropout)
        skips.append(x)
        x = layers.AveragePooling2D(2)(x)
    x = _fru_residual(x, config.base_filters * 2 ** (config.depth - 1), config.dropout)
    for level in reversed(range(config.depth)):
        f = config.base_filters * 2 ** level
        x = layers.UpSampling2D(2)(x)
        x = layers.Concatenate()([skips[level], x])
        shortcut = conv(f, 1)(x)
        x = _fru_residual(x, f, config.dropout, shortcut=shortcut)
    x = conv(config.base_filters, 3, activation="elu")(x)
    outputs = conv(len(config.classes), 1, name="probability",
                   activation=output_activation(config))(x)
    return keras.Model(inputs, outputs, name=config.name)
