"""One file in, its result files out: the jobs behind ``emseg segment``, ``filter`` and
``measure``, serial or as Dask tasks (:mod:`emseg.workflows.cluster`).

A job reads its input, computes, writes every output file (each one atomically: a file is
either whole or absent) and returns a :class:`FileOutcome` with the lines the command prints.
A bad input (unreadable, wrong dimensions, no pixel size, ...) is not an exception but the
outcome's ``error``, so that a batch reports it and goes on.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import io as _io
from .files import file_part, file_stem

__all__ = ["FileOutcome", "segment_output_paths", "filter_output_paths", "segment_to_folder",
           "filter_to_folder", "measure_to_folder", "write_segmentation", "write_filtered",
           "filter_report", "INPUT_ERRORS"]

#: the exceptions that mean "this input is bad", reported per file (anything else is a bug)
INPUT_ERRORS = (ValueError, TypeError, OSError)


@dataclass
class FileOutcome:
    """What one job did: the lines to print, the files written, or the input's error."""

    path: Path
    lines: list = field(default_factory=list)
    written: list = field(default_factory=list)
    error: str = None
    #: what the caller may combine further (``emseg measure``: the table)
    result: object = None


def _job(path, output, stem):
    """A job's input and output folder as paths, its output stem, its empty outcome."""
    path = Path(path)
    return path, Path(output), stem if stem is not None else file_stem(path), FileOutcome(path)


def segment_output_paths(out, stem, report=()):
    """The files of one segmented image: ``labels``, ``prob``, ``table``, and a histogram
    per reported measurement."""
    out = Path(out)
    paths = {"labels": out / f"{stem}_labels.tif", "prob": out / f"{stem}_prob.tif",
             "table": out / f"{stem}_results.csv"}
    for column in report:       # the model's reported measurements: a histogram each
        paths[column] = out / f"{stem}_{file_part(column)}.png"
    return paths


def filter_output_paths(out, stem):
    """The files of one filtered segmentation: ``labels``, ``table``, ``overlay``."""
    out = Path(out)
    return {"labels": out / f"{stem}_filtered.tif", "table": out / f"{stem}_filtered.csv",
            "overlay": out / f"{stem}_filtered.png"}


def write_segmentation(res, paths):
    """Write a :class:`~emseg.workflows.SegmentResult`'s label image, probability map and
    measurement table."""
    seg = res.segmentation
    _io.write_labels(paths["labels"], seg.labels, seg.pixel_size)
    _io.write_image(paths["prob"], seg.probability, seg.pixel_size)
    _io.write_table(paths["table"], res.table)


def _report(table, paths, report, name):
    """Draw the histograms of the model's reported measurements and return their summary
    lines (objects cut by the image border left out: their size is not theirs)."""
    from ..measure import summarize
    from ..plot import size_histogram

    if "Border" in table.columns:
        table = table[~table["Border"].astype(bool)]
    summary = summarize(table, list(report))
    lines = [f"  {row['column']}: n {row['count']}, mean {row['mean']:.4g} ± {row['SD']:.3g}, "
             f"median {row['median']:.4g}, D10/D90 {row['D10']:.4g}/{row['D90']:.4g}"
             for row in summary.reset_index().to_dict("records")]
    for column in report:
        _io.write_png(paths[column], size_histogram(table, column, title=None if len(table)
                                                    else f"{name}: no {column} to show"))
    return lines


def write_filtered(res, paths, name):
    """Write a :class:`~emseg.workflows.FilterResult`'s kept labels, table and overlay."""
    from ..plot import filter_overlay

    table = res.table
    kept = table.loc[table["Kept"], "Label"]
    _io.write_labels(paths["labels"], res.filtered, res.pixel_size)
    _io.write_table(paths["table"], table)
    _io.write_png(paths["overlay"], filter_overlay(
        res.image, res.labels, kept,
        title=f"{name}: kept {len(kept)} of {len(table)} (green), discarded red"))


def filter_report(name, table, classifier):
    """The lines saying what a filter kept, with the kept particles' size summary."""
    from ..measure import summarize

    kept = table[table["Kept"]]
    how = f"classifier {classifier.info.name}" if classifier is not None else "rules only"
    lines = [f"{name}: kept {len(kept)} of {len(table)} particles ({how})"]
    if len(kept):
        lines.append(summarize(kept, ["MinFeret", "ECD"]).to_string(
            float_format=lambda v: f"{v:.4g}"))
    return lines


def _default_model(volume):
    from ..models import DEFAULT_VOLUME_MODEL
    from ..models.registry import find_model
    from ..models.saved import shared_predictor

    # find_model checks the task
    info = find_model(DEFAULT_VOLUME_MODEL if volume else None, task="segmentation")
    return shared_predictor(info.path)


