"""Real-data benchmark of the BAM GAN workflow: training data without manual masks.

Data: ``../shared/data/bam-tio2`` (or ``$EMSEG_BAM_DATA``; licence CC BY-NC-ND, read at run time,
never committed; nothing trained here is shipped). As the paper (Ruehle et al. 2021) does:

1. outlines: 40 particles of the manual keep set of images 1-8 (whole, not at the border; a
   seeded choice), isolated in one calibrated label image -- what a user outlines in Fiji;
2. ``emseg synthesize --images sem/ --outlines outlines.tif``: all 24 SEM images used
   unlabelled (data bars cut off);
3. ``emseg train --architecture multires_unet`` on the synthetic pairs, ``emseg export``;
4. scores as ``bam_tio2.py`` (all images, and images 9-24 apart), and end to end with the
   default classifier filter against the manual keep set (MinFeret mean and median errors;
   goal within 5 %, then 2 %; instance IoU >= 0.80). The shipped default model
   ``emseg-particles-sem`` is scored beside it in the same run.

Every step is resumable: run the script again on the same ``--work`` folder and it goes on
where it stopped (``emseg synthesize --resume``, ``emseg train --resume``). ``--quick`` uses tiny
settings to check the pipeline in minutes (its scores mean nothing).

Run: ``python benchmarks/bam_gan.py --work build/bam-gan [--quick] [--train-epochs N]
[--images N]``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
REPO = HERE.parent
N_OUTLINES, OUTLINE_IMAGES, SEED = 40, 8, 16
QUICK = {"synthesize": ["--n-images", "8", "--tile-size", "128", "--shape-epochs", "2",
                        "--cyclegan-epochs", "1", "--cyclegan-steps", "10",
                        "--cyclegan-filters", "8", "--cyclegan-blocks", "2"],
         "train": ["--epochs", "1", "--base-filters", "8", "--depth", "3"]}
FULL = {"synthesize": ["--n-images", "300", "--tile-size", "256"],
        "train": ["--base-filters", "16", "--depth", "4"]}


def emseg(*args):
    """Run an ``emseg`` command as a user would; its progress shows on this terminal."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "emseg", *map(str, args)])
    if r.returncode != 0:
        raise SystemExit(f"bam_gan.py: emseg {args[0]} failed (exit {r.returncode})")
    return time.perf_counter() - t0


def write_outlines(data, path):
    """40 whole particles of the manual keep set of images 1-8, each in its own cell of one
    label image (7.344 nm, as the images)."""
    from scipy import ndimage as ndi

    from bam_classifier import load_bam, manual_keep_set
    from emseg import io

    items = load_bam(data, OUTLINE_IMAGES)
    chosen = []
    for item in items:
        table = manual_keep_set(item)
        boxes = ndi.find_objects(item["truth"])
        rows, cols = item["truth"].shape
        for label in table.loc[table["Fit"], "Label"]:
            box = boxes[int(label) - 1]
            if box[0].start > 0 and box[1].start > 0 and box[0].stop < rows and box[1].stop < cols:
                chosen.append(item["truth"][box] == label)
    rng = np.random.default_rng(SEED)
    picks = [chosen[i] for i in rng.choice(len(chosen), N_OUTLINES, replace=False)]
    cell = max(max(p.shape) for p in picks) + 4
    side = int(np.ceil(np.sqrt(len(picks))))
    labels = np.zeros((side * cell, side * cell), np.uint16)
    for k, p in enumerate(picks):
        r, c = divmod(k, side)
        view = labels[r * cell + 2:r * cell + 2 + p.shape[0], c * cell + 2:c * cell + 2 + p.shape[1]]
        view[p] = k + 1
    io.write_labels(path, labels, items[0]["pixel_size"])
    return len(chosen)


def segmentation_scores(data, model, images):
    """bam_tio2.py's scores of an exported model: mean of all images and of images 9-24."""
    from bam_tio2 import SHOWN, TUNING_IMAGES, model_method, run_benchmark
    from emseg.workflows import evaluation_table, pooled_scores

    results, seconds, _ = run_benchmark(data, model_method(model), images, desc=str(model))
    table = evaluation_table(results)
    per_image = table.iloc[:-1]
    keys = ("IoU", "Inst. IoU (pred)", "F1@0.5")
    out = {"all": {k: float(table.iloc[-1][k]) for k in SHOWN if k in keys}}
    if len(per_image) > TUNING_IMAGES:
        out["images 9-24"] = {k: float(per_image.iloc[TUNING_IMAGES:][k].mean()) for k in keys}
    pooled = pooled_scores(results, "MinFeret")
    out["all"]["MinFeret mean err (all particles)"] = float(pooled["MinFeret mean err"])
    out["seconds per image"] = float(np.mean(seconds))
    return out


