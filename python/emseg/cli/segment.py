"""``emseg segment``, ``filter`` and ``demo``: segmentation with a model, the classifier filter."""

import sys

from .common import EXIT_OK, UsageError, file_stem, finish, pixel_size_arg, tile_bar


def add_parsers(sub):
    """Add the ``segment``, ``filter``, ``demo`` commands to the subparsers ``sub``."""
    sg = sub.add_parser("segment", help="segment particles (images) or vesicles (tomograms) "
                                        "with a trained model",
                        description=(
                            "Segment particles in micrographs with a trained network (the default "
                            "model when --model is omitted): the data bar is excluded, the image "
                            "rescaled to the model's pixel size, predicted in blended tiles and "
                            "post-processed to instances. Writes <stem>_labels.tif, "
                            "<stem>_prob.tif and <stem>_results.csv (ImageJ measurements) per "
                            "image; a model that reports measurements (emseg-vesicles-tem: "
                            "extracellular vesicles in negative-stain TEM, their diameter ECD "
                            "and roundness Circ.) also prints their summary and writes "
                            "<stem>_<measurement>.png histograms. A volume (MRC/REC tomogram, "
                            "TIFF stack) goes to the volume pipeline (default model "
                            "emseg-vesicles-cryoet): rescaled to the "
                            "model's voxel size, predicted in blended 3D blocks, thresholded "
                            "where the mask's shell is darkest, split and grown by local "
                            "thresholds, then every vesicle turned into a sphere refined "
                            "against the tomogram (CryoVesNet's radial profile: radius at the "
                            "membrane's outer edge, re-centred by cross-correlation, outliers "
                            "by Mahalanobis distance); writes <stem>_labels.mrc (the spheres), "
                            "<stem>_prob.mrc, <stem>_vesicles.csv (centre X, Y, Z, Radius, "
                            "Diameter, Thickness in nm, membrane and lumen intensity, "
                            "Mahalanobis, PValue, ...), <stem>_vesicles.mod (IMOD model: one "
                            "point per vesicle, its radius as point size), "
                            "<stem>_vesicles.png (slices), <stem>_diameters.png (histogram) "
                            "and <stem>_profiles.png (radial profiles of a few vesicles)."))
    sg.add_argument("images", nargs="+", metavar="IMAGE",
                    help="micrograph(s) (TIFF, PNG, JPEG, DM3/DM4, SER, EMD) or tomogram(s) "
                         "(MRC/REC, TIFF stack)")
    _model_options(sg)
    sg.add_argument("--output", "-o", metavar="DIR", default=".",
                    help="output folder (created; default: current folder)")
    sg.add_argument("--classifier", metavar="NAME|PATH",
                    help="then keep only particles this classifier filter passes (as 'emseg "
                         "filter'; 'default' for emseg-classifier-sem)")
    sg.add_argument("--min-score", type=float, metavar="S",
                    help="with --classifier: minimum score (default: the classifier's tuned value)")
    sg.add_argument("--mask", metavar="REGION",
                    help="tomograms: a region volume of the same shape (e.g. the cytoplasm, "
                         "non-zero inside); vesicles are found only there")
    sg.add_argument("--no-refine", action="store_true",
                    help="tomograms: keep the segmentation as it is (no spheres, no outlier "
                         "removal); the table then has the segments' centroid, volume and "
                         "equivalent diameter")
    sg.add_argument("--volume-format", choices=("mrc", "tif"), default="mrc",
                    help="tomograms: write the label and probability volumes as MRC (default) or "
                         "as ImageJ TIFF stacks with the voxel size (for ImageJ without an MRC "
                         "reader; Fiji's Segment Particles on a stack uses it)")
    sg.add_argument("--pixel-size-from", metavar="FILE",
                    help="when an image has no calibration, use the pixel size EMSeg reads from "
                         "FILE (the original the image was copied from; Fiji passes it)")
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
    fl.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
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


