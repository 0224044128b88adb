"""Multi-class EM segmentation on real ssTEM sections: WAE-Net's base learners, their weighted
ensemble and a plain U-Net trained the same way, by cross-validation (paper 003, Table 5).

Data: ``../shared/data/drosophila-vnc`` (12 sections of Drosophila ventral nerve cord,
4.6 nm/pixel, 5 classes: membrane, glia/extracellular, mitochondria, synapse, intracellular;
CC BY-NC-SA, read at run time, never committed). ``--folds`` folds over the sections: each
fold's sections are the test set, the others train (one of them kept for validation: the
members' early stopping, their ranking and the ensemble's weight search).

Per fold, in one run: every base learner (``--members``, by default the five
pretrained-encoder U-Nets) through ``emseg.models.ensemble.train_ensemble`` (the best
``--top`` combined with grid-searched weights), and a plain U-Net trained the same way (loss,
class weights, augmentation, learning-rate schedule). Each is scored on the fold's test
sections through the segmentation pipeline (``emseg.segment.segment_classes``): per-class
Jaccard index and F1, pooled over the test pixels, then over all folds.

ImageNet weights cannot be downloaded on the benchmark machine: every encoder starts from
random weights, a handicap the paper's recipe was not designed for; the table says so.
``--encoder-weights imagenet`` runs the paper's recipe where Keras can fetch them.

CPU budget: the sections are brought to ``--model-pixel-size`` (default 9.2 nm, half
resolution), ``--tile`` patches (128 px), at most 20 epochs: 30 networks to train, about 2 hours
per fold on 2 CPU cores. Resumable: every member of every fold keeps its training folder under
``--work``, every finished fold its test confusions (``fold<k>/scores.npz``); run again to
continue. After every fold it writes ``em_multiclass.csv`` (every score), ``em_multiclass.md``
(the table, saying how many folds it pools) and, at the end, a Grad-CAM picture of
mitochondria to ``--output``.

Run: ``python benchmarks/em_multiclass.py [--quick]``; tests never assert its numbers.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "drosophila-vnc"
CLASS_MAP = ("0,32,64,96,128=membrane;159=extracellular;191=mitochondria;223=synapse;"
             "255=intracellular")
PIXEL_SIZE = 4.6
ENCODERS = ("unet_resnet34", "unet_seresnet34", "unet_vgg19", "unet_inceptionv3",
            "unet_efficientnetb4")


def sections(data):
    """(name, image, class mask) of every section."""
    from emseg import io
    from emseg.workflows import apply_class_map, parse_class_map

    _, lut = parse_class_map(CLASS_MAP)
    out = []
    for raw in sorted((data / "raw").glob("*.tif")):
        image = io.read_image(raw)[0]
        coded = io.read_image(data / "labels" / f"{raw.stem}.png")[0]
        out.append((raw.stem, image, apply_class_map(coded, lut, what=str(raw))))
    if not out:
        raise SystemExit(f"no sections in {data}")
    return out


def score(model, config, tests):
    """Pooled confusion of ``model`` on the test sections through the pipeline."""
    from emseg.metrics import confusion_matrix
    from emseg.models.saved import model_metadata
    from emseg.segment import segment_classes

    meta = model_metadata(config)

    def predict(tiles):
        return model.predict(tiles, batch_size=4, verbose=0)

    total = 0
    for _, image, truth in tests:
        seg = segment_classes(image, predict, meta, pixel_size=PIXEL_SIZE, keep_databar=True)
        total = total + confusion_matrix(seg.classes, truth, len(config.classes))
    return total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--folds", type=int)
    p.add_argument("--members")
    p.add_argument("--top", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--tile", type=int, default=128)
    p.add_argument("--model-pixel-size", type=float, default=9.2)
    p.add_argument("--unet-filters", type=int, default=32,
                   help="the plain U-Net's first-level filters (depth 4)")
    p.add_argument("--encoder-weights", help="'imagenet' where Keras can download them")
    p.add_argument("--quick", action="store_true",
                   help="2 folds, 2 members (ResNet34, VGG19), 3 epochs: a smoke run")
    p.add_argument("--work", type=Path, default=REPO / "build" / "em-multiclass")
    p.add_argument("--output", type=Path, default=REPO / "bench-output" / "em_multiclass")
    args = p.parse_args(argv)
    quick = dict(folds=2, members="unet_resnet34,unet_vgg19", epochs=3, top=2)
    full = dict(folds=5, members=",".join(ENCODERS), epochs=20, top=3)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    from emseg import io
    from emseg.models import ModelConfig
    from emseg.models.ensemble import train_ensemble
    from emseg.models.training import train_model
    from emseg.workflows import parse_class_map

    names, _ = parse_class_map(CLASS_MAP)
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    data = sections(args.data)
    folds = np.array_split(np.arange(len(data)), args.folds)
    config = ModelConfig(name="wae-vnc", architecture=members[0], task="semantic",
                         classes=names, depth=5, tile_size=args.tile, halo=args.tile // 8,
                         pixel_size=args.model_pixel_size,
                         normalization={"mode": "image", "low": 0.5, "high": 99.5},
                         postprocess={"chain": "classes", "instance_classes": ["mitochondria"]})
    training = dict(epochs=args.epochs, batch_size=4, learning_rate=1e-4, loss="focal_dice",
                    patience=10, verbose=2, lr_decay=(0.25, 10),
                    encoder_weights=args.encoder_weights)
    confusions, times = {}, {}
    args.work.mkdir(parents=True, exist_ok=True)
    for k, test_idx in enumerate(folds):
        rest = [i for i in range(len(data)) if i not in set(test_idx)]
        val, train = [rest[-1]], rest[:-1]
        pair = [(data[i][1], data[i][2], PIXEL_SIZE) for i in train]
        vpair = [(data[i][1], data[i][2], PIXEL_SIZE) for i in val]
        tests = [data[i] for i in test_idx]
        fold = args.work / f"fold{k + 1}"
        print(f"fold {k + 1}/{args.folds}: test {[data[i][0] for i in test_idx]}, validation "
              f"{data[val[0]][0]}, training {len(train)} sections", flush=True)
        cached = fold / "scores.npz"
        if cached.exists() and k + 1 < args.folds:
            with np.load(cached) as saved:
                for key in saved.files:
                    (times if key.startswith("time ") else confusions).setdefault(
                        key.removeprefix("time "), []).append(saved[key])
            print("  scored in an earlier run", flush=True)
            continue
        r = train_ensemble(pair, config, fold / "ensemble", members, top=args.top,
                           validation_pairs=vpair, **training)
        from emseg.models._tf import keras
        for arch in members:
            times.setdefault(arch, []).append(training_seconds(fold / "ensemble" /
                                                               f"member-{arch}"))
            member_model = keras.models.load_model(fold / "ensemble" / f"member-{arch}" /
                                                   "best.keras", compile=False)
            mc = ModelConfig.from_json(io.read_text(fold / "ensemble" / f"member-{arch}" /
                                                    "config.json"))
            confusions.setdefault(arch, []).append(score(member_model, mc, tests))
        confusions.setdefault("WAE-Net ensemble", []).append(score(r.model, r.config, tests))
        ucfg = ModelConfig.from_dict({**config.to_dict(), "architecture": "unet",
                                      "name": "unet-vnc", "base_filters": args.unet_filters,
                                      "depth": 4})
        folder = fold / "plain-unet"
        log = folder / "log.json"
        if log.exists() and "validation_iou" in json.loads(log.read_text()):
            umodel = keras.models.load_model(folder / "best.keras", compile=False)
        else:
            umodel = train_model(pair, ucfg, folder, validation_pairs=vpair,
                                 resume=(folder / "last.keras").exists(),
                                 **{k: v for k, v in training.items()
                                    if k != "encoder_weights"}).model
        times.setdefault("plain U-Net", []).append(training_seconds(folder))
        confusions.setdefault("plain U-Net", []).append(score(umodel, ucfg, tests))
        print(f"  ensemble {[(m['architecture'], m['weight']) for m in r.config.members]}, "
              f"beats members and equal weights: {r.search.beats_all}", flush=True)
        np.savez(fold / "scores.npz", **{m: c[-1] for m, c in confusions.items()},
                 **{f"time {m}": t[-1] for m, t in times.items()})
        write_table(confusions, times, names, args, k + 1, len(data))
    for what, ts in times.items():
        print(f"training time, {what}: {np.sum(ts) / 60:.1f} min over {len(ts)} fold(s), "
              f"{len(ts) and np.mean(ts) / 60:.1f} min per fold", flush=True)
    gradcam_picture(r, tests[0], names, config, args)
    print(f"wrote {args.output}")
    return 0


def training_seconds(folder):
    """Seconds a training spent in its epochs (from its log, so resumed runs add up)."""
    log = json.loads((Path(folder) / "log.json").read_text())
    return float(sum(e.get("seconds", 0.0) for e in log.get("epochs", [])))


def train_minutes(times, method):
    """Minutes per fold a method's training took; the ensemble's: all its base learners'."""
    if method in times:
        return float(np.mean(times[method]) / 60)
    members = [m for m in ENCODERS if m in times]
    return float(sum(np.mean(times[m]) for m in members) / 60) if members else np.nan


