"""``emseg segment``, ``filter`` and ``demo``: segmentation with a model, the classifier filter."""


from .common import (EXIT_OK, UsageError, check_outputs, dask_option, finish, output_folder,
                     pixel_size_arg, run_batch, unique_stems)


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
                            "TIFF stack, OME-Zarr) goes to the volume pipeline (default model "
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
                    help="micrograph(s) (TIFF, PNG, JPEG, DM3/DM4, SER, EMD, OME-Zarr) or "
                         "tomogram(s) (MRC/REC, TIFF stack, OME-Zarr folder)")
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
    sg.add_argument("--chunk-size", type=int, metavar="PX",
                    help="segment 2D images in chunks of PX x PX pixels, read from disk in "
                         "parts and written tile by tile (tiled BigTIFF): the same particles "
                         "and measurements as the whole image, in bounded memory; default: "
                         "images over 8192 x 8192 px, in chunks of 2048. Tomograms: segment "
                         "in parts (maps and labels on disk, chunks of PX voxels): the same "
                         "vesicles; default for tomograms over 1024^3 voxels, chunks of 128")
    sg.add_argument("--chunk-margin", type=int, metavar="PX",
                    help="context around each chunk (default 256 px): larger than the largest "
                         "cluster of touching particles")
    dask_option(sg)
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
    fl.add_argument("files", nargs="+", metavar="IMAGE LABELS",
                    help="a micrograph and its label image or binary mask; several pairs make a "
                         "batch")
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
    dask_option(fl)
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



def _check_segment_options(args):
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UsageError(f"--threshold must be in [0, 1], got {args.threshold:g}")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    for value, option in ((getattr(args, "chunk_size", None), "--chunk-size"),
                          (getattr(args, "chunk_margin", None), "--chunk-margin")):
        if value is not None and not 16 <= value <= 10 ** 6:
            raise UsageError(f"{option} must be 16 to 1000000 pixels, got {value}")


def cmd_segment(args):
    from pathlib import Path

    from ..workflows.batch import filter_output_paths, segment_output_paths, segment_to_folder
    from ..workflows.semantic import class_output_paths
    from ..workflows.vesicles import volume_output_paths

    _check_segment_options(args)
    if args.min_score is not None:
        if args.classifier is None:
            raise UsageError("--min-score needs --classifier")
        _check_filter_options(args)
    out = output_folder(args.output)
    if args.pixel_size_from is not None and not Path(args.pixel_size_from).is_file():
        raise UsageError(f"--pixel-size-from {args.pixel_size_from}: no such file")
    images = [Path(p) for p in args.images]
    inputs = {p.resolve() for p in images}
    stems = unique_stems(images)
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
    for stem in stems:
        check_outputs([*segment_output_paths(out, stem, report).values(),
                       *(class_output_paths(out, stem, named.meta).values() if semantic else ()),
                       *filter_output_paths(out, stem).values(),
                       *volume_output_paths(out, stem, fmt=args.volume_format).values()], inputs)
    classifier = _load_classifier(args.classifier) if args.classifier else None
    options = dict(classifier=classifier, min_score=args.min_score, pixel_size=args.pixel_size,
                   pixel_size_from=args.pixel_size_from, threshold=args.threshold,
                   keep_databar=args.keep_databar, batch_size=args.batch_size, mask=args.mask,
                   refine=not args.no_refine, volume_format=args.volume_format,
                   chunk_size=args.chunk_size, margin=args.chunk_margin)
    calls = [((path, out, named), dict(options, stem=stem)) for path, stem in zip(images, stems)]
    # with --dask, an image segmented in chunks is run here and its chunks are the tasks
    here = [i for i, path in enumerate(images) if args.dask and _chunked(path, args)]
    failures = run_batch(args, "segment", segment_to_folder, calls, unit="image",
                         here=here)[1]
    return finish("segment", failures, len(images), "image(s)")


def _chunked(path, args):
    from ..workflows.batch import is_large
    from ..workflows.segment import volume_input

    try:
        return not volume_input(path) and (args.chunk_size is not None or is_large(path))
    except (ValueError, OSError):
        return False             # an unreadable file: its task reports it


def _load_classifier(name):
    """The classifier predictor for NAME|PATH ('default' = the default one), None for 'none'."""
    if name is not None and name.strip().lower() == "none":
        return None
    from ..models.saved import load_predictor

    return load_predictor(None if name in (None, "default") else name, task="classifier",
                          lazy=True)


def _check_filter_options(args):
    from ..filter.rules import parse_range

    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise UsageError(f"--min-score must be in [0, 1], got {args.min_score:g}")
    from ..measure import INTENSITY_COLUMNS, MEASUREMENT_COLUMNS

    known = (*MEASUREMENT_COLUMNS, *INTENSITY_COLUMNS, "Score")
    for r in getattr(args, "ranges", ()):
        column = parse_range(r)[0]  # ValueError names the bad range
        if column not in known:     # a usage error, before any file is read
            raise UsageError(f"--range: no column {column!r} in the table (columns: "
                             f"{', '.join(known)})")


def cmd_filter(args):
    from pathlib import Path

    from ..workflows.batch import filter_output_paths, filter_to_folder

    _check_filter_options(args)
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    if len(args.files) % 2:
        raise UsageError(f"give IMAGE LABELS pairs: got {len(args.files)} file(s)")
    out = output_folder(args.output)
    pairs = [(Path(a), Path(b)) for a, b in zip(args.files[::2], args.files[1::2])]
    for p in (p for pair in pairs for p in pair):
        if not p.is_file():
            raise UsageError(f"no such file: {p}")
    inputs = {p.resolve() for pair in pairs for p in pair}
    stems = unique_stems([labels for _, labels in pairs])
    for stem in stems:
        check_outputs(filter_output_paths(out, stem).values(), inputs)
    classifier = _load_classifier(args.classifier)
    options = dict(pixel_size=args.pixel_size, min_score=args.min_score, ranges=args.ranges,
                   exclude_border=args.exclude_border, connectivity=args.connectivity,
                   batch_size=args.batch_size)
    calls = [((image, labels, out, classifier), dict(options, stem=stem))
             for (image, labels), stem in zip(pairs, stems)]
    outcomes, failures = run_batch(args, "filter", filter_to_folder, calls, unit="file",
                                   tiles=classifier is not None)
    for outcome in outcomes:
        if outcome.error is None:
            print(f"wrote {', '.join(str(p) for p in outcome.written)}")
    return finish("filter", failures, len(pairs), "file pair(s)")


def cmd_demo(args):
    out = output_folder(args.output)
    predictor = _load_model(args.model)

    from .. import io
    from ..measure import summarize
    from ..metrics import evaluate
    from ..plot import outline_overlay, size_histogram
    from ..workflows import load_labels, sample_files, segment_file
    from ..workflows.batch import segment_output_paths, write_segmentation

    image_path, truth_path = sample_files()
    res = segment_file(image_path, predictor)
    seg = res.segmentation
    out.mkdir(parents=True, exist_ok=True)
    paths = segment_output_paths(out, "sample_sem")
    paths.update(overlay=out / "sample_sem_overlay.png", histogram=out / "sample_sem_minferet.png")
    write_segmentation(res, paths)
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