def _model_options(p):
    p.add_argument("--model", "-m", metavar="NAME|PATH",
                   help="installed model name or model folder (default: emseg-particles-sem for "
                        "images, emseg-vesicles-cryoet for volumes)")
    p.add_argument("--pixel-size", type=pixel_size_arg, metavar="NM",
                   help="pixel size in nm (or W,H; volumes: the voxel size, one number); "
                        "overrides the files' calibration")
    p.add_argument("--threshold", type=float, metavar="T",
                   help="probability threshold (default: the model's tuned value)")
    p.add_argument("--keep-databar", action="store_true",
                   help="do not detect and exclude the microscope's data bar")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help="tiles per network call (default 4 for images, 1 for volumes: one "
                        "3D block fills the network, and more only cost memory)")


def _load_model(name):
    from ..models.saved import SEGMENTING_TASKS, load_predictor

    # found and checked now (ValueError lists the installed models), loaded at the first tile
    return load_predictor(name, task=SEGMENTING_TASKS, lazy=True)


def _write_volume(res, paths, name):
    from ..workflows.vesicles import write_volume_outputs

    seg = res.segmentation
    probability, seg.probability = seg.probability, None
    # the picture's drawing need not have the whole probability map beside it: write it first
    write_volume_outputs({"prob": paths["prob"]}, res.table, seg.labels,
                         seg.voxel_size, name=name, probability=probability,
                         header=res.metadata)
    del probability
    write_volume_outputs({k: v for k, v in paths.items() if k != "prob"}, res.table, seg.labels,
                         seg.voxel_size, name=name, volume=res.volume, spheres=seg.spheres,
                         header=res.metadata)


def _check_segment_options(args):
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UsageError(f"--threshold must be in [0, 1], got {args.threshold:g}")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")


def _segment_outputs(out, stem, report=()):
    paths = {"labels": out / f"{stem}_labels.tif", "prob": out / f"{stem}_prob.tif",
             "table": out / f"{stem}_results.csv"}
    from ..workflows.files import file_part

    for column in report:       # the model's reported measurements: a histogram each
        paths[column] = out / f"{stem}_{file_part(column)}.png"
    return paths


def _report(res, paths, report, name):
    """Print the summary of the model's reported measurements and draw their histograms
    (objects cut by the image border left out: their size is not theirs)."""
    from .. import io
    from ..measure import summarize
    from ..plot import size_histogram

    table = res.table
    if "Border" in table.columns:
        table = table[~table["Border"].astype(bool)]
    summary = summarize(table, list(report))
    for row in summary.reset_index().to_dict("records"):
        print(f"  {row['column']}: n {row['count']}, mean {row['mean']:.4g} ± {row['SD']:.3g}, "
              f"median {row['median']:.4g}, D10/D90 {row['D10']:.4g}/{row['D90']:.4g}")
    for column in report:
        io.write_png(paths[column], size_histogram(table, column, title=None if len(table)
                                                   else f"{name}: no {column} to show"))


def _write_segmentation(res, paths):
    from .. import io

    seg = res.segmentation
    io.write_labels(paths["labels"], seg.labels, seg.pixel_size)
    io.write_image(paths["prob"], seg.probability, seg.pixel_size)
    io.write_table(paths["table"], res.table)


