"""Segmenting a micrograph larger than memory (a stitched mosaic) chunk by chunk, with the
whole-image result (:mod:`emseg.segment.large`). The image is read in parts (a TIFF or an
OME-Zarr). The network's map is predicted a row of tiles at a time into a hidden zarr folder
beside the outputs. The chunks of one row band at a time are then post-processed and measured,
here or as Dask tasks. The probability map and the labels are written tile by tile as tiled
BigTIFFs, and every object is measured once.
"""

import math
import shutil
from pathlib import Path

import numpy as np

from .. import io as _io
from ..io import resolve_pixel_size

__all__ = ["segment_large_file", "LARGE_PIXELS", "DEFAULT_CHUNK", "DEFAULT_MARGIN"]

#: Images with more pixels than this are segmented in chunks by default (8192 x 8192).
LARGE_PIXELS = 8192 * 8192
#: The default chunk side and margin, in the image's pixels.
DEFAULT_CHUNK, DEFAULT_MARGIN = 2048, 256

_OPEN = {}


def _open(path):
    """This process's open :class:`~emseg.io.LazyImage` of ``path`` (a Dask worker opens
    each image once for all its chunks)."""
    key = str(Path(path).resolve())
    if key not in _OPEN:
        for old in _OPEN.values():    # one large image at a time per process
            old.close()
        _OPEN.clear()
        _OPEN[key] = _io.open_lazy_image(path)
    return _OPEN[key]


def _chunk_task(source, maps, meta, plan, core, margin):
    from ..segment.large import segment_chunk

    image = source if isinstance(source, _io.LazyImage) else _open(source)
    if isinstance(maps, str):           # on a Dask worker: the map's zarr store by its path
        import zarr
        maps = zarr.open_array(maps, mode="r")
    try:
        return segment_chunk(image, maps, meta, plan, core, margin=margin)
    finally:
        image.release()


def _bands(plan, chunk):
    """Row bands of the whole image (``chunk`` rows each) and the chunk cores of each
    (within the rows above the data bar)."""
    from ..segment.chunked import chunk_cores

    rows, cols = plan.image_shape
    work = plan.work_shape[0]
    for top in range(0, rows, chunk):
        band = slice(top, min(top + chunk, rows))
        cores = [] if top >= work else [
            (slice(top, min(band.stop, work)), c[1])
            for c in chunk_cores((min(band.stop, work) - top, cols), (band.stop - top, chunk))]
        yield band, cores


def segment_large_file(path, predictor, output=None, *, stem=None, pixel_size=None,
                       pixel_size_from=None, threshold=None, keep_databar=False, batch_size=4,
                       chunk_size=DEFAULT_CHUNK, margin=DEFAULT_MARGIN, client=None,
                       progress=None):
    """Segment a large 2D image in chunks and write ``<stem>_prob.tif``, ``<stem>_labels.tif``
    (tiled BigTIFFs) and ``<stem>_results.csv`` into ``output``.

    Parameters
    ----------
    path : path-like
        The image (a TIFF or an OME-Zarr is read in parts; other formats whole).
    predictor : SavedModelPredictor
        A 2D particle segmentation model.
    output : path-like
        The folder (created).
    chunk_size : int
        Chunk side in pixels (rounded up to a multiple of the TIFF tile: 512, or the chunk
        size rounded up to a multiple of 16 when smaller).
    margin : int
        Context around each chunk, in pixels: larger than the largest cluster of touching
        particles (else an error says so).
    client : distributed.Client, optional
        Post-process and measure the chunks of each row band as Dask tasks (the workers must
        see ``path`` and ``output`` at the same paths); the prediction runs here.
    progress : callable(done, total), optional
        Called as the tiles are predicted, then as the chunks are done.
    pixel_size, pixel_size_from, threshold, keep_databar, batch_size
        As :func:`emseg.workflows.segment_file`.

    Returns
    -------
    dict
        ``paths`` (role -> file), ``count``, ``table``, ``plan``, ``pixel_size_source``,
        ``chunk`` (the chunk side used) and ``chunks`` (their number).
    """
    for value, name in ((chunk_size, "chunk_size"), (margin, "margin")):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive number of pixels, got {value!r}")
    # band heights are whole rows of TIFF tiles: tiles of 512, smaller for small chunks
    tile = min(_io.TILE, int(math.ceil(chunk_size / 16) * 16))
    chunk = int(math.ceil(chunk_size / tile) * tile)
    path = Path(path)
    image = _io.open_lazy_image(path)
    try:
        return _segment_large(image, path, predictor, output, stem=stem, pixel_size=pixel_size,
                              pixel_size_from=pixel_size_from, threshold=threshold,
                              keep_databar=keep_databar, batch_size=batch_size, chunk=chunk,
                              tile=tile, margin=margin, client=client, progress=progress)
    finally:
        image.close()


