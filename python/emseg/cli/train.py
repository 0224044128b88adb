"""``emseg train``, ``train-ensemble`` and ``train-classifier``."""

from ..models.config import ARCHITECTURES, ENCODER_ARCHITECTURES
from .common import EXIT_OK, UsageError, pixel_size_arg


def add_parsers(sub):
    """Add the ``train`` and ``train-classifier`` commands to the subparsers ``sub``."""
    t = sub.add_parser("train", help="train a segmentation network on images and masks",
                       description=(
                           "Train a segmentation network (FRU-Net, MultiRes U-Net, U-Net or a "
                           "U-Net with a pretrained encoder: unet_resnet34, unet_seresnet34, "
                           "unet_vgg19, unet_inceptionv3, unet_efficientnetb4) on "
                           "images and masks paired by name (a.tif with a_m.tif / a_mask.tif / "
                           "a_labels.tif), or a 3D U-Net (unet3d) on tomograms and label "
                           "volumes (MRC, TIFF stacks). --class-map (coded masks) or --semantic "
                           "(masks of class indices) trains a semantic model: every pixel one "
                           "of several classes (organelles), softmax, focal + Dice loss with "
                           "class weights. Writes best and last checkpoints, log.json, "
                           "training_curve.png and config.json (with the threshold tuned on the "
                           "validation patches) to --output; --resume continues there. Export "
                           "the result with 'emseg export'."))
    t.add_argument("--images", nargs="+", required=True, metavar="IMG",
                   help="training images (files or folders)")
    t.add_argument("--masks", nargs="+", required=True, metavar="MASK",
                   help="masks (files or folders): binary, instance labels or multi-class")
    t.add_argument("--output", "-o", required=True, metavar="DIR", help="training folder")
    t.add_argument("--config", metavar="JSON", help="model config JSON (replaces the options below)")
    t.add_argument("--name", default="model", help="model name (default: model)")
    t.add_argument("--architecture", default="fru_net",
                   choices=[a for a in ARCHITECTURES if a != "ensemble"],
                   help="network (default fru_net; unet3d for volumes; unet_<encoder>: a U-Net "
                        "whose encoder is a pretrained classification network, WAE-Net)")
    t.add_argument("--classes", default="particle",
                   help="comma-separated classes; 'particle,boundary' learns contacts too")
    _semantic_options_args(t)
    t.add_argument("--base-filters", type=int, metavar="N",
                   help="feature maps at the first level (default 32; unet3d 16)")
    t.add_argument("--depth", type=int, metavar="N",
                   help="down-sampling levels (default 4; unet3d 2, as CryoVesNet)")
    t.add_argument("--model-pixel-size", type=float, metavar="NM",
                   help="pixel size the model works at (default: that of the first image)")
    t.add_argument("--tile-size", type=int, metavar="PX",
                   help="inference tile size and, without --patch-size, the training patch size "
                        "(default 400, as FRU-Net; unet3d: 64^3 blocks)")
    t.add_argument("--patch-size", type=int, metavar="PX",
                   help="training patch size when it differs (unet3d default 32, as CryoVesNet)")
    _training_options(t)
    t.set_defaults(func=cmd_train)

    tc = sub.add_parser("train-classifier", help="train a classifier filter",
                        description=(
                            "Train a classifier filter (MultiRes U-Net on image + instance "
                            "outlines) from images, their instances and keep masks, matched by "
                            "name (a.tif, a_m.tif, a_cm.tif). Keep masks mark the pixels of the "
                            "particles fit for size statistics. The per-particle score threshold "
                            "is tuned on validation patches. Export with 'emseg export'."))
    tc.add_argument("--images", nargs="+", required=True, metavar="IMG",
                    help="micrographs (files or folders)")
    tc.add_argument("--labels", nargs="+", required=True, metavar="LBL",
                    help="instances: label images or binary masks (files or folders)")
    tc.add_argument("--keep", nargs="+", required=True, metavar="KEEP",
                    help="keep masks (files or folders)")
    tc.add_argument("--output", "-o", required=True, metavar="DIR", help="training folder")
    tc.add_argument("--config", metavar="JSON", help="classifier config JSON (replaces the options below)")
    tc.add_argument("--name", default="classifier", help="model name (default: classifier)")
    tc.add_argument("--base-filters", type=int, default=8, metavar="N")
    tc.add_argument("--depth", type=int, default=3, metavar="N")
    tc.add_argument("--model-pixel-size", type=float, metavar="NM",
                    help="pixel size the network works at (default: 12 nm)")
    tc.add_argument("--tile-size", type=int, default=128, metavar="PX", help="training patch size")
    tc.add_argument("--classes", default="keep", metavar="NAMES",
                    help="output classes; several (e.g. keep,occluded,cut,missegmented) make a "
                         "multi-class classifier whose --keep masks hold class numbers 1..K")
    tc.add_argument("--score-weights", metavar="W,...",
                    help="weight of each class in the keep score (default 1 for the first, 0 else)")
    tc.add_argument("--connectivity", type=int, choices=(4, 8), default=8,
                    help="connectivity of particles in binary instance masks (default 8)")
    _training_options(tc)
    tc.set_defaults(func=cmd_train_classifier)

    te = sub.add_parser("train-ensemble", help="train WAE-Net: base learners and their "
                                               "weighted-average ensemble",
                        description=(
                            "Train a weighted-average ensemble (WAE-Net) for a semantic "
                            "model: every base learner (by default the five U-Nets with "
                            "pretrained encoders) on the same data, ranked by validation "
                            "mean Jaccard index; the best --top combined with weights "
                            "grid-searched on the validation data (reported against each "
                            "member and the equal-weight average). Writes member-<architecture>/ "
                            "training folders and the ensemble (best.keras, config.json, "
                            "ensemble.json) to --output; --resume skips finished members and "
                            "continues an interrupted one. Export with 'emseg export'."))
    te.add_argument("--images", nargs="+", required=True, metavar="IMG",
                    help="training images (files or folders)")
    te.add_argument("--masks", nargs="+", required=True, metavar="MASK",
                    help="class masks (files or folders): coded (--class-map) or class indices")
    te.add_argument("--output", "-o", required=True, metavar="DIR", help="training folder")
    te.add_argument("--name", default="ensemble", help="model name (default: ensemble)")
    te.add_argument("--classes", default="particle",
                    help="with --semantic: comma-separated class names")
    _semantic_options_args(te)
    te.add_argument("--members", default=",".join(ENCODER_ARCHITECTURES), metavar="ARCH,...",
                    help="base learners (default the five pretrained-encoder U-Nets)")
    te.add_argument("--top", type=int, default=3,
                    help="how many of the best members are combined (default 3, the paper's)")
    te.add_argument("--step", type=float, default=0.1, help="weight grid spacing (default 0.1)")
    te.add_argument("--model-pixel-size", type=float, metavar="NM",
                    help="pixel size the model works at (default: that of the first image)")
    te.add_argument("--tile-size", type=int, metavar="PX",
                    help="training patch and inference tile size (default 256)")
    te.add_argument("--base-filters", type=int, metavar="N",
                    help="members without a pretrained encoder: feature maps at the first level")
    te.add_argument("--depth", type=int, metavar="N",
                    help="members without a pretrained encoder: down-sampling levels (default 5)")
    _training_options(te)
    te.set_defaults(func=cmd_train_ensemble, architecture=ENCODER_ARCHITECTURES[0],
                    patch_size=None)



