"""Reproduce EMSeg's bundled cryo-ET vesicle model from synthetic tomograms only.

    python python/scripts/train_cryoet_model.py --work build/cryoet-model
    python python/scripts/train_cryoet_model.py --work build/cryoet-model --export models
    python python/scripts/train_cryoet_model.py --calibrate models/emseg-vesicles-cryoet

The first call generates the synthetic synapse tomograms (emseg.synthetic.cryoet,
seeded; voxel sizes 1.5-3 nm, brought to the network's 2.2 nm like any input) and
trains the CARE-style 3D U-Net; it resumes when run again on the same --work folder.
The second exports the best checkpoint (lowest validation loss on separate synthetic
tomograms) to models/emseg-vesicles-cryoet, after choosing the global threshold rule on
those validation tomograms: CryoVesNet's darkest shell (on the logit grid) or the fixed
threshold tuned on the validation patches, whichever detects vesicles better there (mean
F1, then Dice); both rules' scores are written into model.yaml. The export (or --calibrate
alone, on an exported model) then measures where the training labels put each vesicle's
outer membrane edge relative to the sphere refinement's edge rule on the validation
tomograms (emseg.measure.label_edge_offsets) and saves the median as the model's
refine_offset_nm, so that the refined spheres keep the convention the network learned.

Recipe (CPU, 2 cores, about an hour): 40 training tomograms of about 140x280x280 nm,
32^3 patches that hold at least 3 % vesicle voxels (CryoVesNet's "more than 1000"),
abutting, so about 1300 patches; batch 8, Adam 1e-3 halved on plateaus, binary
cross-entropy, at most 16 epochs (early stopping after 4 without a better validation
loss). Every generator parameter is drawn per tomogram over a wide range (SNR, defocus,
tilt range, vesicle sizes and density, membrane thickness, voxel size), so the network
learns vesicles, not one rendering of them. The benchmark's tomograms use other seeds.
(Training on to 24 epochs lowered the validation loss from 0.061 to 0.058 but detected
worse on the validation tomograms, mean F1 0.949 instead of 0.988 with the shell rule (more
false positives at its higher shell threshold); so 16 it is.)
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from emseg.models import DEFAULT_VOLUME_MODEL, ModelConfig
from emseg.synthetic.cryoet import synapse_tomogram

N_TRAIN, N_VALIDATION, SEED = 40, 6, 1515
EXTENT_NM = (140.0, 280.0, 280.0)

CONFIG = ModelConfig(
    name=DEFAULT_VOLUME_MODEL, architecture="unet3d", classes=["vesicle"], base_filters=16,
    depth=2, dropout=0.0, pixel_size=2.2, tile_size=64, halo=8, patch_size=32,
    normalization={"mode": "image", "low": 1.0, "high": 99.0},
    description=("Synaptic vesicles in cryo-electron tomograms (dark bilayer membranes), "
                 "CARE-style 3D U-Net as CryoVesNet's, trained on EMSeg's synthetic synapse "
                 "tomograms only."))

#: Inference blocks: the network is fully convolutional, and 96^3 blocks (halo 8) waste
#: less work on overlaps than CryoVesNet's 64^3.
INFERENCE_BLOCK, INFERENCE_HALO = 96, 8

TRAINING = dict(epochs=16, batch_size=8, learning_rate=1e-3, loss="bce", patience=4, seed=SEED,
                overlap=0)


def random_tomogram(rng):
    """One synthetic tomogram with every generator parameter drawn at random."""
    voxel = float(rng.uniform(1.5, 3.0))
    shape = tuple(int(round(e / voxel / 4) * 4) for e in EXTENT_NM)
    lo = float(rng.uniform(26, 40))
    s = synapse_tomogram(shape, voxel_size=voxel, n_vesicles=int(rng.integers(20, 70)),
                         diameter_nm=(lo, lo + float(rng.uniform(10, 30))),
                         membrane_nm=float(rng.uniform(3.5, 5.5)),
                         tilt_deg=float(rng.uniform(50, 70)),
                         defocus_um=float(rng.uniform(2, 6)), snr=float(rng.uniform(0.15, 0.8)),
                         seed=int(rng.integers(2 ** 31)))
    return s.volume, s.labels, s.voxel_size


def synthetic_pairs(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield random_tomogram(rng)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, help="folder for checkpoints and the log")
    p.add_argument("--export", type=Path, metavar="MODELS", help="export into this models folder")
    p.add_argument("--calibrate", type=Path, metavar="MODEL",
                   help="only measure and save refine_offset_nm of this exported model folder")
    args = p.parse_args(argv)
    if args.calibrate is not None:
        return calibrate(args.calibrate)
    if args.work is None:
        p.error("--work is required (unless --calibrate)")
    if args.export is None:
        from emseg.models.training import train_model
        resume = (args.work / "last.keras").exists()
        result = train_model(synthetic_pairs(N_TRAIN, SEED), CONFIG, args.work, resume=resume,
                             verbose=2, validation_pairs=synthetic_pairs(N_VALIDATION, SEED + 1),
                             **TRAINING)
        print(f"threshold {result.config.threshold} (validation IoU {result.threshold_iou:.4f})")
        return 0
    return export(args.work, args.export)


def export(work, models):
    import json
    from dataclasses import replace

    from emseg import io
    from emseg.models.saved import export_model

    config = ModelConfig.from_json(io.read_text(work / "config.json"))
    config = replace(config, tile_size=INFERENCE_BLOCK, halo=INFERENCE_HALO)
    log = json.loads(io.read_text(work / "log.json"))
    training = {
        "data": f"{N_TRAIN} synthetic synapse tomograms of about "
                f"{' x '.join(f'{e:g}' for e in EXTENT_NM)} nm, voxel sizes 1.5-3 nm "
                f"(emseg.synthetic.cryoet.synapse_tomogram, seed {SEED}); validation: "
                f"{N_VALIDATION} more (seed {SEED + 1})",
        "script": "python/scripts/train_cryoet_model.py",
        "patch_size": CONFIG.training_patch,
        "epochs": len(log["epochs"]), "loss": log["loss"],
        "train_patches": log["train_patches"], "validation_patches": log["validation_patches"],
        "validation_iou": round(log["validation_iou"], 4),
        "validation_dice": round(max(e.get("val_dice", 0) for e in log["epochs"]), 4),
    }
    folder = models / config.name
    export_model(work / "best.keras", config, folder, training=training, overwrite=True)
    rule, scores = choose_threshold_rule(folder, config.threshold)
    config = replace(config, postprocess={**config.postprocess, "threshold_rule": rule})
    export_model(work / "best.keras", config, folder, training=training, scores=scores,
                 overwrite=True)
    print(f"exported {folder}: threshold rule {rule}; validation scores {scores}")
    return calibrate(folder)


def calibrate(folder):
    """Measure the labels' edge convention on the validation tomograms and save it as the
    model's ``refine_offset_nm`` (with how it was measured in the scores)."""
    from emseg.measure import label_edge_offsets
    from emseg.models.config import check_vesicle_options
    from emseg.models.saved import update_postprocess
    from emseg import io

    meta = io.read_yaml(Path(folder) / "model.yaml")
    edge = check_vesicle_options(dict(meta.get("postprocess") or {}))["refine_edge"]
    offsets = []
    for volume, labels, voxel in synthetic_pairs(N_VALIDATION, SEED + 1):
        offsets.append(label_edge_offsets(volume, labels, voxel_size=voxel, edge=edge)[1])
        print(f"  {voxel:.2f} nm voxels: median offset {np.nanmedian(offsets[-1]):+.3f} nm "
              f"over {np.isfinite(offsets[-1]).sum()} vesicles", flush=True)
    offsets = np.concatenate(offsets)
    offset = round(float(np.nanmedian(offsets)), 2)
    spread = float(np.nanpercentile(offsets, 75) - np.nanpercentile(offsets, 25))
    update_postprocess(folder, {"refine_offset_nm": offset}, scores={
        "validation edge offset (nm, median)": offset,
        "validation edge offset (nm, interquartile range)": round(spread, 3),
        "validation edge offset (vesicles)": int(np.isfinite(offsets).sum())})
    print(f"{folder}: refine_offset_nm {offset:+.2f} nm (the labels' outer edge relative to the "
          f"profile's {edge} rule; interquartile range {spread:.2f} nm, "
          f"{np.isfinite(offsets).sum()} validation vesicles)")
    return 0


def choose_threshold_rule(folder, fixed):
    """Mean F1 and Dice of both global threshold rules on the validation tomograms."""
    from emseg.metrics import vesicle_scores
    from emseg.models import find_model
    from emseg.models.saved import SavedModelPredictor
    from emseg.segment import segment_volume

    predictor = SavedModelPredictor(find_model(folder))
    results = {"shell": [], "fixed": []}
    for volume, labels, voxel in synthetic_pairs(N_VALIDATION, SEED + 1):
        for rule in results:
            seg = segment_volume(volume, predictor, predictor.meta, voxel_size=voxel,
                                 threshold=fixed if rule == "fixed" else None)
            s = vesicle_scores(seg.labels, labels, voxel_size=voxel)
            results[rule].append((s["F1"], s["Dice"]))
    means = {rule: tuple(float(np.mean(v)) for v in zip(*r)) for rule, r in results.items()}
    best = max(means, key=lambda rule: means[rule])
    scores = {f"validation F1 ({rule} threshold)": round(f1, 4) for rule, (f1, _) in means.items()}
    scores.update({f"validation Dice ({rule} threshold)": round(d, 4)
                   for rule, (_, d) in means.items()})
    return best, scores


if __name__ == "__main__":
    sys.exit(main())
