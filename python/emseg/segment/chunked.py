"""Instance labels of images and volumes too large for memory, computed in overlapping chunks.

Each chunk (a *core* of the array, in raster order) is labelled with a margin of context on
every side (its *block*). Every object is kept by exactly one chunk: the one whose core holds
the object's *anchor*, its first pixel in raster order. With a margin larger than the largest
object, that chunk sees the object whole, so the object gets one label and is measured once,
with the pixels and values a whole-array run gives it. The labelling must be local: what it
does to an object depends only on its cluster (the objects touching it) and their
surroundings; a kept object whose cluster reaches a cut side of its block raises
:class:`MarginTooSmall` rather than being labelled differently from the whole array.

Objects are numbered by their anchors in raster order: ImageJ's particle analyzer's order.
Pure NumPy: the caller reads blocks (lazily, from disk) and writes results.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = ["ChunkPiece", "chunk_cores", "chunk_block", "owned_pieces", "number_pieces",
           "paint_pieces", "raster_order", "MarginTooSmall", "label_chunk", "label_in_chunks",
           "ChunkResult", "chunk_table"]


class MarginTooSmall(ValueError):
    """A chunk's object reaches the edge of the chunk's context: it may be larger than the
    margin, and its shape and measurements would depend on where the chunks are cut."""


@dataclass
class ChunkPiece:
    """One object kept by the chunk that holds its anchor.

    Attributes
    ----------
    anchor : int
        Flat index (C order) of the object's first pixel in the whole array.
    start : tuple of int
        Its bounding box's first pixel in the whole array.
    mask : ndarray of bool
        Its pixels within the bounding box.
    """

    anchor: int
    start: tuple
    mask: np.ndarray

    @property
    def box(self):
        """The bounding box as a tuple of slices of the whole array."""
        return tuple(slice(s, s + n) for s, n in zip(self.start, self.mask.shape))


def _shape_arg(value, ndim, name):
    try:
        out = tuple(int(v) for v in np.broadcast_to(np.asarray(value), (ndim,)))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer or {ndim} integers, got {value!r}") from None
    return out


def chunk_cores(shape, chunk_shape):
    """The chunks' cores: tuples of slices tiling an array of ``shape``, in raster order.

    Parameters
    ----------
    shape : tuple of int
    chunk_shape : int or tuple of int
        Core size per axis (the last chunk of an axis may be smaller).
    """
    shape = tuple(int(n) for n in shape)
    chunk = _shape_arg(chunk_shape, len(shape), "chunk_shape")
    if any(c < 1 for c in chunk):
        raise ValueError(f"chunk_shape must be positive, got {chunk_shape!r}")
    starts = [range(0, n, c) for n, c in zip(shape, chunk)]
    grids = np.meshgrid(*[np.asarray(list(s)) for s in starts], indexing="ij")
    return [tuple(slice(int(a), min(int(a) + c, n)) for a, c, n in zip(corner, chunk, shape))
            for corner in zip(*(g.ravel() for g in grids))]


def chunk_block(core, shape, margin):
    """The block of a core: the core grown by ``margin`` per axis, within the array."""
    margin = _shape_arg(margin, len(shape), "margin")
    if any(m < 0 for m in margin):
        raise ValueError(f"margin must be non-negative, got {margin!r}")
    return tuple(slice(max(0, c.start - m), min(n, c.stop + m))
                 for c, m, n in zip(core, margin, shape))


def owned_pieces(block_labels, block, core, shape):
    """The objects of a labelled block that its chunk keeps.

    Parameters
    ----------
    block_labels : ndarray of int
        The block's labels (any numbering; 0 is background), from the labelling of the
        block's pixels.
    block, core : tuple of slices
        :func:`chunk_block` and its core, in the whole array.
    shape : tuple of int
        The whole array's shape.

    Returns
    -------
    list of ChunkPiece
        In raster order of their anchors.

    Raises
    ------
    MarginTooSmall
        When a kept object touches a side of the block that is not the array's edge.
    """
    block_labels = np.asarray(block_labels)
    if block_labels.dtype.kind not in "iu":
        raise TypeError(f"block_labels must be an integer array, got {block_labels.dtype}")
    if block_labels.shape != tuple(b.stop - b.start for b in block):
        raise ValueError(f"block_labels has shape {block_labels.shape}, the block "
                         f"{tuple(b.stop - b.start for b in block)}")
    origin = np.array([b.start for b in block])
    # the labelling of an object depends on its cluster (the touching objects around it): the
    # cluster must lie wholly in the block
    clusters = ndi.label(block_labels > 0, structure=np.ones((3,) * block_labels.ndim, bool))[0]
    cluster_boxes = ndi.find_objects(clusters)
    pieces = []
    for value, box in enumerate(ndi.find_objects(block_labels), start=1):
        if box is None:
            continue
        mask = block_labels[box] == value
        first = np.unravel_index(int(np.argmax(mask)), mask.shape)    # raster-first pixel
        local = tuple(s.start + f for s, f in zip(box, first))
        anchor = tuple(int(o + a) for o, a in zip(origin, local))
        if not all(c.start <= a < c.stop for a, c in zip(anchor, core)):
            continue
        cluster = cluster_boxes[clusters[local] - 1]
        for axis, (s, b, n) in enumerate(zip(cluster, block, shape)):
            cut_low = b.start > 0 and s.start == 0
            cut_high = b.stop < n and s.stop == b.stop - b.start
            if cut_low or cut_high:
                raise MarginTooSmall(
                    f"the object at {anchor} (or the objects touching it) reaches the edge of "
                    f"its chunk's margin along axis {axis}: give a margin larger than the "
                    "largest object or cluster of touching objects")
        start = tuple(int(o + s.start) for o, s in zip(origin, box))
        pieces.append(ChunkPiece(int(np.ravel_multi_index(anchor, shape)), start, mask))
    pieces.sort(key=lambda p: p.anchor)
    return pieces


def number_pieces(chunks):
    """Global numbers of the pieces of all chunks: 1.. in raster order of their anchors.

    Parameters
    ----------
    chunks : list of list of ChunkPiece
        :func:`owned_pieces` of every chunk.

    Returns
    -------
    list of ndarray of int64
        The numbers of each chunk's pieces, in their order.
    """
    anchors = [np.array([p.anchor for p in pieces], np.int64) for pieces in chunks]
    every = np.concatenate(anchors) if anchors else np.zeros(0, np.int64)
    if np.unique(every).size != every.size:
        raise ValueError("two chunks kept an object with the same anchor: the cores overlap")
    rank = np.empty(every.size, np.int64)
    rank[np.argsort(every, kind="stable")] = np.arange(1, every.size + 1)
    return np.split(rank, np.cumsum([a.size for a in anchors])[:-1]) if anchors else []


def paint_pieces(pieces, numbers, region, *, dtype=np.int32):
    """The label image of ``region`` (tuple of slices of the whole array) from numbered
    pieces: each piece's pixels get its number (a later piece wins where two overlap)."""
    out = np.zeros(tuple(r.stop - r.start for r in region), dtype)
    for piece, number in zip(pieces, numbers):
        box = piece.box
        lo = [max(b.start, r.start) for b, r in zip(box, region)]
        hi = [min(b.stop, r.stop) for b, r in zip(box, region)]
        if any(h <= a for a, h in zip(lo, hi)):
            continue
        src = piece.mask[tuple(slice(a - b.start, h - b.start) for a, h, b in zip(lo, hi, box))]
        dst = out[tuple(slice(a - r.start, h - r.start) for a, h, r in zip(lo, hi, region))]
        dst[src] = number
    return out


