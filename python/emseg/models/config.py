"""Model configuration: one object per model, saved as JSON beside the weights.

Pure Python (no TensorFlow), so that the command line, the model listing and
the inference code can read it without importing Keras.
"""

import dataclasses
import json
import math
import numbers
from dataclasses import dataclass, field

__all__ = ["ARCHITECTURES", "TASKS", "ModelConfig", "POSTPROCESS_DEFAULTS"]

#: Architectures :func:`emseg.models.networks.build_model` knows.
ARCHITECTURES = ("fru_net", "multires_unet", "unet")

#: What a model does: segment images, or score given instances (classifier filter).
TASKS = ("segmentation", "classifier")

#: Post-processing settings and their defaults (see :func:`emseg.segment.postprocess.postprocess`).
POSTPROCESS_DEFAULTS = {
    "chain": "bam",               # "bam" (threshold + distance watershed) or "fru_net"
    "min_area_nm2": math.pi * 15 ** 2,
    "neck_nm": 7.5,               # bam: minimum neck depth between touching particles
    "boundary_threshold": 0.5,    # bam: where a "boundary" class is predicted
    "remove_border": None,        # None: the chain's own rule (fru_net removes, bam keeps)
    "closing_radius": 2,          # fru_net, pixels at the model's pixel size
    "radon_depth": 0.25,          # fru_net: relative depth of a sinogram dip that splits
    "smooth_sigma": 3.0,          # fru_net, pixels at the image's pixel size
    "smooth_threshold": 0.4,
}


def _check_number(value, name, *, integer=False, low=None, high=None, low_open=False):
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(value, kind) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return value


