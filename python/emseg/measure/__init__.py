"""Measurements of segmented objects.

:mod:`~emseg.measure.particles`: the 2D particle measurements identical to
ImageJ 1.53t's Analyze Particles (Feret, MinFeret, ellipse, shape
descriptors, intensities) and size summaries; the sequential geometry runs
in the Numba kernels of :mod:`~emseg.measure._kernels`. 3D vesicle geometry
joins this package.
"""

from .particles import INTENSITY_COLUMNS, MEASUREMENT_COLUMNS, NUMERIC_COLUMNS, measure, summarize

__all__ = ["measure", "summarize", "MEASUREMENT_COLUMNS", "NUMERIC_COLUMNS", "INTENSITY_COLUMNS"]
