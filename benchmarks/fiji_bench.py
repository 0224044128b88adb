"""Fiji bridge speed: NumPy <-> ImagePlus conversion and the two plugin backends.

Conversion (goal: a 2048x2048 float32 image both ways in under 50 ms) is timed
against ImageJ's own in-JVM copy of the same plane (``FloatProcessor.duplicate``)
and NumPy's copy, in the same run. The backends segment the same image through
``IJ.run("Segment Particles...")``: in-process (JPype) vs command line
(``python -m emseg`` on temporary TIFFs, which pays a Python + TensorFlow start
per call).

Run: ``python benchmarks/fiji_bench.py`` (``--help`` for options).
"""

import argparse
import os
import sys

import numpy as np

from segment_bench import best_of  # same folder; imports no TensorFlow at module level


def conversion(size, repeat):
    from emseg.imagej.fiji import from_imageplus, to_imageplus
    rng = np.random.default_rng(0)
    image = rng.random((size, size), dtype=np.float32)
    imp = to_imageplus(image, pixel_size=5.0)
    ip = imp.getProcessor()
    to = best_of(lambda: to_imageplus(image, pixel_size=5.0), repeat)
    back = best_of(lambda: from_imageplus(imp), repeat)
    java = best_of(lambda: ip.duplicate(), repeat)
    numpy = best_of(lambda: image.copy(), repeat)
    arr, _ = from_imageplus(imp)
    assert np.array_equal(arr, image)
    print(f"{size}x{size} float32: NumPy->ImagePlus {to * 1e3:.1f} ms, ImagePlus->NumPy "
          f"{back * 1e3:.1f} ms, both {(to + back) * 1e3:.1f} ms (goal < 50 ms)")
    print(f"  peers: ImageJ FloatProcessor.duplicate {java * 1e3:.1f} ms, NumPy copy "
          f"{numpy * 1e3:.1f} ms; both ways / (2 x ImageJ copy) = {(to + back) / (2 * java):.2f}x")
    return to + back


def backends(repeat):
    from emseg.imagej.java import jclass
    from emseg.workflows import sample_files
    IJ = jclass("ij.IJ")
    imp = IJ.openImage(str(sample_files()[0]))
    imp.show()
    times = {}
    for backend in ("in-process", "command-line"):
        IJ.run("EMSeg Options...", f"python=[{sys.executable}] models=[] model=emseg-particles-sem "
                                   f"backend={backend}")
        # the first in-process call loads the model once; time steady state
        IJ.run(imp, "Segment Particles...", "model=emseg-particles-sem pixel_size=0 threshold=0")
        err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
        if err:
            raise SystemExit(f"{backend}: {err}")
        times[backend] = best_of(lambda: IJ.run(imp, "Segment Particles...",
                                                "model=emseg-particles-sem pixel_size=0 threshold=0"),
                                 repeat)
    rows = jclass("org.emseg.fiji.Display").table("EMSeg Results").rows()
    print(f"Segment Particles on the bundled sample (768x640, {rows} particles): in-process "
          f"{times['in-process']:.2f} s, command line {times['command-line']:.2f} s "
          f"({times['command-line'] / times['in-process']:.2f}x)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048, help="conversion image side (default 2048)")
    p.add_argument("--repeat", type=int, default=10, help="best of N (default 10)")
    p.add_argument("--no-backends", action="store_true", help="only time the conversion")
    args = p.parse_args(argv)
    if args.size < 1 or args.repeat < 1:
        p.error("--size and --repeat must be at least 1")
    from emseg.imagej.fiji import ImageJUnavailable, start
    try:
        start()
    except ImageJUnavailable as exc:
        print(f"fiji_bench: {exc}", file=sys.stderr)
        return 2
    conversion(args.size, args.repeat)
    if not args.no_backends:
        backends(min(args.repeat, 2))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no Python teardown under the running JVM (see emseg.cli._exit_with_jvm)