@dataclass
class ModelConfig:
    """Everything needed to rebuild, train and apply one network.

    Parameters
    ----------
    name : str
        Model name (also its folder name under ``models/``).
    architecture : {"fru_net", "multires_unet", "unet"}
    input_channels : int
        1 for segmentation; 2 for a classifier (image and instance encoding).
    classes : list of str
        One sigmoid output per class. Segmentation: ``"particle"`` (or any
        single class) is the foreground; ``"boundary"`` marks the pixels
        where touching objects meet, used to split them. Classifier: one
        keep class, or several classes combined by ``score_weights``.
    base_filters : int
        Feature maps at the first level (doubled at every level).
    depth : int
        Number of 2x2 down-samplings.
    dropout : float
        Dropout rate of the residual / bottleneck layers.
    pixel_size : float
        Pixel size (nm) the network works at; images are rescaled to it.
    tile_size : int
        Input patch size for training and inference (multiple of ``2**depth``).
    halo : int
        Overlap margin of inference tiles (the blending ramp is ``2 * halo``).
    normalization : dict
        ``{"mode": "image" | "patch", "low": percentile, "high": percentile}``.
    threshold : float
        Segmentation: binarisation threshold of the foreground probability.
        Classifier: the minimum mean keep score of a kept instance. Tuned on
        validation data by training.
    postprocess : dict
        Post-processing settings, keys of :data:`POSTPROCESS_DEFAULTS`
        (segmentation only).
    description : str
    task : {"segmentation", "classifier"}
    score_weights : list of float, optional
        Classifier: weight of every class in the keep score
        ``clip(sum_i w_i p_i, 0, 1)``; default 1 for the first class, 0 for
        the others.
    """

    name: str = "model"
    architecture: str = "fru_net"
    input_channels: int = 1
    classes: list = field(default_factory=lambda: ["particle"])
    base_filters: int = 32
    depth: int = 3
    dropout: float = 0.1
    pixel_size: float = 1.56
    tile_size: int = 400
    halo: int = 32
    normalization: dict = field(default_factory=lambda: {"mode": "image", "low": 1.0, "high": 99.8})
    threshold: float = 0.5
    postprocess: dict = field(default_factory=lambda: dict(POSTPROCESS_DEFAULTS))
    description: str = ""
    task: str = "segmentation"
    score_weights: list = None

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise ValueError naming the first invalid field."""
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in "/\\:"):
            raise ValueError(f"name must be a non-empty file-name-safe string, got {self.name!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, "
                             f"got {self.architecture!r}")
        _check_number(self.input_channels, "input_channels", integer=True, low=1)
        if (not isinstance(self.classes, (list, tuple)) or not self.classes
                or not all(isinstance(c, str) and c for c in self.classes)
                or len(set(self.classes)) != len(self.classes)):
            raise ValueError(f"classes must be a list of distinct names, got {self.classes!r}")
        self.classes = list(self.classes)
        if self.classes[0] == "boundary":
            raise ValueError("classes: the first class is the foreground and cannot be 'boundary'")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.task == "classifier":
            if self.input_channels != 2:
                raise ValueError("input_channels must be 2 for a classifier (image, instances), "
                                 f"got {self.input_channels!r}")
            if "boundary" in self.classes:
                raise ValueError("classes: a classifier has no 'boundary' class")
            if self.score_weights is None:
                self.score_weights = [1.0] + [0.0] * (len(self.classes) - 1)
            if (not isinstance(self.score_weights, (list, tuple))
                    or len(self.score_weights) != len(self.classes)):
                raise ValueError(f"score_weights must be one number per class "
                                 f"({len(self.classes)}), got {self.score_weights!r}")
            self.score_weights = [float(_check_number(w, "score_weights", low=-1, high=1))
                                  for w in self.score_weights]
            if not any(w > 0 for w in self.score_weights):
                raise ValueError(f"score_weights: at least one weight must be positive, "
                                 f"got {self.score_weights!r}")
        elif self.score_weights is not None:
            raise ValueError("score_weights apply to classifiers only")
        _check_number(self.base_filters, "base_filters", integer=True, low=1)
        _check_number(self.depth, "depth", integer=True, low=1, high=6)
        _check_number(self.dropout, "dropout", low=0, high=0.9)
        _check_number(self.pixel_size, "pixel_size", low=0, low_open=True)
        _check_number(self.tile_size, "tile_size", integer=True, low=2 ** self.depth)
        if self.tile_size % 2 ** self.depth:
            raise ValueError(f"tile_size must be a multiple of 2**depth = {2 ** self.depth}, "
                             f"got {self.tile_size}")
        _check_number(self.halo, "halo", integer=True, low=0)
        if 4 * self.halo >= self.tile_size:
            raise ValueError(f"halo must be less than tile_size / 4, got {self.halo}")
        norm = self.normalization
        if not isinstance(norm, dict) or set(norm) != {"mode", "low", "high"}:
            raise ValueError("normalization must be a dict with keys mode, low, high, "
                             f"got {norm!r}")
        if norm["mode"] not in ("image", "patch"):
            raise ValueError(f"normalization mode must be 'image' or 'patch', got {norm['mode']!r}")
        _check_number(norm["low"], "normalization low", low=0, high=100)
        _check_number(norm["high"], "normalization high", low=0, high=100)
        if not norm["low"] < norm["high"]:
            raise ValueError(f"normalization: low must be below high, got {norm!r}")
        _check_number(self.threshold, "threshold", low=0, high=1)
        if not isinstance(self.postprocess, dict):
            raise ValueError(f"postprocess must be a dict, got {self.postprocess!r}")
        unknown = set(self.postprocess) - set(POSTPROCESS_DEFAULTS)
        if unknown:
            raise ValueError(f"postprocess: unknown key(s) {', '.join(sorted(unknown))}")
        self.postprocess = {**POSTPROCESS_DEFAULTS, **self.postprocess}
        if self.postprocess["chain"] not in ("bam", "fru_net"):
            raise ValueError(f"postprocess chain must be 'bam' or 'fru_net', "
                             f"got {self.postprocess['chain']!r}")
        if not isinstance(self.description, str):
            raise ValueError("description must be a string")

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Build from a dict; unknown keys are an error (a typo must not be ignored)."""
        if not isinstance(data, dict):
            raise ValueError(f"model config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"model config: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"model config is not valid JSON: {exc}") from None
        return cls.from_dict(data)
