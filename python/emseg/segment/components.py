"""Connected components of an image or volume too large for memory, labelled chunk by chunk.

Every chunk is labelled with one plane of its lower neighbours in front of it (along each
axis), so every adjacency between chunks, across faces, edges and corners, lies inside one
block; the labels a block gives the voxels it shares with earlier chunks are joined to the
labels those chunks gave them (union-find), and the components are numbered in raster order
of their first voxels, as :func:`scipy.ndimage.label` numbers them. The counts, bounding boxes
and first voxels of all components come out of the same pass: the global statistics a
pipeline needs before it treats each object (CryoVesNet's adaptive thresholds judge a
segment by the volumes of all of them).

Pure NumPy/SciPy: the caller gives the data (anything that slices like NumPy: a memory map,
a zarr array) and where the labels go (an array-like that takes slice assignment).
"""

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import ndimage as ndi

from .chunked import chunk_cores

__all__ = ["Components", "label_components", "label_stats", "relabel_chunks", "largest_label"]


@dataclass
class Components:
    """The connected components of an array, numbered 1..n in raster order of first voxels.

    Attributes
    ----------
    n : int
    counts : (n + 1,) ndarray of int64
        Voxels per component (index 0: background).
    starts, stops : (n + 1, ndim) ndarray of int64
        Bounding boxes, ``stops`` exclusive (row 0 unused).
    first : (n + 1,) ndarray of int64
        Flat index (C order) of each component's first voxel (row 0 unused).
    """

    n: int
    counts: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    first: np.ndarray

    def boxes(self):
        """The bounding boxes as tuples of slices (``scipy.ndimage.find_objects``' form)."""
        return [tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
                for lo, hi in zip(self.starts[1:], self.stops[1:])]


def _structure(ndim, connectivity):
    if not (isinstance(connectivity, (int, np.integer)) and 1 <= connectivity <= ndim):
        raise ValueError(f"connectivity must be 1..{ndim} (1: faces only; {ndim}: all "
                         f"neighbours), got {connectivity!r}")
    return ndi.generate_binary_structure(ndim, int(connectivity))


