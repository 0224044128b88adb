"""MRC/REC/MAP volumes (cryo-ET tomograms, EM maps) through ``mrcfile``.

Volumes are read memory-mapped: finding a 2 GB tomogram's shape or voxel
size reads its 1 kB header, and the voxels are paged in only where an
algorithm touches them. The header's voxel size is in Å (``cella / mx``);
EMSeg reports it in nm, as ``(z, y, x)`` for volumes and ``(width, height)``
for single images, like every other reader. A header size of 0 (never set)
means uncalibrated.
"""

import numpy as np

from .._memory import release_pages
from .._validate import check_array_like, check_spacing
from .files import atomic_write

__all__ = ["MRC_SUFFIXES", "read_mrc", "write_mrc"]

#: File endings read as MRC (tomograms .rec, maps .map, stacks .mrcs/.st/.ali).
MRC_SUFFIXES = (".mrc", ".rec", ".map", ".mrcs", ".st", ".ali")

_ANGSTROM = 0.1  # nm


def read_mrc(path):
    """Read an MRC file memory-mapped, with its voxel size and origin.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    data : numpy.memmap
        ``(Z, Y, X)`` for a volume or stack, ``(Y, X)`` for a single image;
        read-only.
    pixel_size : (float, float) or None
        Pixel width and height in nm (None when the header's size is 0).
    metadata : dict
        ``format``, ``axes``, ``shape``, ``dtype``, ``pixel_size_source``
        ("MRC header"), ``voxel_size`` ``(z, y, x)`` nm for volumes,
        ``origin`` (the header's x, y, z origin in Å) and ``nstart``.

        A file with a header defect that leaves its data readable (no
        ``MAP`` stamp, an odd machine stamp: some writers' habits) is read,
        the defects listed in ``metadata["warnings"]``.

    Raises
    ------
    ValueError
        When the file is not a valid MRC file (mrcfile's reason).
    """
    import warnings

    import mrcfile

    try:
        found = _open_header(mrcfile, path, permissive=False)
        problems = []
    except ValueError as exc:
        # mrcfile's permissive mode reads what a header defect leaves intact; without data
        # (a truncated or foreign file) the strict reason stands
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                found = _open_header(mrcfile, path, permissive=True)
            except ValueError:
                found = None
        if found is None:
            raise exc from None
        problems = sorted({str(w.message) for w in caught})
    if found is None:
        raise ValueError("the MRC header describes no voxels")
    dtype, shape, offset, (vx, vy, vz), origin, nstart = found
    # our own read-only map: mrcfile's closes with the file
    data = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    meta = {"format": "mrc", "axes": "ZYX" if data.ndim == 3 else "YX", "shape": data.shape,
            "dtype": str(np.dtype(dtype).newbyteorder("=")), "origin": origin, "nstart": nstart}
    if problems:
        meta["warnings"] = problems
    size = None
    if vx != 0 or vy != 0:  # all zero: never set, uncalibrated
        size = (vx * _ANGSTROM, vy * _ANGSTROM)
        meta["pixel_size_source"] = "MRC header"
        if data.ndim == 3:
            meta["voxel_size"] = (vz * _ANGSTROM, vy * _ANGSTROM, vx * _ANGSTROM)
    return data, size, meta


def _open_header(mrcfile, path, *, permissive):
    """What :func:`read_mrc` needs from the header, or None when there is no data."""
    with mrcfile.mmap(path, mode="r", permissive=permissive) as mrc:
        if mrc.data is None or mrc.data.size == 0:
            return None
        h = mrc.header
        return (mrc.data.dtype, mrc.data.shape, mrc.data.offset,
                tuple(float(mrc.voxel_size[a]) for a in "xyz"),
                tuple(float(h.origin[a]) for a in "xyz"),
                (int(h.nxstart), int(h.nystart), int(h.nzstart)))