def segment_to_folder(path, output, model=None, *, stem=None, classifier=None, min_score=None,
                      pixel_size=None, pixel_size_from=None, threshold=None, keep_databar=False,
                      batch_size=None, mask=None, refine=True, volume_format="mrc",
                      chunk_size=None, margin=None, client=None, progress=None):
    """Segment one image or tomogram with a model and write its files into ``output``.

    Parameters
    ----------
    path : path-like
        A micrograph, or a tomogram (MRC/REC, TIFF stack).
    output : path-like
        The folder (created when there is something to write).
    model : SavedModelPredictor, optional
        The default image or volume model when None.
    stem : str, optional
        The outputs' name stem (default: the file name without its extension).
    classifier, min_score
        2D particle models: keep only the particles this classifier passes.
    pixel_size : (float, float), optional
        nm per pixel (width, height), overriding the file's calibration; a volume takes one
        voxel size (both equal).
    pixel_size_from, threshold, keep_databar, batch_size, mask, refine, volume_format
        As ``emseg segment``'s options.
    chunk_size, margin : int, optional
        A 2D particle image is segmented in chunks of ``chunk_size`` pixels with ``margin``
        pixels of context (:func:`~emseg.workflows.large.segment_large_file`: the same
        result, bounded memory, tiled BigTIFF outputs); by default an image of more than
        :data:`~emseg.workflows.large.LARGE_PIXELS` pixels is.
    client : distributed.Client, optional
        Run such an image's chunks as Dask tasks.
    progress : callable(done, total), optional
        Called as tiles, blocks or chunks are predicted.

    Returns
    -------
    FileOutcome
    """
    from .segment import volume_input

    path, output, stem, outcome = _job(path, output, stem)
    try:
        volume = volume_input(path)
        predictor = model if model is not None else _default_model(volume)
        from ..models.config import is_volume_model
        if is_volume_model(predictor.meta) != volume:
            raise ValueError(f"model {predictor.info.name!r} segments "
                             f"{'2D images' if volume else 'volumes'}; {path} is a "
                             f"{'volume' if volume else '2D image'}")
        if chunk_size is not None and predictor.meta.get("task") == "semantic":
            raise ValueError(f"{path}: chunked segmentation (--chunk-size) is for particle "
                             "images and tomograms")
        if volume:
            _segment_volume(path, output, stem, predictor, outcome, classifier=classifier,
                            pixel_size=pixel_size, mask=mask, threshold=threshold,
                            refine=refine, volume_format=volume_format,
                            batch_size=batch_size or 1, progress=progress,
                            chunk_size=chunk_size)
        elif predictor.meta.get("task") == "semantic":
            _segment_classes(path, output, stem, predictor, outcome, mask=mask,
                             pixel_size=pixel_size, keep_databar=keep_databar,
                             batch_size=batch_size or 4, progress=progress,
                             pixel_size_from=pixel_size_from)
        elif chunk_size is not None or is_large(path):
            _segment_large(path, output, stem, predictor, outcome, mask=mask,
                           classifier=classifier, pixel_size=pixel_size,
                           pixel_size_from=pixel_size_from, threshold=threshold,
                           keep_databar=keep_databar, batch_size=batch_size or 4,
                           chunk_size=chunk_size, margin=margin, client=client,
                           progress=progress)
        else:
            _segment_particles(path, output, stem, predictor, outcome, mask=mask,
                               classifier=classifier, min_score=min_score, pixel_size=pixel_size,
                               threshold=threshold, keep_databar=keep_databar,
                               batch_size=batch_size or 4, progress=progress,
                               pixel_size_from=pixel_size_from)
    except INPUT_ERRORS as exc:
        outcome.error = f"{exc}"
    return outcome


