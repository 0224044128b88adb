"""``emseg evaluate``: scores of segmentations against ground truth."""

import sys

from .common import UsageError, finish, pixel_size_arg


def add_parsers(sub):
    """Add the ``evaluate`` commands to the subparsers ``sub``."""
    e = sub.add_parser("evaluate", help="score segmentations against ground truth",
                       description=(
                           "Score segmentations (label images or binary masks) against ground "
                           "truth with the metrics of the FRU-Net, CryoVesNet, WAE-Net and BAM "
                           "papers: pixel IoU/Dice, Youden's index, instance F1, the BAM "
                           "instance IoU, Cell Tracking Challenge SEG/DET, ISBI Rand and "
                           "information errors, diameter/roundness errors and size-distribution "
                           "errors. Files pair by name (a.tif with a_m.tif, a_labels.tif, ...). "
                           "Prints a per-image table and the means; --output writes every score. "
                           "Label volumes (MRC, TIFF stacks: vesicles in tomograms) get "
                           "CryoVesNet's table: mask Dice (with --prob), Dice, delta_d, Delta_c "
                           "(nm), TP, FN, FP, F1 (a vesicle is found when its centre lies in a "
                           "true one). Class images of a semantic model (emseg segment with a "
                           "multi-class model) get the WAE-Net paper's per-class Jaccard index "
                           "and F1 with their means, per image and pooled; --class-map reads "
                           "coded ground truth."))
    e.add_argument("--pred", nargs="+", metavar="P", default=[],
                   help="segmentations: label images or binary masks")
    e.add_argument("--truth", nargs="+", metavar="T", default=[],
                   help="ground truth: label images or binary masks")
    e.add_argument("--prob", nargs="+", metavar="PROB",
                   help="foreground probability maps of the segmentations (adds Youden's index)")
    e.add_argument("--connectivity", type=int, choices=(4, 8), default=8,
                   help="connectivity that splits binary masks into objects (default 8)")
    e.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
                   help="pixel size in nm (or W,H); overrides the files' calibration")
    e.add_argument("--iou-threshold", type=float, default=0.5, metavar="T",
                   help="IoU needed for a matched object (default 0.5)")
    e.add_argument("--column", default="MinFeret", metavar="COL",
                   help="measurement whose distribution is compared (default MinFeret)")
    e.add_argument("--table", choices=("emseg", "fru-net"), default="emseg",
                   help="what is printed per 2D image: EMSeg's scores (default; the FRU-Net "
                        "paper's Table 1 pooled over all images follows them) or the FRU-Net "
                        "paper's Table 1 (vesicles in TEM: SEG, DET, Monte-Carlo Wilcoxon "
                        "p-values of diameter and roundness over all objects, SEG*, delta_d, "
                        "delta_r, TP, FP, FP ratio and the p-values over the correctly detected "
                        "ones) for every image and pooled over all of them")
    e.add_argument("--class-map", metavar="MAP|FILE",
                   help="class images: the ground truth's coded values, VALUES=NAME;... as for "
                        "emseg train (or a file holding it)")
    e.add_argument("--output", "-o", metavar="CSV",
                   help="write every score of every image (and the means) to this CSV file")
    e.set_defaults(func=cmd_evaluate)


#: Scores printed by ``emseg evaluate`` (every score goes to the CSV).
_EVALUATE_SHOWN = ("IoU", "Youden J", "Inst. IoU (pred)", "F1@{t}", "SEG", "DET", "Rand error",
                   "Info error", "delta_d", "{col} mean err")


