"""Compiled kernels that reproduce ImageJ 1.53t's particle measurements.

ImageJ's definitions are sequential: the traced perimeter depends on where the
outline trace starts, and Feret's diameter keeps the *first* maximal pair of
convex-hull vertices.  These loops follow ImageJ's order of operations exactly
(``ij/gui/Wand.java``, ``PolygonRoi.getTracedPerimeter``,
``FloatPolygon.getConvexHull``, ``Roi.getFeretValues``, ``EllipseFitter``), and
Numba compiles them so that measuring is faster than ImageJ itself.

Coordinates follow ImageJ inside this module: ``x`` is the column, ``y`` the
row, and outline vertices are pixel corners.
"""

import math

import numpy as np
from numba import njit

# ImageJ's truncated constants, needed to reproduce its numbers digit for digit.
_HALFPI = 1.5707963267949
_SQRT_PI = 1.772453851

# Indices into the per-particle geometry array returned by `particle_geometry`.
(G_PERIM_SUMDX, G_PERIM_SUMDY, G_PERIM_CORNERS, G_FERET, G_FERET_ANGLE,
 G_FERET_X, G_FERET_Y, G_MIN_FERET, G_HULL_AREA, G_MAJOR, G_MINOR,
 G_ANGLE, G_XM, G_YM) = range(14)
N_GEOMETRY = 14


@njit(cache=True, inline="always")
def _inside(comp, k, x, y):
    if x < 0 or y < 0 or y >= comp.shape[0] or x >= comp.shape[1]:
        return False
    return comp[y, x] == k


@njit(cache=True, inline="always")
def _inside_dir(comp, k, x, y, direction):
    # Pixel around vertex (x, y) in Wand's numbering: 2 | 1 over 3 | 0.
    d = direction & 3
    if d == 0:
        return _inside(comp, k, x, y)
    if d == 1:
        return _inside(comp, k, x, y - 1)
    if d == 2:
        return _inside(comp, k, x - 1, y - 1)
    return _inside(comp, k, x - 1, y)


@njit(cache=True)
def trace_outline(comp, k, seed_x, seed_y, xs, ys):
    """Trace the 8-connected outer outline of component ``k`` like ImageJ's Wand.

    ``(seed_x, seed_y)`` must be the component's first pixel in raster order.
    Vertices (direction changes only) are written to ``xs``/``ys``; returns
    their number.
    """
    x = seed_x
    while _inside(comp, k, x, seed_y):
        x += 1
    # The pixel right of the seed's run is outside: start below that edge,
    # heading down (direction 3), as Wand.traceEdge does.
    start_x = x
    start_y = seed_y + 1
    start_dir = 3
    y = start_y
    direction = start_dir
    n = 0
    while True:
        new_dir = direction + 1
        while True:
            if _inside_dir(comp, k, x, y, new_dir):
                break
            new_dir -= 1
            if new_dir < direction:
                break
        if new_dir != direction:
            xs[n] = x
            ys[n] = y
            n += 1
        d = new_dir & 3
        if d == 0:
            x += 1
        elif d == 1:
            y -= 1
        elif d == 2:
            x -= 1
        else:
            y += 1
        direction = new_dir
        if x == start_x and y == start_y and (direction & 3) == start_dir:
            break
    if xs[0] != x:
        xs[n] = x
        ys[n] = y
        n += 1
    return n


@njit(cache=True)
def traced_perimeter_terms(xs, ys, n):
    """Return ``(sumdx, sumdy, corners)`` of PolygonRoi.getTracedPerimeter."""
    sumdx = 0
    sumdy = 0
    corners = 0
    dx1 = xs[0] - xs[n - 1]
    dy1 = ys[0] - ys[n - 1]
    side1 = abs(dx1) + abs(dy1)
    corner = False
    for i in range(n):
        nxt = i + 1
        if nxt == n:
            nxt = 0
        dx2 = xs[nxt] - xs[i]
        dy2 = ys[nxt] - ys[i]
        sumdx += abs(dx1)
        sumdy += abs(dy1)
        side2 = abs(dx2) + abs(dy2)
        if side1 > 1 or not corner:
            corner = True
            corners += 1
        else:
            corner = False
        dx1 = dx2
        dy1 = dy2
        side1 = side2
    return sumdx, sumdy, corners