def size_statistics(data, model, images):
    """End to end: segmentation, the default classifier, MinFeret of the kept particles against
    the manual keep set (all images, and images 9-24)."""
    from bam_classifier import (end_to_end_tables, load_bam, manual_keep_set, reference_of,
                                run_filters, score_filter)
    from emseg.models.saved import load_predictor

    items = load_bam(data, images)
    classifier = load_predictor(None, task="classifier")
    name = f"classifier {classifier.info.name}"
    manual = [manual_keep_set(it) for it in items]
    tables = end_to_end_tables(items, model=model)
    filtered, _ = run_filters(items, tables, "pred", {name: classifier}, desc="filter")
    out = {}
    for what, sl in (("all", slice(None)), ("images 9-24", slice(8, None))):
        if not manual[sl]:
            continue
        row = score_filter(filtered[name][sl], reference_of(manual[sl]))
        out[what] = {k: float(row[k]) for k in ("kept", "precision", "recall", "mean err",
                                                 "D50 err", "D10 err", "D90 err", "KS")}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path(os.environ.get(
        "EMSEG_BAM_DATA", REPO.parent / "shared" / "data" / "bam-tio2")),
        help="the bam-tio2 folder (default ../shared/data/bam-tio2 or $EMSEG_BAM_DATA)")
    p.add_argument("--work", type=Path, required=True, metavar="DIR",
                   help="work folder (synthetic data, training, exported model, scores)")
    p.add_argument("--quick", action="store_true", help="tiny settings: checks the pipeline only")
    p.add_argument("--train-epochs", type=int, default=60, metavar="N",
                   help="MultiRes U-Net epochs (default 60; --quick: 1)")
    p.add_argument("--images", type=int, default=None, metavar="N",
                   help="score only the first N images (sorted by name)")
    args = p.parse_args(argv)
    for sub in ("sem", "masks", "classes"):
        if not (args.data / sub).is_dir():
            p.exit(2, f"bam_gan.py: error: no {sub}/ in {args.data}\n")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    settings = QUICK if args.quick else FULL
    times = {}
    outlines = work / "outlines.tif"
    if not outlines.exists():
        n = write_outlines(args.data, outlines)
        print(f"outlines: {N_OUTLINES} of the {n} whole keep-set particles of images "
              f"1-{OUTLINE_IMAGES} -> {outlines}")
    syn = work / "synthetic"
    state = syn / "synthesize.json"
    done = json.loads(state.read_text())["done"] if state.exists() else []
    if len(done) < 4:
        times["synthesize s"] = emseg(
            "synthesize", "--images", args.data / "sem", "--outlines", outlines, "--output", syn,
            *settings["synthesize"], *(["--resume"] if state.exists() else []))
    training = work / "training"
    if not (training / "config.json").exists():
        epochs = ["--epochs", "1"] if args.quick else ["--epochs", str(args.train_epochs)]
        times["train s"] = emseg(
            "train", "--images", syn / "images", "--masks", syn / "masks", "--architecture",
            "multires_unet", "--classes", "particle", "--tile-size",
            "128" if args.quick else "256", "--name", "bam-gan-multires", "--output", training,
            *settings["train"], *epochs,
            *(["--resume"] if (training / "last.keras").exists() else []))
    model = work / "models" / "bam-gan-multires"
    if not model.exists():
        emseg("export", training, "--models", work / "models")
    results = {"settings": "quick" if args.quick else "full", "times": times}
    for name, m in (("GAN-trained MultiRes U-Net", model), ("emseg-particles-sem", None)):
        results[name] = {"segmentation": segmentation_scores(args.data, m, args.images),
                         "size statistics (default classifier)":
                             size_statistics(args.data, m, args.images)}
    (work / "scores.json").write_text(json.dumps(results, indent=1))
    for name in ("GAN-trained MultiRes U-Net", "emseg-particles-sem"):
        seg, size = results[name]["segmentation"], results[name]["size statistics (default classifier)"]
        print(f"\n{name}")
        for part in ("all", "images 9-24"):
            if part in seg:
                print(f"  {part}: " + ", ".join(f"{k} {v:.4f}" for k, v in seg[part].items()))
            if part in size:
                s = size[part]
                print(f"  {part}, kept by the classifier: {s['kept']:.0f} particles, precision "
                      f"{s['precision']:.3f}, recall {s['recall']:.3f}, MinFeret mean "
                      f"{s['mean err']:+.1%}, median {s['D50 err']:+.1%}, D10 {s['D10 err']:+.1%}, "
                      f"D90 {s['D90 err']:+.1%}, KS {s['KS']:.3f}")
    print("\ngoals: MinFeret mean and median within 5 % (then 2 %) of the manual keep set; "
          "instance IoU >= 0.80")
    print(f"wrote {work / 'scores.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