def _segment_volume(path, output, stem, predictor, outcome, *, classifier, pixel_size, mask,
                    threshold, refine, volume_format, batch_size, progress, chunk_size=None):
    from ..io import describe_size
    from .segment import segment_volume_file
    from .vesicles import volume_output_paths, write_volume_outputs

    if classifier is not None:
        raise ValueError(f"{path}: --classifier applies to 2D images, not volumes")
    if pixel_size is not None and pixel_size[0] != pixel_size[1]:
        raise ValueError(f"{path}: give one voxel size for a volume (--pixel-size NM)")
    if chunk_size is not None or is_large_volume(path):
        return _segment_large_volume(path, output, stem, predictor, outcome,
                                     pixel_size=pixel_size, mask=mask, threshold=threshold,
                                     refine=refine, volume_format=volume_format,
                                     batch_size=batch_size, progress=progress,
                                     chunk_size=chunk_size)
    res = segment_volume_file(path, predictor, voxel_size=None if pixel_size is None
                              else pixel_size[0], mask=mask, threshold=threshold,
                              postprocess=None if refine else {"refine": False},
                              batch_size=batch_size, progress=progress)
    seg = res.segmentation
    paths = volume_output_paths(output, stem, refined=seg.spheres is not None, fmt=volume_format)
    output.mkdir(parents=True, exist_ok=True)   # only once there is something to write
    probability, seg.probability = seg.probability, None
    # the picture's drawing need not have the whole probability map beside it: write it first
    write_volume_outputs({"prob": paths["prob"]}, res.table, seg.labels, seg.voxel_size,
                         name=path.name, probability=probability, header=res.metadata)
    del probability
    write_volume_outputs({k: v for k, v in paths.items() if k != "prob"}, res.table, seg.labels,
                         seg.voxel_size, name=path.name, volume=res.volume, spheres=seg.spheres,
                         header=res.metadata)
    outcome.written = list(paths.values())
    outcome.lines.append(
        f"{path}: {len(res.table)} vesicles (voxel size "
        f"{describe_size(seg.voxel_size, res.voxel_size_source)}, threshold "
        f"{seg.threshold:.6g}) -> {', '.join(p.name for p in paths.values())}")


def is_large_volume(path):
    """Whether a tomogram has more than :data:`~emseg.workflows.large_volume.LARGE_VOXELS`
    voxels (from its header): segmented in parts by default."""
    from .large_volume import LARGE_VOXELS

    shape, _ = _io.image_shape(path)
    return int(np.prod(shape)) > LARGE_VOXELS


def _segment_large_volume(path, output, stem, predictor, outcome, *, pixel_size, refine,
                          chunk_size, **options):
    from ..io import describe_size
    from .large_volume import DEFAULT_VOLUME_CHUNK, segment_large_volume_file

    res = segment_large_volume_file(path, predictor, output, stem=stem,
                                    voxel_size=None if pixel_size is None else pixel_size[0],
                                    postprocess=None if refine else {"refine": False},
                                    chunk_size=chunk_size or DEFAULT_VOLUME_CHUNK, **options)
    seg, paths = res["segmentation"], res["paths"]
    outcome.written = list(paths.values())
    outcome.lines.append(
        f"{path}: {len(res['table'])} vesicles (voxel size "
        f"{describe_size(seg.voxel_size, res['voxel_size_source'])}, threshold "
        f"{seg.threshold:.6g}; in parts, chunks of {chunk_size or DEFAULT_VOLUME_CHUNK} "
        f"voxels) -> {', '.join(p.name for p in paths.values())}")


def _segment_classes(path, output, stem, predictor, outcome, *, mask, **options):
    from ..io import describe_size
    from .semantic import class_output_paths, segment_classes_file, write_class_outputs

    if mask is not None:
        raise ValueError(f"{path}: --mask applies to volumes, not 2D images")
    res = segment_classes_file(path, predictor, **options)
    paths = class_output_paths(output, stem, predictor.meta)
    output.mkdir(parents=True, exist_ok=True)
    write_class_outputs(res, paths)
    outcome.written = list(paths.values())
    seg = res.segmentation
    bar_note = (f", data bar from row {seg.databar_row} excluded"
                if seg.databar_row is not None else "")
    areas = ", ".join(f"{r.Class} {r.Fraction:.1%}" for r in res.areas.itertuples())
    objects = "".join(f"; {len(t)} {name} objects" for name, t in res.tables.items())
    outcome.lines.append(f"{path}: {areas}{objects} (pixel size "
                         f"{describe_size(seg.pixel_size, res.pixel_size_source)}{bar_note}) -> "
                         f"{', '.join(p.name for p in paths.values())}")


def _segment_particles(path, output, stem, predictor, outcome, *, mask, classifier, min_score,
                       batch_size, progress, **options):
    from ..io import describe_size
    from ..models.config import report_columns
    from .filter import filter_array
    from .segment import segment_file

    if mask is not None:
        raise ValueError(f"{path}: --mask applies to volumes, not 2D images")
    res = segment_file(path, predictor, batch_size=batch_size, progress=progress, **options)
    filtered = None
    if classifier is not None:
        filtered = filter_array(res.image, res.segmentation.labels, classifier,
                                pixel_size=res.segmentation.pixel_size, min_score=min_score,
                                batch_size=batch_size, progress=progress, table=res.table)
    report = report_columns(predictor.meta)
    paths = segment_output_paths(output, stem, report)
    output.mkdir(parents=True, exist_ok=True)
    write_segmentation(res, paths)
    seg = res.segmentation
    bar_note = (f", data bar from row {seg.databar_row} excluded"
                if seg.databar_row is not None else "")
    outcome.lines.append(f"{path}: {len(res.table)} particles (pixel size "
                         f"{describe_size(seg.pixel_size, res.pixel_size_source)}{bar_note}) -> "
                         f"{', '.join(p.name for p in paths.values())}")
    outcome.written = list(paths.values())
    if report:
        outcome.lines += _report(res.table, paths, report, path.name)
    if filtered is not None:
        fpaths = filter_output_paths(output, stem)
        write_filtered(filtered, fpaths, path.name)
        outcome.written += list(fpaths.values())
        outcome.lines += filter_report(str(path), filtered.table, classifier)
        outcome.lines.append(f"  -> {fpaths['labels'].name}, {fpaths['table'].name}, "
                             f"{fpaths['overlay'].name}")


