"""Many small boxes of an array larger than memory, read and written through a few large
blocks kept in memory.

A zarr array costs a millisecond or two per call whatever the size of the box, and the
vesicle pipeline visits thousands of boxes (one per segment, in label order: the boxes of
a plane's segments, then the next plane's). :class:`BlockCache` reads a block of several
chunks in one call, keeps the most recently used blocks up to a budget in bytes, and
writes a changed block back once, when it leaves the cache or on :meth:`BlockCache.flush`.
Reads always see earlier writes, so a loop over boxes gives the same result through the
cache as on the array itself, whatever the budget.
"""

from collections import OrderedDict
from itertools import product

import numpy as np

__all__ = ["BlockCache"]


class BlockCache:
    """An array-like read and written through cached blocks.

    Parameters
    ----------
    array : array-like
        Anything that slices like NumPy and, for writing, takes slice assignment (a zarr
        array, a memory map).
    block_shape : tuple of int
        The blocks' shape (the last block along an axis may be smaller).
    budget_bytes : int
        The most bytes of blocks kept; the least recently used block goes first. A box
        larger than the budget still works: its blocks pass through one at a time.

    Notes
    -----
    Not thread-safe. Call :meth:`flush` (or use the cache as a context manager) before the
    array is read in any other way.
    """

    def __init__(self, array, block_shape, *, budget_bytes):
        self.wrapped = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        block = tuple(int(b) for b in block_shape)
        if len(block) != self.ndim or min(block) < 1:
            raise ValueError(f"block_shape must be {self.ndim} positive integers, got "
                             f"{block_shape!r}")
        if not (isinstance(budget_bytes, (int, np.integer)) and budget_bytes >= 0):
            raise ValueError(f"budget_bytes must be a non-negative integer, got "
                             f"{budget_bytes!r}")
        self.block_shape = tuple(min(b, max(n, 1)) for b, n in zip(block, self.shape))
        self.budget_bytes = int(budget_bytes)
        self._blocks = OrderedDict()
        self._dirty = set()
        self._bytes = 0
        self.reads = self.writes = 0            # calls on the array (for tests and tuning)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.flush()
        return False

    def _box(self, key):
        """``key`` (a tuple of slices with step 1, one per axis, or a shorter tuple) as
        ``(start, stop)`` pairs within the array."""
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) > self.ndim or any(not isinstance(k, slice) for k in key):
            raise IndexError("BlockCache takes a tuple of slices (a box), got "
                             f"{key!r}")
        key = key + (slice(None),) * (self.ndim - len(key))
        box = []
        for k, n in zip(key, self.shape):
            start, stop, step = k.indices(n)
            if step != 1:
                raise IndexError(f"BlockCache takes slices with step 1, got {k!r}")
            box.append((start, max(start, stop)))
        return box

    def _slices(self, index):
        return tuple(slice(i * b, min(n, (i + 1) * b))
                     for i, b, n in zip(index, self.block_shape, self.shape))

    def _parts(self, box):
        """``(block index, slices in the block, slices in the box)`` of every block the box
        meets."""
        ranges = [range(a // b, (c - 1) // b + 1) if c > a else range(0)
                  for (a, c), b in zip(box, self.block_shape)]
        for index in product(*ranges):
            inner, outer = [], []
            for (a, c), i, b in zip(box, index, self.block_shape):
                lo, hi = max(a, i * b), min(c, (i + 1) * b)
                inner.append(slice(lo - i * b, hi - i * b))
                outer.append(slice(lo - a, hi - a))
            yield index, tuple(inner), tuple(outer)

    def _block(self, index):
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
            return block
        block = np.array(self.wrapped[self._slices(index)], dtype=self.dtype, copy=True)
        self.reads += 1
        self._blocks[index] = block
        self._bytes += block.nbytes
        # keep the block just asked for, whatever the budget
        while self._bytes > self.budget_bytes and len(self._blocks) > 1:
            old, data = self._blocks.popitem(last=False)
            self._write_back(old, data)
            self._bytes -= data.nbytes
        return block

    def _write_back(self, index, data):
        if index in self._dirty:
            self.wrapped[self._slices(index)] = data
            self._dirty.discard(index)
            self.writes += 1

    def __getitem__(self, key):
        box = self._box(key)
        out = np.empty(tuple(c - a for a, c in box), self.dtype)
        for index, inner, outer in self._parts(box):
            out[outer] = self._block(index)[inner]
        return out

    def __setitem__(self, key, value):
        box = self._box(key)
        value = np.broadcast_to(np.asarray(value, self.dtype), tuple(c - a for a, c in box))
        for index, inner, outer in self._parts(box):
            self._block(index)[inner] = value[outer]
            self._dirty.add(index)

    def flush(self):
        """Write every changed block back to the array (they stay cached)."""
        for index in sorted(self._dirty):
            self.wrapped[self._slices(index)] = self._blocks[index]
            self.writes += 1
        self._dirty.clear()

    def clear(self):
        """:meth:`flush`, then drop every block."""
        self.flush()
        self._blocks.clear()
        self._bytes = 0


def plane_cache(array, *, planes=48, block_planes=8, block_side=256):
    """A :class:`BlockCache` for boxes visited in raster order of their first voxel (a
    label order): blocks of ``block_planes`` planes and ``block_side`` pixels a side, and a
    budget of ``planes`` whole planes (the planes the boxes of one plane's segments span,
    with room to spare)."""
    shape = tuple(int(n) for n in array.shape)
    plane = int(np.prod(shape[1:])) * np.dtype(array.dtype).itemsize
    block = (block_planes,) + (block_side,) * (len(shape) - 1)
    return BlockCache(array, block, budget_bytes=int(planes) * plane)
