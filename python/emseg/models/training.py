"""Training segmentation and classifier networks (Keras 3 on TensorFlow).

:func:`train_model` turns (image, mask, pixel size) pairs into patches at the
model's pixel size, keeps 10 % of the real patches aside for validation
before augmentation, trains with Adam, learning-rate decay on plateau and
early stopping, writes best and last checkpoints, a JSON log and a training
curve PNG after every epoch (so an interrupted run can be resumed and
inspected), and finally tunes the binarisation threshold on the validation
patches. :func:`fit_patches` is the Keras loop shared with the classifier
training (:mod:`emseg.models.classifier_training`).
"""

import json
import math
import numbers
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import io
from ..segment.scaling import normalize, rescale, rescale_factor, standardize
from .data import augment, extract_patches, split_validation, targets
from .config import ModelConfig

__all__ = ["TrainingResult", "prepare_patches", "train_model", "fit_patches",
           "balanced_class_weights"]

BEST, LAST, LOG, CURVE, CONFIG = "best.keras", "last.keras", "log.json", "training_curve.png", "config.json"


@dataclass
class TrainingResult:
    """What :func:`train_model` produced.

    Attributes
    ----------
    config : ModelConfig
        The configuration with the tuned threshold.
    model : keras.Model
        The best model (lowest validation loss).
    folder : Path
        Checkpoints, ``log.json``, ``training_curve.png``, ``config.json``.
    history : list of dict
        One entry per epoch: loss, val_loss, learning_rate, seconds and, for
        segmentation, val_dice (Dice of the validation masks at 0.5).
    threshold_iou : float
        Validation foreground IoU at the tuned threshold (a semantic model: the mean Jaccard
        index over its classes).
    validation : tuple of ndarray or None
        The validation patches and targets it was scored on (an ensemble's weight search
        reuses them).
    """

    config: ModelConfig
    model: object
    folder: Path
    history: list
    threshold_iou: float
    validation: tuple = None


def prepare_patches(pairs, config, *, overlap=None, min_foreground=None):
    """Cut (image, mask, pixel size) pairs into normalised patches and targets.

    Parameters
    ----------
    pairs : iterable of (image, mask, pixel_size)
        Images (volumes for a 3D architecture) and masks (binary, instance
        labels or multi-class, see :func:`emseg.models.data.targets`) of the
        same shape, pixel size in nm (volumes: one number or ``(z, y, x)``).
        Any iterable works, a generator included.
    config : ModelConfig
    overlap : int, optional
        Patch overlap in pixels (default a quarter patch; volumes: half a
        patch, since few patches hold enough vesicle voxels).
    min_foreground : float, optional
        Keep only patches whose foreground covers at least this fraction of
        the patch. Default 0 for images; for volumes 0.03, CryoVesNet's
        "more than 1000 vesicle voxels" in a 32^3 patch.

    Returns
    -------
    x : (K, T, T, 1) or (K, T, T, T, 1) float32
    y : (K, T, T, len(classes)) or (K, T, T, T, len(classes)) float32
    """
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    nd = config.ndim
    size = config.training_patch
    overlap = (size // 2 if nd == 3 else size // 4) if overlap is None else int(overlap)
    if min_foreground is None:
        min_foreground = 0.03 if nd == 3 else 0.0
    if not (isinstance(min_foreground, numbers.Real) and 0 <= min_foreground < 1):
        raise ValueError(f"min_foreground must be a fraction in [0, 1), got {min_foreground!r}")
    norm = config.normalization
    what = "volume" if nd == 3 else "2D"
    xs, ys = [], []
    for i, item in enumerate(pairs):
        try:
            image, mask, pixel_size = item
        except (TypeError, ValueError):
            raise ValueError(f"pairs[{i}] must be (image, mask, pixel_size)") from None
        image, mask = np.asarray(image), np.asarray(mask)
        if image.ndim != nd or image.shape != mask.shape:
            raise ValueError(f"pairs[{i}]: image {image.shape} and mask {mask.shape} must be "
                             f"{what} and of the same shape ({config.architecture} works on "
                             f"{'volumes' if nd == 3 else 'images'})")
        factor = rescale_factor(pixel_size, config.pixel_size)
        image = rescale(image.astype(np.float32), factor, order=1)
        mask = rescale(mask, factor, order=0)
        if norm["mode"] == "image":
            image = normalize(image, norm["low"], norm["high"])
        elif norm["mode"] == "standardize":
            image = standardize(image)
        px = extract_patches(image, size, overlap, ndim=nd)
        py = extract_patches(targets(mask, config.classes, semantic=config.task == "semantic"),
                             size, overlap, ndim=nd)
        if min_foreground > 0:
            enough = py[..., 0].reshape(len(py), -1).mean(1) >= min_foreground
            px, py = px[enough], py[enough]
        if norm["mode"] == "patch" and len(px):
            px = np.stack([normalize(p, norm["low"], norm["high"]) for p in px])
        xs.append(px[..., None])
        ys.append(py)
    if not xs:
        raise ValueError("pairs is empty: no training images")
    if not sum(len(x) for x in xs):
        raise ValueError(f"no training patch holds {min_foreground:.0%} foreground: "
                         "the masks are (nearly) empty")
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32)