def cmd_segment(args):
    from pathlib import Path

    from ..io import describe_size
    from ..workflows.vesicles import volume_output_paths

    _check_segment_options(args)
    if args.min_score is not None:
        if args.classifier is None:
            raise UsageError("--min-score needs --classifier")
        _check_filter_options(args)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    if args.pixel_size_from is not None and not Path(args.pixel_size_from).is_file():
        raise UsageError(f"--pixel-size-from {args.pixel_size_from}: no such file")
    images = [Path(p) for p in args.images]
    inputs = {p.resolve() for p in images}
    stems = [file_stem(p) for p in images]
    dup = {s for s in stems if stems.count(s) > 1}
    if dup:
        raise UsageError(f"several inputs are named {sorted(dup)[0]!r}: their outputs would collide")
    if args.mask is not None:
        if not Path(args.mask).is_file():
            raise UsageError(f"--mask {args.mask}: no such file")
        inputs.add(Path(args.mask).resolve())
    named = _load_model(args.model) if args.model is not None else None
    from ..models.config import report_columns
    report = report_columns(named.meta if named is not None else None)
    semantic = named is not None and named.meta.get("task") == "semantic"
    if semantic and args.classifier:
        raise UsageError("--classifier filters particles; a semantic model gives classes")
    if semantic and args.threshold is not None:
        raise UsageError("--threshold: a semantic model gives each pixel its most probable class")
    from ..workflows.semantic import class_output_paths
    for stem in stems:
        for path in [*_segment_outputs(out, stem, report).values(),
                     *(class_output_paths(out, stem, named.meta).values() if semantic else ()),
                     *_filter_outputs(out, stem).values(),
                     *volume_output_paths(out, stem, fmt=args.volume_format).values()]:
            if path.resolve() in inputs:
                raise UsageError(f"output {path} would overwrite an input file")
    models = {}
    from ..models.config import is_volume_model

    def model_for(volume):
        if named is not None:
            if is_volume_model(named.meta) != volume:
                raise ValueError(f"model {named.info.name!r} segments "
                                 f"{'volumes' if is_volume_model(named.meta) else '2D images'}; "
                                 f"{path} is a {'volume' if volume else '2D image'}")
            return named
        if volume not in models:
            from ..models import DEFAULT_VOLUME_MODEL
            models[volume] = _load_model(DEFAULT_VOLUME_MODEL if volume else None)
        return models[volume]

    classifier = _load_classifier(args.classifier) if args.classifier else None
    from tqdm import tqdm

    from ..workflows import filter_array, segment_file, segment_volume_file, volume_input
    failures = []
    bar = tqdm(images, desc="segment", unit="image", file=sys.stderr)
    for path, stem in zip(bar, stems):
        tiles, progress = tile_bar(f"  {path.name}")
        res = vres = None       # the last file's arrays are not kept while the next one runs
        try:
            volume = volume_input(path)
            predictor = model_for(volume)
            if volume:
                if classifier is not None:
                    raise ValueError(f"{path}: --classifier applies to 2D images, not volumes")
                if args.pixel_size is not None and args.pixel_size[0] != args.pixel_size[1]:
                    raise ValueError(f"{path}: give one voxel size for a volume (--pixel-size NM)")
                vres = segment_volume_file(
                    path, predictor, voxel_size=None if args.pixel_size is None
                    else args.pixel_size[0], mask=args.mask, threshold=args.threshold,
                    postprocess={"refine": False} if args.no_refine else None,
                    batch_size=args.batch_size or 1, progress=progress)
            elif semantic:
                if args.mask is not None:
                    raise ValueError(f"{path}: --mask applies to volumes, not 2D images")
                from ..workflows.semantic import segment_classes_file
                res = segment_classes_file(path, predictor, pixel_size=args.pixel_size,
                                           keep_databar=args.keep_databar,
                                           batch_size=args.batch_size or 4, progress=progress,
                                           pixel_size_from=args.pixel_size_from)
            else:
                if args.mask is not None:
                    raise ValueError(f"{path}: --mask applies to volumes, not 2D images")
                res = segment_file(path, predictor, pixel_size=args.pixel_size,
                                   threshold=args.threshold, keep_databar=args.keep_databar,
                                   batch_size=args.batch_size or 4, progress=progress,
                                   pixel_size_from=args.pixel_size_from)
                filtered = None
                if classifier is not None:
                    filtered = filter_array(res.image, res.segmentation.labels, classifier,
                                            pixel_size=res.segmentation.pixel_size,
                                            min_score=args.min_score,
                                            batch_size=args.batch_size or 4,
                                            progress=progress, table=res.table)
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
            continue
        finally:
            tiles.close()
        out.mkdir(parents=True, exist_ok=True)  # only once there is something to write
        if volume:
            paths = volume_output_paths(out, stem, refined=vres.segmentation.spheres is not None,
                                        fmt=args.volume_format)
            _write_volume(vres, paths, path.name)
            seg = vres.segmentation
            tqdm.write(f"{path}: {len(vres.table)} vesicles (voxel size "
                       f"{describe_size(seg.voxel_size, vres.voxel_size_source)}, threshold "
                       f"{seg.threshold:.6g}) -> {', '.join(p.name for p in paths.values())}",
                       file=sys.stdout)
            continue
        if semantic:
            _write_classes(res, class_output_paths(out, stem, predictor.meta), path)
            continue
        report = report_columns(predictor.meta)
        paths = _segment_outputs(out, stem, report)
        _write_segmentation(res, paths)
        seg = res.segmentation
        bar_note = f", data bar from row {seg.databar_row} excluded" if seg.databar_row is not None else ""
        tqdm.write(f"{path}: {len(res.table)} particles (pixel size "
                   f"{describe_size(seg.pixel_size, res.pixel_size_source)}{bar_note}) -> "
                   f"{', '.join(p.name for p in paths.values())}", file=sys.stdout)
        if report:
            _report(res, paths, report, path.name)
        if filtered is not None:
            fpaths = _filter_outputs(out, stem)
            _write_filtered(filtered, fpaths, path.name)
            _report_filtered(str(path), filtered.table, classifier)
            tqdm.write(f"  -> {fpaths['labels'].name}, {fpaths['table'].name}, "
                       f"{fpaths['overlay'].name}", file=sys.stdout)
    bar.close()
    return finish("segment", failures, len(images), "image(s)")