@njit(cache=True, inline="always")
def _cross(ox, oy, ax, ay, bx, by):
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


@njit(cache=True)
def convex_hull(xs, ys, n, hx, hy):
    """The vertices of FloatPolygon.getConvexHull: the strictly convex hull vertices
    (collinear points dropped), starting at the smallest y (then x), in ImageJ's order.
    Returns the vertex count.

    ImageJ wraps the gift (O(n h)); Andrew's monotone chain (O(n log n)) on the integer
    outline vertices gives the same vertices, start and order (tests compare the two on tens
    of thousands of particles) at a third of the cost, most of a particle's measurement time.
    """
    key = np.empty(n, np.int64)
    for i in range(n):
        key[i] = (xs[i] << 32) + ys[i]
    order = np.argsort(key)
    px = np.empty(n, np.int64)
    py = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        j = order[i]
        if m > 0 and px[m - 1] == xs[j] and py[m - 1] == ys[j]:
            continue            # a vertex the outline passes twice
        px[m] = xs[j]
        py[m] = ys[j]
        m += 1
    cx = np.empty(2 * m + 1, np.int64)
    cy = np.empty(2 * m + 1, np.int64)
    k = 0
    for i in range(m):                  # lower chain
        while k >= 2 and _cross(cx[k - 2], cy[k - 2], cx[k - 1], cy[k - 1], px[i], py[i]) <= 0:
            k -= 1
        cx[k] = px[i]
        cy[k] = py[i]
        k += 1
    t = k + 1
    for i in range(m - 2, -1, -1):      # upper chain
        while k >= t and _cross(cx[k - 2], cy[k - 2], cx[k - 1], cy[k - 1], px[i], py[i]) <= 0:
            k -= 1
        cx[k] = px[i]
        cy[k] = py[i]
        k += 1
    k -= 1                              # the last vertex is the first
    s = 0
    for i in range(k):
        if cy[i] < cy[s] or (cy[i] == cy[s] and cx[i] < cx[s]):
            s = i
    for i in range(k):                  # ImageJ's start, and its direction
        j = (s - i) % k
        hx[i] = cx[j]
        hy[i] = cy[j]
    return k


@njit(cache=True)
def feret_values(hx, hy, nh, pw, ph):
    """Return (Feret, FeretAngle, FeretX, FeretY, MinFeret) of Roi.getFeretValues."""
    p1 = 0
    p2 = 0
    diam_sqr = 0.0
    for i in range(nh):
        for j in range(i + 1, nh):
            dx = (hx[i] - hx[j]) * pw
            dy = (hy[i] - hy[j]) * ph
            dsqr = dx * dx + dy * dy
            if dsqr > diam_sqr:
                diam_sqr = dsqr
                p1 = i
                p2 = j
    if hx[p1] > hx[p2]:
        p1, p2 = p2, p1
    xf1 = hx[p1]
    yf1 = hy[p1]
    xf2 = hx[p2]
    yf2 = hy[p2]
    angle = (180.0 / math.pi) * math.atan2((yf1 - yf2) * ph, (xf2 - xf1) * pw)
    if angle < 0.0:
        angle += 180.0
    x0 = hx[nh - 1]
    y0 = hy[nh - 1]
    min_feret = np.inf
    for i in range(nh):
        xprev = x0
        yprev = y0
        x0 = hx[i]
        y0 = hy[i]
        xnorm = (y0 - yprev) * ph
        ynorm = (xprev - x0) * pw
        norm = 1.0 / math.sqrt(xnorm * xnorm + ynorm * ynorm)
        xnorm *= norm * pw
        ynorm *= norm * ph
        max_dist = 0.0
        for j in range(nh):
            dist = (hx[j] - x0) * xnorm + (hy[j] - y0) * ynorm
            if dist > max_dist:
                max_dist = dist
        if max_dist < min_feret:
            min_feret = max_dist
    return math.sqrt(diam_sqr), angle, xf1, yf1, min_feret