def is_large(path):
    """Whether a 2D image file has more than :data:`~emseg.workflows.large.LARGE_PIXELS`
    pixels (from its header when it is a TIFF): segmented in chunks by default."""
    from .large import LARGE_PIXELS

    if _io.is_zarr(path):
        return True                 # an OME-Zarr is read in parts: only chunks do that
    shape, _ = _io.image_shape(path)
    return len([n for n in shape if n > 1]) == 2 and int(np.prod(shape)) > LARGE_PIXELS


def _segment_large(path, output, stem, predictor, outcome, *, mask, classifier, chunk_size,
                   margin, **options):
    from ..io import describe_size
    from ..models.config import report_columns
    from .large import DEFAULT_CHUNK, DEFAULT_MARGIN, segment_large_file

    if mask is not None:
        raise ValueError(f"{path}: --mask applies to volumes, not 2D images")
    if classifier is not None:
        raise ValueError(f"{path}: --classifier does not filter images segmented in chunks "
                         "yet; run emseg filter on the results")
    res = segment_large_file(path, predictor, output, stem=stem,
                             chunk_size=chunk_size or DEFAULT_CHUNK,
                             margin=margin or DEFAULT_MARGIN, **options)
    paths, plan = res["paths"], res["plan"]
    bar_note = (f", data bar from row {plan.databar_row} excluded"
                if plan.databar_row is not None else "")
    outcome.lines.append(
        f"{path}: {res['count']} particles (pixel size "
        f"{describe_size(plan.pixel_size, res['pixel_size_source'])}{bar_note}; "
        f"{res['chunks']} chunks of {res['chunk']} px) -> "
        f"{', '.join(p.name for p in paths.values())}")
    outcome.written = list(paths.values())
    report = report_columns(predictor.meta)
    if report:
        outcome.lines += _report(res["table"], paths, report, path.name)


def filter_to_folder(image_path, labels_path, output, classifier=None, *, stem=None,
                     progress=None, **options):
    """Filter the particles of one label image (:func:`~emseg.workflows.filter_file`, same
    options) and write ``<stem>_filtered.tif``, ``.csv`` and ``.png`` into ``output``.

    Returns
    -------
    FileOutcome
    """
    from .filter import filter_file

    labels_path, output, stem, outcome = _job(labels_path, output, stem)
    try:
        res = filter_file(image_path, labels_path, classifier, progress=progress, **options)
        paths = filter_output_paths(output, stem)
        output.mkdir(parents=True, exist_ok=True)
        write_filtered(res, paths, labels_path.name)
    except INPUT_ERRORS as exc:
        outcome.error = f"{exc}"
        return outcome
    outcome.written = list(paths.values())
    outcome.lines = filter_report(str(labels_path), res.table, classifier)
    return outcome


def measure_to_folder(labels_path, output=None, image_path=None, *, plot=False, **options):
    """Measure one label image (:func:`~emseg.workflows.measure_file`, same options); with
    ``output`` write ``<stem>_measurements.csv`` (and with ``plot`` ``<stem>_minferet.png``)
    there.

    Returns
    -------
    FileOutcome
        ``result`` is the :class:`~emseg.workflows.MeasureResult` (for combined tables).
    """
    from ..io import describe_size
    from .measure import measure_file

    labels_path = Path(labels_path)
    outcome = FileOutcome(labels_path)
    try:
        res = measure_file(labels_path, image_path, **options)
        if output is not None:
            output = Path(output)
            output.mkdir(parents=True, exist_ok=True)
            csv_path = output / f"{labels_path.stem}_measurements.csv"
            _io.write_table(csv_path, res.table)
            outcome.written.append(csv_path)
            if plot:
                from ..plot import size_histogram
                png_path = output / f"{labels_path.stem}_minferet.png"
                _io.write_png(png_path, size_histogram(res.table, "MinFeret"))
                outcome.written.append(png_path)
    except INPUT_ERRORS as exc:
        outcome.error = f"{exc}"
        return outcome
    outcome.result = res
    outcome.lines.append(f"{labels_path}: {len(res.table)} particles, pixel size "
                         f"{describe_size(res.pixel_size, res.pixel_size_source)}")
    return outcome
