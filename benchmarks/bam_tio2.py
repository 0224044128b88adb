"""Real-data benchmark: segment the BAM TiO2 SEM images and score against the manual masks.

Data: ``../shared/data/bam-tio2`` (or ``$EMSEG_BAM_DATA``; licence CC BY-NC-ND,
read at run time, never committed): 24 SEM images of agglomerated TiO2
particles at 7.344 nm/pixel with manual instance masks (4-connected
components). The microscope's data bar fills the bottom rows, so methods see
and are scored on rows 0-703 only.

Scores (``emseg.metrics``): the BAM paper's Table 1 metrics -- image IoU,
instance IoU, Youden's index (from the method's score map), pixel error,
foreground-restricted Rand and information errors -- plus instance F1 at IoU
0.5, Cell Tracking Challenge SEG and DET, and the errors of the pooled
MinFeret distribution (mean, median, D10, D90, KS) against the manual one.

Methods:
- ``classical``: Gaussian smoothing (10 nm), Otsu threshold, distance-transform
  watershed (neck depth 7.5 nm), objects under pi*15^2 nm^2 dropped
  (:func:`emseg.segment.segment_classical`). Its parameters were chosen on
  the first 8 images (sorted by name); the script also reports the mean over
  the 16 others.
- ``model``: an exported EMSeg network (``--model NAME|PATH``, default the
  bundled ``emseg-particles-sem``, trained on synthetic images only) through
  :func:`emseg.segment.segment`: rescaling to the model's pixel size, blended
  tiles, the model's post-processing; the score map is its probability map.

Run: ``python benchmarks/bam_tio2.py --method classical|model [--model M] [--output DIR]``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA_ROWS = 704          # rows 704.. hold the microscope's data bar
TUNING_IMAGES = 8        # the classical baseline was tuned on the first 8 images

#: The BAM paper's Table 1 (Ruehle et al. 2021), MultiRes U-Net.
PAPER = {"U-Net, simulated training data": {"IoU": 0.8108, "Inst. IoU (pred)": 0.6544,
                                            "Youden J": 0.8546},
         "U-Net, manual training masks": {"IoU": 0.9070, "Inst. IoU (pred)": 0.7947,
                                          "Youden J": 0.9473}}

SHOWN = ("IoU", "Inst. IoU (pred)", "Youden J", "Pixel error", "Rand error", "Info error",
         "F1@0.5", "SEG", "DET", "MinFeret mean err")


def run_classical(image, pixel_size):
    """Classical baseline: returns (labels, score map)."""
    from emseg.segment import segment_classical
    labels, score, _ = segment_classical(image, pixel_size)
    return labels, score


def model_method(model=None):
    """A benchmark method segmenting with an exported model."""
    from emseg.models.saved import load_predictor
    from emseg.segment import segment

    predictor = load_predictor(model)

    def run_model(image, pixel_size):
        seg = segment(image, predictor, predictor.meta, pixel_size=pixel_size, keep_databar=True)
        return seg.labels, seg.probability

    return run_model


METHODS = {"classical": lambda model: run_classical, "model": model_method}


def run_benchmark(data, method, images=None, *, desc="benchmark"):
    """Segment and score the BAM images.

    Returns ``(results, seconds, first)``: EvaluateResult per image, seconds per
    image, and (stem, image, labels, truth) of the first image.
    """
    from tqdm import tqdm

    from emseg import io
    from emseg.workflows import EvaluateResult
    from emseg.metrics import evaluate, to_instances

    paths = sorted((Path(data) / "sem").glob("*.tif"))[:images]
    results, seconds, first = [], [], None
    for path in tqdm(paths, desc=desc, unit="image", file=sys.stderr):
        image, size, meta = io.read_image(path)
        mask, _, _ = io.read_image(Path(data) / "masks" / f"{path.stem}_m.tif")
        image, truth = image[:DATA_ROWS], to_instances(mask[:DATA_ROWS] > 0, connectivity=4)
        t0 = time.perf_counter()
        labels, score = method(image, size)
        seconds.append(time.perf_counter() - t0)
        ev = evaluate(labels, truth, score, pixel_size=size, connectivity=4)
        results.append(EvaluateResult(path.stem, path, Path(data) / "masks" / f"{path.stem}_m.tif",
                                      None, ev, size, meta.get("pixel_size_source")))
        if first is None:
            first = (path.stem, image, labels, truth)
    return results, seconds, first


def model_scores(data, model):
    """Mean scores of an exported model on all BAM images (for its model.yaml)."""
    from emseg.workflows import evaluation_table, pooled_scores

    results, seconds, _ = run_benchmark(data, model_method(model), desc="BAM TiO2")
    baseline, _, _ = run_benchmark(data, run_classical, desc="classical")
    table = evaluation_table(results)
    mean = table.iloc[-1]
    held = table.iloc[TUNING_IMAGES:-1][list(SHOWN)].mean()
    pooled = pooled_scores(results, "MinFeret")
    scores = {k: round(float(mean[k]), 4) for k in SHOWN}
    scores.update({"pooled F1@0.5": round(float(pooled["F1"]), 4),
                   "MinFeret median err": round(float(pooled["MinFeret median err"]), 4),
                   "MinFeret KS": round(float(pooled["MinFeret KS"]), 4)})
    return {"data": f"BAM TiO2 SEM, {len(results)} images, rows 0-{DATA_ROWS - 1}, manual "
                    "instance masks (Ruehle et al. 2021; not used for training)",
            "mean": scores,
            f"mean of images {TUNING_IMAGES + 1}-{len(results)}": {
                k: round(float(held[k]), 4) for k in ("IoU", "Inst. IoU (pred)", "F1@0.5")},
            "classical baseline, same images": {
                k: round(float(evaluation_table(baseline).iloc[-1][k]), 4)
                for k in ("IoU", "Inst. IoU (pred)", "F1@0.5")},
            "seconds per image": round(float(np.mean(seconds)), 2)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--method", choices=sorted(METHODS), default="classical",
                   help="segmentation method to benchmark (default classical)")
    p.add_argument("--data", type=Path, default=Path(os.environ.get(
        "EMSEG_BAM_DATA", REPO.parent / "shared" / "data" / "bam-tio2")),
        help="the bam-tio2 folder (default ../shared/data/bam-tio2 or $EMSEG_BAM_DATA)")
    p.add_argument("--model", default=None, metavar="NAME|PATH",
                   help="model for --method model (default: the bundled default model)")
    p.add_argument("--images", type=int, default=None, metavar="N",
                   help="only the first N images (sorted by name)")
    p.add_argument("--output", type=Path, default=None, metavar="DIR",
                   help="write per-image scores (CSV) and an outline overlay PNG here")
    args = p.parse_args(argv)
    if not (args.data / "sem").is_dir() or not (args.data / "masks").is_dir():
        p.exit(2, f"bam_tio2.py: error: no sem/ and masks/ in {args.data}\n")
    if args.images is not None and args.images < 1:
        p.error("--images must be >= 1")

    import pandas as pd

    from emseg import io
    from emseg.workflows import evaluation_table, pooled_scores

    method = METHODS[args.method](args.model)
    results, seconds, first = run_benchmark(args.data, method, args.images, desc=args.method)

    table = evaluation_table(results)
    print(f"BAM TiO2, {len(results)} SEM images, rows 0-{DATA_ROWS - 1}, method {args.method} "
          f"({np.mean(seconds):.2f} s per image on this machine)")
    print(table[["Image", *SHOWN]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    per_image = table.iloc[:-1]
    if len(per_image) > TUNING_IMAGES:
        held = per_image.iloc[TUNING_IMAGES:][list(SHOWN)].mean()
        print(f"mean of the {len(per_image) - TUNING_IMAGES} images not used for tuning: "
              + ", ".join(f"{k} {v:.4f}" for k, v in held.items()))
    pooled = pooled_scores(results, "MinFeret")
    print(f"pooled over all particles: TP {pooled['TP']}, FP {pooled['FP']}, FN {pooled['FN']}, "
          f"F1@0.5 {pooled['F1']:.4f}; MinFeret relative error: mean "
          f"{pooled['MinFeret mean err']:+.2%}, median {pooled['MinFeret median err']:+.2%}, "
          f"D10 {pooled['MinFeret D10 err']:+.2%}, D90 {pooled['MinFeret D90 err']:+.2%}, "
          f"KS {pooled['MinFeret KS']:.4f}")
    print("BAM paper, Table 1 (MultiRes U-Net; its pixel/Rand/information errors are minima "
          "over thresholds with other pair counting, not comparable):")
    for name, ref in PAPER.items():
        print(f"  {name}: " + ", ".join(f"{k} {v:.4f}" for k, v in ref.items()))
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        io.write_table(args.output / f"bam_tio2_{args.method}.csv", table)
        pd.DataFrame([pooled]).to_csv(args.output / f"bam_tio2_{args.method}_pooled.csv", index=False)
        from emseg.plot import outline_overlay
        stem, image, labels, truth = first
        fig = outline_overlay(image, labels, truth,
                              title=f"{stem}: {args.method} (yellow) vs manual (cyan)")
        io.write_png(args.output / f"bam_tio2_{args.method}_{stem}.png", fig)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