def cmd_evaluate(args):
    from pathlib import Path

    if not args.pred and not args.truth:
        raise UsageError("no files given: use --pred P... --truth T...")
    if not 0 < args.iou_threshold <= 1:
        raise UsageError(f"--iou-threshold must be in (0, 1], got {args.iou_threshold:g}")
    from ..measure import NUMERIC_COLUMNS
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

    from .. import io
    import pandas as pd

    from ..metrics import fru_net_scores
    from ..workflows import (evaluate_class_files, evaluate_files, evaluation_table, pair_files,
                             pooled_scores)

    try:
        pairs = pair_files(args.pred, args.truth, args.prob)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from ..workflows import evaluate_volume_files, volume_input

    names, class_map = _class_map(args.class_map)
    results, volumes, classes, failures = [], [], [], []
    for name, pred, truth, prob in tqdm(pairs, desc="evaluate", unit="image",
                                        disable=len(pairs) < 2, file=sys.stderr):
        try:
            if class_map is not None or _is_class_image(pred):
                classes.append(evaluate_class_files(name, pred, truth, names=names,
                                                    class_map=class_map))
            elif volume_input(truth):
                if args.pixel_size is not None and args.pixel_size[0] != args.pixel_size[1]:
                    raise ValueError(f"{truth}: give one voxel size for volumes")
                volumes.append(evaluate_volume_files(
                    name, pred, truth, prob,
                    voxel_size=None if args.pixel_size is None else args.pixel_size[0]))
            else:
                results.append(evaluate_files(name, pred, truth, prob, pixel_size=args.pixel_size,
                                              connectivity=args.connectivity,
                                              iou_threshold=args.iou_threshold,
                                              column=args.column))
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
    if volumes:
        _report_volumes(volumes, out if not results else None)
    if classes:
        _report_classes(classes, out if not results and not volumes else None)

    if results and args.table == "fru-net":
        _report_fru_net(results, out)
    elif results:
        table = evaluation_table(results)
        if out is not None:
            io.write_table(out, table)
        t = f"{results[0].evaluation.matching.threshold:g}"
        shown = [c.format(t=t, col=args.column) for c in _EVALUATE_SHOWN]
        if all(r.prob_path is None for r in results):
            shown.remove("Youden J")
        print(_format(table[["Image"] + shown]))
        pooled = pooled_scores(results, args.column)
        print(f"All {len(results)} image(s) pooled: TP {pooled['TP']}, FP {pooled['FP']}, "
              f"FN {pooled['FN']}; precision {pooled['Precision']:.4f}, recall "
              f"{pooled['Recall']:.4f}, F1@{t} {pooled['F1']:.4f}")
        c = args.column
        print(f"{c} distribution, all particles (relative error of prediction): mean "
              f"{pooled[c + ' mean err']:+.2%}, median {pooled[c + ' median err']:+.2%}, D10 "
              f"{pooled[c + ' D10 err']:+.2%}, D90 {pooled[c + ' D90 err']:+.2%}; "
              f"KS {pooled[c + ' KS']:.4f}")
        print(f"The FRU-Net paper's Table 1 over all {len(results)} image(s) (--table fru-net "
              f"gives it per image):")
        print(_format(pd.DataFrame([fru_net_scores([r.evaluation for r in results])])))
        if out is not None:
            print(f"wrote {out}")
    return finish("evaluate", failures, len(pairs), "pair(s)")


def _class_map(spec):
    """``(names, value map)`` of ``--class-map``, ``(None, None)`` without."""
    from .common import class_map_arg

    return (None, None) if spec is None else class_map_arg(spec)


def _is_class_image(path):
    """Whether ``path`` is a class image EMSeg wrote (it names its classes)."""
    from pathlib import Path

    from ..io import read_class_names
    if Path(path).suffix.lower() not in (".tif", ".tiff"):
        return False
    try:
        return read_class_names(path) is not None
    except Exception:       # unreadable: the evaluation says why
        return False


def _report_classes(results, out):
    from .. import io
    from ..workflows import class_evaluation_tables

    per_image, pooled = class_evaluation_tables(results)
    if out is not None:
        io.write_table(out, pooled)
    print(_format(per_image))
    print(f"All {len(results)} image(s) pooled, per class (Jaccard index = IoU, F1):")
    print(_format(pooled[["Class", "IoU", "F1", "Precision", "Recall", "Support"]]))
    row = pooled.iloc[-1]
    print(f"mean Jaccard index {row['IoU']:.4f}, mean F1 {row['F1']:.4f}")
    if out is not None:
        print(f"wrote {out}")


def _format(table):
    """``table`` as printed: four decimals, ``-`` for undefined scores."""
    return table.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-")


def _show(table, out, pooled_line):
    """Write ``table`` to ``out`` (if given), print it and the line on its pooled last row."""
    from .. import io

    if out is not None:
        io.write_table(out, table)
    print(_format(table))
    print(pooled_line(table.iloc[-1]))
    if out is not None:
        print(f"wrote {out}")


def _report_fru_net(results, out):
    from ..workflows import fru_net_table

    _show(fru_net_table(results), out, lambda r: (
        f"All {len(results)} image(s) pooled: SEG {r['SEG']:.4f}, DET {r['DET']:.4f}, SEG* "
        f"{r['SEG*']:.4f}, delta_d {r['delta_d']:.4f}, delta_r {r['delta_r']:.4f}; TP "
        f"{int(r['TP'])}, FP {int(r['FP'])} (FP ratio {r['FP ratio']:.4f})"))


def _report_volumes(results, out):
    from ..workflows import volume_evaluation_table

    _show(volume_evaluation_table(results), out, lambda r: (
        f"All {len(results)} tomogram(s) pooled: TP {int(r['TP'])}, FP {int(r['FP'])}, FN "
        f"{int(r['FN'])}; F1 {r['F1']:.4f}, mean Dice {r['Dice']:.4f}"))
