"""Training losses (Keras 3 ops, backend-agnostic)."""

import numbers

from ._tf import keras

ops = keras.ops

__all__ = ["LOSSES", "make_loss", "dice", "mean_iou"]

LOSSES = ("bce", "focal_dice")


@keras.saving.register_keras_serializable(package="emseg")
class WeightedBCE(keras.losses.Loss):
    """Binary cross-entropy with a weight for background and foreground pixels
    (FRU-Net, BAM: counter the imbalance between few particle pixels and many
    background pixels)."""

    def __init__(self, background_weight=1.0, foreground_weight=1.0, name="weighted_bce", **kw):
        super().__init__(name=name, **kw)
        self.background_weight = float(background_weight)
        self.foreground_weight = float(foreground_weight)

    def call(self, y_true, y_pred):
        p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
        w = self.background_weight + (self.foreground_weight - self.background_weight) * y_true
        return ops.mean(-w * (y_true * ops.log(p) + (1 - y_true) * ops.log(1 - p)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "background_weight": self.background_weight,
                "foreground_weight": self.foreground_weight}


@keras.saving.register_keras_serializable(package="emseg")
class FocalDice(keras.losses.Loss):
    """Focal loss (gamma 2, alpha 0.25) plus soft Dice loss (WAE-Net)."""

    def __init__(self, gamma=2.0, alpha=0.25, name="focal_dice", **kw):
        super().__init__(name=name, **kw)
        self.gamma, self.alpha = float(gamma), float(alpha)

    def call(self, y_true, y_pred):
        p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
        pt = y_true * p + (1 - y_true) * (1 - p)
        at = y_true * self.alpha + (1 - y_true) * (1 - self.alpha)
        focal = ops.mean(-at * (1 - pt) ** self.gamma * ops.log(pt), axis=(1, 2, 3))
        inter = ops.sum(y_true * p, axis=(1, 2))
        total = ops.sum(y_true + p, axis=(1, 2))
        dice = 1 - ops.mean((2 * inter + 1) / (total + 1), axis=-1)
        # broadcast the per-sample value over the pixels Keras expects
        return ops.expand_dims(ops.expand_dims(focal + dice, -1), -1) * ops.ones_like(y_true[..., 0])

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="emseg")
class CategoricalFocalDice(keras.losses.Loss):
    """A semantic model's loss (WAE-Net, as segmentation_models' ``CategoricalFocalLoss() +
    DiceLoss(class_weights)``): categorical focal loss (gamma 2, alpha 0.25) over the
    softmax, plus one minus the class-weighted mean soft Dice of the classes the batch holds
    (a rare class weighs as its weight says, not by its pixels)."""

    def __init__(self, class_weights=None, gamma=2.0, alpha=0.25, name="categorical_focal_dice",
                 **kw):
        super().__init__(name=name, **kw)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.gamma, self.alpha = float(gamma), float(alpha)

    def call(self, y_true, y_pred):
        p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
        focal = ops.sum(-self.alpha * y_true * (1 - p) ** self.gamma * ops.log(p), axis=-1)
        # Dice over the batch's pixels, of the classes the batch holds: a class absent from
        # a patch has no overlap to find (its false positives are the focal term's)
        inter = ops.sum(y_true * p, axis=(0, 1, 2))
        support = ops.sum(y_true, axis=(0, 1, 2))
        score = (2 * inter + 1) / (support + ops.sum(p, axis=(0, 1, 2)) + 1)
        w = ops.cast(support > 0, score.dtype)
        if self.class_weights is not None:
            w = w * ops.convert_to_tensor(self.class_weights, dtype=score.dtype)
        dice_loss = 1 - ops.sum(score * w) / ops.maximum(ops.sum(w), 1e-7)
        return focal + dice_loss

    def get_config(self):
        return {**super().get_config(), "class_weights": self.class_weights,
                "gamma": self.gamma, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="emseg")
def mean_iou(y_true, y_pred):
    """Mean Jaccard index over the classes of a semantic model's arg-max (the WAE-Net paper's
    score), classes absent from both truth and prediction of a batch left out."""
    k = ops.shape(y_pred)[-1]
    t = ops.one_hot(ops.argmax(y_true, axis=-1), k)
    p = ops.one_hot(ops.argmax(y_pred, axis=-1), k)
    inter = ops.sum(t * p, axis=(0, 1, 2))
    union = ops.sum(ops.maximum(t, p), axis=(0, 1, 2))
    present = ops.cast(union > 0, "float32")
    return ops.sum(present * inter / ops.maximum(union, 1.0)) / ops.maximum(ops.sum(present), 1.0)


@keras.saving.register_keras_serializable(package="emseg")
def dice(y_true, y_pred):
    """Dice coefficient of the first class's mask at 0.5 (tracked per epoch, as CryoVesNet does)."""
    t = ops.cast(y_true[..., :1] > 0.5, "float32")
    p = ops.cast(y_pred[..., :1] > 0.5, "float32")
    return (2 * ops.sum(t * p) + 1e-6) / (ops.sum(t) + ops.sum(p) + 1e-6)


def make_loss(name, class_weights=None, *, semantic=False):
    """The loss called ``name`` (``"bce"`` or ``"focal_dice"``).

    ``class_weights`` = (background, foreground) weights for ``"bce"``. A semantic model
    (``semantic=True``, softmax over K classes) trains with ``"focal_dice"``, its categorical
    form, and ``class_weights`` are K weights of its Dice term.
    """
    if semantic:
        if name != "focal_dice":
            raise ValueError(f"loss: a semantic model trains with focal_dice, got {name!r}")
        if class_weights is not None:
            w = list(class_weights)
            if not w or not all(isinstance(v, numbers.Real) and v >= 0 for v in w) or \
                    not sum(w) > 0:
                raise ValueError(f"class_weights must be non-negative numbers, one per class, "
                                 f"not all zero, got {class_weights!r}")
        return CategoricalFocalDice(class_weights)
    if name == "bce":
        bg, fg = (1.0, 1.0) if class_weights is None else class_weights
        if not (bg > 0 and fg > 0):
            raise ValueError(f"class_weights must be two positive numbers, got {class_weights!r}")
        return WeightedBCE(bg, fg)
    if name == "focal_dice":
        if class_weights is not None:
            raise ValueError("class_weights apply to the 'bce' loss only")
        return FocalDice()
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {name!r}")
