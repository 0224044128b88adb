"""Resident memory of memory-mapped arrays.

A memory-mapped tomogram costs no memory until it is read, but every page read stays in the
process's resident set (and in its peak RSS) until the map is closed: reading a 1 GiB tomogram
block by block leaves 1 GiB resident. :func:`release_pages` hands the pages back; the data
stays in the file (and usually the page cache), and the next read pages it in again.
"""

import mmap

import numpy as np

__all__ = ["release_pages", "peak_rss"]


def peak_rss():
    """This process's peak resident memory in bytes since it started.

    Linux's ``getrusage(...).ru_maxrss`` is no measure for a process started by another: it
    carries the parent's peak across fork and exec (a benchmark that wrote an 8 GiB file
    before starting the measured run would see the writer's peak). The memory map's own
    high-water mark (``VmHWM``) starts afresh with the program; ``ru_maxrss`` is the
    fallback where ``/proc`` is missing.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def release_pages(array):
    """Drop the resident pages of the shared memory map under ``array``, if there is one.

    Safe for any shared map (``numpy.memmap`` modes "r", "r+", "w+": written pages live in
    the file's page cache, not in the process); a copy-on-write map (mode "c"), whose
    changes exist only in the process, and ordinary arrays are left alone.

    Parameters
    ----------
    array : ndarray
        An array, a ``numpy.memmap`` or a view of one, or an object whose ``wrapped``
        attribute is one (:class:`emseg.segment.large.RescaledView`).

    Returns
    -------
    bool
        Whether pages were released.
    """
    if not hasattr(mmap, "MADV_DONTNEED"):         # not Linux/BSD: nothing to do
        return False
    node = array
    # views computed on read (a rescaled or converted tomogram) name what they read
    while not isinstance(node, np.ndarray) and getattr(node, "wrapped", None) is not None:
        node = node.wrapped
    while isinstance(node, np.ndarray):
        if isinstance(node, np.memmap) and getattr(node, "mode", "r") == "c":
            return False
        node = node.base
    if not isinstance(node, mmap.mmap) or node.closed:
        return False
    node.madvise(mmap.MADV_DONTNEED)
    return True
