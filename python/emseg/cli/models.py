"""``emseg export`` (EMSeg folder or Zoo package), ``import-model`` and ``models``."""

from .common import EXIT_OK, UsageError, pixel_size_arg


def add_parsers(sub):
    """Add the ``export``, ``import-model`` and ``models`` commands to the subparsers ``sub``."""
    x = sub.add_parser("export", help="export a trained model (EMSeg model folder or BioImage "
                                      "Model Zoo package)",
                       description=(
                           "Write models/<name>/ (TF SavedModel, config.json, model.yaml) from a "
                           "training folder made by 'emseg train' (its best checkpoint). With "
                           "--format bioimageio, write a BioImage Model Zoo package (rdf.yaml, "
                           "TF SavedModel and Keras weights, test tensors, cover, README) of a "
                           "training folder, a model folder or an installed model's name to "
                           "--output (a folder, or a .zip), validated with bioimageio.spec."))
    x.add_argument("training", metavar="TRAINING_DIR|MODEL",
                   help="folder written by 'emseg train'; with --format bioimageio also a model "
                        "folder or name")
    x.add_argument("--format", choices=("emseg", "bioimageio"), default="emseg",
                   help="emseg: a model folder (default); bioimageio: a Zoo package")
    x.add_argument("--output", metavar="DIR|ZIP",
                   help="with --format bioimageio: the package folder or .zip to write")
    x.add_argument("--models", metavar="DIR", default="models",
                   help="models folder to export into (default: ./models)")
    x.add_argument("--name", help="model name (default: the training config's)")
    x.add_argument("--description", help="one-line description for model.yaml")
    x.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    x.set_defaults(func=cmd_export)

    im = sub.add_parser("import-model", help="install a BioImage Model Zoo package or a Keras "
                                             "HDF5 model as an EMSeg model",
                        description=(
                            "bioimageio: validate a BioImage Model Zoo package (rdf.yaml, its "
                            "folder or .zip) with bioimageio.spec and install it as an EMSeg "
                            "model folder: TensorFlow SavedModel or Keras weights, pixel size "
                            "from the axes, percentile normalisation from the pre-processing; "
                            "the package's test input is run through EMSeg and compared with "
                            "its test output. keras: turn any Keras HDF5 segmentation model "
                            "(2D or 3D; architecture and weights in one .h5) into an EMSeg "
                            "model folder, with its pixel size, tile/block size, halo and "
                            "normalisation given as options. cryovesnet: the same with "
                            "CryoVesNet's settings (2.2 nm voxels, 64^3 blocks, 4-voxel margin, "
                            "tomograms standardised). No Lambda layers or custom objects: "
                            "EMSeg never runs code from a file."))
    im.add_argument("kind", choices=("bioimageio", "keras", "cryovesnet"), help="what SOURCE is")
    im.add_argument("source", metavar="SOURCE", help="rdf.yaml, package folder or .zip; or a "
                                                     "Keras .h5 file")
    im.add_argument("--output", "-o", metavar="DIR",
                    help="the model folder to write (instead of --models/NAME)")
    im.add_argument("--name", help="model name (default: the package's, preset's or file's)")
    im.add_argument("--models", metavar="DIR",
                    help="models folder to install into (default: the user model folder)")
    im.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
                    help="pixel (voxel) size in nm the network works at (bioimageio: when the "
                         "package's axes have no length unit)")
    im.add_argument("--tile-size", type=int, metavar="PX",
                    help="keras: inference tile (3D: block) side (default 4x the divisor)")
    im.add_argument("--halo", type=int, metavar="PX",
                    help="keras: overlap margin of the tiles (default tile / 8)")
    im.add_argument("--normalization", metavar="MODE",
                    help="keras: 'image:LOW,HIGH' (percentiles of the whole image, default "
                         "image:1,99.8), 'patch:LOW,HIGH' (per tile) or 'standardize' (mean 0, "
                         "SD 1)")
    im.add_argument("--classes", metavar="NAMES",
                    help="keras: comma-separated output class names (default vesicle for 3D, "
                         "particle for 2D)")
    im.add_argument("--threshold", type=float, metavar="T",
                    help="keras: a fixed probability threshold (3D default: the shell rule)")
    im.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    im.set_defaults(func=cmd_import_model)

    ls = sub.add_parser("models", help="list installed models",
                        description="List the models EMSeg finds (project models/, user folder, PATHs).")
    ls.add_argument("paths", nargs="*", metavar="PATH", help="more model folders to list")
    ls.set_defaults(func=cmd_models)


