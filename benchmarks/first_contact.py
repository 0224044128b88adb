"""Time from command to EMSeg's first line for ``emseg segment`` (a missing file, a good image),
against the peer a command cannot beat: Python importing TensorFlow, measured in the same run.
Also counts TensorFlow's start-up lines on stderr (EMSeg must show none).

    python benchmarks/first_contact.py [--emseg PATH] [--image IMAGE] [--repeat 3]
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOISE = re.compile(r"absl::InitializeLog|oneDNN|cuda|cudart|^[IWE]0000|TensorFlow binary", re.I)


def first_line(cmd):
    """(seconds to the first line that is neither progress bar nor TensorFlow's, that line,
    total seconds, TensorFlow lines, exit code)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         bufsize=1)
    first, noise = None, 0
    for line in p.stdout:
        s = line.strip()
        # progress bars: "3.2tile/s", or "4.59s/tile" when slow
        if not s or "\x1b" in line or "\r" in line or \
                re.search(r"(image|tile|it)/s|s/(image|tile|it)", s):
            continue
        if NOISE.search(s):
            noise += 1
            continue
        if first is None:
            first = (time.perf_counter() - t0, s)
    p.wait()
    return (*(first or (float("nan"), "")), time.perf_counter() - t0, noise, p.returncode)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emseg", default=shutil.which("emseg") or "emseg")
    ap.add_argument("--image", default=str(REPO / "python" / "emseg" / "data" / "sample_sem.tif"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tf = min(first_line([sys.executable, "-c", "import tensorflow; print('ready')"])[2]
             for _ in range(args.repeat))
    print(f"peer: python -c 'import tensorflow': {tf:.2f} s")
    with tempfile.TemporaryDirectory() as d:
        for what, path in (("missing file", "missing.tif"), ("good image", args.image)):
            runs = [first_line([args.emseg, "segment", path, "--output", str(Path(d) / "out")])
                    for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r[0])
            print(f"emseg segment, {what}: first line {best[0]:.2f} s "
                  f"({best[0] / tf:.2f} x the TensorFlow import), total {best[2]:.2f} s, "
                  f"exit {best[4]}, TensorFlow lines on stderr {max(r[3] for r in runs)}: "
                  f"{best[1][:80]}")


if __name__ == "__main__":
    main()
