"""Training the BAM workflow's GANs: the WGAN-GP of particle shapes and the CycleGAN between
particle masks and micrographs.

Both loops are resumable and reproducible: every random number of epoch ``e`` (shuffling,
latent vectors, penalty interpolation, image pools) comes from ``numpy`` seeded with
``(seed, e)``, and a checkpoint holds the networks, their optimisers and the pools, so an
interrupted run resumed from its checkpoint ends with the weights an uninterrupted run has.
Checkpoints are TensorFlow checkpoints and Keras ``.weights.h5`` files (values only: loading
them runs no code), written through a temporary folder that replaces the last one.
"""

import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from .. import io

__all__ = ["ShapeGanConfig", "CycleGanConfig", "train_shape_gan", "train_cyclegan",
           "load_generator", "generate_shapes", "translate"]

CHECKPOINT = "checkpoint"
STATE = "state.json"


class _Config:
    """A GAN's settings, saved as ``config.json`` beside its weights (unknown keys rejected)."""

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise TypeError(f"{cls.__name__}: expected a mapping, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {unknown}")
        return cls(**d)

    def to_dict(self):
        return asdict(self)


def _positive_int(value, name):
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class ShapeGanConfig(_Config):
    """The WGAN-GP of single-particle masks.

    ``scale`` is the crop's pixels per image pixel (all outlines share it, so sizes keep
    their ratios); ``pixel_size_nm`` is the images' pixel size.
    """

    size: int = 64
    latent_dim: int = 128
    filters: int = 32
    scale: float = 1.0
    pixel_size_nm: float = 1.0

    def __post_init__(self):
        from .networks.gan import _check_size
        _check_size(self.size)
        _positive_int(self.latent_dim, "latent_dim")
        _positive_int(self.filters, "filters")
        for name in ("scale", "pixel_size_nm"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")


@dataclass(frozen=True)
class CycleGanConfig(_Config):
    """The CycleGAN between particle masks (domain A) and micrographs (domain B)."""

    tile_size: int = 256
    filters: int = 32
    n_blocks: int = 6
    disc_filters: int = 32
    pixel_size_nm: float = 1.0
    dark_background: bool = True

    def __post_init__(self):
        t = _positive_int(self.tile_size, "tile_size")
        if t % 4 or t < 32:
            raise ValueError(f"tile_size must be a multiple of 4 and >= 32, got {t}")
        for name in ("filters", "n_blocks", "disc_filters"):
            _positive_int(getattr(self, name), name)
        if not (isinstance(self.pixel_size_nm, (int, float)) and self.pixel_size_nm > 0):
            raise ValueError(f"pixel_size_nm must be a positive number, got {self.pixel_size_nm!r}")


def _networks(config):
    from .networks.gan import (patchgan_discriminator, resnet_generator, wgan_critic,
                               wgan_generator)
    if isinstance(config, ShapeGanConfig):
        return {"generator": wgan_generator(config.latent_dim, config.size, config.filters),
                "critic": wgan_critic(config.size, config.filters)}
    if isinstance(config, CycleGanConfig):
        return {"g_ab": resnet_generator(1, config.filters, config.n_blocks, name="g_ab"),
                "g_ba": resnet_generator(1, config.filters, config.n_blocks, name="g_ba"),
                "d_a": patchgan_discriminator(1, config.disc_filters, name="d_a"),
                "d_b": patchgan_discriminator(1, config.disc_filters, name="d_b")}
    raise TypeError(f"config must be a ShapeGanConfig or CycleGanConfig, got {type(config).__name__}")


class _Run:
    """Networks, optimisers, history and extra arrays of one GAN run in ``folder``:
    created new, or restored from the folder's checkpoint with ``resume``."""

    def __init__(self, config, folder, optimizers, *, seed, resume, options):
        from ._tf import keras, tf

        self.tf, self.folder = tf, Path(folder)
        self.config, self.options = config, dict(options)
        keras.utils.set_random_seed(seed)
        self.nets = _networks(config)
        # optimiser name -> ((learning rate, beta_1, beta_2), the networks it updates)
        self.opts = {name: keras.optimizers.Adam(lr, beta_1=b1, beta_2=b2)
                     for name, ((lr, b1, b2), _) in optimizers.items()}
        self.opt_nets = {name: nets for name, (_, nets) in optimizers.items()}
        self.history, self.extra = [], {}
        if resume:
            self._restore()

    def _trackables(self):
        for name, opt in self.opts.items():
            if not opt.built:
                opt.build(self._variables(name))
        return self.tf.train.Checkpoint(**self.nets, **{f"opt_{k}": v for k, v in self.opts.items()})

    def _variables(self, opt_name):
        return [v for net in self.opt_nets[opt_name] for v in self.nets[net].trainable_variables]

    def _restore(self):
        state_path = self.folder / CHECKPOINT / STATE
        if not state_path.exists():
            raise ValueError(f"resume: no checkpoint in {self.folder / CHECKPOINT}")
        state = json.loads(io.read_text(state_path))
        if state["config"] != self.config.to_dict() or state["options"] != _jsonable(self.options):
            raise ValueError(f"resume: the settings differ from those of the run in {self.folder}")
        self._trackables().read(str(self.folder / CHECKPOINT / "ckpt")).assert_consumed()
        self.history = state["history"]
        extra = self.folder / CHECKPOINT / "extra.npz"
        if extra.exists():
            with np.load(extra) as f:
                self.extra = {k: f[k] for k in f.files}

    @property
    def epoch(self):
        return len(self.history)

    def save(self, entry, *, export):
        """Append ``entry`` to the history and replace the checkpoint; export the networks
        named in ``export`` as ``<name>.weights.h5`` beside ``config.json``."""
        self.history.append(entry)
        self.folder.mkdir(parents=True, exist_ok=True)
        with io.atomic_folder(self.folder / CHECKPOINT) as tmp:
            self._trackables().write(str(Path(tmp) / "ckpt"))
            if self.extra:
                np.savez(Path(tmp) / "extra.npz", **self.extra)
            io.write_text(Path(tmp) / STATE, json.dumps(
                {"config": self.config.to_dict(), "options": _jsonable(self.options),
                 "history": self.history}, indent=1))
        io.write_text(self.folder / "config.json", json.dumps(self.config.to_dict(), indent=1))
        for name in export:
            # Keras insists on the ".weights.h5" ending, so the temporary has it too
            final, tmp = self.folder / f"{name}.weights.h5", self.folder / f".{name}.tmp.weights.h5"
            self.nets[name].save_weights(str(tmp))
            os.replace(tmp, final)
        _write_losses(self.folder / "losses.csv", self.history)


def _jsonable(d):
    return json.loads(json.dumps(d))


def _write_losses(path, history):
    import pandas as pd
    io.write_table(path, pd.DataFrame(history))


def _check_training(epochs, batch_size, resume, folder):
    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    if resume and not (Path(folder) / CHECKPOINT / STATE).exists():
        raise ValueError(f"resume: no checkpoint in {Path(folder) / CHECKPOINT} to resume from")
    return epochs, batch_size


def train_shape_gan(crops, config, folder, *, epochs=1000, batch_size=64, learning_rate=2e-4,
                    betas=(0.5, 0.9), gp_weight=10.0, n_critic=5, seed=0, resume=False,
                    progress=None):
    """Train the WGAN-GP on single-particle masks (the paper's settings by default).

    Parameters
    ----------
    crops : (N, size, size) ndarray
        Binary particle masks, centred (see :func:`emseg.synthetic.shape_crops`); flipped
        copies are added (x4).
    config : ShapeGanConfig
    folder : path-like
        Checkpoint, ``generator.weights.h5``, ``config.json`` and ``losses.csv`` (created).
    epochs, batch_size : int
    learning_rate : float
    betas : (float, float)
        Adam's beta_1, beta_2.
    gp_weight : float
        Gradient-penalty weight.
    n_critic : int
        Critic updates per generator update.
    seed : int
    resume : bool
        Continue the run in ``folder`` up to ``epochs``.
    progress : callable, optional
        ``progress(epoch, epochs, entry)`` after each epoch.

    Returns
    -------
    (keras.Model, list of dict)
        The generator and the per-epoch losses (``critic``, ``generator``, ``gradient_penalty``,
        ``wasserstein``: critic(real) - critic(fake)).
    """
    if not isinstance(config, ShapeGanConfig):
        raise TypeError(f"config must be a ShapeGanConfig, got {type(config).__name__}")
    epochs, batch_size = _check_training(epochs, batch_size, resume, folder)
    n_critic = _positive_int(n_critic, "n_critic")
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[1:] != (config.size, config.size) or not len(crops):
        raise ValueError(f"crops must be (N, {config.size}, {config.size}) masks, got shape "
                         f"{crops.shape}")
    real = np.concatenate([crops, crops[:, ::-1], crops[:, :, ::-1], crops[:, ::-1, ::-1]])
    real = (np.where(real > 0, 1.0, -1.0)[..., None]).astype(np.float32)
    options = {"batch_size": batch_size, "learning_rate": learning_rate, "betas": list(betas),
               "gp_weight": gp_weight, "n_critic": n_critic, "seed": seed}
    run = _Run(config, folder, {"g": ((learning_rate, *betas), ["generator"]),
                                "c": ((learning_rate, *betas), ["critic"])},
               seed=seed, resume=resume, options=options)
    tf = run.tf
    gen, critic = run.nets["generator"], run.nets["critic"]
    g_vars, c_vars = gen.trainable_variables, critic.trainable_variables

    @tf.function
    def critic_step(x, z, eps):
        with tf.GradientTape() as tape:
            fake = gen(z, training=True)
            mixed = eps * x + (1 - eps) * fake
            with tf.GradientTape() as inner:
                inner.watch(mixed)
                score = critic(mixed, training=True)
            grad = inner.gradient(score, mixed)
            norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
            gp = tf.reduce_mean(tf.square(norm - 1.0))
            w = tf.reduce_mean(critic(x, training=True)) - tf.reduce_mean(critic(fake, training=True))
            loss = -w + gp_weight * gp
        run.opts["c"].apply_gradients(zip(tape.gradient(loss, c_vars), c_vars))
        return loss, gp, w

    @tf.function
    def generator_step(z):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(critic(gen(z, training=True), training=True))
        run.opts["g"].apply_gradients(zip(tape.gradient(loss, g_vars), g_vars))
        return loss

    # grappler's remapper fails (and says so on stderr) on the penalty's second-order
    # gradient of a fused convolution; it only fuses ops, so it is off while the WGAN trains
    remapping = tf.config.optimizer.get_experimental_options().get("remapping", True)
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        _wgan_epochs(run, real, config, epochs, batch_size, n_critic, seed, critic_step,
                     generator_step, progress)
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": remapping})
    return gen, run.history


def _wgan_epochs(run, real, config, epochs, batch_size, n_critic, seed, critic_step,
                 generator_step, progress):
    for epoch in range(run.epoch, epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(real))
        sums = np.zeros(4)
        batches = range(0, len(order), batch_size)
        for b in batches:
            x = real[order[b:b + batch_size]]
            for _ in range(n_critic):
                z = rng.standard_normal((len(x), config.latent_dim)).astype(np.float32)
                eps = rng.uniform(size=(len(x), 1, 1, 1)).astype(np.float32)
                c_loss, gp, w = critic_step(x, z, eps)
            z = rng.standard_normal((len(x), config.latent_dim)).astype(np.float32)
            g_loss = generator_step(z)
            sums += [float(c_loss), float(g_loss), float(gp), float(w)]
        sums /= len(batches)
        sums = [float(v) for v in sums]
        entry = {"epoch": epoch + 1, "critic": sums[0], "generator": sums[1],
                 "gradient_penalty": sums[2], "wasserstein": sums[3],
                 "seconds": round(time.perf_counter() - t0, 3)}
        run.save(entry, export=["generator"])
        if progress is not None:
            progress(epoch + 1, epochs, entry)


def _pool(pool, images, rng, size):
    """The CycleGAN image pool (Shrivastava et al.): until it is full every new image is kept
    and used; then half the time a random stored image is used instead and replaced."""
    out = []
    for im in images:
        if len(pool) < size:
            pool.append(im)
            out.append(im)
        elif rng.uniform() < 0.5:
            k = int(rng.integers(len(pool)))
            out.append(pool[k])
            pool[k] = im
        else:
            out.append(im)
    return np.stack(out)


def train_cyclegan(masks, images, config, folder, *, epochs=20, steps_per_epoch=None,
                   batch_size=1, learning_rate=2e-4, beta_1=0.5, cycle_weight=10.0,
                   identity_weight=0.5, pool_size=50, seed=0, resume=False, progress=None):
    """Train the CycleGAN between particle masks (A) and micrograph tiles (B).

    Least-squares GAN losses, cycle-consistency weight ``cycle_weight``, identity loss
    ``identity_weight x cycle_weight``, image pools of ``pool_size`` for the discriminators,
    Adam with a constant learning rate for the first half of the epochs and a linear decay to
    0 over the second half (Zhu et al.'s 100 + 100 epochs, scaled).

    Parameters
    ----------
    masks : (Na, T, T) ndarray
        Assembled particle masks (non-zero = particle), T = ``config.tile_size``.
    images : (Nb, T, T) ndarray of float
        Micrograph tiles scaled to [0, 1].
    config : CycleGanConfig
    folder : path-like
    epochs : int
    steps_per_epoch : int, optional
        Default ``max(Na, Nb) / batch_size``; each step draws a random mask and tile.
    seed, resume, progress
        As :func:`train_shape_gan`.

    Returns
    -------
    (keras.Model, list of dict)
        The mask -> image generator and the per-epoch losses.
    """
    if not isinstance(config, CycleGanConfig):
        raise TypeError(f"config must be a CycleGanConfig, got {type(config).__name__}")
    epochs, batch_size = _check_training(epochs, batch_size, resume, folder)
    t = config.tile_size
    a = np.asarray(masks)
    b = np.asarray(images, np.float32)
    for arr, name in ((a, "masks"), (b, "images")):
        if arr.ndim != 3 or arr.shape[1:] != (t, t) or not len(arr):
            raise ValueError(f"{name} must be (N, {t}, {t}), got shape {arr.shape}")
    if b.min() < 0 or b.max() > 1:
        raise ValueError("images must be scaled to [0, 1]")
    a = np.where(a > 0, 1.0, -1.0).astype(np.float32)[..., None]
    b = (2 * b - 1)[..., None]
    steps = _positive_int(steps_per_epoch or max(1, max(len(a), len(b)) // batch_size),
                          "steps_per_epoch")
    options = {"steps_per_epoch": steps, "batch_size": batch_size, "learning_rate": learning_rate,
               "beta_1": beta_1, "cycle_weight": cycle_weight, "identity_weight": identity_weight,
               "pool_size": pool_size, "seed": seed, "epochs": epochs}
    run = _Run(config, folder, {"g": ((learning_rate, beta_1, 0.999), ["g_ab", "g_ba"]),
                                "d": ((learning_rate, beta_1, 0.999), ["d_a", "d_b"])},
               seed=seed, resume=resume, options=options)
    tf = run.tf
    g_ab, g_ba, d_a, d_b = (run.nets[k] for k in ("g_ab", "g_ba", "d_a", "d_b"))
    g_vars = g_ab.trainable_variables + g_ba.trainable_variables
    d_vars = d_a.trainable_variables + d_b.trainable_variables
    lam, idw = float(cycle_weight), float(identity_weight) * float(cycle_weight)

    def mse(x, target):
        return tf.reduce_mean(tf.square(x - target))

    @tf.function
    def generator_step(xa, xb):
        with tf.GradientTape() as tape:
            fb, fa = g_ab(xa, training=True), g_ba(xb, training=True)
            adv = mse(d_b(fb, training=True), 1.0) + mse(d_a(fa, training=True), 1.0)
            cyc = tf.reduce_mean(tf.abs(g_ba(fb, training=True) - xa)) + \
                tf.reduce_mean(tf.abs(g_ab(fa, training=True) - xb))
            ident = tf.reduce_mean(tf.abs(g_ab(xb, training=True) - xb)) + \
                tf.reduce_mean(tf.abs(g_ba(xa, training=True) - xa))
            loss = adv + lam * cyc + idw * ident
        run.opts["g"].apply_gradients(zip(tape.gradient(loss, g_vars), g_vars))
        return fa, fb, adv, cyc, ident

    @tf.function
    def discriminator_step(xa, xb, fa, fb):
        with tf.GradientTape() as tape:
            loss = 0.5 * (mse(d_a(xa, training=True), 1.0) + mse(d_a(fa, training=True), 0.0)) + \
                0.5 * (mse(d_b(xb, training=True), 1.0) + mse(d_b(fb, training=True), 0.0))
        run.opts["d"].apply_gradients(zip(tape.gradient(loss, d_vars), d_vars))
        return loss

    pools = {k: list(run.extra.get(k, np.zeros((0, t, t, 1), np.float32))) for k in ("pool_a", "pool_b")}
    half = epochs // 2
    for epoch in range(run.epoch, epochs):
        t0 = time.perf_counter()
        # constant, then linear decay to 0 over the second half
        lr = learning_rate * (1.0 if epoch < half else 1.0 - (epoch - half) / max(1, epochs - half))
        for opt in run.opts.values():
            opt.learning_rate.assign(lr)
        rng = np.random.default_rng([seed, epoch])
        sums = np.zeros(4)
        for _ in range(steps):
            xa = a[rng.integers(len(a), size=batch_size)]
            xb = b[rng.integers(len(b), size=batch_size)]
            fa, fb, adv, cyc, ident = generator_step(xa, xb)
            fa = _pool(pools["pool_a"], np.asarray(fa), rng, pool_size)
            fb = _pool(pools["pool_b"], np.asarray(fb), rng, pool_size)
            d_loss = discriminator_step(xa, xb, fa, fb)
            sums += [float(adv), float(cyc), float(ident), float(d_loss)]
        sums /= steps
        run.extra = {k: np.asarray(v, np.float32).reshape((-1, t, t, 1)) for k, v in pools.items()}
        sums = [float(v) for v in sums]
        entry = {"epoch": epoch + 1, "generator_adversarial": sums[0], "cycle": sums[1],
                 "identity": sums[2], "discriminator": sums[3], "learning_rate": lr,
                 "seconds": round(time.perf_counter() - t0, 3)}
        run.save(entry, export=["g_ab", "g_ba"])
        if progress is not None:
            progress(epoch + 1, epochs, entry)
    return g_ab, run.history


def load_generator(folder, kind):
    """The trained generator of a GAN folder: ``kind`` "shapes" (the WGAN's) or "images" (the
    CycleGAN's mask -> image generator), with its config.

    Only weights are read (``.weights.h5``: values, no code); the network is rebuilt from
    ``config.json``.
    """
    folder = Path(folder)
    cls, name = {"shapes": (ShapeGanConfig, "generator"), "images": (CycleGanConfig, "g_ab")}[kind]
    try:
        config = cls.from_dict(json.loads(io.read_text(folder / "config.json")))
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{folder}: no trained {kind} GAN here ({exc})") from None
    net = _networks(config)[name]
    weights = folder / f"{name}.weights.h5"
    if not weights.exists():
        raise ValueError(f"{folder}: no {weights.name}; train this step first")
    net.load_weights(str(weights))
    return net, config


def generate_shapes(generator, config, n, *, seed=0, batch_size=64):
    """``n`` particle masks from the shape generator: (n, size, size) bool."""
    n = _positive_int(n, "n")
    rng = np.random.default_rng(seed)
    out = []
    for b in range(0, n, batch_size):
        z = rng.standard_normal((min(batch_size, n - b), config.latent_dim)).astype(np.float32)
        out.append(np.asarray(generator(z, training=False))[..., 0] > 0)
    return np.concatenate(out)


def translate(generator, masks):
    """Fake micrographs from particle masks with the CycleGAN generator: (N, T, T) float in
    [0, 1]."""
    a = np.where(np.asarray(masks) > 0, 1.0, -1.0).astype(np.float32)
    if a.ndim == 2:
        a = a[None]
    out = [np.asarray(generator(a[k:k + 1, ..., None], training=False))[0, ..., 0]
           for k in range(len(a))]
    return np.clip((np.stack(out) + 1) / 2, 0, 1)
