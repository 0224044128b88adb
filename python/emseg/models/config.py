"""Model configuration: one object per model, saved as JSON beside the weights.

Pure Python (no TensorFlow), so that the command line, the model listing and
the inference code can read it without importing Keras.
"""

import dataclasses
import json
import math
import numbers
from dataclasses import dataclass, field

__all__ = ["ARCHITECTURES", "ENCODER_ARCHITECTURES", "VOLUME_ARCHITECTURES", "TASKS",
           "ModelConfig", "POSTPROCESS_DEFAULTS", "CLASS_DEFAULTS",
           "VESICLE_DEFAULTS"]

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

#: Post-processing of vesicles in tomograms (chain "vesicles", see
#: :func:`emseg.segment.vesicles.segment_vesicles`): the global threshold rule and
#: the adaptive local thresholds, tuned per model and saved with it.
VESICLE_DEFAULTS = {
    "chain": "vesicles",
    "threshold_rule": "shell",    # "shell": darkest mask boundary (CryoVesNet); "fixed": threshold
    "shell_low": 0.5,             # shell search range (probabilities, even on the logit)
    "shell_high": 1 - 1e-6,
    "shell_steps": 60,
    "erosion": 1,                 # shell thickness, voxels at the model's voxel size
    "min_voxels": 27,             # smaller segments are dropped (model voxels)
    "z_split": 1.0,               # adaptive split: volume z-score above ...
    "max_extent": 0.25,           # ... and extent below (a ball: pi / 6)
    "max_cluster": 20.0,          # ... and volume at most this many median segments
    "z_grow": -1.0,               # adaptive growth: volume z-score below ...
    "min_extent": 0.35,           # ... while the grown segment's extent stays above
    "adaptive_steps": 24,
    "grow": True,                 # grow the found vesicles to the model's voxel threshold
    "grow_nm": 6.0,               # ... by at most this much
    "min_diameter_nm": 24.0,      # final filter (CryoVesNet): no smaller than a ball of r = 12 nm
    "keep_min_extent": 0.25,      # ... and ball-like: extent within [keep_min, keep_max]
    "keep_max_extent": 0.75,
    # sphere refinement (emseg.segment.spheres, CryoVesNet's radial profile and outliers)
    "refine": True,               # turn the segments into refined spheres
    "refine_iterations": 10,      # most centre moves (CryoVesNet's)
    "refine_margin_nm": 8.0,      # the correlation box's edge is 2 (r + margin)
    "refine_tolerance": 0.05,     # voxels: converged when the centre moves less
    "refine_edge": "steepest",    # radius at the profile's steepest rise, or CryoVesNet's
                                  # "second_derivative" minimum
    "refine_offset_nm": 0.0,      # ... plus this: where the model's training labels put the
                                  # membrane's outer edge relative to that rule (measured on
                                  # its validation data, emseg.measure.label_edge_offsets)
    "refine_p": 0.3,              # outliers (paper) are refined again with growing boxes ...
    "refine_growth": 10,          # ... at most this many times, 2 voxels larger each
    "remove_p": 0.0,              # removed when still this unlikely after that (0: never;
                                  # segments without a membrane always are)
}

#: Post-processing of a semantic model's class image (chain "classes"): which classes are
#: objects measured one by one (mitochondria, nuclei) rather than tissue (membrane, cytoplasm).
CLASS_DEFAULTS = {
    "chain": "classes",
    "instance_classes": [],       # class names whose connected regions are measured
    "min_area_nm2": 0.0,          # ... when at least this large
}

_CHAIN_DEFAULTS = {"bam": POSTPROCESS_DEFAULTS, "fru_net": POSTPROCESS_DEFAULTS,
                   "vesicles": VESICLE_DEFAULTS, "classes": CLASS_DEFAULTS}


def _check_number(value, name, *, integer=False, low=None, high=None, low_open=False):
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(value, kind) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return value


def is_volume_model(meta):
    """Whether a ``model.yaml`` mapping describes a volume model (its input axes hold z)."""
    return "z" in str((meta.get("input") or {}).get("axes", "")).lower()


def _with_defaults(options, defaults):
    """``options`` completed with ``defaults``; a key ``defaults`` lacks is an error."""
    unknown = set(options) - set(defaults)
    if unknown:
        raise ValueError(f"postprocess: unknown key(s) {', '.join(sorted(unknown))}")
    return {**defaults, **options}


def check_particle_options(options):
    """Raise ValueError naming the first invalid setting of the 2D chains ("bam", "fru_net");
    return the settings completed with their defaults."""
    o = _with_defaults(options, POSTPROCESS_DEFAULTS)
    for key in ("min_area_nm2", "smooth_sigma"):
        _check_number(o[key], f"postprocess {key}", low=0)
    _check_number(o["neck_nm"], "postprocess neck_nm", low=0, low_open=True)
    _check_number(o["closing_radius"], "postprocess closing_radius", integer=True, low=0)
    for key in ("boundary_threshold", "radon_depth", "smooth_threshold"):
        _check_number(o[key], f"postprocess {key}", low=0, high=1)
    if o["remove_border"] is not None and not isinstance(o["remove_border"], bool):
        raise ValueError(f"postprocess remove_border must be true, false or null, got "
                         f"{o['remove_border']!r}")
    return o


