"""The README's Grad-CAM example (``docs/images/gradcam_example.jpg``), made with the commands
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
    grey, classes = organelle_classes((size, size), n=9 * (size // 256) ** 2, radius=(12, 22),
                                      membrane=4, noise=0.08, seed=seed)
    return np.clip(grey * 255, 0, 255).astype(np.uint8), classes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=REPO / "build" / "gradcam-example")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--output", type=Path, default=REPO / "docs" / "images" / "gradcam_example.jpg")
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
    image, _ = scene(99, size=512)           # a larger scene than the training tiles
    io.write_image(work / "new.tif", image, 4.0)
    emseg("explain", work / "new.tif", "--model", work / "models" / "organelles-example",
          "--class", "organelle", "-o", work / "explained")
    from PIL import Image
    pngs = sorted((work / "explained").glob("new_gradcam_organelle_*.png"),
                  key=lambda f: (f.stem.endswith("_ensemble"), f.stem))
    tiles = [Image.open(f).convert("RGB") for f in pngs]
    w, h = tiles[0].size
    cols = 2
    rows = -(-len(tiles) // cols)
    montage = Image.new("RGB", (cols * w, rows * h), "white")     # members, then the ensemble
    for i, t in enumerate(tiles):
        montage.paste(t.resize((w, h)), ((i % cols) * w, (i // cols) * h))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # JPEG: the noisy micrograph under the maps makes a PNG ten times larger
    montage = montage.resize((montage.width * 3 // 4, montage.height * 3 // 4), Image.LANCZOS)
    montage.save(args.output, quality=85, optimize=True)
    print(f"wrote {args.output} from {', '.join(f.name for f in pngs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
