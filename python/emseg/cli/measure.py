"""``emseg measure``: ImageJ-identical measurements of label images."""

from .common import UsageError, check_outputs, dask_option, finish, pixel_size_arg, run_batch


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
    dask_option(m)
    m.set_defaults(func=cmd_measure)


def cmd_measure(args):
    from pathlib import Path

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
    stems = [p.stem for p in labels]
    dup = {s for s in stems if stems.count(s) > 1}
    if dup and not combined:
        raise UsageError(f"several inputs are named {sorted(dup)[0]!r}: their outputs would collide")
    if combined:
        check_outputs([out, out.parent / f"{out.stem}_minferet.png"], inputs)
    else:
        check_outputs([out / f"{s}_{kind}" for s in stems
                       for kind in ("measurements.csv", "minferet.png")], inputs)

    from .. import io
    from ..measure import summarize
    from ..workflows import combine_tables
    from ..workflows.batch import measure_to_folder

    calls = [((lab, None if combined else out, images[i] if images else None),
              dict(plot=args.plot, pixel_size=args.pixel_size, connectivity=args.connectivity))
             for i, lab in enumerate(labels)]
    outcomes, failures = run_batch(args, "measure", measure_to_folder, calls, tiles=False)
    results = [o.result for o in outcomes if o.error is None]
    written = [p for o in outcomes for p in o.written]
    if results and combined:
        table = combine_tables(results, file_column=len(results) > 1)
        io.write_table(out, table)
        written.append(out)
        if args.plot:
            from ..plot import size_histogram
            png = out.parent / f"{out.stem}_minferet.png"
            io.write_png(png, size_histogram(table, "MinFeret"))
            written.append(png)
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
