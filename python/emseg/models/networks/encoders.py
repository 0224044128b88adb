"""Pretrained classification networks as U-Net encoders (WAE-Net's base learners).

Each encoder takes a ``(batch, rows, columns, 3)`` tensor in the value range its
ImageNet weights expect and returns its features at strides 2, 4, 8 and 16 (the
long skips; VGG19 adds stride 1) and the deepest features at stride 32, so any
input whose sides are multiples of 32 works. VGG19, InceptionV3 and EfficientNetB4
are Keras' own (``keras.applications``; InceptionV3 rebuilt with "same" padding so
its feature maps halve exactly, as segmentation U-Nets need). ResNet34 and its
squeeze-and-excitation variant SE-ResNet34 are not in Keras and are built here
(He et al. 2016; Hu et al. 2018).
"""

import os

from .._tf import keras

layers = keras.layers

__all__ = ["ENCODERS", "encoder", "preprocess"]

#: Encoders and what their ImageNet weights expect of a [0, 1] grey value ``x``
#: (repeated into three channels): ``scale * x + offset`` per channel.
_INPUT = {
    "resnet34": (255.0, (0.0, 0.0, 0.0)),            # an input BatchNorm normalises
    "seresnet34": (255.0, (0.0, 0.0, 0.0)),
    "vgg19": (255.0, (-103.939, -116.779, -123.68)),  # Caffe: BGR means subtracted
    "inceptionv3": (2.0, (-1.0, -1.0, -1.0)),         # [-1, 1]
    "efficientnetb4": (255.0, (0.0, 0.0, 0.0)),       # rescales and normalises itself
}

#: Encoder names :func:`encoder` builds.
ENCODERS = tuple(_INPUT)


def preprocess(x, name):
    """Grey ``x`` in [0, 1] (one channel) as the three-channel input encoder ``name``'s
    ImageNet weights expect: the grey value repeated (no learned stem, so pretrained
    first-layer filters see the statistics they were trained on), scaled and shifted."""
    scale, offset = _INPUT[name]
    x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    return layers.Rescaling(scale, offset=list(offset), name=f"{name}_input")(x)


def encoder(name, *, weights=None):
    """The encoder ``name`` as a Keras model.

    Parameters
    ----------
    name : str
        One of :data:`ENCODERS`.
    weights : None, "imagenet" or path, optional
        None: random initialisation. "imagenet": Keras' ImageNet weights
        (downloaded once by Keras; VGG19, InceptionV3 and EfficientNetB4 only).
        A path: for the Keras encoders, the application's weights file as
        Keras distributes it (``*_notop.h5``); for ResNet34 and SE-ResNet34, a
        ``.weights.h5`` file saved from this encoder
        (``encoder("resnet34").save_weights(...)``).

    Returns
    -------
    keras.Model
        Named ``f"{name}_encoder"``: input ``(batch, rows, columns, 3)``; outputs
        the skip features from the finest stride to stride 16, then the
        stride-32 features.
    """
    if name not in _INPUT:
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {name!r}")
    if weights is not None and weights != "imagenet":
        if not isinstance(weights, (str, os.PathLike)) or not os.path.isfile(weights):
            raise ValueError(f"weights must be None, 'imagenet' or an existing weights file, "
                             f"got {weights!r}")
        weights = os.fspath(weights)
    if name in ("resnet34", "seresnet34"):
        if weights == "imagenet":
            raise ValueError(f"weights: Keras has no ImageNet weights for {name}; give a "
                             f".weights.h5 file saved from emseg's {name} encoder")
        model = _resnet34(se=name == "seresnet34")
        if weights is not None:
            if not weights.endswith(".weights.h5"):
                raise ValueError(f"weights for {name} must be a .weights.h5 file saved from "
                                 f"emseg's {name} encoder, got {weights}")
            model.load_weights(weights)
        return model
    return _KERAS[name](weights)


def _outputs(model, names, name):
    outs = [model.get_layer(n).output if isinstance(n, str) else n for n in names]
    return keras.Model(model.input, outs, name=f"{name}_encoder")


def _vgg19(weights):
    app = keras.applications.VGG19(include_top=False, weights=weights, input_shape=(None, None, 3))
    return _outputs(app, ["block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4",
                          "block5_conv4", "block5_pool"], "vgg19")


def _efficientnetb4(weights):
    app = keras.applications.EfficientNetB4(include_top=False, weights=weights,
                                            input_shape=(None, None, 3))
    # the expansion activations just before each stride-2 block (features at full stride)
    return _outputs(app, ["block2a_expand_activation", "block3a_expand_activation",
                          "block4a_expand_activation", "block6a_expand_activation",
                          "top_activation"], "efficientnetb4")


def _same_padding(layer):
    config = layer.get_config()
    if config.get("padding") == "valid":
        config["padding"] = "same"
    return layer.__class__.from_config(config)


def _inceptionv3(weights):
    app = keras.applications.InceptionV3(include_top=False, weights=weights,
                                         input_shape=(None, None, 3))
    # "valid" convolutions and poolings shrink the maps by a few pixels; with "same"
    # padding they halve exactly (the kernels, hence the weights, are unchanged)
    same = keras.models.clone_model(app, clone_function=_same_padding)
    same.set_weights(app.get_weights())
    pools = [layer for layer in same.layers if isinstance(layer, layers.MaxPooling2D)]
    # the stem is a chain: the maps entering its two max poolings are at strides 2 and 4
    stem = [pools[0].input, pools[1].input]
    return _outputs(same, stem + ["mixed2", "mixed7", "mixed10"], "inceptionv3")


_KERAS = {"vgg19": _vgg19, "inceptionv3": _inceptionv3, "efficientnetb4": _efficientnetb4}


def _conv_bn(x, filters, size, stride, name, activation=True):
    x = layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-5, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if activation else x


def _squeeze_excite(x, filters, name, reduction=16):
    """Channel attention: global average, bottleneck, sigmoid gates (Hu et al. 2018)."""
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(x)
    s = layers.Conv2D(filters // reduction, 1, activation="relu", name=f"{name}_se_reduce")(s)
    s = layers.Conv2D(filters, 1, activation="sigmoid", name=f"{name}_se_expand")(s)
    return layers.Multiply(name=f"{name}_se_scale")([x, s])


def _basic_block(x, filters, stride, name, se):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""
    y = _conv_bn(x, filters, 3, stride, f"{name}_1")
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", activation=False)
    if se:
        y = _squeeze_excite(y, filters, name)
    if stride != 1 or x.shape[-1] != filters:
        x = _conv_bn(x, filters, 1, stride, f"{name}_proj", activation=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, y]))


def _resnet34(se):
    """ResNet34 (3, 4, 6, 3 basic blocks of 64-512 filters), optionally with SE blocks."""
    name = "seresnet34" if se else "resnet34"
    inputs = keras.Input((None, None, 3), name="rgb")
    x = layers.BatchNormalization(epsilon=1e-5, name="input_bn")(inputs)   # raw 0-255 input
    x = _conv_bn(x, 64, 7, 2, "stem")
    outs = [x]                                                             # stride 2
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
        for b in range(blocks):
            stride = 2 if stage and not b else 1
            x = _basic_block(x, filters, stride, f"stage{stage + 1}_block{b + 1}", se)
        outs.append(x)                                                     # strides 4-32
    return keras.Model(inputs, outs, name=f"{name}_encoder")