def label_components(array, out, *, chunk_shape, threshold=None, connectivity=None,
                     min_size=1, progress=None):
    """Label the connected components of ``array > threshold`` (or ``array != 0``) chunk by
    chunk into ``out``, and measure them.

    Parameters
    ----------
    array : array-like, 2D or 3D
        Read one block at a time (memory map, zarr array, ndarray).
    out : array-like of int32, same shape
        Receives the labels (a zarr array or memory map for data larger than memory); it is
        written once per chunk and read back once per chunk.
    chunk_shape : int or tuple of int
        Chunk size per axis.
    threshold : float, optional
        Foreground is ``array > threshold``; default ``array != 0``.
    connectivity : int, optional
        1 joins voxels sharing a face; ``ndim`` (the default) also across edges and corners.
    min_size : int, optional
        Components of fewer voxels are left out (0), the others numbered as if they were
        never there. A small component inside one chunk is dropped as soon as it is seen:
        a noisy map's millions of specks never take memory.
    progress : callable(done, total), optional
        Over both passes' chunks.

    Returns
    -------
    Components
    """
    shape = tuple(int(n) for n in getattr(array, "shape", ()))
    if len(shape) not in (2, 3):
        raise ValueError(f"array must be 2D or 3D, got shape {shape or None}")
    if tuple(getattr(out, "shape", ())) != shape:
        raise ValueError(f"out must have the array's shape {shape}, got "
                         f"{getattr(out, 'shape', None)}")
    if np.dtype(getattr(out, "dtype", None)) != np.int32:
        raise TypeError(f"out must hold int32 labels, got {getattr(out, 'dtype', None)}")
    ndim = len(shape)
    structure = _structure(ndim, ndim if connectivity is None else connectivity)
    if not (isinstance(min_size, (int, np.integer)) and min_size >= 1):
        raise ValueError(f"min_size must be a positive integer, got {min_size!r}")
    cores = chunk_cores(shape, chunk_shape)
    total = 2 * len(cores)
    # per provisional label (global ids offset chunk by chunk): count, box, first voxel
    counts, starts, stops, first = [np.zeros(1, np.int64)], [np.zeros((1, ndim), np.int64)], \
        [np.zeros((1, ndim), np.int64)], [np.zeros(1, np.int64)]
    pairs = []
    offset = 0
    for done, core in enumerate(cores, start=1):
        # the block: the core and one plane of each lower neighbour
        block = tuple(slice(max(0, c.start - 1), c.stop) for c in core)
        data = np.asarray(array[block])
        mask = data > threshold if threshold is not None else data != 0
        del data
        local, n = ndi.label(mask, structure=structure, output=np.int32)
        inner = tuple(slice(c.start - b.start, None) for c, b in zip(core, block))
        if min_size > 1 and n:
            local, n = _drop_inner_specks(local, n, inner, core, block, shape, min_size)
        provisional = np.where(local > 0, local + offset, 0).astype(np.int32)
        # the planes this block shares with earlier chunks: join its labels to theirs
        if any(c.start > 0 for c in core):
            shared = np.ones(mask.shape, bool)
            shared[inner] = False
            earlier = np.asarray(out[block])
            both = shared & (provisional > 0) & (earlier > 0)
            if both.any():
                pairs.append(np.stack([provisional[both], earlier[both]], axis=1))
        own = provisional[inner]
        out[core] = own
        c, lo, hi, fi = _label_stats(local[inner], n, [q.start for q in core], shape)
        counts.append(c[1:])
        starts.append(lo[1:])
        stops.append(hi[1:])
        first.append(fi[1:])
        offset += n
        if progress is not None:
            progress(done, total)
    counts, starts, stops, first = (np.concatenate(a) for a in (counts, starts, stops, first))
    root = _join(offset, pairs)
    # a component: the provisional labels with one root; its first voxel orders it
    m = int(root.max()) + 1 if offset else 1
    comp_first = np.full(m, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(comp_first, root[1:], first[1:])
    sizes = np.zeros(m, np.int64)
    np.add.at(sizes, root[1:], counts[1:])
    used = sizes >= min_size
    used[root[0]] = False
    ids = np.flatnonzero(used)
    number = np.zeros(m, np.int64)
    number[ids[np.argsort(comp_first[ids], kind="stable")]] = np.arange(1, ids.size + 1)
    lut = number[root].astype(np.int32)
    n_final = int(ids.size)
    big = np.iinfo(np.int64).max
    out_counts = np.zeros(n_final + 1, np.int64)
    np.add.at(out_counts, lut, counts)
    out_counts[0] = 0
    out_lo = np.full((n_final + 1, ndim), big, np.int64)
    out_hi = np.zeros((n_final + 1, ndim), np.int64)
    real = counts > 0
    real[0] = False
    for axis in range(ndim):
        np.minimum.at(out_lo[:, axis], lut[real], starts[real, axis])
        np.maximum.at(out_hi[:, axis], lut[real], stops[real, axis])
    out_lo[0] = 0
    out_first = np.full(n_final + 1, big, np.int64)
    np.minimum.at(out_first, lut[real], first[real])
    out_first[0] = 0
    # second pass: provisional labels to final numbers
    for done, core in enumerate(cores, start=len(cores) + 1):
        out[core] = lut[np.asarray(out[core])]
        if progress is not None:
            progress(done, total)
    return Components(n_final, out_counts, out_lo, out_hi, out_first)


def label_stats(labels, n, *, chunk_shape):
    """Voxel count and bounding box of every label ``1..n`` of a label array read chunk by
    chunk (what ``np.bincount`` and ``scipy.ndimage.find_objects`` give in memory).

    Parameters
    ----------
    labels : array-like of int, 2D or 3D
        E.g. a zarr array larger than memory.
    n : int or None
        The largest label; None when it is not known (it is then found in the same pass,
        rather than in one more pass over the array).
    chunk_shape : int or tuple of int

    Returns
    -------
    counts : (n + 1,) ndarray of int64
        Index 0 unused (0).
    boxes : list of (tuple of slices or None)
        Label ``k``'s box at index ``k - 1``; None for a label with no voxels.
    """
    shape = tuple(int(v) for v in labels.shape)
    ndim = len(shape)
    known = n is not None
    n = int(n) if known else 0
    big = np.iinfo(np.int64).max
    counts = np.zeros(n + 1, np.int64)
    lo = np.full((n + 1, ndim), big, np.int64)
    hi = np.zeros((n + 1, ndim), np.int64)
    for core in chunk_cores(shape, chunk_shape):
        block = np.asarray(labels[core])
        top = int(block.max()) if block.size else 0
        if top > n:
            if known:
                raise ValueError(f"labels: a label above n={n} ({top})")
            grow = top - n
            counts = np.concatenate([counts, np.zeros(grow, np.int64)])
            lo = np.concatenate([lo, np.full((grow, ndim), big, np.int64)])
            hi = np.concatenate([hi, np.zeros((grow, ndim), np.int64)])
            n = top
        c, a, b, _ = _label_stats(block, n, [q.start for q in core], shape)
        counts += c
        np.minimum(lo, a, out=lo)
        np.maximum(hi, b, out=hi)
    counts[0] = 0
    boxes = [tuple(slice(int(x), int(y)) for x, y in zip(lo[k], hi[k])) if counts[k] else None
             for k in range(1, n + 1)]
    return counts, boxes


def largest_label(labels, *, chunk_shape):
    """The largest value of a label array read chunk by chunk (0 when empty)."""
    top = 0
    for core in chunk_cores(tuple(labels.shape), chunk_shape):
        block = np.asarray(labels[core])
        if block.size:
            top = max(top, int(block.max()))
    return top


def relabel_chunks(labels, lut, *, chunk_shape):
    """``labels[...] = lut[labels]`` chunk by chunk (a zarr array or memory map larger than
    memory); returns ``labels``."""
    lut = np.asarray(lut)
    for core in chunk_cores(tuple(labels.shape), chunk_shape):
        labels[core] = lut[np.asarray(labels[core])].astype(labels.dtype, copy=False)
    return labels


def _label_stats(local, n, origin, shape):
    """Count, box (start, stop) and flat index of the first voxel, in the whole array of
    ``shape``, of every label ``1..n`` of ``local`` (a part whose first voxel is at
    ``origin``), in one raster pass."""
    nd = local.ndim
    # 2D as one plane of a volume: one compiled kernel
    vol = local.reshape((1,) * (3 - nd) + local.shape)
    org = np.array([0] * (3 - nd) + [int(v) for v in origin], np.int64)
    full = np.array([1] * (3 - nd) + [int(v) for v in shape], np.int64)
    count, lo, hi, first = _stats_kernel(np.ascontiguousarray(vol), int(n), org, full)
    return count, lo[:, 3 - nd:], hi[:, 3 - nd:], first


@njit(cache=True, nogil=True)
def _stats_kernel(vol, n, org, full):
    count = np.zeros(n + 1, np.int64)
    lo = np.full((n + 1, 3), np.iinfo(np.int64).max, np.int64)
    hi = np.zeros((n + 1, 3), np.int64)
    first = np.full(n + 1, np.iinfo(np.int64).max, np.int64)
    nz, ny, nx = vol.shape
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                k = vol[z, y, x]
                if k <= 0:
                    continue
                g = (z + org[0], y + org[1], x + org[2])
                if count[k] == 0:
                    first[k] = (g[0] * full[1] + g[1]) * full[2] + g[2]
                count[k] += 1
                for a in range(3):
                    if g[a] < lo[k, a]:
                        lo[k, a] = g[a]
                    if g[a] + 1 > hi[k, a]:
                        hi[k, a] = g[a] + 1
    return count, lo, hi, first


def _drop_inner_specks(local, n, inner, core, block, shape, min_size):
    """``local`` without its labels of fewer than ``min_size`` core voxels that touch neither
    the planes shared with earlier chunks nor a side where a later chunk follows (they are
    whole components), renumbered 1..; and the new count."""
    counts = np.bincount(local[inner].ravel(), minlength=n + 1)
    joins = np.zeros(n + 1, bool)
    for axis, (c, b, size) in enumerate(zip(core, block, shape)):
        sides = ([0, 1] if c.start > 0 else []) + ([b.stop - b.start - 1] if c.stop < size else [])
        for i in sides:
            index = [slice(None)] * local.ndim
            index[axis] = i
            joins[np.unique(local[tuple(index)])] = True
    small = (counts < min_size) & ~joins
    small[0] = False
    if not small.any():
        return local, n
    lut = np.zeros(n + 1, np.int32)
    keep = np.flatnonzero(~small)[1:]
    lut[keep] = np.arange(1, keep.size + 1)
    return lut[local], int(keep.size)


def _join(n, pairs):
    """Root of every provisional label 0..n (0 its own) after joining ``pairs``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not pairs:
        return np.arange(n + 1)
    p = np.unique(np.concatenate(pairs), axis=0)
    graph = coo_matrix((np.ones(len(p), np.int8), (p[:, 0], p[:, 1])), shape=(n + 1, n + 1))
    _, root = connected_components(graph, directed=False)
    return root