def _slabs(volume, voxels=4_000_000):
    """``(z, block)``: the volume in slabs of whole planes of about ``voxels`` voxels. An
    array stored in chunks (zarr) is read a row of chunks at a time: a plane read on its own
    would read the whole depth of its chunks."""
    n = volume.shape[0]
    step = max(1, int(voxels // max(1, np.prod(volume.shape[1:]))))
    chunks = getattr(volume, "chunks", None) or (1,)
    # zarr gives one chunk shape; dask every chunk's size per axis
    depth = int(max(chunks[0]) if isinstance(chunks[0], tuple) else chunks[0])
    read = depth * -(-step // depth)        # whole rows of chunks, at least one slab
    for z0 in range(0, n, read):
        big = np.asarray(volume[z0:z0 + read])
        for z in range(0, big.shape[0], step):
            yield z0 + z, big[z:z + step]
        del big
        release_pages(volume)


def _range(volume):
    """Smallest and largest value (0, 0 when empty), read in slabs of whole planes: a label
    volume may be a zarr array larger than memory."""
    if isinstance(volume, np.ndarray):
        return (int(volume.min()), int(volume.max())) if volume.size else (0, 0)
    low, top = 0, 0
    for _, block in _slabs(volume):
        if block.size:
            low, top = min(low, int(block.min())), max(top, int(block.max()))
    return low, top


def _mrc_dtype(volume, labels):
    """The MRC data type ``volume`` is stored as (checking labels)."""
    if labels:
        if np.dtype(volume.dtype).kind == "f":
            raise TypeError(f"labels must be integers, got {volume.dtype}")
        low, top = _range(volume)
        if low < 0:
            raise ValueError("labels must not be negative")
        if top <= np.iinfo(np.uint16).max:
            return np.dtype(np.uint16)
        if top > 2 ** 24:
            raise ValueError(f"labels: largest label {top} cannot be stored exactly in MRC "
                             "(float32 holds integers up to 2**24)")
        return np.dtype(np.float32)  # MRC has no 32-bit integer mode
    if volume.dtype in (np.int8, np.int16, np.uint16, np.float32):
        return np.dtype(volume.dtype).newbyteorder("=")
    return np.dtype(np.float32)


class _Stats:
    """The header's dmin, dmax, dmean and rms (the standard deviation, as mrcfile writes it)
    gathered slab by slab (Chan's pairwise update): mrcfile's own ``std`` of a whole
    tomogram makes a float copy of it."""

    def __init__(self):
        self.n, self.mean, self.m2, self.low, self.high = 0, 0.0, 0.0, np.inf, -np.inf

    def add(self, block):
        b = np.asarray(block, np.float64)
        n, mean = b.size, float(b.mean())
        m2 = float(np.square(b - mean).sum())
        delta, total = mean - self.mean, self.n + n
        self.m2 += m2 + delta * delta * self.n * n / total
        self.mean += delta * n / total
        self.n = total
        self.low, self.high = min(self.low, float(b.min())), max(self.high, float(b.max()))

    def write(self, header):
        header.dmin, header.dmax = np.float32(self.low), np.float32(self.high)
        header.dmean = np.float32(self.mean)
        header.rms = np.float32(np.sqrt(self.m2 / self.n))


def write_mrc(path, volume, voxel_size=None, *, origin=None, nstart=None, labels=False):
    """Write a volume (or a single image) as MRC, atomically.

    The data are written slab by slab into a memory-mapped file (a tomogram is never copied
    whole, whatever its type).

    Parameters
    ----------
    path : path-like
        ``.mrc``, ``.rec`` or ``.map`` file.
    volume : (Z, Y, X) or (Y, X) ndarray
        Labels (``labels=True``: stored as uint16, or float32 beyond 65535)
        or intensities/probabilities (int8, int16, uint16 and float32 kept,
        anything else as float32).
    voxel_size : float or sequence, optional
        ``(z, y, x)`` in nm for a volume, ``(y, x)`` for an image; written in Å.
    origin : (float, float, float), optional
        Header origin (x, y, z) in Å, e.g. the input's ``metadata["origin"]``.
    nstart : (int, int, int), optional
        Header ``nxstart, nystart, nzstart`` (the input's ``metadata["nstart"]``).
    """
    import mrcfile
    from mrcfile.utils import mode_from_dtype

    # an array-like (a zarr array larger than memory) is read slab by slab below
    volume = check_array_like(volume, "volume", ndims=(2, 3))
    dtype = _mrc_dtype(volume, labels)
    ndim = len(volume.shape)
    size = None if voxel_size is None else check_spacing(voxel_size, ndim, "voxel_size")
    def writer(tmp):
        with mrcfile.new_mmap(tmp, shape=tuple(volume.shape), mrc_mode=mode_from_dtype(dtype),
                              overwrite=True) as mrc:
            stats = _Stats()
            # slabs of about 4 M voxels (whole planes)
            for z, block in _slabs(volume):
                block = np.asarray(block, dtype)
                mrc.data[z:z + block.shape[0]] = block
                stats.add(block)
                release_pages(mrc.data)       # written pages live in the page cache
            stats.write(mrc.header)
            if size is not None:
                s = [v / _ANGSTROM for v in size[::-1]] + [1.0]  # x, y(, z)
                mrc.voxel_size = (s[0], s[1], s[2] if ndim == 3 else s[0])
            if origin is not None:
                mrc.header.origin = tuple(float(v) for v in origin)
            if nstart is not None:
                mrc.header.nxstart, mrc.header.nystart, mrc.header.nzstart = (int(v) for v in nstart)
    return atomic_write(path, writer)
