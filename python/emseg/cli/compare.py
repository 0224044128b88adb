"""``emseg compare``: two or more samples' measurement distributions side by side."""

from .common import EXIT_OK, UsageError


def add_parsers(sub):
    """Add the ``compare`` command to the subparsers ``sub``."""
    c = sub.add_parser("compare", help="compare samples' size and shape distributions "
                                       "(e.g. vesicles of two cell lines)",
                       description=(
                           "Compare the objects measured in two or more samples, as vesicle and "
                           "particle papers do: each SAMPLE is a folder of EMSeg result tables "
                           "(<stem>_results.csv, or <stem>_filtered.csv where the classifier "
                           "filter ran: its kept rows; <stem>_vesicles.csv from tomograms) or "
                           "one CSV table. Objects cut by the image border are left out. For "
                           "each measurement (default: the diameter ECD and the roundness "
                           "Circ. and Round; Diameter for vesicle tables) prints every "
                           "sample's n, median with its bootstrap confidence interval, mean "
                           "and SD, and for every pair the Wilcoxon rank-sum (Mann-Whitney U) "
                           "and Kolmogorov-Smirnov p-values (Holm-adjusted over the pairs "
                           "when there are more than two samples). Writes "
                           "compare_summary.csv, compare_tests.csv and a compare_<column>.png "
                           "per measurement (histograms and box plots side by side)."))
    c.add_argument("samples", nargs="+", metavar="SAMPLE",
                   help="folders of result tables, or CSV tables (at least two)")
    c.add_argument("--name", action="append", dest="names", metavar="NAME",
                   help="the samples' names, in order (default: the folder or file names)")
    c.add_argument("--column", action="append", dest="columns", metavar="COL",
                   help="measurement to compare (repeatable; default ECD, Circ., Round)")
    c.add_argument("--include-border", action="store_true",
                   help="keep objects cut by the image border (their size is not theirs)")
    c.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                   help="bootstrap resamples for the medians' intervals (default 2000)")
    c.add_argument("--confidence", type=float, default=0.95, metavar="C",
                   help="confidence level of the intervals (default 0.95)")
    c.add_argument("--output", "-o", metavar="DIR", default=".",
                   help="output folder (created; default: current folder)")
    c.set_defaults(func=cmd_compare)


def cmd_compare(args):
    from pathlib import Path

    if len(args.samples) < 2:
        raise UsageError("give at least two samples to compare")
    if args.names is not None and len(args.names) != len(args.samples):
        raise UsageError(f"--name given {len(args.names)} time(s) for {len(args.samples)} "
                         "samples")
    if args.bootstrap < 100:
        raise UsageError(f"--bootstrap must be at least 100, got {args.bootstrap}")
    if not 0 < args.confidence < 1:
        raise UsageError(f"--confidence must be in (0, 1), got {args.confidence:g}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    names = args.names or [Path(s).stem if Path(s).is_file() else Path(s).resolve().name
                           for s in args.samples]
    if len(set(names)) != len(names):
        raise UsageError(f"samples share a name ({', '.join(names)}): give --name for each")

    from ..workflows import compare_tables, sample_tables, write_comparison
    from ..workflows.compare import comparison_paths

    samples = {name: sample_tables(path) for name, path in zip(names, args.samples)}
    tables = {p.resolve() for t in samples.values() for p in t}
    comparisons = compare_tables(samples, args.columns, include_border=args.include_border,
                                 n_boot=args.bootstrap, confidence=args.confidence)
    for path in comparison_paths(out, comparisons).values():
        if path.resolve() in tables:
            raise UsageError(f"output {path} would overwrite an input table")
    out.mkdir(parents=True, exist_ok=True)
    paths = write_comparison(out, comparisons)
    level = f"{args.confidence:.0%}"
    for column, c in comparisons.items():
        print(f"{column}:")
        for r in c.summary.to_dict("records"):
            print(f"  {r['Sample']}: n {r['n']}, median {r['Median']:.4g} ({level} CI "
                  f"{r['CI low']:.4g}-{r['CI high']:.4g}), mean {r['Mean']:.4g} ± {r['SD']:.3g}")
        for r in c.tests.to_dict("records"):
            line = (f"  {r['A']} vs {r['B']}: median difference {r['Median difference']:+.4g}; "
                    f"Wilcoxon rank-sum p = {r['p Wilcoxon']:.3g}, KS p = {r['p KS']:.3g}")
            if len(c.tests) > 1:
                line += f" (Holm: {r['p Wilcoxon (Holm)']:.3g}, {r['p KS (Holm)']:.3g})"
            print(line)
    print(f"wrote {', '.join(p.name for p in paths.values())} to {out}")
    return EXIT_OK