def raster_order(labels):
    """``labels`` renumbered 1.. by each object's first pixel in raster order (ImageJ's
    order, and that of chunked labelling): equal label images up to numbering become equal."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array, got {labels.dtype}")
    flat = labels.ravel()
    values, first = np.unique(flat, return_index=True)
    keep = values > 0
    values, first = values[keep], first[keep]
    lut = np.zeros(int(values.max()) + 1 if values.size else 1, np.int64)
    lut[values[np.argsort(first)]] = np.arange(1, values.size + 1)
    return lut[labels].astype(np.int32 if values.size < 2 ** 31 else np.int64)


@dataclass
class ChunkResult:
    """What one chunk keeps: its pieces and, when measured, their measurements (one row per
    piece, in the pieces' order, ``Label`` still the piece's index + 1)."""

    core: tuple
    pieces: list
    table: object = None


def label_chunk(block_data, label_fn, block, core, shape, *, image=None, pixel_size=None):
    """Label one block and keep its chunk's pieces, measured when ``pixel_size`` is given.

    Parameters
    ----------
    block_data : ndarray
        The block's pixels (what ``label_fn`` labels).
    label_fn : callable(ndarray) -> ndarray of int
        The labelling; must be local (see the module's notes).
    block, core : tuple of slices
    shape : tuple of int
        The whole array's shape.
    image : ndarray, optional
        The block's intensities for the measurements (default: ``block_data`` when measuring
        and it is 2D grey values).
    pixel_size : float or (float, float), optional
        2D only: measure the pieces as ImageJ does (:func:`emseg.measure.measure`), positions
        in the whole image.

    Returns
    -------
    ChunkResult
    """
    labels = np.asarray(label_fn(block_data))
    pieces = owned_pieces(labels, block, core, shape)
    table = None
    if pixel_size is not None:
        from ..measure import measure

        if len(shape) != 2:
            raise ValueError("pixel_size: chunked measurement is for 2D images")
        kept = paint_pieces(pieces, np.arange(1, len(pieces) + 1), block)
        table = measure(kept, image, pixel_size=pixel_size, origin=[b.start for b in block],
                        image_shape=shape)
    return ChunkResult(core, pieces, table)


def label_in_chunks(array, label_fn, *, chunk_shape, margin, image=None, pixel_size=None,
                    progress=None):
    """Label an array chunk by chunk (serially; the workflows run chunks as Dask tasks).

    Parameters
    ----------
    array : array-like
        Anything that slices like NumPy (ndarray, memory-mapped file, zarr array, Dask
        array): only one block is read at a time.
    label_fn : callable(ndarray) -> ndarray of int
        The labelling of a block (a local one: see the module's notes).
    chunk_shape : int or tuple of int
        The chunks' core size.
    margin : int or tuple of int
        Context on each side of a core; larger than the largest object.
    image : array-like, optional
        Intensities to measure (same shape as ``array``); default ``array`` itself.
    pixel_size : float or (float, float), optional
        2D: also measure every object (ImageJ's columns, ``Label`` the global number).
    progress : callable(done, total), optional

    Returns
    -------
    (list of ChunkResult, list of ndarray)
        Every chunk's result and its pieces' global numbers (:func:`number_pieces`); the
        label image of any region is :func:`paint_pieces` of the pieces that reach it, the
        table :func:`chunk_table`.
    """
    shape = tuple(array.shape)
    if image is not None and tuple(image.shape) != shape:
        raise ValueError(f"image has shape {tuple(image.shape)}, array {shape}")
    if not callable(label_fn):
        raise TypeError("label_fn must be callable")
    cores = chunk_cores(shape, chunk_shape)
    results = []
    for i, core in enumerate(cores):
        block = chunk_block(core, shape, margin)
        data = np.asarray(array[block])
        grey = None if pixel_size is None else np.asarray((image if image is not None
                                                           else array)[block])
        results.append(label_chunk(data, label_fn, block, core, shape, image=grey,
                                   pixel_size=pixel_size))
        if progress is not None:
            progress(i + 1, len(cores))
    return results, number_pieces([r.pieces for r in results])


def chunk_table(results, numbers):
    """The measurements of every chunk's pieces as one table, ``Label`` the global numbers,
    rows in their order (what measuring the whole label image gives)."""
    import pandas as pd

    tables = [r.table.assign(Label=n) for r, n in zip(results, numbers)
              if r.table is not None and len(n)]
    if not tables:
        if results and results[0].table is not None:
            return results[0].table.iloc[:0]
        raise ValueError("results: the chunks were not measured (give pixel_size)")
    table = pd.concat(tables, ignore_index=True).sort_values("Label", kind="stable")
    table = table.reset_index(drop=True)
    table.attrs.update(tables[0].attrs)
    return table