def _segment_large(image, path, predictor, output, *, stem, pixel_size, pixel_size_from,
                   threshold, keep_databar, batch_size, chunk, tile, margin, client, progress):
    from ..models.config import report_columns
    from ..segment.large import plan_large, predict_map
    from .batch import segment_output_paths
    from .files import file_calibration, file_stem

    read = [(image.pixel_size, image.metadata)]
    if pixel_size is None and image.pixel_size is None and pixel_size_from is not None:
        read.append(file_calibration(pixel_size_from, with_meta=True))
    size, source = resolve_pixel_size(pixel_size, *read)
    if size is None:
        raise ValueError(f"{path}: no pixel size in the file; give it with --pixel-size (nm)")
    plan = plan_large(image, predictor.meta, pixel_size=size, keep_databar=keep_databar,
                      threshold=threshold)
    output = Path(output)
    stem = stem if stem is not None else file_stem(path)
    paths = segment_output_paths(output, stem, report_columns(predictor.meta))
    output.mkdir(parents=True, exist_ok=True)
    # the network's map at the model's pixel size, stored beside the outputs while the chunks
    # are post-processed (a hidden zarr folder, removed at the end)
    import tempfile

    import zarr
    scratch = Path(tempfile.mkdtemp(prefix=f".{stem}-", suffix=".emseg", dir=output))
    try:
        maps = zarr.open_array(str(scratch / "maps.zarr"), mode="w",
                               shape=plan.small_shape + (len(plan.settings["classes"]),),
                               chunks=(512, 512, len(plan.settings["classes"])),
                               dtype=np.float32)

        def write(rows, band):
            maps[rows] = band
        predict_map(image, predictor, plan, write, batch_size=batch_size, progress=progress)
        return _chunks_to_files(image, path, maps, scratch / "maps.zarr", predictor, plan,
                                paths, size, source, chunk=chunk, tile=tile, margin=margin,
                                client=client, progress=progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _chunks_to_files(image, path, maps, maps_path, predictor, plan, paths, size, source, *,
                     chunk, tile, margin, client, progress):
    from ..segment.chunked import chunk_table, number_pieces, paint_pieces

    bands = list(_bands(plan, chunk))
    total = sum(len(c) for _, c in bands)
    results = []

    def run(cores):
        # here the open image and map are read; a Dask worker opens the files itself
        calls = [(image, maps, predictor.meta, plan, core, margin) if client is None else
                 (path, str(maps_path), predictor.meta, plan, core, margin) for core in cores]
        if client is None:
            return [_chunk_task(*c) for c in calls]
        futures = [client.submit(_chunk_task, *c, pure=False) for c in calls]
        try:
            return client.gather(futures)
        except BaseException:
            client.cancel(futures)
            raise

    def prob_tiles():
        done = 0
        for band, cores in bands:
            prob = np.zeros((band.stop - band.start, plan.image_shape[1]), np.float32)
            for res, core_prob in run(cores):
                results.append(res)
                prob[res.core[0].start - band.start:res.core[0].stop - band.start,
                     res.core[1]] = core_prob
            done += len(cores)
            if progress is not None and cores:
                progress(done, total)
            yield from _tiles(prob, tile)

    _io.write_tiled_tiff(paths["prob"], prob_tiles(), plan.image_shape, np.float32, size,
                         tile=tile)
    numbers = number_pieces([r.pieces for r in results])
    pieces = [p for r in results for p in r.pieces]
    flat = np.concatenate(numbers) if numbers else np.zeros(0, np.int64)
    dtype = np.uint16 if flat.size <= np.iinfo(np.uint16).max else np.uint32
    index = _tile_index(pieces, tile)

    def label_tiles():
        rows, cols = plan.image_shape
        for r in range(0, rows, tile):
            for c in range(0, cols, tile):
                region = (slice(r, min(r + tile, rows)), slice(c, min(c + tile, cols)))
                mine = index.get((r // tile, c // tile), [])
                yield paint_pieces([pieces[i] for i in mine], flat[mine], region, dtype=dtype)

    _io.write_tiled_tiff(paths["labels"], label_tiles(), plan.image_shape, dtype, size,
                         tile=tile)
    table = chunk_table(results, numbers) if results else _empty_table(size)
    _io.write_table(paths["table"], table)
    return {"paths": paths, "count": int(flat.size), "table": table, "plan": plan,
            "pixel_size_source": source, "chunk": chunk, "chunks": total}


def _tiles(band, tile):
    for r in range(0, band.shape[0], tile):
        for c in range(0, band.shape[1], tile):
            yield band[r:r + tile, c:c + tile]


def _tile_index(pieces, tile):
    """(tile row, tile column) -> the indices of the pieces reaching that tile."""
    index = {}
    for i, p in enumerate(pieces):
        box = p.box
        for tr in range(box[0].start // tile, (box[0].stop - 1) // tile + 1):
            for tc in range(box[1].start // tile, (box[1].stop - 1) // tile + 1):
                index.setdefault((tr, tc), []).append(i)
    return index


def _empty_table(size):
    from ..measure import measure

    return measure(np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8), pixel_size=size)
