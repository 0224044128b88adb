"""Weighted-average ensembles of segmentation networks (WAE-Net, paper 003).

Base learners are trained one by one (:func:`train_ensemble`, resumable per member), ranked
by their validation Jaccard index; the best ``top`` are combined with weights found by a grid
search over the simplex (:func:`search_weights`) and the ensemble is one Keras model whose
graph averages the members' outputs with those weights
(:func:`emseg.models.networks.build_model` of an ``ensemble`` config), so it exports as one
SavedModel that Fiji, the command line and tiling see as any model.
"""

import itertools
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import io
from .config import ModelConfig

__all__ = ["search_weights", "WeightSearch", "train_ensemble", "EnsembleResult",
           "ensemble_from_members"]


@dataclass
class WeightSearch:
    """Result of :func:`search_weights`.

    Attributes
    ----------
    weights : tuple of float
        The best weights (sum 1).
    score : float
        Their mean Jaccard index.
    equal : float
        The equal-weight average's mean Jaccard index.
    members : tuple of float
        Each member's own mean Jaccard index.
    beats_all : bool
        Whether the weighted ensemble beats every member and the equal-weight average.
    grid : list of (tuple, float)
        Every weight combination tried and its score.
    """

    weights: tuple
    score: float
    equal: float
    members: tuple
    beats_all: bool
    grid: list


def search_weights(probabilities, truth, *, step=0.1):
    """Grid-search the members' weights (0..1 in ``step``, summing to 1) for the best mean
    Jaccard index of the weighted average's arg-max (WAE-Net).

    Parameters
    ----------
    probabilities : sequence of (..., K) ndarray
        Each member's class probabilities on the same validation pixels.
    truth : (...) ndarray of int
        The true class indices.
    step : float, optional
        Grid spacing; 1 / step must be an integer.

    Returns
    -------
    WeightSearch
        Ties go to the more even weighting (the equal-weight average first).
    """
    probs = [np.asarray(p, np.float32) for p in probabilities]
    if not probs or any(p.shape != probs[0].shape for p in probs):
        raise ValueError("probabilities must be arrays of one shape, at least one")
    truth = np.asarray(truth)
    if truth.shape != probs[0].shape[:-1] or truth.dtype.kind not in "iu":
        raise ValueError(f"truth must be class indices of shape {probs[0].shape[:-1]}, got "
                         f"{truth.shape} {truth.dtype}")
    n = round(1 / step) if step > 0 else 0
    if not 0 < step <= 1 or abs(n * step - 1) > 1e-9:
        raise ValueError(f"step must divide 1 (0.1, 0.25, ...), got {step!r}")
    from ..metrics import mean_class_iou

    members = tuple(mean_class_iou(p, truth) for p in probs)
    m = len(probs)
    equal = mean_class_iou(sum(probs) / m, truth)
    combos = [c for c in itertools.product(range(n + 1), repeat=m) if sum(c) == n]
    # ties: the most even weighting wins (less fitted to the validation pixels)
    combos.sort(key=lambda c: np.var(c))
    grid = []
    for c in combos:
        w = tuple(v / n for v in c)
        score = members[w.index(1.0)] if 1.0 in w else mean_class_iou(
            sum(wi * p for wi, p in zip(w, probs) if wi), truth)
        grid.append((w, score))
    best_w, best = max(grid, key=lambda g: g[1])
    return WeightSearch(best_w, best, equal, members, best > max(members) and best > equal, grid)


@dataclass
class EnsembleResult:
    """What :func:`train_ensemble` produced.

    Attributes
    ----------
    config : ModelConfig
        The ensemble's config (members with their weights).
    model : keras.Model
    folder : Path
        ``member-<architecture>/`` training folders, the ensemble's ``best.keras``,
        ``config.json`` and ``ensemble.json`` (ranking, weight search).
    ranking : list of (str, float)
        Every base learner's architecture and validation mean Jaccard index, best first.
    search : WeightSearch
    """

    config: ModelConfig
    model: object
    folder: Path
    ranking: list
    search: WeightSearch


def ensemble_from_members(config, models):
    """One Keras model of ensemble ``config`` whose members carry the trained ``models``'
    weights (in ``config.members``' order)."""
    from .networks import build_model

    from ._tf import keras

    ensemble = build_model(config)
    inner = [layer for layer in ensemble.layers if isinstance(layer, keras.Model)]
    if len(inner) != len(models):
        raise ValueError(f"models: {len(models)} for {len(inner)} members")
    for layer, model in zip(inner, models):
        layer.set_weights(model.get_weights())
    return ensemble


