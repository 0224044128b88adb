"""Scale: large mosaics in chunks (memory, time per pixel), and a batch of micrographs
segmented serially and as Dask tasks, side by side.

``mosaic``: synthetic SEM mosaics (``--mosaic-sizes``, default 2048 to 20000 px square, 8-bit,
7 nm/px, written as tiled TIFFs without ever being whole in memory) segmented with the
default model by ``emseg segment --chunk-size 2048``, each in a fresh process: peak resident
memory (the goal: below 3 GiB at 20000^2) and time, megapixels per second and how time grows
with the pixel count (linear: the same MP/s at every size). The peer, in the same run: the
whole-image path (``--chunk-size`` not given) on the sizes it can hold.

``batch``: ``--images`` synthetic SEM micrographs (``--size`` px square, calibrated) through
the default model with the job behind ``emseg segment`` (:func:`emseg.workflows.
segment_to_folder`): first one after the other in this process (TensorFlow on every core),
then on a local Dask cluster of ``--workers`` worker processes (one thread each, the model
loaded once per worker), as ``emseg segment --dask`` runs them. Prints images per minute each
way and their ratio, the Dask run's start-up (cluster and model loading, counted in its time),
and whether every CSV is byte-identical between the two runs.

``tomogram``: synthetic tomograms (``--tomogram-sizes``, default up to 512 x 2048 x 2048
float32, 8 GiB on disk; written as MRC slab by slab, synapse tomograms side by side) segmented
in parts (``emseg segment --chunk-size``'s path, :func:`emseg.workflows.large_volume.
segment_large_volume_file`), each in a fresh process: peak resident memory (the goal: below
6 GiB at 512 x 2048 x 2048) and time. The network is a stand-in (pointwise on the normalised
intensity; the benchmark's tomograms mark the vesicles' lumens for it), so that the run is
about the pipeline's memory and time, not a 3D U-Net's hours on 2 CPU cores; the default
model's own share is measured on the smallest size (``--model-size``). The peer, in the same
run: the in-memory path on the sizes it can hold, with its tables compared.

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


def write_mosaic(path, size, block=2048, pixel_size=7.0):
    """A ``size`` x ``size`` 8-bit SEM mosaic of rendered particle scenes (``block`` px each),
    written as a tiled TIFF one band of blocks at a time."""
    import numpy as np

    from emseg.io import TILE, write_tiled_tiff
    from emseg.synthetic import particle_labels, render_micrograph

    def tiles():
        for top in range(0, size, block):
            rows = min(block, size - top)
            band = np.empty((rows, size), np.uint8)
            for left in range(0, size, block):
                cols = min(block, size - left)
                seed = 7919 * top + left
                lab = particle_labels((rows, cols), max(4, rows * cols // 6000), radius=(6, 14),
                                      seed=seed)
                band[:, left:left + cols] = render_micrograph(lab, seed=seed)
            for r in range(0, rows, TILE):
                for c in range(0, size, TILE):
                    yield band[r:r + TILE, c:c + TILE]
    write_tiled_tiff(path, tiles(), (size, size), np.uint8, (pixel_size, pixel_size))


# peak memory from the process's own high-water mark (emseg._memory.peak_rss, KiB here):
# ru_maxrss would carry this benchmark's own peak (writing the test data) into the child
_RUN = ("import sys, time; from emseg.cli import main; from emseg._memory import peak_rss; "
        "t = time.perf_counter(); rc = main(sys.argv[1:]); "
        "print('RESULT', rc, time.perf_counter() - t, peak_rss() // 1024)")


def _segment(args_list):
    """``emseg segment`` in a fresh process: (exit code, seconds, peak RSS in GiB)."""
    import subprocess

    r = subprocess.run([sys.executable, "-c", _RUN, "segment", *map(str, args_list)],
                       capture_output=True, text=True)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")]
    if not line:
        raise SystemExit(f"scale_bench: emseg segment failed: {r.stderr[-2000:]}")
    _, rc, seconds, kib = line[-1].split()
    if int(rc) != 0:
        raise SystemExit(f"scale_bench: emseg segment failed: {r.stderr[-2000:]}")
    return float(seconds), int(kib) / 2 ** 20


def mosaic(args):
    work = Path(tempfile.mkdtemp(prefix="emseg-mosaic-"))
    try:
        print(f"mosaic: synthetic 8-bit SEM mosaics, 7 nm/px, default model, chunks of "
              f"{args.chunk} px, {os.cpu_count()} cores; each run in a fresh process")
        # the fixed cost of a run (Python, TensorFlow, the model): a 256^2 image
        small = work / "startup.tif"
        write_mosaic(small, 256)
        startup, gib0 = _segment([small, "-o", work / "startup", "--chunk-size", args.chunk])
        print(f"  start-up (a 256x256 image): {startup:.1f} s, peak RSS {gib0:.2f} GiB")
        rates = []
        for size in args.mosaic_sizes:
            path = work / f"mosaic{size}.tif"
            write_mosaic(path, size)
            out = work / f"out{size}"
            seconds, gib = _segment([path, "-o", out, "--chunk-size", args.chunk])
            mp = size * size / 1e6
            rates.append(mp / max(seconds - startup, 1e-3))
            print(f"  {size}x{size} ({mp:.0f} MP) in chunks: {seconds:.1f} s, "
                  f"{mp / seconds:.2f} MP/s ({rates[-1]:.2f} MP/s after start-up), "
                  f"peak RSS {gib:.2f} GiB")
            if size <= args.whole_max:
                seconds_w, gib_w = _segment([path, "-o", work / f"whole{size}"])
                same = ((out / f"mosaic{size}_results.csv").read_bytes()
                        == (work / f"whole{size}" / f"mosaic{size}_results.csv").read_bytes())
                print(f"    whole image (the peer): {seconds_w:.1f} s, peak RSS {gib_w:.2f} GiB;"
                      f" chunked/whole time {seconds / seconds_w:.2f}x, memory "
                      f"{gib / gib_w:.2f}x; identical tables: {'yes' if same else 'NO'}")
            shutil.rmtree(out, ignore_errors=True)
            path.unlink()
        print(f"  time per pixel after start-up, largest vs smallest: {rates[0] / rates[-1]:.2f}x"
              " (1.00x = linear in pixels)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


_TOMO_RUN = """
import sys, time
from collections import namedtuple
from pathlib import Path
import numpy as np
import yaml
from emseg._memory import peak_rss
from emseg.models import DEFAULT_VOLUME_MODEL
from emseg.models.registry import find_model
from emseg.workflows.batch import segment_to_folder

