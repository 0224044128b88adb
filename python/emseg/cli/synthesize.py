"""``emseg synthesize``: training pairs from raw images and a few particle outlines (the BAM
GAN workflow)."""

import argparse
import sys

from .common import EXIT_OK, EXIT_USAGE, UsageError, pixel_size_arg


def _pair(text):
    try:
        lo, hi = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid range {text!r}: give LO,HI (integers)") from None
    return lo, hi


def add_parsers(sub):
    """Add the ``synthesize`` command to the subparsers ``sub``."""
    s = sub.add_parser(
        "synthesize", help="make training pairs from raw images and ~40 particle outlines (GANs)",
        description=(
            "The BAM workflow: a WGAN-GP learns particle shapes from your outlines, generated "
            "particles are assembled into masks with agglomerates, a CycleGAN learns to draw your "
            "images from such masks, and the fake images with their masks (artifact particles "
            "dropped) are written to DIR/images and DIR/masks, ready for 'emseg train --images "
            "DIR/images --masks DIR/masks'. Each step checkpoints; --resume continues an "
            "interrupted run, --step runs one step alone."))
    s.add_argument("--images", nargs="+", required=True, metavar="IMG",
                   help="your raw micrographs (files or folders), used unlabelled")
    s.add_argument("--outlines", metavar="FILE",
                   help="particle outlines: a RoiSet.zip from Fiji's ROI Manager (or a .roi) or "
                        "a label/binary image of isolated particles (needed by the shapes step)")
    s.add_argument("--output", "-o", required=True, metavar="DIR", help="output folder")
    s.add_argument("--step", choices=("shapes", "masks", "cyclegan", "generate"), action="append",
                   help="run only this step (repeatable; default: all four in order)")
    s.add_argument("--resume", action="store_true",
                   help="skip finished steps and continue an interrupted GAN training")
    s.add_argument("--n-images", type=int, default=100, metavar="N",
                   help="training pairs to make (default 100)")
    s.add_argument("--tile-size", type=int, default=256, metavar="PX",
                   help="side of the generated images (default 256)")
    s.add_argument("--shape-epochs", type=int, default=300, metavar="N",
                   help="WGAN-GP epochs (default 300; the paper ran about 1000)")
    s.add_argument("--cyclegan-epochs", type=int, default=10, metavar="N",
                   help="CycleGAN epochs (default 10; constant learning rate for the first "
                        "half, linear decay to 0 over the second)")
    s.add_argument("--cyclegan-steps", type=int, default=200, metavar="N",
                   help="CycleGAN steps per epoch (default 200)")
    s.add_argument("--cyclegan-filters", type=int, default=32, metavar="N",
                   help="CycleGAN generator feature maps (default 32; Zhu et al. 64)")
    s.add_argument("--cyclegan-blocks", type=int, default=6, metavar="N",
                   help="CycleGAN residual blocks (default 6; Zhu et al. 9 for 256 px tiles)")
    s.add_argument("--particles", type=_pair, default=(100, 150), metavar="LO,HI",
                   help="particles per image of your images' size (default 100,150 as the "
                        "paper; scaled to the tile)")
    s.add_argument("--size-sd", type=float, default=0.1, metavar="SD",
                   help="particle size spread: scale N(1, SD), clipped at 3 SD (default 0.1)")
    s.add_argument("--noise-threshold", type=float, default=0.5, metavar="T",
                   help="Perlin noise level above which agglomerates are (default 0.5; 0: anywhere)")
    s.add_argument("--max-overlap", type=float, default=0.5, metavar="F",
                   help="largest hidden fraction of a particle (default 0.5 for SEM; 0.05 for "
                        "TEM-like samples)")
    s.add_argument("--no-rotate", action="store_true", help="do not rotate particles")
    s.add_argument("--dark-background", action="store_true", default=True,
                   help="particles brighter than the background, as in SEM (default)")
    s.add_argument("--bright-background", dest="dark_background", action="store_false",
                   help="particles darker than the background (TEM)")
    s.add_argument("--artifact-filter", choices=("li", "otsu", "mean", "median"), default="li",
                   help="threshold that decides which mask particles the fake image drew "
                        "(default li, as the paper)")
    s.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
                   help="pixel size of the images in nm (overrides their calibration)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.set_defaults(func=cmd_synthesize)


def cmd_synthesize(args):
    from pathlib import Path

    from tqdm import tqdm

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    steps = args.step or ["shapes", "masks", "cyclegan", "generate"]
    if "shapes" in steps and args.outlines is None:
        raise UsageError("--outlines is needed to learn the particle shapes (the shapes step)")
    if args.outlines is not None and not Path(args.outlines).is_file():
        raise UsageError(f"--outlines {args.outlines}: no such file")
    for p in args.images:
        if not Path(p).exists():
            raise UsageError(f"--images {p}: no such file or folder")
    from ..workflows.synthesize import SynthesisSettings, synthesize

    try:
        settings = SynthesisSettings(
            n_images=args.n_images, tile_size=args.tile_size, shape_epochs=args.shape_epochs,
            cyclegan_epochs=args.cyclegan_epochs, cyclegan_steps=args.cyclegan_steps,
            cyclegan_filters=args.cyclegan_filters, cyclegan_blocks=args.cyclegan_blocks,
            particles=tuple(args.particles), size_sd=args.size_sd,
            noise_threshold=args.noise_threshold, max_overlap=args.max_overlap,
            rotate=not args.no_rotate, dark_background=args.dark_background,
            artifact_method=args.artifact_filter, seed=args.seed)
    except ValueError as exc:
        raise UsageError(str(exc).replace("_", "-")) from None
    bars = {}

    def progress(step, done, total, info):
        bar = bars.get(step)
        if bar is None:
            unit = {"shapes": "epoch", "cyclegan": "epoch"}.get(step, "image")
            # first called when the first epoch or image is done: the rate counts from there
            bar = bars[step] = tqdm(total=total, initial=done, desc=step, unit=unit,
                                    file=sys.stderr)
        bar.n = done
        bar.set_postfix({k: (f"{v:.3g}" if isinstance(v, float) else v)
                         for k, v in info.items() if k not in ("epoch", "seconds")}, refresh=False)
        bar.refresh()

    try:
        state = synthesize(args.images, args.outlines, out, settings,
                           pixel_size=None if args.pixel_size is None else args.pixel_size[0],
                           steps=steps, resume=args.resume, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    done = ", ".join(state["done"])
    line = f"{out}: steps done: {done}"
    if "pairs" in state and "generate" in steps:
        line += (f"; {state['pairs']} pairs in {out / 'images'} and {out / 'masks'} "
                 f"({state['particles_kept']} particles kept, {state['particles_dropped']} "
                 f"artifacts dropped) at {state['pixel_size_nm']:.4g} nm per pixel")
    print(line)
    for reason in state.get("skipped_images", []):
        print(f"emseg synthesize: skipped {reason}", file=sys.stderr)
    shapes = state.get("shapes")
    if shapes and "masks" in steps and shapes["kept"] < 0.5 * shapes["generated"]:
        print(f"warning: only {shapes['kept']} of {shapes['generated']} generated shapes are whole "
              "particles (the rest touch their crop's border); train the shapes longer "
              "(--shape-epochs)", file=sys.stderr)
    return EXIT_USAGE if state.get("skipped_images") else EXIT_OK
