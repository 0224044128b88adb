"""Scale: a batch of micrographs segmented serially and as Dask tasks, side by side.

``batch``: ``--images`` synthetic SEM micrographs (``--size`` px square, calibrated) through
the default model with the job behind ``emseg segment`` (:func:`emseg.workflows.
segment_to_folder`): first one after the other in this process (TensorFlow on every core),
then on a local Dask cluster of ``--workers`` worker processes (one thread each, the model
loaded once per worker), as ``emseg segment --dask`` runs them. Prints images per minute each
way and their ratio, the Dask run's start-up (cluster and model loading, counted in its time),
and whether every CSV is byte-identical between the two runs.

Run: ``python benchmarks/scale_bench.py [--quick]``; tests never assert its timings.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def make_images(folder, n, size):
    from emseg.io import write_image
    from emseg.synthetic import particle_labels, render_micrograph

    paths = []
    for i in range(n):
        lab = particle_labels((size, size), max(4, size * size // 4000), radius=(6, 14),
                              seed=100 + i)
        path = folder / f"sem{i:03d}.tif"
        write_image(path, render_micrograph(lab, seed=i), 7.0)
        paths.append(path)
    return paths


def batch(args):
    from emseg.models.saved import SEGMENTING_TASKS, load_predictor
    from emseg.workflows import dask_client, run_jobs, segment_to_folder

    work = Path(tempfile.mkdtemp(prefix="emseg-scale-"))
    try:
        paths = make_images(work, args.images, args.size)
        model = load_predictor(args.model, task=SEGMENTING_TASKS, lazy=True)
        out = {"serial": work / "serial", "dask": work / "dask"}
        calls = {k: [((p, o, model), {}) for p in paths] for k, o in out.items()}
        t0 = time.perf_counter()
        serial = run_jobs(segment_to_folder, calls["serial"])
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        with dask_client(workers=args.workers) as client:
            t_start = time.perf_counter() - t0
            dask = run_jobs(segment_to_folder, calls["dask"], client=client)
        t_dask = time.perf_counter() - t0
        bad = [o.error for o in serial + dask if o.error]
        if bad:
            raise SystemExit(f"scale_bench: {bad[0]}")
        csvs = sorted(p.name for p in out["serial"].glob("*.csv"))
        same = all((out["serial"] / n).read_bytes() == (out["dask"] / n).read_bytes()
                   for n in csvs) and csvs == sorted(p.name for p in out["dask"].glob("*.csv"))
        name = model.info.name
        print(f"batch: {args.images} images of {args.size}x{args.size} px, model {name}, "
              f"{os.cpu_count()} cores")
        print(f"  serial (this process, TensorFlow on all cores): {t_serial:.1f} s, "
              f"{60 * args.images / t_serial:.1f} images/min (model loading included)")
        print(f"  --dask, {args.workers} workers x 1 thread: {t_dask:.1f} s, "
              f"{60 * args.images / t_dask:.1f} images/min (cluster start {t_start:.1f} s and "
              f"model loading per worker included)")
        print(f"  dask/serial throughput: {t_serial / t_dask:.2f}x; identical CSVs: "
              f"{'yes' if same else 'NO'} ({len(csvs)} files)")
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--model", default=None, help="model (default: the default SEM model)")
    p.add_argument("--quick", action="store_true", help="4 images of 256 px (a smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.images, args.size = 4, 256
    return batch(args)


if __name__ == "__main__":
    sys.exit(main())