def _dataset(x, y, batch_size, seed, augment_options, shuffle, start_epoch=0):
    from ._tf import keras

    class Patches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            # a resumed run continues the same sequence of shuffles and augmentations
            self.epoch = start_epoch
            self.order = np.arange(len(x))
            self.on_epoch_end()

        def __len__(self):
            return math.ceil(len(x) / batch_size)

        def on_epoch_end(self):
            if shuffle:
                self.order = np.random.default_rng([seed, self.epoch]).permutation(len(x))
            self.epoch += 1

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            if augment_options is None:
                return x[idx], y[idx]
            rng = np.random.default_rng([seed, self.epoch, i])
            pairs = [augment(x[j], y[j], rng, **augment_options) for j in idx]
            return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    return Patches()


def _check_positive_int(value, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def train_model(pairs, config, folder, *, epochs=100, batch_size=8, learning_rate=1e-4,
                loss="bce", class_weights=None, validation_fraction=0.1, patience=10,
                seed=0, resume=False, augment_options=None, verbose=1, overlap=None,
                validation_pairs=None, min_foreground=None, encoder_weights=None, lr_decay=None):
    """Train the network that ``config`` describes on image/mask pairs.

    Parameters
    ----------
    pairs : iterable of (image, mask, pixel_size)
        Training data (see :func:`prepare_patches`); a generator works.
    config : ModelConfig
    folder : path-like
        Output folder for checkpoints, log and curve (created).
    epochs : int, optional
    batch_size : int, optional
    learning_rate : float, optional
        Adam's initial learning rate (default 1e-4), halved when the
        validation loss stalls for ``max(2, patience // 3)`` epochs.
    loss : {"bce", "focal_dice"}, optional
    class_weights : (float, float), optional
        Background and foreground weights of the "bce" loss.
    validation_fraction : float, optional
        Fraction of real patches kept aside (before augmentation).
    patience : int, optional
        Early stopping after this many epochs without a better validation loss.
    seed : int, optional
        Seeds weights, the split, shuffling and augmentation.
    resume : bool, optional
        Continue from ``folder``'s last checkpoint and log.
    augment_options : dict, optional
        Keyword arguments of :func:`emseg.models.data.augment`; ``False`` turns
        augmentation off.
    verbose : int, optional
        Keras progress display (0 silent, 1 progress bar, 2 one line per epoch).
    overlap : int, optional
        Patch overlap (default a quarter patch).
    validation_pairs : iterable, optional
        Separate validation data instead of a fraction of ``pairs``.
    min_foreground : float, optional
        Minimum foreground fraction of a training patch (see
        :func:`prepare_patches`; volumes default to CryoVesNet's rule).
    encoder_weights : None, "imagenet" or path, optional
        Initial encoder weights of a pretrained-encoder U-Net (see
        :func:`emseg.models.networks.encoders.encoder`).
    lr_decay : (float, int), optional
        Learning-rate factor and the epochs without a better validation loss
        before it applies (WAE-Net: (0.25, 10)); default (0.5, max(2, patience // 3)).

    A semantic model (``config.task == "semantic"``, masks of class indices) trains
    with the categorical focal + Dice loss; ``class_weights`` (one per class)
    weigh its Dice term and default to the training patches' median-frequency
    balance (:func:`balanced_class_weights`). Its ``threshold_iou`` is the
    validation mean Jaccard index of the arg-max over the classes.

    Returns
    -------
    TrainingResult
    """
    from ..metrics import optimal_threshold

    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    if config.task not in ("segmentation", "semantic"):
        raise ValueError("config: train_model trains segmentation and semantic models; use "
                         "train_classifier")
    semantic = config.task == "semantic"
    _check_options(folder, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                   loss=loss, class_weights=class_weights, patience=patience, resume=resume,
                   config=config, lr_decay=lr_decay)
    folder = Path(folder)
    x, y = prepare_patches(pairs, config, overlap=overlap, min_foreground=min_foreground)
    if validation_pairs is not None:
        xv, yv = prepare_patches(validation_pairs, config, overlap=overlap,
                                 min_foreground=min_foreground)
    else:
        (x, y), (xv, yv) = _hold_out((x, y), validation_fraction, seed)
    if semantic and class_weights is None:
        class_weights = balanced_class_weights(y)
    model, history = fit_patches(x, y, xv, yv, config, folder, epochs=epochs, batch_size=batch_size,
                                 learning_rate=learning_rate, loss=loss,
                                 class_weights=class_weights, patience=patience, seed=seed,
                                 resume=resume, augment_options=augment_options, verbose=verbose,
                                 encoder_weights=encoder_weights, lr_decay=lr_decay)
    prob = model.predict(xv, batch_size=batch_size, verbose=0)
    if semantic:
        from ..metrics import mean_class_iou
        iou = mean_class_iou(prob, yv.argmax(-1))
        _finish_log(folder, config, validation_iou=iou)
        return TrainingResult(config, model, folder, history, iou, (xv, yv))
    threshold, iou = optimal_threshold(prob[..., 0], yv[..., 0] > 0.5)
    config = replace(config, threshold=round(float(threshold), 3))
    _finish_log(folder, config, threshold=config.threshold, validation_iou=float(iou))
    return TrainingResult(config, model, folder, history, float(iou), (xv, yv))


def _hold_out(arrays, fraction, seed):
    """Split parallel patch arrays into (training, validation) tuples, ``fraction`` kept aside."""
    train_idx, val_idx = split_validation(len(arrays[0]), fraction, seed=seed)
    if len(val_idx) == 0:
        raise ValueError("validation_fraction leaves no validation patch; give more data")
    return tuple(a[train_idx] for a in arrays), tuple(a[val_idx] for a in arrays)


def balanced_class_weights(y, *, low=0.05, high=20.0):
    """Median-frequency class weights of one-hot targets ``y`` (..., K): each class's weight
    is the median class frequency over its own (Eigen & Fergus 2015), so rare classes
    (synapses) count as much as common ones (cytoplasm); clipped to [low, high], a class
    absent from the training patches gets ``high``."""
    freq = np.asarray(y, np.float64).reshape(-1, np.shape(y)[-1]).mean(0)
    present = freq[freq > 0]
    if not present.size:
        raise ValueError("y holds no class at all")
    w = np.where(freq > 0, np.median(present) / np.maximum(freq, 1e-12), high)
    return [round(float(v), 4) for v in np.clip(w, low, high)]


def _check_options(folder, *, epochs, batch_size, learning_rate, loss, class_weights, patience,
                   resume, config=None, lr_decay=None):
    """Check the training options before any data is prepared; return the
    checked epochs, batch size, patience, the loss object and the learning-rate decay
    ``(factor, epochs)``."""
    from .losses import make_loss

    semantic = config is not None and config.task == "semantic"
    if semantic and class_weights is not None and len(class_weights) != len(config.classes):
        raise ValueError(f"class_weights must be one weight per class ({len(config.classes)}), "
                         f"got {class_weights!r}")

    epochs = _check_positive_int(epochs, "epochs")
    batch_size = _check_positive_int(batch_size, "batch_size")
    patience = _check_positive_int(patience, "patience")
    if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate < 1):
        raise ValueError(f"learning_rate must be in (0, 1), got {learning_rate!r}")
    loss_fn = make_loss(loss, class_weights, semantic=semantic)
    if resume and not (Path(folder) / LAST).exists():
        raise ValueError(f"resume: no checkpoint {Path(folder) / LAST} to resume from")
    decay = (0.5, max(2, patience // 3)) if lr_decay is None else lr_decay
    try:
        factor, lr_patience = decay
        ok = 0 < factor < 1 and isinstance(lr_patience, numbers.Integral) and lr_patience >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"lr_decay must be (factor in (0, 1), epochs >= 1), got {lr_decay!r}")
    return epochs, batch_size, patience, loss_fn, (factor, lr_patience)


def _finish_log(folder, config, **results):
    """Write the final config.json and add the tuned results to log.json."""
    folder = Path(folder)
    io.write_text(folder / CONFIG, config.to_json())
    log = json.loads(io.read_text(folder / LOG)) if (folder / LOG).exists() else {"epochs": []}
    log.update(results)
    io.write_text(folder / LOG, json.dumps(log, indent=1))


def fit_patches(x, y, xv, yv, config, folder, *, epochs=100, batch_size=8, learning_rate=1e-4,
                loss="bce", class_weights=None, patience=10, seed=0, resume=False,
                augment_options=None, verbose=1, encoder_weights=None, lr_decay=None):
    """Train (or resume) the network of ``config`` on prepared patches.

    Writes best and last checkpoints, ``log.json`` and the training curve in
    ``folder`` after every epoch; see :func:`train_model` for the options.

    Returns
    -------
    (keras.Model, list of dict)
        The best model (lowest validation loss) and the per-epoch history.
    """
    from ._tf import keras

    from .networks import build_model

    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    epochs, batch_size, patience, loss_fn, (factor, lr_patience) = _check_options(
        folder, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, loss=loss,
        class_weights=class_weights, patience=patience, resume=resume, config=config,
        lr_decay=lr_decay)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / LOG

    keras.utils.set_random_seed(seed)
    history, initial_epoch, best = [], 0, None
    if resume:
        model = keras.models.load_model(folder / LAST)
        log = json.loads(io.read_text(log_path)) if log_path.exists() else {"epochs": []}
        # the threshold is tuned at the end, so it may differ; nothing else may
        if "config" in log and ModelConfig.from_dict({**log["config"], "threshold": config.threshold}) != config:
            raise ValueError(f"resume: config differs from the one of the run in {folder}")
        history = log["epochs"]
        initial_epoch = len(history)
        val = [h["val_loss"] for h in history]
        best = min(val) if val else None
    else:
        from .losses import dice, mean_iou

        model = build_model(config, encoder_weights=encoder_weights)
        metrics = {"segmentation": [dice], "semantic": [mean_iou]}.get(config.task)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss_fn,
                      metrics=metrics)
    aug = {} if augment_options is None else augment_options
    train_data = _dataset(x, y, batch_size, seed, None if aug is False else aug, shuffle=True,
                          start_epoch=initial_epoch)
    val_data = _dataset(xv, yv, batch_size, seed, None, shuffle=False)
    meta = {"config": config.to_dict(), "loss": loss,
            "class_weights": None if class_weights is None else list(class_weights),
            "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
            "train_patches": int(len(x)), "validation_patches": int(len(xv))}

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            entry = {"epoch": epoch + 1, "loss": float(logs["loss"]),
                     "val_loss": float(logs["val_loss"]), "learning_rate": lr,
                     "seconds": round(time.perf_counter() - self.t0, 3)}
            for key in ("val_dice", "val_mean_iou"):
                if key in logs:
                    entry[key] = float(logs[key])
            history.append(entry)
            io.write_text(log_path, json.dumps({**meta, "epochs": history}, indent=1))
            from ..plot import training_curve
            io.write_png(folder / CURVE, training_curve(history))

    callbacks = [
        keras.callbacks.ModelCheckpoint(folder / BEST, monitor="val_loss", save_best_only=True,
                                        initial_value_threshold=best),
        keras.callbacks.ModelCheckpoint(folder / LAST),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=factor,
                                          patience=lr_patience, min_lr=1e-6),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience),
        Log(),
    ]
    if initial_epoch < epochs:
        model.fit(train_data, validation_data=val_data, epochs=epochs, initial_epoch=initial_epoch,
                  callbacks=callbacks, verbose=verbose)
    if (folder / BEST).exists():
        model = keras.models.load_model(folder / BEST)
    return model, history



