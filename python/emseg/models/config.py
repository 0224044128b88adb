"""Model configuration: one object per model, saved as JSON beside the weights.

Pure Python (no TensorFlow), so that the command line, the model listing and
the inference code can read it without importing Keras.
"""

import dataclasses
import json
from dataclasses import dataclass, field

# the chains' settings live in .chains; these names are part of this module's interface
from .chains import (CHAIN_DEFAULTS, CLASS_DEFAULTS, POSTPROCESS_DEFAULTS, SPHERE_KEYWORDS,
                     VESICLE_DEFAULTS, _check_number, check_class_options,
                     check_particle_options, check_vesicle_options, refine_keywords)

__all__ = ["ARCHITECTURES", "ENCODER_ARCHITECTURES", "VOLUME_ARCHITECTURES", "TASKS",
           "ModelConfig", "POSTPROCESS_DEFAULTS", "CLASS_DEFAULTS", "VESICLE_DEFAULTS",
           "SPHERE_KEYWORDS", "check_class_options", "check_particle_options",
           "check_vesicle_options", "refine_keywords", "report_columns", "is_volume_model",
           "MEMBER_KEYS"]

#: U-Nets whose encoder is a pretrained classification network (WAE-Net's base learners,
#: :mod:`emseg.models.networks.encoder_unet`); their encoders down-sample 5 times.
ENCODER_ARCHITECTURES = ("unet_resnet34", "unet_seresnet34", "unet_vgg19", "unet_inceptionv3",
                         "unet_efficientnetb4")

#: Architectures :func:`emseg.models.networks.build_model` knows ("ensemble": the weighted
#: average of ``members``, WAE-Net).
ARCHITECTURES = ("fru_net", "multires_unet", "unet", "unet3d") + ENCODER_ARCHITECTURES + (
    "ensemble",)

#: What an ensemble member may set for itself (all else it shares with the ensemble).
MEMBER_KEYS = ("architecture", "base_filters", "depth", "dropout", "weight")

#: Architectures that work on volumes (z, y, x); the others on images (y, x).
VOLUME_ARCHITECTURES = ("unet3d",)

#: What a model does: segment objects (one sigmoid per class, then instances), score given
#: instances (classifier filter), or give every pixel one of several classes ("semantic":
#: softmax over the classes, WAE-Net).
TASKS = ("segmentation", "classifier", "semantic")


def is_volume_model(meta):
    """Whether a ``model.yaml`` mapping describes a volume model (its input axes hold z)."""
    return "z" in str((meta.get("input") or {}).get("axes", "")).lower()


def report_columns(meta):
    """The measurements a 2D model's ``model.yaml`` names under ``report`` (what ``emseg
    segment`` and Fiji summarise and draw as histograms); none for volume models."""
    if not isinstance(meta, dict) or is_volume_model(meta):
        return []
    return [str(c) for c in (meta.get("report") or [])]


