"""Reproduce EMSeg's bundled default classifier filter from synthetic data only.

    python python/scripts/train_default_classifier.py --work build/default-classifier
    python python/scripts/train_default_classifier.py --work build/default-classifier --export models

The first call generates the synthetic training set (seeded) and trains; it
resumes when run again on the same --work folder. The second exports the
best checkpoint to models/emseg-classifier-sem, with its scores on the real
BAM TiO2 images in model.yaml when ../shared/data/bam-tio2 (or --bam) is there.

    python python/scripts/train_default_classifier.py --rescore models

recomputes the exported classifier's BAM scores in place (after a change of the
default segmentation model, which its end-to-end scores depend on).

Fitness is known exactly in synthetic data (emseg.synthetic): whole isolated
or touching-but-in-front particles are "keep"; particles more than 10 %
hidden by others, cut by the image border, or merged or split by
segmentation errors are "discard". Two kinds of instances are shown to the
network: the exact annotation corrupted by deliberate merges, splits and
outline shifts (emseg.synthetic.sem_classifier_example), and the default
segmentation model's own output, judged against the exact annotation (an
instance is "keep" when it matches a whole particle with IoU >= 0.75). The
network never sees BAM data; its checkpoint and score threshold are chosen on
synthetic validation patches.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from emseg.models import DEFAULT_CLASSIFIER, ModelConfig
from emseg.synthetic import sem_agglomerates, sem_classifier_example

N_IMAGES, SIZE, SEED = 96, 512, 2027
#: every SEGMENTED-th image shows the default segmentation model's instances
SEGMENTED = 3
MIN_VISIBLE = 0.9

CONFIG = ModelConfig(
    name=DEFAULT_CLASSIFIER, architecture="multires_unet", task="classifier", input_channels=2,
    classes=["keep"], base_filters=8, depth=3, dropout=0.1, pixel_size=12.0, tile_size=128,
    halo=16, normalization={"mode": "image", "low": 1.0, "high": 99.8},
    description=("Classifier filter for particles in SEM images: keeps whole particles, drops "
                 "occluded, border-cut, merged and split ones. MultiRes U-Net on image + "
                 "instance outlines, trained on EMSeg's synthetic SEM images only."))

INFERENCE_TILE = 512

#: The exported score threshold. Tuning on the synthetic validation patches (max F0.5) gives
#: 0.72, which on real data is too strict: on BAM images 1-8 it keeps precision 0.963 but
#: recall 0.424 and biases the mean MinFeret by +8.7 % (small whole particles score lower).
#: 0.5, the BAM paper's value, gives precision 0.864, recall 0.845, +2.4 % there; images 9-24
#: are reported apart in model.yaml. The protocol is the default segmentation model's: a
#: setting chosen on BAM images 1-8, the network itself never sees BAM data.
EXPORT_THRESHOLD = 0.5
THRESHOLD_RULE = ("0.5 (the BAM paper's): the synthetic-validation choice (max F0.5, "
                  "synthetic_tuned_threshold) kept too few real particles on BAM images 1-8 "
                  "(precision 0.963, recall 0.424, mean MinFeret +8.7 %; at 0.5: 0.864, 0.845, "
                  "+2.4 %)")

TRAINING = dict(epochs=14, batch_size=16, learning_rate=2e-3, loss="bce", patience=4, seed=SEED)


def _segmented(image, truth, predictor):
    """The default segmentation of a synthetic image, judged against the truth."""
    from emseg.metrics import keep_reference
    from emseg.segment import segment

    seg = segment(truth.image, predictor, predictor.meta, pixel_size=truth.pixel_size,
                  keep_databar=True)
    whole = (truth.visible_fraction >= MIN_VISIBLE) & ~truth.cut_by_border
    whole[0] = False
    fit = keep_reference(seg.labels, truth.labels, whole[truth.labels], iou_threshold=0.75)
    return seg.labels, fit[seg.labels]


def synthetic_triples(n=N_IMAGES, seed=SEED, predictor=None):
    """(image, labels, keep, pixel size): varied coverage, clustering, sizes, errors."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        lo = rng.uniform(140, 300)
        kw = dict(pixel_size=8.0, diameter_nm=(lo, lo * rng.uniform(1.3, 2.0)),
                  coverage=rng.uniform(0.12, 0.5), clustering=rng.uniform(0.3, 0.95),
                  seed=int(rng.integers(2 ** 31)))
        if predictor is not None and i % SEGMENTED == SEGMENTED - 1:
            truth = sem_agglomerates((SIZE, SIZE), **kw)
            labels, keep = _segmented(truth.image, truth, predictor)
            yield truth.image, labels, keep, truth.pixel_size
        else:
            ex = sem_classifier_example((SIZE, SIZE), min_visible=MIN_VISIBLE,
                                        merge=rng.uniform(0.0, 0.2), split=rng.uniform(0.0, 0.12),
                                        **kw)
            yield ex.image, ex.labels, ex.keep, ex.pixel_size


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, help="folder for checkpoints and the log")
    p.add_argument("--export", type=Path, metavar="MODELS", help="export into this models folder")
    p.add_argument("--rescore", type=Path, metavar="MODELS",
                   help="recompute the exported classifier's BAM scores in place")
    p.add_argument("--bam", type=Path, default=Path(__file__).resolve().parents[2].parent
                   / "shared" / "data" / "bam-tio2", help="BAM TiO2 data for the scores")
    p.add_argument("--images", type=int, default=N_IMAGES, help=argparse.SUPPRESS)
    p.add_argument("--epochs", type=int, default=TRAINING["epochs"], help=argparse.SUPPRESS)
    p.add_argument("--threshold", type=float, default=EXPORT_THRESHOLD,
                   help="score threshold written at export (default %(default)s, see EXPORT_THRESHOLD)")
    args = p.parse_args(argv)
    if args.rescore is not None:
        return rescore(args.rescore, args.bam)
    if args.work is None:
        p.error("--work is required (or --rescore MODELS)")
    if args.export is None:
        from emseg.models.saved import load_predictor
        from emseg.models.classifier_training import train_classifier
        resume = (args.work / "last.keras").exists()
        predictor = load_predictor(task="segmentation")
        result = train_classifier(synthetic_triples(args.images, predictor=predictor), CONFIG,
                                  args.work, resume=resume, verbose=2,
                                  **{**TRAINING, "epochs": args.epochs})
        print(f"threshold {result.config.threshold} (validation precision "
              f"{result.precision:.3f}, recall {result.recall:.3f})")
        return 0
    return export(args.work, args.export, args.bam, args.images, args.threshold)


