"""3D U-Net on the CARE pattern (Weigert et al. 2018), as CryoVesNet uses it for
synaptic vesicles in cryo-electron tomograms."""

from .._tf import keras

layers = keras.layers


def _conv_bn_relu(x, filters):
    # batch normalisation before the ReLU, as CryoVesNet's published network has it
    x = layers.Conv3D(filters, 3, padding="same", kernel_initializer="he_normal")(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def unet3d(config):
    """CARE-style 3D U-Net: ``config.depth`` 2x2x2 max-pooling stages (CryoVesNet: 2), two
    3x3x3 convolutions with batch normalisation and ReLU per level, ``base_filters * 2**level``
    feature maps (CryoVesNet: 16-32-64), up-sampling and concatenation with the level's features,
    a 1x1x1 sigmoid output per class. Input ``(batch, z, y, x, channels)`` of any size divisible
    by ``2**depth``."""
    inputs = keras.Input((None, None, None, config.input_channels), name="volume")
    x, skips = inputs, []
    for level in range(config.depth):
        f = config.base_filters * 2 ** level
        x = _conv_bn_relu(_conv_bn_relu(x, f), f)
        skips.append(x)
        x = layers.MaxPooling3D(2)(x)
    f = config.base_filters * 2 ** config.depth
    x = _conv_bn_relu(_conv_bn_relu(x, f), f)
    if config.dropout:
        x = layers.Dropout(config.dropout)(x)
    for level in reversed(range(config.depth)):
        f = config.base_filters * 2 ** level
        x = layers.UpSampling3D(2)(x)
        x = layers.Concatenate()([skips[level], x])
        x = _conv_bn_relu(_conv_bn_relu(x, f), f)
    outputs = layers.Conv3D(len(config.classes), 1, activation="sigmoid",
                            name="probability")(x)
    return keras.Model(inputs, outputs, name=config.name)