def _write_classes(res, paths, path):
    """Write a semantic segmentation's files and print its class areas."""
    from tqdm import tqdm

    from ..io import describe_size
    from ..workflows.semantic import write_class_outputs

    write_class_outputs(res, paths)
    seg = res.segmentation
    bar_note = (f", data bar from row {seg.databar_row} excluded"
                if seg.databar_row is not None else "")
    areas = ", ".join(f"{r.Class} {r.Fraction:.1%}" for r in res.areas.itertuples())
    objects = "".join(f"; {len(t)} {name} objects" for name, t in res.tables.items())
    tqdm.write(f"{path}: {areas}{objects} (pixel size "
               f"{describe_size(seg.pixel_size, res.pixel_size_source)}{bar_note}) -> "
               f"{', '.join(p.name for p in paths.values())}", file=sys.stdout)


def _load_classifier(name):
    """The classifier predictor for NAME|PATH ('default' = the default one), None for 'none'."""
    if name is not None and name.strip().lower() == "none":
        return None
    from ..models.saved import load_predictor

    return load_predictor(None if name in (None, "default") else name, task="classifier",
                          lazy=True)


def _filter_outputs(out, stem):
    return {"labels": out / f"{stem}_filtered.tif", "table": out / f"{stem}_filtered.csv",
            "overlay": out / f"{stem}_filtered.png"}


def _check_filter_options(args):
    from ..filter.rules import parse_range

    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise UsageError(f"--min-score must be in [0, 1], got {args.min_score:g}")
    for r in getattr(args, "ranges", ()):
        parse_range(r)  # ValueError names the bad range


def _write_filtered(res, paths, name):
    from .. import io
    from ..plot import filter_overlay

    table = res.table
    kept = table.loc[table["Kept"], "Label"]
    io.write_labels(paths["labels"], res.filtered, res.pixel_size)
    io.write_table(paths["table"], table)
    io.write_png(paths["overlay"], filter_overlay(
        res.image, res.labels, kept,
        title=f"{name}: kept {len(kept)} of {len(table)} (green), discarded red"))


def _report_filtered(name, table, classifier):
    from ..measure import summarize

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
    paths = _filter_outputs(out, file_stem(labels_path))
    inputs = {image_path.resolve(), labels_path.resolve()}
    for path in paths.values():
        if path.resolve() in inputs:
            raise UsageError(f"output {path} would overwrite an input file")
    classifier = _load_classifier(args.classifier)
    from ..workflows import filter_file
    tiles, progress = tile_bar(f"filter {image_path.name}", disable=classifier is None)
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

    from .. import io
    from ..measure import summarize
    from ..metrics import evaluate
    from ..plot import outline_overlay, size_histogram
    from ..workflows import load_labels, sample_files, segment_file

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