@njit(cache=True)
def polygon_area(hx, hy, nh):
    """Absolute shoelace area of a polygon."""
    s = 0.0
    for i in range(nh):
        j = i + 1 if i + 1 < nh else 0
        s += hx[i] * hy[j] - hx[j] * hy[i]
    return abs(s) / 2.0


@njit(cache=True)
def fit_ellipse(n, xsum, ysum, x2sum, y2sum, xysum, width, height):
    """EllipseFitter.getEllipseParam from pixel sums in bounding-box coordinates.

    Returns (major, minor, angle, xm, ym) in uncalibrated pixels; ``xm``/``ym``
    are the mean local coordinates.
    """
    if width == 1 or height == 1:
        # ImageJ gives such particles no mask: the ellipse comes from the box.
        major = (width * 2) / _SQRT_PI
        minor = (height * 2) / _SQRT_PI
        angle = 0.0
        if major < minor:
            major, minor = minor, major
            angle = 90.0
        return major, minor, angle, xsum / n, ysum / n
    x2sum += 0.08333333 * n
    y2sum += 0.08333333 * n
    x1 = xsum / n
    y1 = ysum / n
    u20 = x2sum / n - x1 * x1
    u02 = y2sum / n - y1 * y1
    u11 = xysum / n - x1 * y1
    m4 = 4.0 * abs(u02 * u20 - u11 * u11)
    if m4 < 0.000001:
        m4 = 0.000001
    a11 = u02 / m4
    a12 = u11 / m4
    a22 = u20 / m4
    tmp = a11 - a22
    if tmp == 0.0:
        tmp = 0.000001
    theta = 0.5 * math.atan(2.0 * a12 / tmp)
    if theta < 0.0:
        theta += _HALFPI
    if a12 > 0.0:
        theta += _HALFPI
    elif a12 == 0.0:
        if a22 > a11:
            theta = 0.0
            a11, a22 = a22, a11
        elif a11 != a22:
            theta = _HALFPI
    tmp = math.sin(theta)
    if tmp == 0.0:
        tmp = 0.000001
    z = a12 * math.cos(theta) / tmp
    major = math.sqrt(1.0 / abs(a22 + z))
    minor = math.sqrt(1.0 / abs(a11 - z))
    scale = math.sqrt(n / (math.pi * major * minor))
    major = major * scale * 2.0
    minor = minor * scale * 2.0
    angle = 180.0 * theta / math.pi
    if angle == 180.0:
        angle = 0.0
    if major < minor:
        major, minor = minor, major
    return major, minor, angle, x1, y1


@njit(cache=True, nogil=True)
def component_stats(comp, n_comp):
    """One raster pass: pixel count, bounding box and first (seed) pixel of
    every component ``1..n_comp`` of ``comp``; index 0 is unused."""
    count = np.zeros(n_comp + 1, np.int64)
    x0 = np.full(n_comp + 1, np.iinfo(np.int64).max, np.int64)
    y0 = np.full(n_comp + 1, np.iinfo(np.int64).max, np.int64)
    x1 = np.full(n_comp + 1, -1, np.int64)
    y1 = np.full(n_comp + 1, -1, np.int64)
    seed_x = np.full(n_comp + 1, -1, np.int64)
    seed_y = np.full(n_comp + 1, -1, np.int64)
    height, width = comp.shape
    for y in range(height):
        for x in range(width):
            k = comp[y, x]
            if k <= 0:
                continue
            if count[k] == 0:
                seed_x[k] = x
                seed_y[k] = y
                y0[k] = y
            count[k] += 1
            if x < x0[k]:
                x0[k] = x
            if x > x1[k]:
                x1[k] = x
            y1[k] = y
    return count, x0, y0, x1 - x0 + 1, y1 - y0 + 1, seed_x, seed_y


@njit(cache=True, nogil=True)
def moment_sums(comp, n_comp, bx, by):
    """Sums of local x, y, x^2, y^2, xy per component (EllipseFitter order)."""
    sums = np.zeros((n_comp + 1, 5), np.float64)
    height, width = comp.shape
    for y in range(height):
        for x in range(width):
            k = comp[y, x]
            if k <= 0:
                continue
            lx = x - bx[k]
            ly = y - by[k]
            sums[k, 0] += lx
            sums[k, 1] += ly
            sums[k, 2] += lx * lx
            sums[k, 3] += ly * ly
            sums[k, 4] += lx * ly
    return sums


