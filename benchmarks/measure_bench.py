"""Measurement speed: EMSeg vs ImageJ's ParticleAnalyzer vs scikit-image regionprops.

All three measure the same label images in one run and the script prints
particles per second and ratios. Inputs: a synthetic 4096x4096 label image with
about 10,000 touching particles, and the 24 manual masks of the BAM TiO2 data
(``../shared/data/bam-tio2``; skipped when absent).

Peers:
- ImageJ per label: ImageJ 1.x (ij.jar via JPype) measures each label alone in
  its bounding box, as the reference tables were made (includes JPype call
  overhead per label).
- ImageJ one pass: a single ``ParticleAnalyzer.analyze`` over a binary mask
  (ImageJ's everyday use); EMSeg is timed on the same mask.
- scikit-image: ``regionprops_table`` with the nearest equivalent properties
  (area, centroid, perimeter, bbox, axis lengths, orientation, feret_diameter_max,
  solidity); it has no MinFeret and differs numerically (see README).

Run: ``python benchmarks/measure_bench.py`` (``--help`` for options).
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from emseg.measure import measure
from emseg.synthetic import particle_labels

REPO = Path(__file__).resolve().parents[1]


def timed(fn, repeat=1):
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def skimage_measure(labels):
    from skimage.measure import regionprops_table
    return regionprops_table(labels, properties=(
        "label", "area", "centroid", "perimeter", "bbox", "axis_major_length",
        "axis_minor_length", "orientation", "feret_diameter_max", "solidity"))


def imagej_one_pass(mask):
    """Time one ParticleAnalyzer run over a binary mask, inside the JVM."""
    from emseg.imagej import start_imagej
    from emseg.imagej.java import jarray
    ij = start_imagej()
    h, w = mask.shape
    flat = np.ascontiguousarray(np.where(mask, 255, 0).astype(np.uint8)).view(np.int8).ravel()
    ip = ij.process.ByteProcessor(w, h, jarray("b", flat), None)
    PA = ij.plugin.filter.ParticleAnalyzer
    M = ij.measure.Measurements
    meas = (M.AREA | M.CENTROID | M.PERIMETER | M.RECT | M.ELLIPSE | M.SHAPE_DESCRIPTORS
            | M.FERET)

    def run():
        work = ip.duplicate()
        work.setThreshold(255, 255, ij.process.ImageProcessor.NO_LUT_UPDATE)
        rt = ij.measure.ResultsTable()
        pa = PA(PA.SHOW_NONE, meas, rt, 0.0, math.inf)
        pa.setHideOutputImage(True)
        pa.analyze(ij.ImagePlus("mask", work), work)
        return rt.size()
    run()  # JIT warm-up of the JVM
    return timed(run, repeat=3)


def report(name, rows):
    print(f"\n{name}")
    print(f"  {'method':<34}{'particles':>10}{'seconds':>10}{'particles/s':>14}{'EMSeg speed-up':>16}")
    base = rows[0]
    for label, n, sec in rows:
        ratio = (n / sec) and (base[1] / base[2]) / (n / sec)
        print(f"  {label:<34}{n:>10d}{sec:>10.3f}{n / sec:>14.0f}{ratio:>15.2f}x")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=4096, help="synthetic image side (default 4096)")
    p.add_argument("--particles", type=int, default=11000,
                   help="particles placed in the synthetic image (default 11000, ~10,000 remain)")
    p.add_argument("--bam-dir", type=Path, default=REPO.parent / "shared" / "data" / "bam-tio2")
    p.add_argument("--no-imagej", action="store_true", help="skip the ImageJ peers")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    measure(particle_labels((64, 64), 5, seed=0))
    print(f"EMSeg one-off Numba compilation/cache load: {time.perf_counter() - t0:.2f} s")

    datasets = []
    labels = particle_labels((args.size, args.size), args.particles, radius=(6, 20), seed=42)
    datasets.append((f"synthetic {args.size}x{args.size}", [labels]))
    if (args.bam_dir / "masks").is_dir():
        import tifffile
        from skimage.measure import label
        masks = sorted((args.bam_dir / "masks").glob("*_m.tif"))
        datasets.append((f"BAM TiO2 manual masks ({len(masks)} images, 4-connected labels)",
                         [label(tifffile.imread(m) > 0, connectivity=1) for m in masks]))
    else:
        print(f"(BAM data not found at {args.bam_dir}: skipped)")

    for name, images in datasets:
        n = sum(int(len(np.unique(im)) - 1) for im in images)
        sec_e, tables = timed(lambda: [measure(im) for im in images], repeat=3)
        n_e = sum(len(t) for t in tables)
        rows = [("EMSeg measure (labels)", n_e, sec_e)]
        sec_s, _ = timed(lambda: [skimage_measure(im) for im in images])
        rows.append(("scikit-image regionprops_table", n, sec_s))
        if not args.no_imagej:
            from emseg.imagej import imagej_measure
            sec_i, tabs = timed(lambda: [imagej_measure(im) for im in images])
            rows.append(("ImageJ per label (JPype)", sum(len(t) for t in tabs), sec_i))
        report(name, rows)
        if not args.no_imagej:
            masks = [im > 0 for im in images]
            sec_m, tabs = timed(lambda: [measure(m) for m in masks], repeat=3)
            n_m = sum(len(t) for t in tabs)
            ij_sec, ij_n = 0.0, 0
            for m in masks:
                s, k = imagej_one_pass(m)
                ij_sec += s
                ij_n += k
            report(f"{name}, as one binary mask (8-connected particles)",
                   [("EMSeg measure (mask)", n_m, sec_m),
                    ("ImageJ ParticleAnalyzer one pass", ij_n, ij_sec)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
