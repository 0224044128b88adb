"""The GANs of the BAM workflow (paper 004): a WGAN-GP for single-particle masks and a
CycleGAN between particle masks and micrographs.

- :func:`wgan_generator` / :func:`wgan_critic`: DCGAN-style networks for ``size x size``
  masks (upsampling + convolution in the generator, strided convolutions without batch
  normalisation in the critic, as the gradient penalty requires), output in [-1, 1].
- :func:`resnet_generator` / :func:`patchgan_discriminator`: the CycleGAN networks (Zhu et
  al. 2017): a ResNet generator (7x7 stem, two stride-2 downsamplings, residual blocks,
  two transposed-convolution upsamplings) with instance normalisation, and a 70x70 PatchGAN.
  Convolutions pad with zeros rather than by reflection (Keras has no reflection-padding
  layer, and a custom one would make the saved networks need code to load). Both are fully
  convolutional: any tile whose sides are multiples of 4 works.

Only Keras' built-in layers are used, so every network saves and loads without custom
objects.
"""

from .._tf import keras

__all__ = ["wgan_generator", "wgan_critic", "resnet_generator", "patchgan_discriminator"]


def _check_size(size, name="size"):
    if not (isinstance(size, int) and size >= 16 and size & (size - 1) == 0):
        raise ValueError(f"{name} must be a power of two >= 16, got {size!r}")
    return size


def _check_filters(filters):
    if not (isinstance(filters, int) and filters >= 1):
        raise ValueError(f"filters must be a positive integer, got {filters!r}")
    return filters


def wgan_generator(latent_dim=128, size=64, filters=32):
    """Latent vector -> ``(size, size, 1)`` mask in [-1, 1] (tanh).

    A dense layer to a 4x4 grid of ``filters * size / 8`` channels, then per doubling an
    upsampling, a 3x3 convolution, batch normalisation and LeakyReLU(0.2), the channels
    halving each time.
    """
    layers = keras.layers
    size, filters = _check_size(size), _check_filters(filters)
    if not (isinstance(latent_dim, int) and latent_dim >= 1):
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    steps = size.bit_length() - 3                          # 4 -> size
    width = filters * 2 ** (steps - 1)
    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(4 * 4 * width, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((4, 4, width))(x)
    for i in range(steps):
        x = layers.UpSampling2D()(x)
        x = layers.Conv2D(max(filters, width // 2 ** i), 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    out = layers.Conv2D(1, 3, padding="same", activation="tanh", name="mask")(x)
    return keras.Model(z, out, name="wgan_generator")


def wgan_critic(size=64, filters=32):
    """``(size, size, 1)`` mask -> unbounded score (the Wasserstein critic).

    Strided 4x4 convolutions with LeakyReLU(0.2) down to 4x4, no normalisation (the
    gradient penalty is computed per sample), then a dense score.
    """
    layers = keras.layers
    size, filters = _check_size(size), _check_filters(filters)
    x_in = keras.Input((size, size, 1), name="mask")
    x = x_in
    for i in range(size.bit_length() - 3):
        x = layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    out = layers.Dense(1, name="score")(x)
    return keras.Model(x_in, out, name="wgan_critic")


def _instance_norm():
    # GroupNormalization with one group per channel is instance normalisation
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)


def resnet_generator(channels=1, filters=32, n_blocks=6, name="generator"):
    """The CycleGAN ResNet generator, ``(rows, columns, channels)`` in and out, in [-1, 1].

    c7s1-f, d2f, d4f, ``n_blocks`` residual blocks of 4f, u2f, uf, c7s1-channels + tanh
    (the paper's notation; ``filters`` 64 and 9 blocks in Zhu et al., fewer here by default
    so that it trains on a laptop CPU).
    """
    layers = keras.layers
    filters = _check_filters(filters)
    if not (isinstance(n_blocks, int) and n_blocks >= 1):
        raise ValueError(f"n_blocks must be a positive integer, got {n_blocks!r}")
    x_in = keras.Input((None, None, channels), name="image")

    def conv(x, f, k, s=1):
        x = layers.Conv2D(f, k, strides=s, padding="same", use_bias=False)(x)
        return layers.ReLU()(_instance_norm()(x))

    x = conv(x_in, filters, 7)
    x = conv(x, 2 * filters, 3, 2)
    x = conv(x, 4 * filters, 3, 2)
    for _ in range(n_blocks):
        y = conv(x, 4 * filters, 3)
        y = _instance_norm()(layers.Conv2D(4 * filters, 3, padding="same", use_bias=False)(y))
        x = layers.Add()([x, y])
    for f in (2 * filters, filters):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(_instance_norm()(x))
    out = layers.Conv2D(channels, 7, padding="same", activation="tanh", name="output")(x)
    return keras.Model(x_in, out, name=name)


def patchgan_discriminator(channels=1, filters=32, n_layers=3, name="discriminator"):
    """The 70x70 PatchGAN: one real/fake score per overlapping patch (least-squares loss).

    C(f) without normalisation, then C(2f), C(4f) (stride 2) and C(8f) (stride 1) with
    instance normalisation and LeakyReLU(0.2), then a 1-channel 4x4 convolution.
    """
    layers = keras.layers
    filters = _check_filters(filters)
    if not (isinstance(n_layers, int) and n_layers >= 1):
        raise ValueError(f"n_layers must be a positive integer, got {n_layers!r}")
    x_in = keras.Input((None, None, channels), name="image")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 4, strides=2, padding="same")(x_in))
    for i in range(1, n_layers + 1):
        stride = 2 if i < n_layers else 1
        x = layers.Conv2D(filters * 2 ** min(i, 3), 4, strides=stride, padding="same",
                          use_bias=False)(x)
        x = layers.LeakyReLU(0.2)(_instance_norm()(x))
    out = layers.Conv2D(1, 4, padding="same", name="score")(x)
    return keras.Model(x_in, out, name=name)