def train_ensemble(pairs, config, folder, architectures, *, top=3, step=0.1,
                   validation_pairs=None, resume=True, **training):
    """Train WAE-Net: each base learner, then the weighted ensemble of the best ``top``.

    Parameters
    ----------
    pairs : sequence of (image, mask, pixel_size)
        Training data (a list: every member reads it).
    config : ModelConfig
        The shared settings (task, classes, pixel size, tiles, normalisation); its
        ``architecture`` is ignored.
    folder : path-like
    architectures : sequence of str
        The base learners (e.g. the five pretrained-encoder U-Nets).
    top : int, optional
        How many of the best members are combined (the paper: 3).
    step : float, optional
        Weight-grid spacing.
    validation_pairs : sequence, optional
        Validation data for every member, the ranking and the weight search; default
        10 % of the training patches (the same for every member: same seed).
    resume : bool, optional
        A member whose training finished is not trained again; an interrupted one resumes.
    **training
        Options of :func:`emseg.models.training.train_model` (epochs, loss, ...).

    Returns
    -------
    EnsembleResult
    """
    from ._tf import keras
    from .training import LAST, LOG, _finish_log, prepare_patches, train_model

    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    architectures = list(architectures)
    if len(set(architectures)) != len(architectures) or not architectures:
        raise ValueError(f"architectures must be distinct, at least one, got {architectures!r}")
    if not isinstance(top, int) or not 1 <= top <= len(architectures):
        raise ValueError(f"top must be in 1..{len(architectures)}, got {top!r}")
    pairs = list(pairs)
    folder = Path(folder)
    base = {k: v for k, v in config.to_dict().items() if k != "members"}
    ranking, models, configs = [], {}, {}
    validation = None     # the members' validation patches, all alike (same data, same seed)
    for arch in architectures:
        member_config = ModelConfig.from_dict({**base, "architecture": arch,
                                               "name": f"{config.name}-{arch}",
                                               **_member_shape(arch, config)})
        sub = folder / f"member-{arch}"
        log = json.loads(io.read_text(sub / LOG)) if (sub / LOG).exists() else {}
        if resume and "validation_iou" in log:
            # inference only: no optimizer or loss (EMSeg's losses need not be registered)
            model = keras.models.load_model(sub / "best.keras", compile=False)
            iou = float(log["validation_iou"])
        else:
            result = train_model(pairs, member_config, sub, validation_pairs=validation_pairs,
                                 resume=resume and (sub / LAST).exists(), **training)
            model, iou = result.model, result.threshold_iou
            validation = validation or result.validation
        ranking.append((arch, iou))
        models[arch], configs[arch] = model, member_config
    ranking.sort(key=lambda r: -r[1])
    chosen = [a for a, _ in ranking[:top]]
    if validation is not None:
        xv, yv = validation
    elif validation_pairs is not None:      # every member was trained in an earlier run
        xv, yv = prepare_patches(validation_pairs, config)
    else:
        from .training import _hold_out
        x, y = prepare_patches(pairs, config)
        _, (xv, yv) = _hold_out((x, y), training.get("validation_fraction", 0.1),
                                training.get("seed", 0))
    batch = training.get("batch_size", 8)
    probs = [models[a].predict(xv, batch_size=batch, verbose=0) for a in chosen]
    search = search_weights(probs, yv.argmax(-1), step=step)
    members = [{"architecture": a, "base_filters": configs[a].base_filters,
                "depth": configs[a].depth, "dropout": configs[a].dropout, "weight": w}
               for a, w in zip(chosen, search.weights) if w > 0]
    kept = [a for a, w in zip(chosen, search.weights) if w > 0]
    ensemble_config = replace(config, architecture="ensemble", members=members,
                              depth=max(m["depth"] for m in members))
    model = ensemble_from_members(ensemble_config, [models[a] for a in kept])
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "best.keras")
    _finish_log(folder, ensemble_config, validation_iou=search.score)
    io.write_text(folder / "ensemble.json", json.dumps({
        "ranking": ranking, "chosen": chosen, "weights": list(search.weights),
        "validation_iou": search.score, "equal_weights_iou": search.equal,
        "members_iou": list(search.members), "beats_members_and_equal": search.beats_all,
        "grid": [[list(w), s] for w, s in search.grid]}, indent=1))
    return EnsembleResult(ensemble_config, model, folder, ranking, search)


def _member_shape(architecture, config):
    """A base learner's depth: the encoder U-Nets' is fixed (5), others take ``config``'s."""
    from .config import ENCODER_ARCHITECTURES

    return {"depth": 5 if architecture in ENCODER_ARCHITECTURES else config.depth}