@dataclass
class ModelConfig:
    """Everything needed to rebuild, train and apply one network.

    Parameters
    ----------
    name : str
        Model name (also its folder name under ``models/``).
    architecture : str
        One of :data:`ARCHITECTURES`: "fru_net", "multires_unet", "unet", the
        pretrained-encoder U-Nets of :data:`ENCODER_ARCHITECTURES` (depth 5,
        ``base_filters`` unused), or "unet3d", which works on volumes (z, y, x).
    input_channels : int
        1 for segmentation; 2 for a classifier (image and instance encoding).
    classes : list of str
        Semantic: the classes, one softmax output each; pixel value ``i`` of a
        training mask or a segmented class image is ``classes[i]``.
        Otherwise one sigmoid output per class. Segmentation: ``"particle"`` (or any
        single class) is the foreground; ``"boundary"`` marks the pixels
        where touching objects meet, used to split them. Classifier: one
        keep class, or several classes combined by ``score_weights``.
    base_filters : int
        Feature maps at the first level (doubled at every level).
    depth : int
        Number of 2x2 (3D: 2x2x2) down-samplings.
    dropout : float
        Dropout rate of the residual / bottleneck layers.
    pixel_size : float
        Pixel size (nm) the network works at; images are rescaled to it
        (volumes: the isotropic voxel size).
    tile_size : int
        Input tile side for inference (multiple of ``2**depth``); also the
        training patch side unless ``patch_size`` is given.
    halo : int
        Overlap margin of inference tiles (the blending ramp is ``2 * halo``).
    normalization : dict
        ``{"mode": "image" | "patch", "low": percentile, "high": percentile}``,
        or ``{"mode": "standardize"}`` (mean 0, SD 1 per image or volume, as
        CryoVesNet does; training augmentation assumes [0, 1] intensities, so
        this suits imported networks more than new ones).
    threshold : float
        Segmentation: binarisation threshold of the foreground probability.
        Classifier: the minimum mean keep score of a kept instance. Tuned on
        validation data by training.
    postprocess : dict
        Post-processing settings: keys of :data:`POSTPROCESS_DEFAULTS` for the
        2D chains ("bam", "fru_net"), of :data:`VESICLE_DEFAULTS` for volumes
        (chain "vesicles", the default of volume architectures), of
        :data:`CLASS_DEFAULTS` for semantic models (chain "classes").
    description : str
    task : {"segmentation", "classifier", "semantic"}
    score_weights : list of float, optional
        Classifier: weight of every class in the keep score
        ``clip(sum_i w_i p_i, 0, 1)``; default 1 for the first class, 0 for
        the others.
    patch_size : int, optional
        Training patch side when it differs from ``tile_size`` (CryoVesNet
        trains on 32^3 patches and predicts 64^3 blocks).
    members : list of dict, optional
        Architecture "ensemble" (WAE-Net): the members, each ``{"architecture",
        "base_filters", "depth", "dropout", "weight"}``; everything else (classes, task,
        pixel size, tiles, normalisation, post-processing) they share with the
        ensemble, whose output is the weighted average of theirs (weights >= 0,
        summing to 1; ``depth`` is the deepest member's).
    report : list of str, optional
        2D segmentation: measurement columns whose distribution ``emseg segment``
        summarises and draws as a histogram per image (a vesicle model: the diameter
        ``ECD`` and the roundness ``Circ.``); default none.
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
    postprocess: dict = field(default_factory=dict)
    description: str = ""
    task: str = "segmentation"
    score_weights: list = None
    patch_size: int = None
    report: list = field(default_factory=list)
    members: list = None

    def __post_init__(self):
        self.validate()

    @property
    def ndim(self):
        """Spatial dimensions the network works on: 3 for volumes, 2 for images."""
        return 3 if self.architecture in VOLUME_ARCHITECTURES else 2

    @property
    def training_patch(self):
        """The training patch side: ``patch_size``, else ``tile_size``."""
        return self.tile_size if self.patch_size is None else self.patch_size

    def validate(self):
        """Raise ValueError naming the first invalid field."""
        self._validate_report()
        self._validate_members()
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in "/\\:"):
            raise ValueError(f"name must be a non-empty file-name-safe string, got {self.name!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, "
                             f"got {self.architecture!r}")
        _check_number(self.input_channels, "input_channels", integer=True, low=1)
        if self.architecture in ENCODER_ARCHITECTURES and (self.input_channels != 1
                                                           or self.depth != 5):
            raise ValueError(f"architecture {self.architecture} takes grey images "
                             f"(input_channels 1) and down-samples 5 times (depth 5), got "
                             f"input_channels {self.input_channels}, depth {self.depth}")
        if (not isinstance(self.classes, (list, tuple)) or not self.classes
                or not all(isinstance(c, str) and c for c in self.classes)
                or len(set(self.classes)) != len(self.classes)):
            raise ValueError(f"classes must be a list of distinct names, got {self.classes!r}")
        self.classes = list(self.classes)
        if self.classes[0] == "boundary":
            raise ValueError("classes: the first class is the foreground and cannot be 'boundary'")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.task == "semantic":
            if len(self.classes) < 2:
                raise ValueError(f"classes: a semantic model tells at least two classes apart "
                                 f"(one may be 'background'), got {self.classes!r}")
            if self.ndim != 2:
                raise ValueError(f"a semantic model works on images, not with "
                                 f"{self.architecture}")
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
        if self.patch_size is not None:
            _check_number(self.patch_size, "patch_size", integer=True, low=2 ** self.depth)
            if self.patch_size % 2 ** self.depth:
                raise ValueError(f"patch_size must be a multiple of 2**depth = {2 ** self.depth}, "
                                 f"got {self.patch_size}")
        _check_number(self.halo, "halo", integer=True, low=0)
        if 4 * self.halo >= self.tile_size:
            raise ValueError(f"halo must be less than tile_size / 4, got {self.halo}")
        norm = self.normalization
        if isinstance(norm, dict) and norm.get("mode") == "standardize" and set(norm) == {"mode"}:
            pass
        else:
            if not isinstance(norm, dict) or set(norm) != {"mode", "low", "high"}:
                raise ValueError("normalization must be a dict with keys mode, low, high (or "
                                 f"only mode 'standardize'), got {norm!r}")
            if norm["mode"] not in ("image", "patch"):
                raise ValueError(f"normalization mode must be 'image', 'patch' or "
                                 f"'standardize', got {norm['mode']!r}")
            _check_number(norm["low"], "normalization low", low=0, high=100)
            _check_number(norm["high"], "normalization high", low=0, high=100)
            if not norm["low"] < norm["high"]:
                raise ValueError(f"normalization: low must be below high, got {norm!r}")
        _check_number(self.threshold, "threshold", low=0, high=1)
        if not isinstance(self.postprocess, dict):
            raise ValueError(f"postprocess must be a dict, got {self.postprocess!r}")
        volume = self.ndim == 3
        semantic = self.task == "semantic"
        chain = self.postprocess.get("chain", "vesicles" if volume else
                                     "classes" if semantic else "bam")
        if chain not in CHAIN_DEFAULTS:
            raise ValueError(f"postprocess chain must be one of {', '.join(CHAIN_DEFAULTS)}, "
                             f"got {chain!r}")
        if self.task == "segmentation" and volume != (chain == "vesicles"):
            raise ValueError(f"postprocess chain {chain!r} does not apply to "
                             f"{'volumes' if volume else 'images'} (architecture "
                             f"{self.architecture})")
        if semantic != (chain == "classes"):
            raise ValueError(f"postprocess chain {chain!r} does not apply to a {self.task} model "
                             f"({'classes' if semantic else 'bam, fru_net or vesicles'} does)")
        # completed with the chain's defaults
        if chain == "classes":
            self.postprocess = check_class_options(self.postprocess, self.classes)
        elif chain == "vesicles":
            self.postprocess = check_vesicle_options(self.postprocess)
        else:
            self.postprocess = check_particle_options(self.postprocess)
        if not isinstance(self.description, str):
            raise ValueError("description must be a string")

    def _validate_report(self):
        if not isinstance(self.report, (list, tuple)) or not all(
                isinstance(c, str) for c in self.report):
            raise ValueError(f"report must be a list of measurement names, got {self.report!r}")
        self.report = list(self.report)
        if self.report:
            from ..measure.particles import NUMERIC_COLUMNS
            bad = [c for c in self.report if c not in NUMERIC_COLUMNS]
            if bad:
                raise ValueError(f"report: unknown measurement(s) {', '.join(bad)}")

    def _validate_members(self):
        if (self.architecture == "ensemble") != (self.members is not None):
            raise ValueError("members: an ensemble has members, and only an ensemble")
        if self.members is None:
            return
        if not isinstance(self.members, (list, tuple)) or not self.members:
            raise ValueError(f"members must be a non-empty list, got {self.members!r}")
        members = []
        for i, m in enumerate(self.members):
            if not isinstance(m, dict) or set(m) != set(MEMBER_KEYS):
                raise ValueError(f"members[{i}] must have the keys {', '.join(MEMBER_KEYS)}, "
                                 f"got {m!r}")
            if m["architecture"] in ("ensemble",) + VOLUME_ARCHITECTURES:
                raise ValueError(f"members[{i}]: architecture {m['architecture']!r} cannot be "
                                 f"an ensemble member")
            _check_number(m["weight"], f"members[{i}] weight", low=0, high=1)
            _check_number(m["depth"], f"members[{i}] depth", integer=True, low=1, high=6)
            if isinstance(self.depth, int) and m["depth"] > self.depth:
                raise ValueError(f"members[{i}] depth {m['depth']} exceeds the ensemble's "
                                 f"depth {self.depth} (its tiles must suit every member)")
            members.append({**m, "weight": float(m["weight"])})
        total = sum(m["weight"] for m in members)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"members: the weights must sum to 1, got {total:g}")
        self.members = members

    def member(self, i):
        """The config of ensemble member ``i`` (to build, train or load it alone)."""
        if self.members is None:
            raise ValueError(f"{self.name} is not an ensemble")
        m = self.members[i]
        return dataclasses.replace(self, name=f"{self.name}-member{i + 1}", members=None,
                                   **{k: v for k, v in m.items() if k != "weight"})

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
