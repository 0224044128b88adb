"""MultiRes U-Net (Ibtehaz & Rahman 2020): the BAM workflow's network."""

from .._tf import keras
from .blocks import bn, conv, u_shape

layers = keras.layers


def _multires_block(x, units, alpha=1.67):
    """Three chained 3x3 convolutions (W/6, W/3, W/2 maps) concatenated, plus
    a 1x1 residual (Ibtehaz & Rahman 2020)."""
    w = alpha * units
    f1, f2, f3 = max(1, int(w / 6)), max(1, int(w / 3)), max(1, int(w / 2))
    shortcut = bn(conv(f1 + f2 + f3, 1)(x))
    a = bn(conv(f1, 3)(x), "relu")
    b = bn(conv(f2, 3)(a), "relu")
    c = bn(conv(f3, 3)(b), "relu")
    y = bn(layers.Concatenate()([a, b, c]))
    return bn(layers.Activation("relu")(layers.Add()([shortcut, y])))


def _res_path(x, filters, length):
    """Chain of 3x3 convolutions with 1x1 residuals on a skip connection."""
    for _ in range(length):
        shortcut = bn(conv(filters, 1)(x))
        x = bn(conv(filters, 3)(x), "relu")
        x = bn(layers.Activation("relu")(layers.Add()([shortcut, x])))
    return x


def multires_unet(config):
    """MultiRes U-Net: MultiRes blocks and Res paths (the BAM workflow's network)."""
    return u_shape(config, _multires_block, _res_path)
