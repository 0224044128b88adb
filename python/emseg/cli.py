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
    return p


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


def main(argv=None):
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