def check_class_options(options, classes):
    """Raise ValueError naming the first invalid setting of the "classes" chain (a semantic
    model with ``classes``); return the settings completed with their defaults."""
    o = _with_defaults(options, CLASS_DEFAULTS)
    names = o["instance_classes"]
    if not isinstance(names, (list, tuple)) or not all(isinstance(c, str) for c in names):
        raise ValueError(f"postprocess instance_classes must be a list of class names, "
                         f"got {names!r}")
    unknown = [c for c in names if c not in classes]
    if unknown:
        raise ValueError(f"postprocess instance_classes: {', '.join(unknown)} not among the "
                         f"classes ({', '.join(classes)})")
    _check_number(o["min_area_nm2"], "postprocess min_area_nm2", low=0)
    return {**o, "instance_classes": list(names)}


def check_vesicle_options(options):
    """Raise ValueError naming the first invalid setting of the "vesicles" chain; return the
    settings completed with their defaults."""
    o = _with_defaults(options, VESICLE_DEFAULTS)
    if o["threshold_rule"] not in ("shell", "fixed"):
        raise ValueError(f"postprocess threshold_rule must be 'shell' or 'fixed', "
                         f"got {o['threshold_rule']!r}")
    _check_number(o["shell_low"], "postprocess shell_low", low=0, low_open=True, high=1)
    _check_number(o["shell_high"], "postprocess shell_high", low=0, high=1)
    if not o["shell_low"] < o["shell_high"] < 1:
        raise ValueError(f"postprocess: need shell_low < shell_high < 1, got "
                         f"{o['shell_low']}, {o['shell_high']}")
    for key in ("shell_steps", "adaptive_steps"):
        _check_number(o[key], f"postprocess {key}", integer=True, low=2)
    for key in ("erosion", "min_voxels"):
        _check_number(o[key], f"postprocess {key}", integer=True, low=1)
    _check_number(o["max_cluster"], "postprocess max_cluster", low=1)
    for key in ("z_split", "z_grow"):
        _check_number(o[key], f"postprocess {key}")
    for key in ("max_extent", "min_extent", "keep_min_extent", "keep_max_extent"):
        _check_number(o[key], f"postprocess {key}", low=0, high=1)
    if not o["keep_min_extent"] < o["keep_max_extent"]:
        raise ValueError("postprocess: keep_min_extent must be below keep_max_extent")
    _check_number(o["min_diameter_nm"], "postprocess min_diameter_nm", low=0)
    if not isinstance(o["grow"], bool):
        raise ValueError(f"postprocess grow must be true or false, got {o['grow']!r}")
    _check_number(o["grow_nm"], "postprocess grow_nm", low=0, low_open=True)
    if not isinstance(o["refine"], bool):
        raise ValueError(f"postprocess refine must be true or false, got {o['refine']!r}")
    for key in ("refine_iterations", "refine_growth"):
        _check_number(o[key], f"postprocess {key}", integer=True, low=0)
    for key in ("refine_margin_nm", "refine_tolerance"):
        _check_number(o[key], f"postprocess {key}", low=0, low_open=True)
    if o["refine_edge"] not in ("steepest", "second_derivative"):
        raise ValueError(f"postprocess refine_edge must be 'steepest' or 'second_derivative', "
                         f"got {o['refine_edge']!r}")
    # a labelling convention is a fraction of a membrane, never more than a membrane
    _check_number(o["refine_offset_nm"], "postprocess refine_offset_nm", low=-5, high=5)
    for key in ("refine_p", "remove_p"):
        _check_number(o[key], f"postprocess {key}", low=0, high=1)
    if o["remove_p"] > o["refine_p"]:
        raise ValueError("postprocess: remove_p must not exceed refine_p (only outliers are "
                         "removed)")
    return o


def report_columns(meta):
    """The measurements a 2D model's ``model.yaml`` names under ``report`` (what ``emseg
    segment`` and Fiji summarise and draw as histograms); none for volume models."""
    if not isinstance(meta, dict) or is_volume_model(meta):
        return []
    return [str(c) for c in (meta.get("report") or [])]


def refine_keywords(options):
    """The sphere-refinement settings of checked "vesicles" ``options`` (from
    :func:`check_vesicle_options`) as keywords of :func:`emseg.segment.refine_spheres`; the
    first five are those of :func:`emseg.segment.refine_sphere`."""
    return {"iterations": options["refine_iterations"], "margin_nm": options["refine_margin_nm"],
            "tolerance": options["refine_tolerance"], "edge": options["refine_edge"],
            "edge_offset_nm": float(options["refine_offset_nm"]),
            "refine_p": options["refine_p"], "growth": options["refine_growth"],
            "remove_p": options["remove_p"]}


#: Keywords of :func:`refine_keywords` that :func:`emseg.segment.refine_sphere` takes.
SPHERE_KEYWORDS = ("iterations", "margin_nm", "tolerance", "edge", "edge_offset_nm")


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
        if chain not in _CHAIN_DEFAULTS:
            raise ValueError(f"postprocess chain must be one of {', '.join(_CHAIN_DEFAULTS)}, "
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
