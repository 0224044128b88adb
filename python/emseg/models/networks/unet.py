"""Plain U-Net baseline."""

from .blocks import conv, u_shape


def _double_conv(x, filters):
    x = conv(filters, 3, activation="relu")(x)
    return conv(filters, 3, activation="relu")(x)


def unet(config):
    """Plain U-Net baseline: two 3x3 ReLU convolutions per level, max pooling,
    transposed-convolution up-sampling, dropout in the bottleneck."""
    return u_shape(config, _double_conv)
