"""Training losses (Keras 3 ops, backend-agnostic)."""

from ._tf import keras

ops = keras.ops

__all__ = ["LOSSES", "make_loss", "dice"]

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
def dice(y_true, y_pred):
    """Dice coefficient of the first class's mask at 0.5 (tracked per epoch, as CryoVesNet does)."""
    t = ops.cast(y_true[..., :1] > 0.5, "float32")
    p = ops.cast(y_pred[..., :1] > 0.5, "float32")
    return (2 * ops.sum(t * p) + 1e-6) / (ops.sum(t) + ops.sum(p) + 1e-6)


def make_loss(name, class_weights=None):
    """The loss called ``name`` (``"bce"`` or ``"focal_dice"``).

    ``class_weights`` = (background, foreground) weights for ``"bce"``.
    """
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
