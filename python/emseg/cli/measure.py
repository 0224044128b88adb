"""``emseg measure``: ImageJ-identical measurements of label images."""

import sys

from .common import UsageError, finish, pixel_size_arg


def add_parsers(sub):
    """Add the ``measure`` commands to the subparsers ``sub``."""
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
    m.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
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


def cmd_measure(args):
    from pathlib import Path

    from ..io import describe_size

    labels = [Path(p) for p in args.labels]
    images = [Path(p) for p in args.image] if args.image else None
    if args.example:
        if labels or images:
            raise UsageError("--example takes no LABELS or --image")
        from ..workflows import example_files
        lab, img = example_files()
        labels, images = [lab], [img]
    if not labels:
        raise UsageError("no LABELS given (or use --example for the bundled example)")
    if images is not None and len(images) != len(labels):
        raise UsageError(f"--image got {len(images)} file(s) for {len(labels)} LABELS; give one per label file")
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    from ..measure import INTENSITY_COLUMNS, MEASUREMENT_COLUMNS
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

    from .. import io
    from ..measure import summarize
    from ..workflows import combine_tables, measure_file

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
                from ..plot import size_histogram
                io.write_png(png_path, size_histogram(table, "MinFeret"))
                written.append(png_path)

    for r in results:
        print(f"{r.labels_path}: {len(r.table)} particles, pixel size "
              f"{describe_size(r.pixel_size, r.pixel_size_source)}")
    if results:
        every = combine_tables(results, file_column=False)
        summary = summarize(every, columns)
        unit = every.attrs.get("unit", "")
        title = "Summary" + (f" of {len(results)} files" if len(results) > 1 else "")
        print(f"{title} ({unit}; SD with n - 1; D10/D50/D90 number-weighted):")
        print(summary.to_string(float_format=lambda v: f"{v:.4g}"))
        for p in written:
            print(f"wrote {p}")
    return finish("measure", failures, len(labels), "file(s)")
