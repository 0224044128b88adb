"""Segmentation speed: EMSeg's tiled inference versus a plain Keras predict.

For each architecture (FRU-Net, MultiRes U-Net, U-Net; the size of the
default model unless --base-filters/--depth say otherwise) on one
``--size`` x ``--size`` image (default 2048), in the same run:

- forward-pass throughput (megapixels/s) of a plain ``model.predict`` on the
  whole image in one piece (the peer) and of the exported SavedModel through
  :func:`emseg.segment.predict_tiled` (tiles + blending), with their ratio:
  the tiling overhead;
- peak memory of :func:`emseg.segment.predict_tiled` on a ``--memory-size``
  square image (default 20000) with a NumPy stand-in network, in a
  subprocess, against the size of its input and output arrays;
- peak memory and time of :func:`emseg.segment.predict_tiled` on a
  ``--volume-size`` tomogram (default 128 x 512 x 512) read memory-mapped from
  MRC (:func:`emseg.io.read_volume`), 64^3 tiles, against the size of its
  output and against the same voxels tiled plane by plane in 2D (same code);
- end-to-end ``emseg segment``-equivalent time of the default model (data bar
  detection, rescale, tiled prediction, post-processing, measurement:
  :func:`emseg.workflows.segment_file`) versus its bare forward pass on the whole
  image in one call (goal: at most 1.2x).

Architecture throughput uses untrained weights (speed does not depend on
them); the end-to-end time needs the trained default model, whose output
decides how much post-processing there is. Prints ratios; tests
never assert timings. Run: ``python benchmarks/segment_bench.py [--size N]``.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=2048, help="image side in pixels (default 2048)")
    p.add_argument("--architectures", default="fru_net,multires_unet,unet")
    p.add_argument("--base-filters", type=int, default=8)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--tile-size", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeat", type=int, default=2, help="best of N runs (default 2)")
    p.add_argument("--memory-size", type=int, default=20000,
                   help="side of the image for the memory test (0 = skip; default 20000)")
    p.add_argument("--volume-size", default="128,512,512",
                   help="Z,Y,X of the tomogram for the 3D tiling test (0 = skip)")
    p.add_argument("--volume-e2e-size", default="64,256,256",
                   help="Z,Y,X of the synthetic tomogram segmented end to end with the default "
                        "volume model, for the post-processing share (0 = skip)")
    args = p.parse_args(argv)
    if args.size < 64 or args.repeat < 1:
        p.error("--size must be >= 64 and --repeat >= 1")

    from emseg import io
    from emseg.models._tf import keras
    from emseg.workflows import segment_file
    from emseg.models import ModelConfig, find_model
    from emseg.models.networks import build_model
    from emseg.models.saved import SavedModelPredictor, export_model
    from emseg.segment import predict_tiled
    from emseg.synthetic import sem_agglomerates

    px = 8.0
    s = sem_agglomerates((args.size, args.size), pixel_size=px, seed=1)
    mpix = args.size ** 2 / 1e6
    print(f"{args.size}x{args.size} synthetic SEM image ({mpix:.1f} MP), tiles {args.tile_size}, "
          f"batch {args.batch_size}, best of {args.repeat}; CPU threads: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        image_path = Path(tmp) / "image.tif"
        io.write_image(image_path, s.image, px)
        for arch in [a for a in args.architectures.split(",") if a]:
            config = ModelConfig(name=f"bench-{arch}", architecture=arch, classes=["particle", "boundary"],
                                 base_filters=args.base_filters, depth=args.depth, pixel_size=px,
                                 tile_size=args.tile_size, halo=args.tile_size // 8)
            model = build_model(config)
            export_model(model, config, Path(tmp) / config.name)
            predictor = SavedModelPredictor(find_model(Path(tmp) / config.name))
            x = (s.image.astype(np.float32) / 255)[None, ..., None]
            model.predict(x, verbose=0)
            t_plain = best_of(lambda: model.predict(x, verbose=0), args.repeat)
            norm = predictor.meta["normalization"]

            def tiled():
                predict_tiled(s.image, predictor, tile_size=config.tile_size, halo=config.halo,
                              channels=2, normalization=norm, batch_size=args.batch_size)
            tiled()
            t_tiled = best_of(tiled, args.repeat)
            end = lambda: segment_file(image_path, predictor, batch_size=args.batch_size)  # noqa: E731
            end()   # warm-up: Numba kernels of the measurement compile on first use
            t_end = best_of(end, args.repeat)
            print(f"{arch:14s} plain predict {mpix / t_plain:6.2f} MP/s | tiled {mpix / t_tiled:6.2f} "
                  f"MP/s (tiled/plain time {t_tiled / t_plain:.2f}x) | end-to-end segment "
                  f"{t_end:.2f} s (untrained weights)", flush=True)
            keras.backend.clear_session()
        try:
            default = SavedModelPredictor(find_model(None))
        except ValueError as exc:
            print(f"default model: not installed ({exc})")
        else:
            dpx = default.meta["pixel_size_nm"]
            d = sem_agglomerates((args.size, args.size), pixel_size=dpx, seed=2)
            dpath = Path(tmp) / "default.tif"
            io.write_image(dpath, d.image, dpx)
            from emseg.segment import normalize
            n = default.meta["normalization"]
            whole = normalize(d.image, n["low"], n["high"])[None, ..., None]
            default(whole)
            t_bare = best_of(lambda: default(whole), args.repeat)
            end = lambda: segment_file(dpath, default, batch_size=args.batch_size)  # noqa: E731
            seg = end()
            t_end = best_of(end, args.repeat)
            print(f"default model {default.info.name}: bare forward pass on the whole image "
                  f"{t_bare:.2f} s ({mpix / t_bare:.2f} MP/s); end-to-end segment {t_end:.2f} s = "
                  f"{t_end / t_bare:.2f}x the bare forward pass (goal <= 1.2x); "
                  f"{len(seg.table)} particles", flush=True)
    if args.volume_e2e_size != "0":
        volume_end_to_end(tuple(int(v) for v in args.volume_e2e_size.split(",")), args.repeat)
    if args.memory_size:
        memory(args.memory_size, args.tile_size)
    if args.volume_size != "0":
        volume_memory(tuple(int(v) for v in args.volume_size.split(",")))
    return 0


def volume_end_to_end(shape, repeat):
    """The cryo-ET pipeline (:func:`emseg.segment.segment_volume`, default volume model,
    sphere refinement on) on a synthetic synapse tomogram: its time against the network's
    own calls and the tiled prediction alone (same blocks), i.e. the post-processing share."""
    from emseg.models import DEFAULT_VOLUME_MODEL, find_model
    from emseg.models.saved import SavedModelPredictor
    from emseg.segment import predict_tiled, segment_volume
    from emseg.segment.volume import volume_model_settings
    from emseg.synthetic import synapse_tomogram

    try:
        model = SavedModelPredictor(find_model(DEFAULT_VOLUME_MODEL))
    except ValueError as exc:
        print(f"default volume model: not installed ({exc})")
        return
    classes, px, tile, halo, divisor, norm, _ = volume_model_settings(model.meta)
    t = synapse_tomogram(shape, voxel_size=px, n_vesicles=max(4, shape[1] * shape[2] // 1100),
                         seed=3)
    volume = t.volume.astype(np.float32)
    spent = [0.0]

    def timed(batch):
        t0 = time.perf_counter()
        out = model(batch)
        spent[0] += time.perf_counter() - t0
        return out

    def tiled():
        predict_tiled(volume, model, tile_size=tile, halo=halo, channels=len(classes),
                      normalization=norm, divisor=divisor)

    tiled()                                             # warm-up
    t_tiled = best_of(tiled, repeat)
    segment_volume(volume, timed, model.meta, voxel_size=px)   # warm-up (Numba, FFT plans)
    times, nets = [], []
    for _ in range(repeat):
        spent[0] = 0.0
        t0 = time.perf_counter()
        seg = segment_volume(volume, timed, model.meta, voxel_size=px)
        times.append(time.perf_counter() - t0)
        nets.append(spent[0])
    k = int(np.argmin(times))
    t_end, t_net = times[k], nets[k]
    print(f"volume: {'x'.join(map(str, shape))} synthetic tomogram at {px} nm, default model "
          f"{model.info.name}, {len(seg.spheres.radii)} vesicles: end-to-end segment_volume "
          f"{t_end:.2f} s; network calls {t_net:.2f} s, tiled prediction alone {t_tiled:.2f} s; "
          f"post-processing (thresholds, segments, growth, sphere refinement) "
          f"{t_end - t_tiled:.2f} s = {(t_end - t_tiled) / t_end:.0%} of the time; end to end "
          f"= {t_end / t_net:.2f}x the network's calls", flush=True)


MEMORY_CODE = """
import sys, time
import numpy as np
from emseg._memory import peak_rss
from emseg.segment import predict_tiled
n, tile = int(sys.argv[1]), int(sys.argv[2])
image = np.random.default_rng(0).integers(0, 256, (n, n), dtype=np.uint8)
base = peak_rss() // 1024
t0 = time.perf_counter()
out = predict_tiled(image, lambda b: b, tile_size=tile, halo=tile // 8, channels=1,
                    normalization={"mode": "image", "low": 1, "high": 99.8}, batch_size=16)