def cmd_export(args):
    from pathlib import Path

    if args.format == "bioimageio":
        return _export_bioimageio(args)
    if args.output is not None:
        raise UsageError("--output is for --format bioimageio (an EMSeg model goes to --models)")
    return _export_emseg(args, Path(args.training), Path(args.models) / "")


def _export_bioimageio(args):
    import tempfile
    from pathlib import Path

    if args.output is None:
        raise UsageError("--format bioimageio needs --output DIR (or FILE.zip)")
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError(f"--output {out} exists; use --overwrite to replace it")
    source = Path(args.training)
    from ..models import find_model
    from ..models.zoo_export import export_bioimageio
    if (source / "best.keras").exists() and (source / "config.json").exists():
        with tempfile.TemporaryDirectory() as d:      # a training folder: its model first
            info = _export_emseg(args, source, Path(d), quiet=True)
            written = export_bioimageio(info, out, overwrite=args.overwrite)
    else:
        info = find_model(args.training)              # ValueError names the installed models
        written = export_bioimageio(info, out, overwrite=args.overwrite)
    print(f"wrote BioImage Model Zoo package of {info.name} to {written} (validated with "
          "bioimageio.spec)")
    return EXIT_OK


def _export_emseg(args, folder, models, *, quiet=False):
    import json
    from dataclasses import replace
    from pathlib import Path

    from .. import io
    from ..models import ModelConfig
    for f in ("best.keras", "config.json"):
        if not (folder / f).exists():
            raise UsageError(f"{folder} is not a finished training folder (no {f})")
    config = ModelConfig.from_json(io.read_text(folder / "config.json"))
    if args.name:
        config = replace(config, name=args.name)
    target = Path(models) / config.name
    if target.exists() and not args.overwrite:
        raise UsageError(f"{target} exists; use --overwrite to replace it")
    training = {}
    if (folder / "log.json").exists():
        log = json.loads(io.read_text(folder / "log.json"))
        training = {k: log[k] for k in ("loss", "class_weights", "batch_size", "learning_rate",
                                        "seed", "train_patches", "validation_patches",
                                        "validation_iou", "validation_precision",
                                        "validation_recall") if k in log}
        training["epochs"] = len(log.get("epochs", []))
    from ..models.saved import export_model
    info = export_model(folder / "best.keras", config, target, training=training,
                        description=args.description, overwrite=args.overwrite)
    if quiet:
        return info
    print(f"exported {info.name} to {info.path}")
    return EXIT_OK


def _normalization_arg(text):
    if text is None:
        return None
    mode, _, rest = text.partition(":")
    mode = mode.strip().lower()
    if mode == "standardize" and not rest:
        return {"mode": "standardize"}
    if mode in ("image", "patch"):
        try:
            low, high = (float(v) for v in rest.split(","))
        except ValueError:
            raise UsageError(f"--normalization {text}: give {mode}:LOW,HIGH (percentiles)") from None
        return {"mode": mode, "low": low, "high": high}
    raise UsageError(f"--normalization {text}: give image:LOW,HIGH, patch:LOW,HIGH or standardize")