def write_table(confusions, times, names, args, done, n_sections):
    """The pooled per-class table over the ``done`` folds so far."""
    import pandas as pd

    from emseg import io
    from emseg.metrics import confusion_scores

    rows = []
    for method, cs in confusions.items():
        s = confusion_scores(sum(cs), names)
        rows.append({"Method": method, **{f"IoU {n}": s.loc[n, "IoU"] for n in names},
                     "mean IoU": s.loc["mean", "IoU"], "mean F1": s.loc["mean", "Dice"],
                     **{f"F1 {n}": s.loc[n, "Dice"] for n in names},
                     "train min/fold": train_minutes(times, method)})
    table = pd.DataFrame(rows).sort_values("mean IoU", ascending=False)
    args.output.mkdir(parents=True, exist_ok=True)
    io.write_table(args.output / "em_multiclass.csv", table)
    cols = ["Method", "mean IoU", "mean F1"] + [f"IoU {n}" for n in names] + ["train min/fold"]
    md = "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] + [
        "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in table[cols].itertuples(index=False)])
    weights = "ImageNet" if args.encoder_weights == "imagenet" else "random (no ImageNet)"
    folds = (f"{args.folds}-fold cross-validation" if done == args.folds else
             f"{args.folds}-fold cross-validation, {done} of {args.folds} folds done")
    note = (f"\n\n{n_sections} real ssTEM sections, {folds}, "
            f"{args.model_pixel_size:g} nm/pixel, {args.tile}-px tiles, at most {args.epochs} "
            f"epochs; encoder weights: {weights}; pooled over all test pixels.\n")
    io.write_text(args.output / "em_multiclass.md", md + note)
    print("\n" + md + note, flush=True)


def gradcam_picture(r, test, names, config, args):
    """Grad-CAM of mitochondria on a test section, the ensemble's weighted map."""
    from emseg import io
    from emseg.models.gradcam import explain
    from emseg.plot import heat_overlay
    from emseg.segment.scaling import normalize, rescale, rescale_factor
    image = test[1]
    small = normalize(rescale(image.astype(np.float32),
                              rescale_factor(PIXEL_SIZE, config.pixel_size), order=1), 0.5, 99.5)
    maps = explain(r.model, r.config, small, names.index("mitochondria"))
    heat = np.clip(rescale(maps["ensemble"], shape=image.shape, order=1), 0, 1)
    io.write_png(args.output / "gradcam_mitochondria.png", heat_overlay(
        image, heat.astype(np.float32), title=f"section {test[0]}: Grad-CAM, mitochondria, "
                                              f"WAE-Net ensemble"))


if __name__ == "__main__":
    sys.exit(main())