path, out, chunk, network = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
info = find_model(DEFAULT_VOLUME_MODEL)
if network == "model":
    from emseg.models.saved import SavedModelPredictor
    predictor = SavedModelPredictor(info)
else:
    class StandIn:
        meta = yaml.safe_load((info.path / "model.yaml").read_text())
        info = namedtuple("Info", "name")("stand-in")

        def __call__(self, batch):
            return (1 / (1 + np.exp(-25 * (batch - 0.8)))).astype(np.float32)
    predictor = StandIn()
t0 = time.perf_counter()
res = segment_to_folder(Path(path), Path(out), model=predictor,
                        chunk_size=None if chunk == "whole" else int(chunk))
seconds = time.perf_counter() - t0
print("\\n".join(res.lines), file=sys.stderr)
print("RESULT", 1 if res.error else 0, seconds,
      peak_rss() // 1024, res.error or "")
"""


def write_tomogram(path, shape, voxel_size=2.2):
    """A float32 tomogram of ``shape`` (z, y, x) made of synthetic synapse tomograms side by
    side (their vesicles' lumens a little brighter, for the stand-in network), written as MRC
    one slab at a time."""
    import mrcfile
    import numpy as np
    from scipy import ndimage as ndi

    from emseg.synthetic import synapse_tomogram

    tile = tuple(min(n, m) for n, m in zip(shape, (64, 256, 256)))
    t = synapse_tomogram(tile, voxel_size=voxel_size, n_vesicles=max(4, tile[1] * tile[2] //
                                                                    1100), seed=7)
    block = t.volume.astype(np.float32)
    block[ndi.binary_erosion(t.labels > 0, iterations=3)] += 1.5 * float(block.std())
    reps = [-(-n // m) for n, m in zip(shape[1:], tile[1:])]
    with mrcfile.new_mmap(path, shape=shape, mrc_mode=2, overwrite=True) as mrc:
        for z in range(0, shape[0], tile[0]):
            slab = np.tile(block, (1, *reps))[:min(tile[0], shape[0] - z), :shape[1], :shape[2]]
            mrc.data[z:z + slab.shape[0]] = slab
        mrc.voxel_size = voxel_size * 10
    return path


def _tomo_run(path, out, chunk, network):
    import subprocess

    r = subprocess.run([sys.executable, "-c", _TOMO_RUN, str(path), str(out), str(chunk),
                        network], capture_output=True, text=True)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")]
    if not line or line[-1].split()[1] != "0":
        raise SystemExit(f"scale_bench: tomogram run failed: {(line or [''])[-1]} "
                         f"{r.stderr[-2000:]}")
    _, _, seconds, kib = line[-1].split()[:4]
    return float(seconds), int(kib) / 2 ** 20


def tomogram(args):
    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="emseg-tomogram-"))
    try:
        print(f"tomogram: synthetic float32 tomograms (MRC), 2.2 nm voxels, segmented in parts "
              f"(chunks of {args.tomo_chunk} voxels), {os.cpu_count()} cores; each run in a "
              "fresh process")
        for shape in args.tomogram_sizes:
            path = write_tomogram(work / "tomo.mrc", shape)
            gv = float(np.prod(shape)) / 1e9
            gib_disk = path.stat().st_size / 2 ** 30
            for network in (("stand-in", "model") if shape == args.model_size
                            else ("stand-in",)):
                out = work / "parts"
                seconds, gib = _tomo_run(path, out, args.tomo_chunk, network)
                line = (f"  {'x'.join(map(str, shape))} ({gib_disk:.2f} GiB on disk), "
                        f"{network} network, in parts: {seconds:.1f} s "
                        f"({gv * 1e3 / seconds:.2f} M voxels/s), peak RSS {gib:.2f} GiB")
                if np.prod(shape) <= args.tomo_whole_max:
                    whole = work / "whole"
                    seconds_w, gib_w = _tomo_run(path, whole, "whole", network)
                    same = all((out / f"tomo_{n}").read_bytes() == (whole / f"tomo_{n}")
                               .read_bytes() for n in ("vesicles.csv", "vesicles.mod"))
                    line += (f"; in memory (the peer): {seconds_w:.1f} s, peak RSS "
                             f"{gib_w:.2f} GiB; identical tables: {'yes' if same else 'NO'}")
                    shutil.rmtree(whole, ignore_errors=True)
                print(line, flush=True)
                shutil.rmtree(out, ignore_errors=True)
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    p.add_argument("--part", choices=("mosaic", "batch", "tomogram", "all"), default="all")
    shape = lambda t: tuple(int(v) for v in t.split("x"))  # noqa: E731
    p.add_argument("--tomogram-sizes", type=lambda t: [shape(v) for v in t.split(",")],
                   default=[(128, 512, 512), (256, 1024, 1024), (512, 2048, 2048)],
                   help="ZxYxX,... (default 128x512x512,256x1024x1024,512x2048x2048)")
    p.add_argument("--model-size", type=shape, default=(128, 512, 512),
                   help="the size also run with the default model (ZxYxX)")
    p.add_argument("--tomo-chunk", type=int, default=128, help="chunk edge (voxels)")
    p.add_argument("--tomo-whole-max", type=int, default=256 * 1024 * 1024,
                   help="largest tomogram (voxels) also segmented in memory (the peer)")
    p.add_argument("--mosaic-sizes", type=lambda t: [int(v) for v in t.split(",")],
                   default=[2048, 4096, 8192, 20000])
    p.add_argument("--chunk", type=int, default=2048, help="chunk side (px)")
    p.add_argument("--whole-max", type=int, default=8192,
                   help="largest mosaic also segmented whole (the peer)")
    p.add_argument("--quick", action="store_true",
                   help="mosaics of 512 and 1024 px in chunks of 256, 4 batch images of 256 px "
                        "(a smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.images, args.size = 4, 256
        args.mosaic_sizes, args.chunk, args.whole_max = [512, 1024], 256, 1024
        args.tomogram_sizes, args.model_size = [(32, 96, 96)], (0, 0, 0)
        args.tomo_chunk = 48
    if args.part in ("mosaic", "all"):
        mosaic(args)
    if args.part in ("tomogram", "all"):
        tomogram(args)
    return batch(args) if args.part in ("batch", "all") else 0


if __name__ == "__main__":
    sys.exit(main())
