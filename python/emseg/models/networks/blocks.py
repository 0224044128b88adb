"""Layers shared by the architectures: the 2D convolution, batch normalisation
and the U-Net skeleton (down with max pooling, up with transposed convolutions)."""

from .._tf import keras

layers = keras.layers

__all__ = ["conv", "bn", "u_shape", "output_activation"]


def conv(filters, size, name=None, activation=None, initializer="he_normal"):
    return layers.Conv2D(filters, size, padding="same", activation=activation,
                         kernel_initializer=initializer, name=name)


def output_activation(config):
    """Softmax over the classes for a semantic model (one class per pixel), else a sigmoid
    per class."""
    return "softmax" if config.task == "semantic" else "sigmoid"


def bn(x, activation=None):
    x = layers.BatchNormalization(scale=False)(x)
    return layers.Activation(activation)(x) if activation else x


def u_shape(config, block, skip=None):
    """The U-Net skeleton shared by MultiRes U-Net and U-Net: ``block`` at
    every level, 2x2 max pooling down, transposed convolution up,
    concatenation with the (optionally ``skip``-processed) level features,
    dropout in the bottleneck, 1x1 output (sigmoid per class, softmax for a semantic model)."""
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
    outputs = conv(len(config.classes), 1, name="probability",
                   activation=output_activation(config))(x)
    return keras.Model(inputs, outputs, name=config.name)
