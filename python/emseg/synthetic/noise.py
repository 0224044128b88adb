"""Smooth random fields for backgrounds, illumination and agglomerate layouts."""

import math
import numbers

import numpy as np

from .._validate import check_positive

__all__ = ["perlin_noise"]


def perlin_noise(shape, scale, *, octaves=1, seed=0):
    """Perlin gradient noise, about in [-1, 1].

    Parameters
    ----------
    shape : (int, int)
        Rows, columns.
    scale : float
        Size of the coarsest lattice cell, in pixels.
    octaves : int, optional
        Number of octaves, each at half the cell size and half the amplitude.
    seed : int, optional

    Returns
    -------
    (M, N) ndarray of float32
    """
    rows, cols = (int(s) for s in shape)
    if rows < 1 or cols < 1:
        raise ValueError(f"shape must be positive, got {shape}")
    scale = check_positive(scale, "scale")
    if not isinstance(octaves, numbers.Integral) or octaves < 1:
        raise ValueError(f"octaves must be a positive integer, got {octaves!r}")
    rng = np.random.default_rng(seed)
    out = np.zeros((rows, cols), np.float64)
    amp, total = 1.0, 0.0
    for _ in range(int(octaves)):
        cell = max(scale, 1.0)
        y = np.arange(rows) / cell
        x = np.arange(cols) / cell
        ny, nx = int(y[-1]) + 2, int(x[-1]) + 2
        angles = rng.uniform(0, 2 * np.pi, (ny, nx))
        gy, gx = np.sin(angles), np.cos(angles)
        y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
        fy, fx = (y - y0)[:, None], (x - x0)[None, :]
        Y0, X0 = y0[:, None], x0[None, :]

        def dot(dy, dx):
            return gy[Y0 + dy, X0 + dx] * (fy - dy) + gx[Y0 + dy, X0 + dx] * (fx - dx)

        def fade(t):
            return t * t * t * (t * (t * 6 - 15) + 10)

        uy, ux = fade(fy), fade(fx)
        top = dot(0, 0) + ux * (dot(0, 1) - dot(0, 0))
        bottom = dot(1, 0) + ux * (dot(1, 1) - dot(1, 0))
        out += amp * (top + uy * (bottom - top)) * math.sqrt(2)
        total += amp
        amp, scale = amp / 2, scale / 2
    return (out / total).astype(np.float32)
