"""emseg.measure kernels: the run-length labelling and the convex hull equal the
step-by-step references (scipy's labelling, ImageJ's gift wrapping); threads change nothing."""

import numba
import numpy as np
import pytest
from numba import njit
from scipy import ndimage as ndi

from emseg.measure import _kernels as K
from emseg.measure import _runs, measure
from emseg.synthetic import particle_labels


@njit
def gift_wrap_hull(xs, ys, n, hx, hy):
    """ImageJ's FloatPolygon.getConvexHull, step for step (gift wrapping): the reference
    the kernel's monotone chain must equal."""
    smallest_y = np.inf
    for i in range(n):
        if ys[i] < smallest_y:
            smallest_y = ys[i]
    smallest_x = np.inf
    p1 = 0
    for i in range(n):
        if ys[i] == smallest_y and xs[i] < smallest_x:
            smallest_x = xs[i]
            p1 = i
    pstart = p1
    n2 = 0
    while True:
        x1 = float(xs[p1])
        y1 = float(ys[p1])
        p2 = p1
        x2 = 0.0
        y2 = 0.0
        while True:
            p2 += 1
            if p2 == n:
                p2 = 0
            if p2 == p1:
                break
            x2 = float(xs[p2])
            y2 = float(ys[p2])
            if not (x2 == x1 and y2 == y1):
                break
        p3 = p2 + 1
        if p3 == n:
            p3 = 0
        if p2 != p1:
            while True:
                x3 = float(xs[p3])
                y3 = float(ys[p3])
                det = x1 * (y2 - y3) - y1 * (x2 - x3) + (y3 * x2 - y2 * x3)
                further = False
                if det == 0 and p3 != p2:
                    d2 = (x2 - x1) ** 2 + (y2 - y1) ** 2
                    d3 = (x3 - x1) ** 2 + (y3 - y1) ** 2
                    further = d3 > d2
                if det > 0 or further:
                    x2 = x3
                    y2 = y3
                    p2 = p3
                p3 += 1
                if p3 == n:
                    p3 = 0
                if p3 == p1:
                    break
        hx[n2] = x1
        hy[n2] = y1
        n2 += 1
        if p2 == p1:
            break
        p1 = p2
        if n2 > 1 and xs[p1] == hx[0] and ys[p1] == hy[0]:
            break
        if p1 == pstart:
            break
    return n2



def _masks():
    rng = np.random.default_rng(0)
    out = [np.zeros((4, 4), bool), np.ones((5, 13), bool), rng.random((1, 50)) < 0.5,
           rng.random((50, 1)) < 0.5, rng.random((37, 61)) < 0.6]
    for seed in range(12):
        r = np.random.default_rng(seed)
        shape = (int(r.integers(40, 160)), int(r.integers(40, 160)))   # any row length
        if seed % 3 == 0:
            m = ndi.binary_opening(r.random(shape) < r.uniform(0.3, 0.7))
        elif seed % 3 == 1:
            m = ndi.gaussian_filter(r.random(shape), r.uniform(1, 4)) > 0.5
        else:
            m = r.random(shape) < r.uniform(0.1, 0.9)
        out.append(m)
    out.append(particle_labels((512, 512), 400, radius=(2, 25), seed=3) > 0)
    return out


@pytest.mark.parametrize("connectivity", [8, 4])
def test_run_labelling_equals_scipy_and_the_pixel_passes(connectivity):
    structure = np.ones((3, 3), bool) if connectivity == 8 else None
    for mask in _masks():
        ref, n = ndi.label(mask, structure=structure, output=np.int32)
        labels, n2, stats = _runs.label_mask(mask, connectivity)
        assert n2 == n
        np.testing.assert_array_equal(labels, ref)          # raster order of first pixels
        for got, want in zip(stats[:7], K.component_stats(ref, n)):
            np.testing.assert_array_equal(got[1:], want[1:])
        count, bx, by = stats[0], stats[1], stats[2]
        np.testing.assert_array_equal(stats[7][1:], K.moment_sums(ref, n, bx, by)[1:])
        assert count[1:].sum() == mask.sum()


def test_hull_equals_imagej_gift_wrapping():
    compared = 0
    for i, mask in enumerate(_masks()):
        comp, n, stats = _runs.label_mask(mask, 8 if i % 2 else 4)
        if not n:
            continue
        cap = 4 * int(stats[0].max()) + 8
        xs, ys = np.empty(cap, np.int64), np.empty(cap, np.int64)
        a, b, c, d = (np.empty(cap) for _ in range(4))
        for k in range(1, n + 1):
            m = K.trace_outline(comp, k, stats[5][k], stats[6][k], xs, ys)
            n1 = gift_wrap_hull(xs, ys, m, a, b)
            n2 = K.convex_hull(xs, ys, m, c, d)
            assert n1 == n2
            np.testing.assert_array_equal(a[:n1], c[:n2])
            np.testing.assert_array_equal(b[:n1], d[:n2])
            compared += 1
    assert compared > 1000


def test_threads_give_the_single_thread_table(monkeypatch):
    labels = particle_labels((1024, 1024), 900, radius=(3, 20), seed=5)
    image = np.random.default_rng(1).integers(0, 255, labels.shape).astype(np.uint8)
    tables = {}
    for threads in (1, 3):
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", threads)
        tables[threads] = (measure(labels, image, pixel_size=2.0),
                           measure(labels > 0, pixel_size=2.0))
    assert len(tables[1][0]) > 500
    for one, many in zip(tables[1], tables[3]):
        assert one.equals(many)
