"""The ``emseg`` command line: parses arguments and calls the API.

Only argparse is imported at start-up so that ``--help`` and ``--version``
answer instantly; each command imports what it needs.
"""

import argparse
import os
import sys

from . import __version__

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, no usage dump; exit 2 as argparse does.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _pixel_size(text):
    """'7.344' or '7.3,7.5' (width,height) in nm."""
    try:
        parts = [float(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid pixel size {text!r}: give NM or W,H in nm") from None
    if len(parts) not in (1, 2) or not all(p > 0 and p < float("inf") for p in parts):
        raise argparse.ArgumentTypeError(f"invalid pixel size {text!r}: give NM or W,H in nm (> 0)")
    return (parts[0], parts[-1])


def build_parser():
    p = _Parser(prog="emseg", description=(
        "Segment and measure particles and vesicles in electron micrographs; "
        "measurements are identical to ImageJ/Fiji's Analyze Particles."))
    p.add_argument("--version", action="version", version=f"emseg {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    m = sub.add_parser("measure", help="measure particles of label images or masks as ImageJ does",
                       description=(
                           "Measure every particle of label images or binary masks with ImageJ's "
                           "definitions (Area, Perim., Feret, MinFeret, ellipse, Circ., Solidity, "
                           "...) plus ECD and a border flag, in calibrated units. Writes CSV and "
                           "prints a size summary."))
    m.add_argument("labels", nargs="*", metavar="LABELS",
                   help="label image(s) or binary mask(s) (TIFF, PNG)")
    m.add_argument("--example", action="store_true",
                   help="measure the bundled synthetic example instead of LABELS")
    m.add_argument("--image", nargs="+", metavar="IMG",
                   help="intensity image(s), one per LABELS in order (adds Mean, StdDev, Min, Max, Median)")
    m.add_argument("--pixel-size", type=_pixel_size, metavar="NM",
                   help="pixel size in nm (or W,H); overrides the files' calibration")
    m.add_argument("--connectivity", type=int, choices=(4, 8), default=8,
                   help="connectivity that splits binary masks into particles (default 8, as ImageJ)")
    m.add_argument("--output", "-o", metavar="PATH", default=".",
                   help="folder for one CSV per input, or a .csv file for one combined table "
                        "(default: current folder)")
    m.add_argument("--plot", action="store_true", help="also write a MinFeret histogram PNG")
    m.add_argument("--columns", default="MinFeret,ECD", metavar="COLS",
                   help="comma-separated columns to summarise (default MinFeret,ECD)")
    m.set_defaults(func=cmd_measure)

    e = sub.add_parser("evaluate", help="score segmentations against ground truth",
                       description=(
                           "Score segmentations (label images or binary masks) against ground "
                           "truth with the metrics of the FRU-Net, CryoVesNet, WAE-Net and BAM "
                           "papers: pixel IoU/Dice, Youden's index, instance F1, the BAM "
                           "instance IoU, Cell Tracking Challenge SEG/DET, ISBI Rand and "
                           "information errors, diameter/roundness errors and size-distribution "
                           "errors. Files pair by name (a.tif with a_m.tif, a_labels.tif, ...). "
                           "Prints a per-image table and the means; --output writes every score."))
    e.add_argument("--pred", nargs="+", metavar="P", default=[],
                   help="segmentations: label images or binary masks")
    e.add_argument("--truth", nargs="+", metavar="T", default=[],
                   help="ground truth: label images or binary masks")
    e.add_argument("--prob", nargs="+", metavar="PROB",
                   help="foreground probability maps of the segmentations (adds Youden's index)")
    e.add_argument("--connectivity", type=int, choices=(4, 8), default=8,
                   help="connectivity that splits binary masks into objects (default 8)")
    e.add_argument("--pixel-size", type=_pixel_size, metavar="NM",
                   help="pixel size in nm (or W,H); overrides the files' calibration")
    e.add_argument("--iou-threshold", type=float, default=0.5, metavar="T",
                   help="IoU needed for a matched object (default 0.5)")
    e.add_argument("--column", default="MinFeret", metavar="COL",
                   help="measurement whose distribution is compared (default MinFeret)")
    e.add_argument("--output", "-o", metavar="CSV",
                   help="write every score of every image (and the means) to this CSV file")
    e.set_defaults(func=cmd_evaluate)

    sg = sub.add_parser("segment", help="segment particles with a trained model",
                        description=(
                            "Segment particles in micrographs with a trained network (the default "
                            "model when --model is omitted): the data bar is excluded, the image "
                            "rescaled to the model's pixel size, predicted in blended tiles and "
                            "post-processed to instances. Writes <stem>_labels.tif, "
                            "<stem>_prob.tif and <stem>_results.csv (ImageJ measurements) per "
                            "image."))
    sg.add_argument("images", nargs="+", metavar="IMAGE", help="micrograph(s) (TIFF, PNG, JPEG)")
    _model_options(sg)
    sg.add_argument("--output", "-o", metavar="DIR", default=".",
                    help="output folder (created; default: current folder)")
    sg.add_argument("--classifier", metavar="NAME|PATH",
                    help="then keep only particles this classifier filter passes (as 'emseg "
                         "filter'; 'default' for emseg-classifier-sem)")
    sg.add_argument("--min-score", type=float, metavar="S",
                    help="with --classifier: minimum score (default: the classifier's tuned value)")
    sg.set_defaults(func=cmd_segment)

    fl = sub.add_parser("filter", help="keep the particles fit for size statistics",
                        description=(
                            "Score every particle of a segmentation with a classifier network "
                            "(the default classifier unless --classifier none) and apply rule "
                            "filters: value ranges on measurement columns and exclusion of "
                            "border particles. Writes <stem>_filtered.tif (the kept particles, "
                            "numbers unchanged) and <stem>_filtered.csv (every particle's "
                            "measurements with Score and Kept columns), and prints kept/total "
                            "and the summary of the kept particles."))
    fl.add_argument("image", metavar="IMAGE", help="the micrograph")
    fl.add_argument("labels", metavar="LABELS", help="its label image or binary mask")
    fl.add_argument("--classifier", metavar="NAME|PATH|none",
                    help="classifier filter (default: emseg-classifier-sem; none: rules only)")
    fl.add_argument("--min-score", type=float, metavar="S",
                    help="minimum classifier score (default: the classifier's tuned value)")
    fl.add_argument("--range", action="append", default=[], metavar="COL=LO:HI", dest="ranges",
                    help="keep particles with LO <= COL <= HI (a bound may be empty); repeatable")
    fl.add_argument("--exclude-border", action="store_true",
                    help="drop particles touching the image border")
    fl.add_argument("--pixel-size", type=_pixel_size, metavar="NM",
                    help="pixel size in nm (or W,H); overrides the files' calibration")
    fl.add_argument("--connectivity", type=int, choices=(4, 8), default=8,
                    help="connectivity of particles in a binary mask (default 8)")
    fl.add_argument("--batch-size", type=int, default=4, metavar="N",
                    help="tiles per network call (default 4)")
    fl.add_argument("--output", "-o", metavar="DIR", default=".",
                    help="output folder (created; default: current folder)")
    fl.set_defaults(func=cmd_filter)

    d = sub.add_parser("demo", help="segment the bundled SEM sample and write every result",
                       description=(
                           "Segment the bundled synthetic SEM sample with the default model and "
                           "write the label image, probability map, measurement CSV, an overlay "
                           "PNG and a MinFeret histogram PNG; prints where they are."))
    d.add_argument("--output", "-o", metavar="DIR", default="emseg-demo",
                   help="output folder (default: emseg-demo)")
    d.add_argument("--model", metavar="NAME|PATH", help="model (default: the bundled default model)")
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("train", help="train a segmentation network on images and masks",
                       description=(
                           "Train a segmentation network (FRU-Net, MultiRes U-Net or U-Net) on "
                           "images and masks paired by name (a.tif with a_m.tif / a_mask.tif / "
                           "a_labels.tif). Writes best and last checkpoints, log.json, "
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
    t.add_argument("--architecture", default="fru_net", choices=("fru_net", "multires_unet", "unet"))
    t.add_argument("--classes", default="particle",
                   help="comma-separated classes; 'particle,boundary' learns contacts too")
    t.add_argument("--base-filters", type=int, default=32, metavar="N")
    t.add_argument("--depth", type=int, default=4, metavar="N")
    t.add_argument("--model-pixel-size", type=float, metavar="NM",
                   help="pixel size the model works at (default: that of the first image)")
    t.add_argument("--tile-size", type=int, default=400, metavar="PX",
                   help="patch size (default 400, as FRU-Net)")
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

    x = sub.add_parser("export", help="export a trained model to a model folder",
                       description=(
                           "Write models/<name>/ (TF SavedModel, config.json, model.yaml) from a "
                           "training folder made by 'emseg train' (its best checkpoint)."))
    x.add_argument("training", metavar="TRAINING_DIR", help="folder written by 'emseg train'")
    x.add_argument("--models", metavar="DIR", default="models",
                   help="models folder to export into (default: ./models)")
    x.add_argument("--name", help="model name (default: the training config's)")
    x.add_argument("--description", help="one-line description for model.yaml")
    x.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    x.set_defaults(func=cmd_export)

    ls = sub.add_parser("models", help="list installed models",
                        description="List the models EMSeg finds (project models/, user folder, PATHs).")
    ls.add_argument("paths", nargs="*", metavar="PATH", help="more model folders to list")
    ls.set_defaults(func=cmd_models)

    ij = sub.add_parser("imagej", help="start ImageJ/Fiji with the EMSeg plugin (optionally run a macro)",
                        description=(
                            "Start Fiji (--fiji-dir, through pyimagej) or ImageJ 1.x (--ij-jar, "
                            "default $EMSEG_IJ_JAR or /usr/share/java/ij.jar) with the EMSeg plugin, "
                            "this Python registered as its in-process backend. With --macro, run "
                            "the macro and exit with its status."))
    where = ij.add_mutually_exclusive_group()
    where.add_argument("--fiji-dir", metavar="DIR", help="Fiji.app folder (needs pyimagej)")
    where.add_argument("--ij-jar", metavar="JAR", help="ImageJ 1.x ij.jar")
    ij.add_argument("--headless", action="store_true", help="no windows (needs --macro)")
    ij.add_argument("--macro", metavar="FILE", help="ImageJ macro (.ijm) to run")
    ij.add_argument("--args", default="", metavar="STR",
                    help="argument string passed to the macro (getArgument())")
    ij.add_argument("--plugin-jar", metavar="JAR", help="EMSeg plugin jar (default: the built one)")
    ij.set_defaults(func=cmd_imagej)

    inst = sub.add_parser("install-fiji", help="install the EMSeg plugin and macros into Fiji",
                          description=(
                              "Copy the EMSeg plugin jar to Fiji.app/plugins, the batch macros to "
                              "Fiji.app/macros/EMSeg, and record this Python (or --python) for the "
                              "plugin's command-line backend."))
    inst.add_argument("--fiji-dir", required=True, metavar="DIR", help="Fiji.app folder")
    inst.add_argument("--python", metavar="EXE", help="Python with emseg installed (default: this one)")
    inst.add_argument("--plugin-jar", metavar="JAR", help="EMSeg plugin jar (default: the built one)")
    inst.set_defaults(func=cmd_install_fiji)
    return p


def _training_options(p):
    p.add_argument("--pixel-size", type=_pixel_size, metavar="NM",
                   help="pixel size of the training images when their files lack it")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--loss", default="bce", choices=("bce", "focal_dice"))
    p.add_argument("--class-weights", metavar="BG,FG", help="bce weights of background, foreground")
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience (epochs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the training in --output")


def _model_options(p):
    p.add_argument("--model", "-m", metavar="NAME|PATH",
                   help="installed model name or model folder (default: emseg-particles-sem)")
    p.add_argument("--pixel-size", type=_pixel_size, metavar="NM",
                   help="pixel size in nm (or W,H); overrides the files' calibration")
    p.add_argument("--threshold", type=float, metavar="T",
                   help="probability threshold (default: the model's tuned value)")
    p.add_argument("--keep-databar", action="store_true",
                   help="do not detect and exclude the microscope's data bar")
    p.add_argument("--batch-size", type=int, default=4, metavar="N",
                   help="tiles per network call (default 4)")


def _fmt_size(size, source):
    if size is None:
        return "uncalibrated (pixels)"
    pw, ph = size
    text = f"{pw:g} nm" if pw == ph else f"{pw:g} x {ph:g} nm (anisotropic)"
    return f"{text} from {source}" if source else text


def _finish(command, failures, total, what):
    """List a batch's failures on stderr; exit code 2 if there were any."""
    for f in failures:
        print(f"emseg {command}: error: {f}", file=sys.stderr)
    if failures:
        print(f"emseg {command}: {len(failures)} of {total} {what} failed", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_measure(args):
    from pathlib import Path

    labels = [Path(p) for p in args.labels]
    images = [Path(p) for p in args.image] if args.image else None
    if args.example:
        if labels or images:
            raise UsageError("--example takes no LABELS or --image")
        from .batch import example_files
        lab, img = example_files()
        labels, images = [lab], [img]
    if not labels:
        raise UsageError("no LABELS given (or use --example for the bundled example)")
    if images is not None and len(images) != len(labels):
        raise UsageError(f"--image got {len(images)} file(s) for {len(labels)} LABELS; give one per label file")
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    from .measure import MEASUREMENT_COLUMNS, INTENSITY_COLUMNS
    unknown = [c for c in columns if c not in MEASUREMENT_COLUMNS + INTENSITY_COLUMNS]
    if unknown or not columns:
        raise UsageError(f"--columns: unknown column(s) {', '.join(unknown) or '(none given)'}")

    out = Path(args.output)
    combined = out.suffix.lower() == ".csv"
    if out.exists() and not combined and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    if combined and not out.parent.exists():
        raise UsageError(f"--output folder {out.parent} does not exist")
    inputs = {p.resolve() for p in labels + (images or [])}

    from tqdm import tqdm

    from . import io
    from .batch import combine_tables, measure_file
    from .measure import summarize

    results, failures = [], []
    for i, lab in enumerate(tqdm(labels, desc="measure", unit="file", disable=len(labels) < 2,
                                 file=sys.stderr)):
        try:
            res = measure_file(lab, images[i] if images else None,
                               pixel_size=args.pixel_size, connectivity=args.connectivity)
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
            continue
        results.append(res)

    def target(name):
        path = (out.parent if combined else out) / name
        if path.resolve() in inputs:
            raise UsageError(f"output {path} would overwrite an input file")
        return path

    written = []
    if results:
        if combined:
            plan = [(target(out.name), combine_tables(results, file_column=len(results) > 1),
                     target(out.stem + "_minferet.png"))]
        else:
            plan = [(target(f"{r.labels_path.stem}_measurements.csv"), r.table,
                     target(f"{r.labels_path.stem}_minferet.png")) for r in results]
            out.mkdir(parents=True, exist_ok=True)
        for csv_path, table, png_path in plan:
            io.write_table(csv_path, table)
            written.append(csv_path)
            if args.plot:
                from .plot import size_histogram
                io.write_png(png_path, size_histogram(table, "MinFeret"))
                written.append(png_path)

    for r in results:
        print(f"{r.labels_path}: {len(r.table)} particles, pixel size "
              f"{_fmt_size(r.pixel_size, r.pixel_size_source)}")
    if results:
        every = combine_tables(results, file_column=False)
        summary = summarize(every, columns)
        unit = every.attrs.get("unit", "")
        title = "Summary" + (f" of {len(results)} files" if len(results) > 1 else "")
        print(f"{title} ({unit}; SD with n - 1; D10/D50/D90 number-weighted):")
        print(summary.to_string(float_format=lambda v: f"{v:.4g}"))
        for p in written:
            print(f"wrote {p}")
    return _finish("measure", failures, len(labels), "file(s)")


#: Scores printed by ``emseg evaluate`` (every score goes to the CSV).
_EVALUATE_SHOWN = ("IoU", "Youden J", "Inst. IoU (pred)", "F1@{t}", "SEG", "DET", "Rand error",
                   "Info error", "delta_d", "{col} mean err")


def cmd_evaluate(args):
    from pathlib import Path

    if not args.pred and not args.truth:
        raise UsageError("no files given: use --pred P... --truth T...")
    if not 0 < args.iou_threshold <= 1:
        raise UsageError(f"--iou-threshold must be in (0, 1], got {args.iou_threshold:g}")
    from .measure import NUMERIC_COLUMNS
    if args.column not in NUMERIC_COLUMNS:
        raise UsageError(f"--column: unknown measurement {args.column!r}")
    out = Path(args.output) if args.output else None
    if out is not None:
        if out.suffix.lower() != ".csv":
            raise UsageError(f"--output must be a .csv file, got {out}")
        if not out.parent.exists():
            raise UsageError(f"--output folder {out.parent} does not exist")
    inputs = {Path(p).resolve() for p in args.pred + args.truth + (args.prob or [])}
    if out is not None and out.resolve() in inputs:
        raise UsageError(f"--output {out} would overwrite an input file")

    from tqdm import tqdm

    from . import io
    from .batch import evaluate_files, evaluation_table, pair_files, pooled_scores

    try:
        pairs = pair_files(args.pred, args.truth, args.prob)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    results, failures = [], []
    for name, pred, truth, prob in tqdm(pairs, desc="evaluate", unit="image",
                                        disable=len(pairs) < 2, file=sys.stderr):
        try:
            results.append(evaluate_files(name, pred, truth, prob, pixel_size=args.pixel_size,
                                          connectivity=args.connectivity,
                                          iou_threshold=args.iou_threshold, column=args.column))
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")

    if results:
        table = evaluation_table(results)
        if out is not None:
            io.write_table(out, table)
        t = f"{results[0].evaluation.matching.threshold:g}"
        shown = [c.format(t=t, col=args.column) for c in _EVALUATE_SHOWN]
        if all(r.prob_path is None for r in results):
            shown.remove("Youden J")
        print(table[["Image"] + shown].to_string(index=False, float_format=lambda v: f"{v:.4f}",
                                                 na_rep="-"))
        pooled = pooled_scores(results, args.column)
        print(f"All {len(results)} image(s) pooled: TP {pooled['TP']}, FP {pooled['FP']}, "
              f"FN {pooled['FN']}; precision {pooled['Precision']:.4f}, recall "
              f"{pooled['Recall']:.4f}, F1@{t} {pooled['F1']:.4f}")
        c = args.column
        print(f"{c} distribution, all particles (relative error of prediction): mean "
              f"{pooled[c + ' mean err']:+.2%}, median {pooled[c + ' median err']:+.2%}, D10 "
              f"{pooled[c + ' D10 err']:+.2%}, D90 {pooled[c + ' D90 err']:+.2%}; "
              f"KS {pooled[c + ' KS']:.4f}")
        if out is not None:
            print(f"wrote {out}")
    return _finish("evaluate", failures, len(pairs), "pair(s)")


def _load_model(name):
    from .models.saved import load_predictor

    return load_predictor(name, task="segmentation")  # ValueError lists the installed models


def _check_segment_options(args):
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UsageError(f"--threshold must be in [0, 1], got {args.threshold:g}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")


def _tile_bar(desc, *, disable=False):
    """A tqdm bar over an image's tiles and the ``progress(done, total)`` callback feeding it."""
    from tqdm import tqdm

    tiles = tqdm(desc=desc, unit="tile", leave=False, file=sys.stderr, disable=disable)

    def progress(done, total):
        tiles.total = total
        tiles.n = done
        tiles.refresh()
    return tiles, progress


def _stem(path):
    """File name without its image extension (``a.ome.tif`` -> ``a``, ``a.b.tif`` -> ``a.b``)."""
    name = path.name
    for ext in (".ome.tiff", ".ome.tif"):
        if name.lower().endswith(ext):
            return name[:-len(ext)]
    return path.stem


def _segment_outputs(out, stem):
    return {"labels": out / f"{stem}_labels.tif", "prob": out / f"{stem}_prob.tif",
            "table": out / f"{stem}_results.csv"}


def _write_segmentation(res, paths):
    from . import io

    seg = res.segmentation
    io.write_labels(paths["labels"], seg.labels, seg.pixel_size)
    io.write_image(paths["prob"], seg.probability, seg.pixel_size)
    io.write_table(paths["table"], res.table)


def cmd_segment(args):
    from pathlib import Path

    _check_segment_options(args)
    if args.min_score is not None:
        if args.classifier is None:
            raise UsageError("--min-score needs --classifier")
        _check_filter_options(args)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    images = [Path(p) for p in args.images]
    inputs = {p.resolve() for p in images}
    stems = [_stem(p) for p in images]
    dup = {s for s in stems if stems.count(s) > 1}
    if dup:
        raise UsageError(f"several inputs are named {sorted(dup)[0]!r}: their outputs would collide")
    for stem in stems:
        for path in [*_segment_outputs(out, stem).values(), *_filter_outputs(out, stem).values()]:
            if path.resolve() in inputs:
                raise UsageError(f"output {path} would overwrite an input file")
    predictor = _load_model(args.model)
    classifier = _load_classifier(args.classifier) if args.classifier else None
    from tqdm import tqdm

    from .batch import filter_array, segment_file
    out.mkdir(parents=True, exist_ok=True)
    failures = []
    bar = tqdm(images, desc="segment", unit="image", file=sys.stderr)
    for path, stem in zip(bar, stems):
        tiles, progress = _tile_bar(f"  {path.name}")
        try:
            res = segment_file(path, predictor, pixel_size=args.pixel_size, threshold=args.threshold,
                               keep_databar=args.keep_databar, batch_size=args.batch_size,
                               progress=progress)
            filtered = None
            if classifier is not None:
                filtered = filter_array(res.image, res.segmentation.labels, classifier,
                                        pixel_size=res.segmentation.pixel_size,
                                        min_score=args.min_score, batch_size=args.batch_size,
                                        progress=progress, table=res.table)
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
            continue
        finally:
            tiles.close()
        paths = _segment_outputs(out, stem)
        _write_segmentation(res, paths)
        seg = res.segmentation
        bar_note = f", data bar from row {seg.databar_row} excluded" if seg.databar_row is not None else ""
        tqdm.write(f"{path}: {len(res.table)} particles (pixel size "
                   f"{_fmt_size(seg.pixel_size, res.pixel_size_source)}{bar_note}) -> "
                   f"{paths['labels'].name}, {paths['prob'].name}, {paths['table'].name}",
                   file=sys.stdout)
        if filtered is not None:
            fpaths = _filter_outputs(out, stem)
            _write_filtered(filtered, fpaths, path.name)
            _report_filtered(str(path), filtered.table, classifier)
            tqdm.write(f"  -> {fpaths['labels'].name}, {fpaths['table'].name}, "
                       f"{fpaths['overlay'].name}", file=sys.stdout)
    bar.close()
    return _finish("segment", failures, len(images), "image(s)")


def _load_classifier(name):
    """The classifier predictor for NAME|PATH ('default' = the default one), None for 'none'."""
    if name is not None and name.strip().lower() == "none":
        return None
    from .models.saved import load_predictor

    return load_predictor(None if name in (None, "default") else name, task="classifier")


def _filter_outputs(out, stem):
    return {"labels": out / f"{stem}_filtered.tif", "table": out / f"{stem}_filtered.csv",
            "overlay": out / f"{stem}_filtered.png"}


def _check_filter_options(args):
    from .classify import parse_range

    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise UsageError(f"--min-score must be in [0, 1], got {args.min_score:g}")
    for r in getattr(args, "ranges", ()):
        parse_range(r)  # ValueError names the bad range


def _write_filtered(res, paths, name):
    from . import io
    from .plot import filter_overlay

    table = res.table
    kept = table.loc[table["Kept"], "Label"]
    io.write_labels(paths["labels"], res.filtered, res.pixel_size)
    io.write_table(paths["table"], table)
    io.write_png(paths["overlay"], filter_overlay(
        res.image, res.labels, kept,
        title=f"{name}: kept {len(kept)} of {len(table)} (green), discarded red"))


def _report_filtered(name, table, classifier):
    from .measure import summarize

    kept = table[table["Kept"]]
    how = f"classifier {classifier.info.name}" if classifier is not None else "rules only"
    print(f"{name}: kept {len(kept)} of {len(table)} particles ({how})")
    if len(kept):
        print(summarize(kept, ["MinFeret", "ECD"]).to_string(float_format=lambda v: f"{v:.4g}"))


def cmd_filter(args):
    from pathlib import Path

    _check_filter_options(args)
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    image_path, labels_path = Path(args.image), Path(args.labels)
    for p in (image_path, labels_path):
        if not p.is_file():
            raise UsageError(f"no such file: {p}")
    paths = _filter_outputs(out, _stem(labels_path))
    inputs = {image_path.resolve(), labels_path.resolve()}
    for path in paths.values():
        if path.resolve() in inputs:
            raise UsageError(f"output {path} would overwrite an input file")
    classifier = _load_classifier(args.classifier)
    from .batch import filter_file
    tiles, progress = _tile_bar(f"filter {image_path.name}", disable=classifier is None)
    try:
        res = filter_file(image_path, labels_path, classifier, pixel_size=args.pixel_size,
                          min_score=args.min_score, ranges=args.ranges,
                          exclude_border=args.exclude_border, connectivity=args.connectivity,
                          batch_size=args.batch_size, progress=progress)
    finally:
        tiles.close()
    out.mkdir(parents=True, exist_ok=True)
    _write_filtered(res, paths, labels_path.name)
    _report_filtered(str(labels_path), res.table, classifier)
    print(f"wrote {paths['labels']}, {paths['table'].name}, {paths['overlay'].name}")
    return EXIT_OK


def cmd_demo(args):
    from pathlib import Path

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    predictor = _load_model(args.model)

    from . import io
    from .batch import load_labels, sample_files, segment_file
    from .measure import summarize
    from .metrics import evaluate
    from .plot import outline_overlay, size_histogram

    image_path, truth_path = sample_files()
    res = segment_file(image_path, predictor)
    seg = res.segmentation
    out.mkdir(parents=True, exist_ok=True)
    paths = _segment_outputs(out, "sample_sem")
    paths.update(overlay=out / "sample_sem_overlay.png", histogram=out / "sample_sem_minferet.png")
    _write_segmentation(res, paths)
    image = res.image
    truth = load_labels(truth_path)[0]
    name = predictor.info.name
    io.write_png(paths["overlay"], outline_overlay(
        image, seg.labels, truth, title=f"{name}: {len(res.table)} particles (yellow), truth cyan"))
    io.write_png(paths["histogram"], size_histogram(res.table, "MinFeret",
                                                    title=f"MinFeret, {len(res.table)} particles"))
    ev = evaluate(seg.labels, truth, pixel_size=seg.pixel_size).scores
    print(f"Segmented the bundled SEM sample ({image.shape[1]}x{image.shape[0]} px, "
          f"{seg.pixel_size[0]:g} nm/px; data bar from row {seg.databar_row} excluded) with {name}: "
          f"{len(res.table)} particles.")
    print(f"Against the sample's exact labels ({int(ev['Objects (truth)'])} particles): "
          f"F1@0.5 {ev['F1@0.5']:.3f}, instance IoU {ev['Inst. IoU (pred)']:.3f}, "
          f"pixel IoU {ev['IoU']:.3f}")
    print(summarize(res.table, ["MinFeret", "ECD"]).to_string(float_format=lambda v: f"{v:.4g}"))
    for key in ("labels", "prob", "table", "overlay", "histogram"):
        print(f"wrote {paths[key]}")
    return EXIT_OK


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
        if len(weights) != 2 or min(weights) <= 0:
            raise UsageError(f"--class-weights must be two positive numbers BG,FG, got {args.class_weights!r}")
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

    from . import io
    from .batch import classifier_triples
    from .models import ModelConfig

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
    from .models.training import train_classifier
    n = sum(len(set(np.unique(t[1]).tolist()) - {0}) for t in triples)
    print(f"training classifier '{config.name}' ({config.architecture}) on {len(triples)} "
          f"image(s), {n} particles, at {config.pixel_size:g} nm/px, {config.tile_size}-px patches")
    result = train_classifier(triples, config, out, epochs=args.epochs, batch_size=args.batch_size,
                              learning_rate=args.learning_rate, loss=args.loss,
                              class_weights=weights, patience=args.patience, seed=args.seed,
                              resume=args.resume, verbose=1)
    _best_epoch(result.history)
    print(f"score threshold {result.config.threshold:g} (validation precision "
          f"{result.precision:.3f}, recall {result.recall:.3f})")
    print(f"wrote {out} (best.keras, last.keras, log.json, training_curve.png, config.json); "
          f"next: emseg export {out} --models models")
    return EXIT_OK


def cmd_train(args):
    from pathlib import Path

    from .models import ModelConfig
    out, weights = _check_training_options(args)

    from . import io
    from .batch import training_pairs
    pairs = list(training_pairs(args.images, args.masks, pixel_size=args.pixel_size))
    if args.resume:
        import json
        # the run being resumed fixes the model; architecture options are ignored
        config = ModelConfig.from_dict(json.loads(io.read_text(out / "log.json"))["config"])
    elif args.config:
        config = ModelConfig.from_json(io.read_text(args.config))
    else:
        config = ModelConfig(
            name=args.name, architecture=args.architecture,
            classes=[c.strip() for c in args.classes.split(",") if c.strip()],
            base_filters=args.base_filters, depth=args.depth, tile_size=args.tile_size,
            halo=min(32, args.tile_size // 8), pixel_size=args.model_pixel_size or pairs[0][2])
    from .models.training import train_model
    print(f"training {config.architecture} '{config.name}' on {len(pairs)} image(s) at "
          f"{config.pixel_size:g} nm/px, {config.tile_size}-px patches")
    result = train_model(pairs, config, out, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, loss=args.loss, class_weights=weights,
                         patience=args.patience, seed=args.seed, resume=args.resume, verbose=1)
    _best_epoch(result.history)
    print(f"threshold {result.config.threshold:g} (validation IoU {result.threshold_iou:.4f})")
    print(f"wrote {out} (best.keras, last.keras, log.json, training_curve.png, config.json); "
          f"next: emseg export {out} --models models")
    return EXIT_OK


def cmd_export(args):
    import json
    from dataclasses import replace
    from pathlib import Path

    from . import io
    from .models import ModelConfig
    folder = Path(args.training)
    for f in ("best.keras", "config.json"):
        if not (folder / f).exists():
            raise UsageError(f"{folder} is not a finished training folder (no {f})")
    config = ModelConfig.from_json(io.read_text(folder / "config.json"))
    if args.name:
        config = replace(config, name=args.name)
    target = Path(args.models) / config.name
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
    from .models.saved import export_model
    info = export_model(folder / "best.keras", config, target, training=training,
                        description=args.description, overwrite=args.overwrite)
    print(f"exported {info.name} to {info.path}")
    return EXIT_OK


def cmd_models(args):
    from .models import DEFAULT_CLASSIFIER, DEFAULT_MODEL, list_models, model_dirs
    from pathlib import Path

    for p in args.paths:
        if not Path(p).is_dir():
            raise UsageError(f"{p} is not a folder")
    models = list_models(args.paths)
    if not models:
        print("no models installed (searched " + ", ".join(str(d) for d in model_dirs()) + ")")
        return EXIT_OK
    for m in models:
        meta = m.meta
        star = " (default)" if m.name in (DEFAULT_MODEL, DEFAULT_CLASSIFIER) else ""
        print(f"{m.name}{star}: {m.task}, {meta.get('architecture', '?')}, "
              f"{meta.get('pixel_size_nm', '?')} nm/px, classes "
              f"{','.join(meta.get('output', {}).get('classes', []))}, threshold "
              f"{meta.get('threshold', '?')}\n  {m.path}\n  {m.description}")
    return EXIT_OK


def cmd_imagej(args):
    from pathlib import Path

    from .fiji import ImageJUnavailable, MacroFailed, run_macro, start
    if args.headless and not args.macro:
        raise UsageError("--headless needs --macro (there is nothing to show)")
    if args.macro and not Path(args.macro).is_file():
        raise UsageError(f"--macro {args.macro} does not exist")
    if args.args and not args.macro:
        raise UsageError("--args needs --macro")
    try:
        ij = start(fiji_dir=args.fiji_dir, ij_jar=args.ij_jar, headless=args.headless,
                   plugin_jar=args.plugin_jar)
    except ImageJUnavailable as exc:
        raise UsageError(str(exc)) from None
    if args.macro:
        try:
            result = run_macro(args.macro, args.args)
        except MacroFailed as exc:
            print(f"emseg imagej: error: {exc}", file=sys.stderr)
            _exit_with_jvm(EXIT_FAILURE)
        if result:
            print(result)
        _exit_with_jvm(EXIT_OK)
    import time
    if ij.IJ.getInstance() is None and args.fiji_dir is None:
        ij.ImageJ()
    print("ImageJ is running with the EMSeg plugin (Plugins > EMSeg); quit ImageJ to return.")
    time.sleep(1.0)
    while ij.IJ.getInstance() is not None:
        time.sleep(0.5)
    _exit_with_jvm(EXIT_OK)


def _exit_with_jvm(code):
    """Leave at once: tearing Python down under a running JVM (with ImageJ's and TensorFlow's
    threads) can abort with "FATAL: exception not rethrown" after the work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_install_fiji(args):
    from .fiji import ImageJUnavailable, install_fiji
    try:
        written = install_fiji(args.fiji_dir, python=args.python, plugin_jar=args.plugin_jar)
    except ImageJUnavailable as exc:
        raise UsageError(str(exc)) from None
    for p in written:
        print(f"wrote {p}")
    print("Restart Fiji: the commands are under Plugins > EMSeg.")
    return EXIT_OK


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"emseg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError, OSError) as exc:
        print(f"emseg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("emseg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for users
        if os.environ.get("EMSEG_DEBUG"):
            raise
        print(f"emseg {args.command}: internal error: {exc.__class__.__name__}: {exc} "
              "(set EMSEG_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_FAILURE
