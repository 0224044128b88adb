"""Connected components of a binary mask from its runs, with the statistics measurement needs.

A mask's foreground is a few thousand runs (row segments), not millions of pixels: the runs
are found in one scan, joined row to row by union-find (the first run in raster order is
each component's root), numbered in raster order of their first pixel (``scipy.ndimage.label``'s
and ImageJ's order) and painted. The pixel count, bounding box, first pixel and the moment
sums of :func:`emseg.measure._kernels.fit_ellipse` come from the runs in closed form, as exact
integers, so one pass over the pixels does the work of labelling, ``component_stats`` and
``moment_sums`` (three passes) with the same numbers.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _row_runs(row, words, y, ry, ra, rb, n, fill):
    # 8 pixels at a time where a word is all background or all foreground (no run starts
    # or ends inside it): sparse masks and large particles are mostly such words
    width = row.shape[0]
    full = np.uint64(0x0101010101010101)
    prev = False
    x = 0
    while x < width:
        if x % 8 == 0 and x + 8 <= width:
            w = words[x // 8]
            if (w == 0 and not prev) or (w == full and prev):
                x += 8
                continue
        v = row[x]
        if v != prev:
            if v:
                if fill:
                    ry[n] = y
                    ra[n] = x
                n += 1
            elif fill:
                rb[n - 1] = x - 1
        prev = v
        x += 1
    if prev and fill:
        rb[n - 1] = width - 1
    return n


@njit(cache=True, nogil=True)
def mask_runs(mask, words):
    """The runs of ``mask``: (row, first column, last column) each, in raster order.

    ``words`` is ``mask`` seen as uint64 (8 pixels each; the row length rounded down). Two
    scans: count, then fill."""
    height = mask.shape[0]
    ry = np.empty(0, np.int64)
    n = 0
    for y in range(height):
        n = _row_runs(mask[y], words[y], y, ry, ry, ry, n, False)
    ry = np.empty(n, np.int64)
    ra = np.empty(n, np.int64)
    rb = np.empty(n, np.int64)
    n = 0
    for y in range(height):
        n = _row_runs(mask[y], words[y], y, ry, ra, rb, n, True)
    return ry, ra, rb


@njit(cache=True, nogil=True)
def label_runs(ry, ra, rb, touch):
    """Component number (1.., raster order of first pixels) of every run and the count.

    Runs of consecutive rows join when their columns overlap after widening by ``touch``
    (1: 8-connected, 0: 4-connected).
    """
    n = ry.shape[0]
    parent = np.arange(n)
    prev = 0            # first run of the previous row
    cur = 0             # first run of this row
    while cur < n:
        y = ry[cur]
        end = cur
        while end < n and ry[end] == y:
            end += 1
        if prev < cur and ry[prev] == y - 1:
            j = prev
            for i in range(cur, end):
                # previous-row runs that end left of this run's reach cannot touch later
                # runs either
                while j < cur and rb[j] < ra[i] - touch:
                    j += 1
                k = j
                while k < cur and ra[k] <= rb[i] + touch:
                    a, b = _find(parent, i), _find(parent, k)
                    if a != b:
                        # the root is the raster-first run: the component's first pixel
                        if a < b:
                            parent[b] = a
                        else:
                            parent[a] = b
                    k += 1
        prev, cur = cur, end
    comp = np.zeros(n, np.int32)
    count = 0
    for i in range(n):
        r = _find(parent, i)
        if r == i:
            count += 1
            comp[i] = count
        else:
            comp[i] = comp[r]
    return comp, count


@njit(cache=True, nogil=True)
def run_stats(ry, ra, rb, comp, n_comp, labels):
    """Paint ``labels`` (zeros, the mask's shape) and return per component ``1..n_comp``
    (index 0 unused): count, bounding box (x0, y0, width, height), first pixel (x, y) and
    the sums of local x, y, x^2, y^2, xy (relative to the bounding box's corner)."""
    m = n_comp + 1
    count = np.zeros(m, np.int64)
    x0 = np.full(m, np.iinfo(np.int64).max, np.int64)
    x1 = np.full(m, -1, np.int64)
    y0 = np.full(m, np.iinfo(np.int64).max, np.int64)
    y1 = np.full(m, -1, np.int64)
    sx = np.full(m, -1, np.int64)
    sy = np.full(m, -1, np.int64)
    # global integer sums: exact; made local below
    s = np.zeros((m, 5), np.int64)
    for i in range(ry.shape[0]):
        k = comp[i]
        y, a, b = ry[i], ra[i], rb[i]
        labels[y, a:b + 1] = k
        ln = b - a + 1
        if count[k] == 0:
            sx[k] = a
            sy[k] = y
            y0[k] = y
        count[k] += ln
        if a < x0[k]:
            x0[k] = a
        if b > x1[k]:
            x1[k] = b
        y1[k] = y
        sum_x = (a + b) * ln // 2
        sum_x2 = (b * (b + 1) * (2 * b + 1) - (a - 1) * a * (2 * a - 1)) // 6
        s[k, 0] += sum_x
        s[k, 1] += ln * y
        s[k, 2] += sum_x2
        s[k, 3] += ln * y * y
        s[k, 4] += y * sum_x
    sums = np.zeros((m, 5), np.float64)
    for k in range(1, m):
        c, bx, by = count[k], x0[k], y0[k]
        sums[k, 0] = s[k, 0] - c * bx
        sums[k, 1] = s[k, 1] - c * by
        sums[k, 2] = s[k, 2] - 2 * bx * s[k, 0] + c * bx * bx
        sums[k, 3] = s[k, 3] - 2 * by * s[k, 1] + c * by * by
        sums[k, 4] = s[k, 4] - by * s[k, 0] - bx * s[k, 1] + c * bx * by
    return count, x0, y0, x1 - x0 + 1, y1 - y0 + 1, sx, sy, sums


def label_mask(mask, connectivity=8):
    """Label a 2D binary mask and compute its components' statistics in one pass.

    Parameters
    ----------
    mask : (M, N) ndarray of bool
    connectivity : {8, 4}

    Returns
    -------
    labels : (M, N) ndarray of int32
        Components numbered 1..n in raster order of their first pixels.
    n : int
    stats : tuple
        ``(count, x0, y0, width, height, seed_x, seed_y, moment_sums)`` per component,
        index 0 unused (the values of ``component_stats`` and ``moment_sums``).
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    cols = mask.shape[1] // 8 * 8
    words = np.ascontiguousarray(mask[:, :cols]).view(np.uint8).view(np.uint64) if cols else \
        np.zeros((mask.shape[0], 0), np.uint64)
    ry, ra, rb = mask_runs(mask, words)
    comp, n = label_runs(ry, ra, rb, 1 if connectivity == 8 else 0)
    labels = np.zeros(mask.shape, np.int32)
    stats = run_stats(ry, ra, rb, comp, n, labels)
    return labels, int(n), stats
