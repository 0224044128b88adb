"""Settings of the post-processing chains, saved with each model: the 2D particle chains
("bam", "fru_net"), the vesicle chain of tomograms ("vesicles") and the class chain of
semantic models ("classes"); their defaults and checks.

Pure Python (no TensorFlow), like :mod:`emseg.models.config`.
"""

import math
import numbers

__all__ = ["POSTPROCESS_DEFAULTS", "VESICLE_DEFAULTS", "CLASS_DEFAULTS", "check_particle_options",
           "check_vesicle_options", "check_class_options", "refine_keywords", "SPHERE_KEYWORDS",
           "CHAIN_DEFAULTS"]

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

CHAIN_DEFAULTS = {"bam": POSTPROCESS_DEFAULTS, "fru_net": POSTPROCESS_DEFAULTS,
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