def export(work, models, bam, n_images=N_IMAGES, threshold=EXPORT_THRESHOLD):
    import json
    from dataclasses import replace

    from emseg import io
    from emseg.models.saved import export_model

    config = ModelConfig.from_json(io.read_text(work / "config.json"))
    log = json.loads(io.read_text(work / "log.json"))
    tuned = config.threshold
    config = replace(config, tile_size=INFERENCE_TILE,
                     threshold=tuned if threshold is None else threshold)
    training = {
        "data": f"{n_images} synthetic SEM images {SIZE}x{SIZE} at 8.0 nm (seed {SEED}): "
                f"emseg.synthetic.sem_classifier_example, every {SEGMENTED}rd segmented by "
                f"the default model; keep = whole particle (>= {MIN_VISIBLE:.0%} visible, "
                "not cut, not merged or split)",
        "script": "python/scripts/train_default_classifier.py",
        "patch_size": CONFIG.tile_size,
        "epochs": len(log["epochs"]), "loss": log["loss"],
        "train_patches": log["train_patches"], "validation_patches": log["validation_patches"],
        "threshold_rule": THRESHOLD_RULE if threshold is not None else
                          "max F0.5 of kept instances on the synthetic validation patches",
        "synthetic_tuned_threshold": tuned,
        "validation_precision": round(log["validation_precision"], 4),
        "validation_recall": round(log["validation_recall"], 4),
    }
    folder = models / config.name
    info = export_model(work / "best.keras", config, folder, training=training, overwrite=True)
    scores = {}
    if bam.is_dir():
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
        import bam_classifier
        scores = bam_classifier.classifier_scores(bam, info.path)
        export_model(work / "best.keras", config, folder, training=training, scores=scores,
                     overwrite=True)
    print(f"exported {folder}; scores: {scores or 'none (no BAM data)'}")
    return 0


def rescore(models, bam):
    """Recompute the exported classifier's BAM scores; the network is unchanged."""
    from emseg import io

    if not bam.is_dir():
        raise SystemExit(f"train_default_classifier.py: error: no BAM data in {bam}")
    folder = Path(models) / DEFAULT_CLASSIFIER
    meta = io.read_yaml(folder / "model.yaml")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bam_classifier
    meta["scores"] = bam_classifier.classifier_scores(bam, folder)
    io.write_yaml(folder / "model.yaml", meta)
    print(f"rescored {folder}: {meta['scores']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
