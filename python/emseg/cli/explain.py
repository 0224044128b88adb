"""``emseg explain``: Grad-CAM heat maps of a semantic model's class."""

import sys

from .common import UsageError, finish, pixel_size_arg


def add_parsers(sub):
    """Add the ``explain`` command to the subparsers ``sub``."""
    e = sub.add_parser("explain", help="Grad-CAM maps: where a multi-class model looks for a "
                                       "class",
                       description=(
                           "Grad-CAM (WAE-Net): the gradients of a class's score, summed over "
                           "the pixels the model gives that class, weigh the feature maps at "
                           "the network's bottleneck; the heat map over the image shows what "
                           "the decision rests on (red most, blue least). For an ensemble, one "
                           "map per member and their weighted average. Writes "
                           "<stem>_gradcam_<class>_<member>.png per image."))
    e.add_argument("images", nargs="+", metavar="IMAGE", help="images to explain")
    e.add_argument("--model", required=True, metavar="NAME|DIR",
                   help="a semantic (multi-class) model")
    e.add_argument("--class", dest="class_name", required=True, metavar="NAME",
                   help="the class to explain (e.g. mitochondria)")
    e.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
                   help="pixel size in nm when the files lack it")
    e.add_argument("--output", "-o", default="explained", metavar="DIR",
                   help="output folder (default ./explained)")
    e.set_defaults(func=cmd_explain)


def cmd_explain(args):
    from pathlib import Path

    from ..workflows.files import file_stem

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    from ..models import find_model
    info = find_model(args.model)               # ValueError names the installed models
    if info.task != "semantic":
        raise UsageError(f"model {info.name!r} is a {info.task} model; explain takes a "
                         f"semantic (multi-class) model")
    classes = info.meta["output"]["classes"]
    if args.class_name not in classes:
        raise UsageError(f"--class {args.class_name!r} is not one of {', '.join(classes)}")
    from tqdm import tqdm

    from .. import io
    from ..plot import heat_overlay
    from ..workflows.explain import explain_file, explain_output_paths
    images = [Path(p) for p in args.images]
    inputs = {p.resolve() for p in images}
    failures = []
    for path in tqdm(images, desc="explain", unit="image", file=sys.stderr,
                     disable=len(images) < 2):
        try:
            res = explain_file(path, info, args.class_name, pixel_size=args.pixel_size)
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
            continue
        paths = explain_output_paths(out, file_stem(path), args.class_name, res.maps)
        if any(p.resolve() in inputs for p in paths.values()):
            failures.append(f"{path}: an output would overwrite an input file")
            continue
        out.mkdir(parents=True, exist_ok=True)
        for name, heat in res.maps.items():
            io.write_png(paths[name], heat_overlay(
                res.image, heat, title=f"{path.name}: Grad-CAM of {args.class_name}, {name}"))
        tqdm.write(f"{path}: {', '.join(p.name for p in paths.values())}", file=sys.stdout)
    return finish("explain", failures, len(images), "image(s)")
