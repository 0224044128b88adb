"""The README's Grad-CAM example (``docs/images/gradcam_example.png``), made with the commands
a user runs: ``emseg train-ensemble`` on synthetic organelle scenes, ``emseg export``, then
``emseg explain --class organelle`` on a new scene; the per-member maps and their weighted
average are put side by side.

The real ssTEM sections of ``../shared/data/drosophila-vnc`` make the better picture
(``benchmarks/em_multiclass.py`` writes one to ``bench-output/``), but their licence forbids
committing anything derived from them, so the README's picture uses EMSeg's generator.

Run: ``python python/scripts/gradcam_picture.py [--work build/gradcam-example]`` (about 15 min
on 2 cores; resumable through ``train-ensemble --resume``).
"""

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CLASSES = "cytoplasm,membrane,organelle"
MEMBERS = "unet_resnet34,unet_vgg19,unet"


def emseg(*args):
    r = subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], text=True)
    if r.returncode:
        raise SystemExit(f"emseg {args[0]} failed ({r.returncode})")


def scene(seed, size=256):
    from emseg.synthetic import organelle_classes
    grey, classes = organelle_classes((size, size), n=9, radius=(12, 22), membrane=4,
                                      noise=0.08, seed=seed)
    return np.clip(grey * 255, 0, 255).astype(np.uint8), classes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=REPO / "build" / "gradcam-example")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--output", type=Path, default=REPO / "docs" / "images" / "gradcam_example.png")
    args = p.parse_args(argv)
    from emseg import io
    work = args.work
    for sub in ("images", "masks"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    for s in range(10):
        image, classes = scene(s)
        io.write_image(work / "images" / f"{s:02d}.tif", image, 4.0)
        io.write_image(work / "masks" / f"{s:02d}.tif", classes, 4.0)
    emseg("train-ensemble", "--images", work / "images", "--masks", work / "masks", "--semantic",
          "--classes", CLASSES, "--instance-classes", "organelle", "--members", MEMBERS,
          "--tile-size", "128", "--base-filters", "16", "--depth", "4", "--epochs", args.epochs,
          "--batch-size", "4", "--learning-rate", "3e-4", "--name", "organelles-example",
          "--output", work / "training", "--resume")
    emseg("export", work / "training", "--models", work / "models", "--overwrite")
    image, _ = scene(99)
    io.write_image(work / "new.tif", image, 4.0)
    emseg("explain", work / "new.tif", "--model", work / "models" / "organelles-example",
          "--class", "organelle", "-o", work / "explained")
    from PIL import Image
    pngs = sorted((work / "explained").glob("new_gradcam_organelle_*.png"),
                  key=lambda f: (f.stem.endswith("_ensemble"), f.stem))
    tiles = [Image.open(f).convert("RGB") for f in pngs]
    height = min(t.height for t in tiles)
    tiles = [t.resize((round(t.width * height / t.height), height)) for t in tiles]
    montage = Image.new("RGB", (sum(t.width for t in tiles), height), "white")
    x = 0
    for t in tiles:
        montage.paste(t, (x, 0))
        x += t.width
    args.output.parent.mkdir(parents=True, exist_ok=True)
    montage.save(args.output, optimize=True)
    print(f"wrote {args.output} from {', '.join(f.name for f in pngs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