@njit(cache=True, nogil=True)
def particle_geometry(comp, k_first, k_last, count, bx, by, bw, bh, seed_x, seed_y,
                      sums, pw, ph, out):
    """Outline, hull, Feret and ellipse values of components ``k_first..k_last - 1``.

    Writes rows of ``out``, an ``(n_comp + 1, N_GEOMETRY)`` array indexed by the ``G_*``
    constants (row 0 unused); ``sums`` are :func:`moment_sums`. Without the GIL: threads
    measure disjoint ranges at once.
    """
    max_count = 0
    for k in range(k_first, k_last):
        if count[k] > max_count:
            max_count = count[k]
    cap = 4 * max_count + 8  # a trace has at most one vertex per boundary edge
    xs = np.empty(cap, np.int64)
    ys = np.empty(cap, np.int64)
    hx = np.empty(cap, np.float64)
    hy = np.empty(cap, np.float64)
    for k in range(k_first, k_last):
        if count[k] == 0:
            continue
        n = trace_outline(comp, k, seed_x[k], seed_y[k], xs, ys)
        sdx, sdy, corners = traced_perimeter_terms(xs, ys, n)
        out[k, G_PERIM_SUMDX] = sdx
        out[k, G_PERIM_SUMDY] = sdy
        out[k, G_PERIM_CORNERS] = corners
        nh = convex_hull(xs, ys, n, hx, hy)
        feret, fangle, fx, fy, min_feret = feret_values(hx, hy, nh, pw, ph)
        out[k, G_FERET] = feret
        out[k, G_FERET_ANGLE] = fangle
        out[k, G_FERET_X] = fx
        out[k, G_FERET_Y] = fy
        out[k, G_MIN_FERET] = min_feret
        out[k, G_HULL_AREA] = polygon_area(hx, hy, nh)
        major, minor, angle, xm, ym = fit_ellipse(
            count[k], sums[k, 0], sums[k, 1], sums[k, 2], sums[k, 3],
            sums[k, 4], bw[k], bh[k])
        out[k, G_MAJOR] = major
        out[k, G_MINOR] = minor
        out[k, G_ANGLE] = angle
        out[k, G_XM] = xm
        out[k, G_YM] = ym


@njit(cache=True)
def intensity_stats(comp, n_comp, count, image, float_median):
    """Mean, StdDev (n - 1), Min, Max and Median of ``image`` over every component.

    ImageJ's median of an integer image is the value at sorted index n // 2
    (from its histogram); of a 32-bit image it is the usual median, the two
    middle values averaged in single precision (``float_median``).
    """
    offsets = np.zeros(n_comp + 2, np.int64)
    for k in range(1, n_comp + 1):
        offsets[k + 1] = offsets[k] + count[k]
    fill = offsets.copy()
    values = np.empty(offsets[n_comp + 1], np.float64)
    height, width = comp.shape
    for y in range(height):
        for x in range(width):
            k = comp[y, x]
            if k > 0:
                values[fill[k]] = image[y, x]
                fill[k] += 1
    out = np.full((n_comp + 1, 5), np.nan)
    for k in range(1, n_comp + 1):
        n = count[k]
        if n == 0:
            continue
        seg = np.sort(values[offsets[k]:offsets[k + 1]])
        s = 0.0
        s2 = 0.0
        for v in seg:
            s += v
            s2 += v * v
        mean = s / n
        out[k, 0] = mean
        if n > 1:
            var = (n * s2 - s * s) / n / (n - 1.0)
            out[k, 1] = math.sqrt(var) if var > 0 else 0.0
        else:
            out[k, 1] = 0.0
        out[k, 2] = seg[0]
        out[k, 3] = seg[n - 1]
        if float_median and n % 2 == 0:
            out[k, 4] = (np.float32(seg[n // 2 - 1]) + np.float32(seg[n // 2])) / np.float32(2)
        else:
            out[k, 4] = seg[n // 2]
    return out