def _semantic_options_args(p):
    """The options of semantic models and pretrained encoders (train and train-ensemble)."""
    p.add_argument("--class-map", metavar="MAP|FILE",
                   help="semantic model from coded masks: VALUES=NAME;VALUES=NAME... (e.g. "
                        "'0,32,64,96,128=membrane;159=extracellular;191=mitochondria;"
                        "223=synapse;255=intracellular'), or a file holding it")
    p.add_argument("--semantic", action="store_true",
                   help="semantic model whose masks hold class indices 0..K-1 named by --classes")
    p.add_argument("--instance-classes", metavar="NAMES",
                   help="semantic: comma-separated classes whose regions are objects measured "
                        "one by one (e.g. mitochondria)")
    p.add_argument("--encoder-weights", metavar="imagenet|FILE",
                   help="unet_<encoder>: initial encoder weights, 'imagenet' (Keras downloads "
                        "them; VGG19, InceptionV3, EfficientNetB4) or a weights file "
                        "(default: random)")


def _training_options(p):
    p.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
                   help="pixel size of the training images when their files lack it")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--loss", choices=("bce", "focal_dice"),
                   help="default bce; a semantic model trains with focal_dice")
    p.add_argument("--class-weights", metavar="W,...",
                   help="bce: weights of background and foreground (BG,FG); semantic: one "
                        "weight per class for the Dice term (default: median-frequency balance)")
    p.add_argument("--lr-decay", metavar="FACTOR,EPOCHS",
                   help="multiply the learning rate by FACTOR after EPOCHS without a better "
                        "validation loss (default 0.5,max(2,patience/3); WAE-Net: 0.25,10)")
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience (epochs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the training in --output")


def _check_training_options(args):
    """Check the options shared by train and train-classifier; return the
    output folder and the class weights."""
    from pathlib import Path

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    if args.resume and not (out / "last.keras").exists():
        raise UsageError(f"--resume: no training to resume in {out}")
    if not args.resume and (out / "last.keras").exists():
        raise UsageError(f"{out} holds a training already: use --resume or another --output")
    weights = None
    if args.class_weights:
        try:
            weights = tuple(float(v) for v in args.class_weights.split(","))
        except ValueError:
            weights = ()
        if len(weights) < 2 or min(weights) < 0 or not max(weights) > 0:
            raise UsageError(f"--class-weights must be positive numbers W,W,..., got "
                             f"{args.class_weights!r}")
    for name in ("epochs", "batch_size", "patience"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.learning_rate < 1:
        raise UsageError(f"--learning-rate must be in (0, 1), got {args.learning_rate:g}")
    return out, weights


def _best_epoch(history):
    best = min(history, key=lambda h: h["val_loss"]) if history else None
    if best:
        print(f"best epoch {best['epoch']} of {len(history)}: validation loss "
              f"{best['val_loss']:.4f}")


def cmd_train_classifier(args):
    import numpy as np

    from .. import io
    from ..models import ModelConfig
    from ..workflows import classifier_triples

    out, weights = _check_training_options(args)
    triples = list(classifier_triples(args.images, args.labels, args.keep,
                                      pixel_size=args.pixel_size, connectivity=args.connectivity))
    if args.resume:
        import json
        config = ModelConfig.from_dict(json.loads(io.read_text(out / "log.json"))["config"])
    elif args.config:
        config = ModelConfig.from_json(io.read_text(args.config))
    else:
        if args.tile_size < 8 or args.depth < 1:
            raise UsageError("--tile-size must be at least 8 and --depth at least 1")
        score_weights = None
        if args.score_weights:
            try:
                score_weights = [float(w) for w in args.score_weights.split(",")]
            except ValueError:
                raise UsageError(f"--score-weights must be numbers W,..., got {args.score_weights!r}") from None
        config = ModelConfig(
            name=args.name, architecture="multires_unet", task="classifier", input_channels=2,
            classes=[c.strip() for c in args.classes.split(",") if c.strip()],
            score_weights=score_weights, base_filters=args.base_filters, depth=args.depth,
            tile_size=args.tile_size, halo=max(0, min(32, args.tile_size // 8)),
            pixel_size=args.model_pixel_size or 12.0)
    if config.task != "classifier":
        raise UsageError(f"--config describes a {config.task} model, not a classifier")
    from ..models.classifier_training import train_classifier
    n = sum(len(set(np.unique(t[1]).tolist()) - {0}) for t in triples)
    print(f"training classifier '{config.name}' ({config.architecture}) on {len(triples)} "
          f"image(s), {n} particles, at {config.pixel_size:g} nm/px, {config.tile_size}-px patches")
    result = train_classifier(triples, config, out, epochs=args.epochs, batch_size=args.batch_size,
                              learning_rate=args.learning_rate, loss=args.loss or "bce",
                              class_weights=weights, patience=args.patience, seed=args.seed,
                              resume=args.resume, verbose=1,
                              lr_decay=_lr_decay(args.lr_decay))
    _best_epoch(result.history)
    print(f"score threshold {result.config.threshold:g} (validation precision "
          f"{result.precision:.3f}, recall {result.recall:.3f})")
    print(f"wrote {out} (best.keras, last.keras, log.json, training_curve.png, config.json); "
          f"next: emseg export {out} --models models")
    return EXIT_OK


def _semantic_options(args):
    """``(class names, mask value map or None)`` of a semantic training, or None."""
    if args.class_map is None and not args.semantic:
        if args.instance_classes:
            raise UsageError("--instance-classes is for semantic models (--class-map, --semantic)")
        return None
    if args.class_map is not None:
        if args.semantic:
            raise UsageError("give --class-map or --semantic, not both")
        from .common import class_map_arg
        return class_map_arg(args.class_map)
    return [c.strip() for c in args.classes.split(",") if c.strip()], None


def _lr_decay(text):
    if text is None:
        return None
    try:
        factor, epochs = text.split(",")
        decay = (float(factor), int(epochs))
    except ValueError:
        raise UsageError(f"--lr-decay must be FACTOR,EPOCHS, got {text!r}") from None
    if not 0 < decay[0] < 1 or decay[1] < 1:
        raise UsageError(f"--lr-decay: FACTOR in (0, 1) and EPOCHS >= 1, got {text!r}")
    return decay


def cmd_train(args):

    from ..models import ModelConfig
    out, weights = _check_training_options(args)
    semantic = _semantic_options(args)
    lr_decay = _lr_decay(args.lr_decay)
    if args.encoder_weights is not None and not args.architecture.startswith("unet_"):
        raise UsageError("--encoder-weights is for the pretrained-encoder U-Nets (unet_<encoder>)")

    from .. import io
    from ..workflows import training_pairs
    pairs = list(training_pairs(args.images, args.masks, pixel_size=args.pixel_size,
                                class_map=semantic[1] if semantic else None))
    if args.resume:
        import json
        # the run being resumed fixes the model; architecture options are ignored
        config = ModelConfig.from_dict(json.loads(io.read_text(out / "log.json"))["config"])
        if semantic and semantic[0] != config.classes:
            raise UsageError(f"--resume: the class map names {', '.join(semantic[0])}; the run "
                             f"in {out} has {', '.join(config.classes)}")
    elif args.config:
        config = ModelConfig.from_json(io.read_text(args.config))
    else:
        config = _new_config(args, pairs, semantic)
    for i, (image, _, _) in enumerate(pairs):
        if image.ndim != config.ndim:
            kind = "volumes" if config.ndim == 3 else "2D images"
            raise UsageError(f"{config.architecture} trains on {kind}; training file {i + 1} "
                             f"is {image.ndim}D")
    from ..models.training import train_model
    unit = "voxels" if config.ndim == 3 else "per pixel"
    what = f", classes {', '.join(config.classes)}" if config.task == "semantic" else ""
    print(f"training {config.architecture} '{config.name}' on {len(pairs)} "
          f"{'volume' if config.ndim == 3 else 'image'}(s) at {config.pixel_size:g} nm "
          f"{unit}, {config.training_patch}-px patches{what}")
    loss = args.loss or ("focal_dice" if config.task == "semantic" else "bce")
    result = train_model(pairs, config, out, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, loss=loss, class_weights=weights,
                         patience=args.patience, seed=args.seed, resume=args.resume, verbose=1,
                         encoder_weights=args.encoder_weights, lr_decay=lr_decay)
    _best_epoch(result.history)
    if config.task == "semantic":
        print(f"validation mean Jaccard index {result.threshold_iou:.4f}")
    else:
        print(f"threshold {result.config.threshold:g} (validation IoU {result.threshold_iou:.4f})")
    print(f"wrote {out} (best.keras, last.keras, log.json, training_curve.png, config.json); "
          f"next: emseg export {out} --models models")
    return EXIT_OK


def _new_config(args, pairs, semantic):
    """The model config the command line describes."""
    from ..models import ModelConfig
    from ..models.config import ENCODER_ARCHITECTURES

    volume = args.architecture == "unet3d"
    encoder = args.architecture in ENCODER_ARCHITECTURES
    defaults = (dict(base_filters=16, depth=2, tile_size=64, patch_size=32) if volume
                else dict(base_filters=32, depth=5, tile_size=256, patch_size=None) if encoder
                else dict(base_filters=32, depth=4, tile_size=400, patch_size=None))
    given = {k: getattr(args, k) for k in defaults if getattr(args, k) is not None}
    settings = {**defaults, **given}
    first = pairs[0][2]
    px = args.model_pixel_size or (first[-1] if isinstance(first, tuple) else first)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    if volume and classes == ["particle"]:
        classes = ["vesicle"]
    extra = {}
    if semantic:
        classes = semantic[0]
        instances = [c.strip() for c in (args.instance_classes or "").split(",") if c.strip()]
        extra = dict(task="semantic", postprocess={"chain": "classes",
                                                    "instance_classes": instances})
    try:
        return ModelConfig(name=args.name, architecture=args.architecture, classes=classes,
                           halo=min(32, settings["tile_size"] // 8), pixel_size=px,
                           **settings, **extra)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_train_ensemble(args):
    from pathlib import Path

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    started = out.is_dir() and any(out.glob("member-*"))
    if started and not args.resume:
        raise UsageError(f"{out} holds an ensemble training already: use --resume or another "
                         f"--output")
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    bad = [m for m in members if m not in ARCHITECTURES or m in ("ensemble", "unet3d")]
    if bad or not members:
        raise UsageError(f"--members: unknown or unusable architecture(s) {', '.join(bad)}")
    if not 1 <= args.top <= len(members):
        raise UsageError(f"--top must be in 1..{len(members)}, got {args.top}")
    # the shared settings are checked as those of a member that --depth applies to
    plain = [m for m in members if m not in ENCODER_ARCHITECTURES]
    if not plain and args.depth not in (None, 5):
        raise UsageError("--depth applies to members without a pretrained encoder; the "
                         "pretrained-encoder U-Nets down-sample 5 times")
    args.architecture = plain[0] if plain else ENCODER_ARCHITECTURES[0]
    semantic = _semantic_options(args)
    if semantic is None:
        raise UsageError("an ensemble is a semantic model: give --class-map or --semantic")
    args.resume = False                     # members resume on their own (train_ensemble)
    _, weights = _check_training_options(args)
    lr_decay = _lr_decay(args.lr_decay) or (0.25, 10)       # the paper's schedule

    from ..models.ensemble import train_ensemble
    from ..workflows import training_pairs
    pairs = list(training_pairs(args.images, args.masks, pixel_size=args.pixel_size,
                                class_map=semantic[1]))
    config = _new_config(args, pairs, semantic)
    print(f"training {len(members)} base learners ({', '.join(members)}) on {len(pairs)} "
          f"image(s) at {config.pixel_size:g} nm per pixel, classes {', '.join(config.classes)}")
    r = train_ensemble(pairs, config, out, members, top=args.top, step=args.step,
                       epochs=args.epochs, batch_size=args.batch_size,
                       learning_rate=args.learning_rate, loss=args.loss or "focal_dice",
                       class_weights=weights, patience=args.patience, seed=args.seed, verbose=2,
                       encoder_weights=args.encoder_weights, lr_decay=lr_decay)
    for arch, iou in r.ranking:
        print(f"  {arch}: validation mean Jaccard index {iou:.4f}")
    s = r.search
    parts = ", ".join(f"{m['architecture']} {m['weight']:g}" for m in r.config.members)
    print(f"ensemble of {parts}: validation mean Jaccard index {s.score:.4f} (equal weights {s.equal:.4f}; best "
          f"member {max(s.members):.4f}); "
          + ("it beats every member and the equal-weight average" if s.beats_all else
             "it does NOT beat every member and the equal-weight average"))
    print(f"wrote {out}; next: emseg export {out} --models models")
    return EXIT_OK