print(peak_rss() // 1024, base, time.perf_counter() - t0)
"""


def memory(n, tile):
    """Peak resident memory of tiled prediction on an n x n 8-bit image."""
    import subprocess

    r = subprocess.run([sys.executable, "-c", MEMORY_CODE, str(n), str(tile)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        print(f"memory test failed: {r.stderr.strip().splitlines()[-1]}")
        return
    peak_kb, _, seconds = r.stdout.split()
    gb = 1024 ** 2
    arrays = n * n * (1 + 4) / 1024 ** 3
    print(f"memory: {n}x{n} 8-bit image, tiled prediction (NumPy stand-in network): peak "
          f"{int(peak_kb) / gb:.2f} GB resident (its input + float32 output alone: {arrays:.2f} GB), "
          f"{float(seconds):.0f} s")


VOLUME_CODE = """
import os, sys, tempfile, time
import mrcfile
import numpy as np
from emseg._memory import peak_rss
from emseg.io import read_volume
from emseg.segment import predict_tiled
shape = tuple(int(v) for v in sys.argv[1:4])
path = os.path.join(tempfile.mkdtemp(), "tomo.mrc")
with mrcfile.new_mmap(path, shape=shape, mrc_mode=0) as m:   # int8 voxels, written in planes
    for z in range(shape[0]):
        m.data[z] = np.random.default_rng(z).integers(-100, 100, shape[1:], dtype=np.int8)
    m.voxel_size = 22.0
vol, size, _ = read_volume(path)
net = lambda b: b
norm = {"mode": "image", "low": 1, "high": 99.8}
base = peak_rss() // 1024
t0 = time.perf_counter()
out = predict_tiled(vol, net, tile_size=64, halo=8, channels=1, normalization=norm, batch_size=8)
t3 = time.perf_counter() - t0
peak = peak_rss() // 1024
del out
t0 = time.perf_counter()
for z in range(shape[0]):
    predict_tiled(vol[z], net, tile_size=256, halo=32, channels=1, normalization=norm, batch_size=8)
t2 = time.perf_counter() - t0
print(peak, base, t3, t2)
"""


def volume_memory(shape):
    """Peak resident memory of 3D tiled prediction on a memory-mapped MRC tomogram."""
    import subprocess

    r = subprocess.run([sys.executable, "-c", VOLUME_CODE, *map(str, shape)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        print(f"volume test failed: {r.stderr.strip().splitlines()[-1]}")
        return
    peak_kb, base_kb, t3, t2 = r.stdout.split()
    gb = 1024 ** 2
    output = np.prod(shape) * 4 / 1024 ** 3
    print(f"volume: {'x'.join(map(str, shape))} int8 MRC (memory-mapped), 3D tiles 64^3 halo 8 "
          f"(NumPy stand-in network): peak {int(peak_kb) / gb:.2f} GB resident, "
          f"{(int(peak_kb) - int(base_kb)) / gb:.2f} GB above start (float32 output alone: "
          f"{output:.2f} GB); {float(t3):.1f} s, {float(t3) / float(t2):.2f}x the time of the "
          f"same voxels tiled plane by plane in 2D")


if __name__ == "__main__":
    sys.exit(main())