def cmd_import_model(args):
    from pathlib import Path

    src = Path(args.source)
    if not src.exists():
        raise UsageError(f"{src}: no such file or folder")
    if args.output is not None and args.models is not None:
        raise UsageError("give --output or --models, not both")
    if args.kind == "bioimageio":
        for opt in ("tile_size", "halo", "normalization", "classes", "threshold"):
            if getattr(args, opt) is not None:
                raise UsageError(f"--{opt.replace('_', '-')} applies to keras and cryovesnet "
                                 "imports")
        from ..models.zoo_import import TEST_KEY, import_bioimageio
        models = args.models
        name = args.name
        if args.output is not None:
            models, name = str(Path(args.output).parent), name or Path(args.output).name
        info = import_bioimageio(src, name=name, models_dir=models,
                                 pixel_size=None if args.pixel_size is None else args.pixel_size[0],
                                 overwrite=args.overwrite)
        meta = info.meta
        print(f"installed {info.name} ({meta['pixel_size_nm']:g} nm/px, classes "
              f"{','.join(meta['output']['classes'])}) in {info.path}; the package's test output "
              f"reproduced to {meta['scores'][TEST_KEY]:.2g}")
        return EXIT_OK
    if not src.is_file():
        raise UsageError(f"{src}: a Keras HDF5 file is expected, not a folder")
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise UsageError(f"--threshold must be in (0, 1), got {args.threshold:g}")
    for opt in ("tile_size", "halo"):
        v = getattr(args, opt)
        if v is not None and v < (1 if opt == "tile_size" else 0):
            raise UsageError(f"--{opt.replace('_', '-')} must be positive, got {v}")
    if args.pixel_size is not None and args.pixel_size[0] != args.pixel_size[1]:
        raise UsageError("--pixel-size: give one size in nm for an imported network")
    from ..models.keras_import import import_keras_hdf5
    classes = None if args.classes is None else [c.strip() for c in args.classes.split(",")]
    info = import_keras_hdf5(
        src, preset="cryovesnet" if args.kind == "cryovesnet" else None, name=args.name,
        models_dir=args.models, output=args.output,
        pixel_size=None if args.pixel_size is None else args.pixel_size[0],
        tile_size=args.tile_size, halo=args.halo,
        normalization=_normalization_arg(args.normalization), classes=classes,
        threshold=args.threshold, overwrite=args.overwrite)
    meta = info.meta
    what = "voxels" if "z" in meta["input"]["axes"] else "pixels"
    print(f"imported {src.name} as {info.name} ({meta['pixel_size_nm']:g} nm {what}, "
          f"tiles {meta['tile_size']} with halo {meta['halo']}, normalisation "
          f"{meta['normalization']['mode']}, classes {','.join(meta['output']['classes'])}) "
          f"in {info.path}")
    return EXIT_OK


def cmd_models(args):
    from pathlib import Path

    from ..models import (DEFAULT_CLASSIFIER, DEFAULT_MODEL, DEFAULT_VOLUME_MODEL, list_models,
                          model_dirs)
    from ..models.config import is_volume_model

    for p in args.paths:
        if not Path(p).is_dir():
            raise UsageError(f"{p} is not a folder")
    models = list_models(args.paths)
    if not models:
        print("no models installed (searched " + ", ".join(str(d) for d in model_dirs()) + ")")
        return EXIT_OK
    for m in models:
        meta = m.meta
        star = " (default)" if m.name in (DEFAULT_MODEL, DEFAULT_CLASSIFIER,
                                          DEFAULT_VOLUME_MODEL) else ""
        unit = "nm voxels (volumes)" if is_volume_model(meta) else "nm/px"
        print(f"{m.name}{star}: {m.task}, {meta.get('architecture', '?')}, "
              f"{meta.get('pixel_size_nm', '?')} {unit}, classes "
              f"{','.join(meta.get('output', {}).get('classes', []))}, threshold "
              f"{meta.get('threshold', '?')}\n  {m.path}\n  {m.description}")
    return EXIT_OK
