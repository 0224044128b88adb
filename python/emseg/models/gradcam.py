"""Grad-CAM for segmentation networks (Selvaraju et al. 2017; WAE-Net, paper 003).

A class's score is its softmax (or sigmoid) output summed over the pixels the network gives
that class; its gradients with respect to the feature maps at the network's bottleneck,
averaged over the maps, weigh them; the weighted sum through a ReLU, brought to the input's
size, is the heat map of where the network looked. For an ensemble, each member gets its own
map (the paper shows them side by side) and the ensemble's is their weighted average.
"""

import numpy as np

__all__ = ["grad_cam", "bottleneck_layer", "explain"]


def bottleneck_layer(model):
    """The name of ``model``'s bottleneck: the encoder U-Nets' ``bottleneck_relu``, else the
    last layer before the first up-sampling (the deepest features of any U-Net)."""
    from ._tf import keras
    from .networks.encoder_unet import BOTTLENECK

    names = [layer.name for layer in model.layers]
    if BOTTLENECK in names:
        return BOTTLENECK
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.Conv2DTranspose, keras.layers.UpSampling2D)):
            return model.layers[i - 1].name
    raise ValueError(f"model {model.name!r} has no up-sampling layer: no bottleneck to explain")


def grad_cam(model, x, class_index, *, layer=None):
    """Grad-CAM heat maps of one class for a batch of tiles.

    Parameters
    ----------
    model : keras.Model
        A single network (not an ensemble: see :func:`explain`).
    x : (B, M, N, C) ndarray of float32
        Normalised input tiles (sides multiples of the network's divisor).
    class_index : int
    layer : str, optional
        The layer whose feature maps are weighed (default :func:`bottleneck_layer`).

    Returns
    -------
    (B, M, N) ndarray of float32
        Each tile's map scaled to [0, 1] by its maximum (all 0 where the network gives the
        class no pixel, or its gradients are all negative).
    """
    from ._tf import keras, tf

    x = np.asarray(x, np.float32)
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of tiles (B, M, N, C), got shape {x.shape}")
    k = model.output.shape[-1]
    if not isinstance(class_index, (int, np.integer)) or not 0 <= class_index < k:
        raise ValueError(f"class_index must be in 0..{k - 1}, got {class_index!r}")
    layer = bottleneck_layer(model) if layer is None else layer
    probe = keras.Model(model.inputs, [model.get_layer(layer).output, model.output])
    with tf.GradientTape() as tape:
        features, prob = probe(x, training=False)
        mine = tf.cast(tf.equal(tf.argmax(prob, axis=-1), class_index), prob.dtype)
        if k == 1:
            mine = tf.cast(prob[..., 0] > 0.5, prob.dtype)
        score = tf.reduce_sum(prob[..., class_index] * mine, axis=(1, 2))
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
    cam = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0].numpy()
    top = cam.reshape(len(cam), -1).max(1).reshape(-1, 1, 1)
    return np.where(top > 0, cam / np.where(top > 0, top, 1), 0).astype(np.float32)


def explain(model, config, image, class_index):
    """Grad-CAM of ``class_index`` on a whole image already at the model's pixel size and
    normalised: ``{name: heat map}``, one per ensemble member (named by architecture) plus
    ``"ensemble"`` (their weighted average), or ``{config.architecture: map}`` for one
    network. The image is padded by reflection to the network's divisor and predicted whole
    (Grad-CAM's maps depend on the whole field of view)."""
    image = np.asarray(image, np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be 2D, got shape {image.shape}")
    d = 2 ** config.depth
    pad = [(0, (-n) % d) for n in image.shape]
    x = np.pad(image, pad, mode="reflect")[None, ..., None]
    rows, cols = image.shape
    if config.architecture != "ensemble":
        return {config.architecture: grad_cam(model, x, class_index)[0, :rows, :cols]}
    from ._tf import keras

    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    maps = {}
    for member, m in zip(inner, config.members):
        maps[m["architecture"]] = grad_cam(member, x, class_index)[0, :rows, :cols]
    maps["ensemble"] = sum(m["weight"] * maps[m["architecture"]] for m in config.members)
    return maps
