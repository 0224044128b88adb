"""U-Nets whose encoder is a pretrained classification network (WAE-Net's base learners)."""

from .._tf import keras
from ..config import ENCODER_ARCHITECTURES
from .blocks import output_activation
from .encoders import encoder, preprocess

layers = keras.layers

__all__ = ["ENCODER_ARCHITECTURES", "encoder_unet", "DECODER_FILTERS", "BOTTLENECK"]

#: Decoder filters from stride 16 up to stride 1 (as the segmentation_models U-Nets).
DECODER_FILTERS = (256, 128, 64, 32, 16)

#: Name of the bottleneck's activation layer (where Grad-CAM looks, as in the paper).
BOTTLENECK = "bottleneck_relu"


def _conv_bn_relu(x, filters, size, name):
    x = layers.Conv2D(filters, size, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def encoder_unet(config, *, encoder_weights=None):
    """A U-Net with a pretrained encoder (WAE-Net, paper 003).

    The grey image is repeated into the three channels the encoder expects (no
    learned stem: pretrained first filters keep their input statistics). The
    encoder's deepest features pass one convolution of 1024 channels (the paper's
    bottleneck; 3x3, or 1x1 after encoders deeper than 512 channels, which keeps
    every base learner under 30 M parameters), then dropout; five transposed 2x2 convolutions then
    restore the input size, each concatenated with the encoder's features of that
    stride (long skips) and followed by two 3x3 convolutions with batch
    normalisation (:data:`DECODER_FILTERS`). The output is a 1x1 convolution: softmax
    over ``config.classes`` for a ``semantic`` model, else one sigmoid per class.

    Parameters
    ----------
    config : ModelConfig
        ``architecture`` is one of :data:`ENCODER_ARCHITECTURES`, ``input_channels`` 1.
    encoder_weights : None, "imagenet" or path, optional
        See :func:`emseg.models.networks.encoders.encoder`.
    """
    name = config.architecture[len("unet_"):]
    if config.architecture not in ENCODER_ARCHITECTURES:
        raise ValueError(f"config.architecture must be one of {', '.join(ENCODER_ARCHITECTURES)}, "
                         f"got {config.architecture!r}")
    inputs = keras.Input((None, None, config.input_channels), name="image")
    *skips, bottom = encoder(name, weights=encoder_weights)(preprocess(inputs, name))
    x = _conv_bn_relu(bottom, 1024, 3 if bottom.shape[-1] <= 512 else 1, "bottleneck")
    if config.dropout:
        x = layers.Dropout(config.dropout, name="bottleneck_dropout")(x)
    # skips run from the finest stride (1 for VGG19, else 2) to 16
    skips = [None] * (5 - len(skips)) + skips
    for level, (filters, skip) in enumerate(zip(DECODER_FILTERS, reversed(skips))):
        x = layers.Conv2DTranspose(filters, 2, strides=2, padding="same",
                                   name=f"decoder{level + 1}_up")(x)
        if skip is not None:
            x = layers.Concatenate(name=f"decoder{level + 1}_concat")([x, skip])
        x = _conv_bn_relu(x, filters, 3, f"decoder{level + 1}_a")
        x = _conv_bn_relu(x, filters, 3, f"decoder{level + 1}_b")
    outputs = layers.Conv2D(len(config.classes), 1, activation=output_activation(config),
                            name="probability")(x)
    return keras.Model(inputs, outputs, name=config.name)
