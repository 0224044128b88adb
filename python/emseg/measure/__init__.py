"""Measurements of segmented objects.

:mod:`~emseg.measure.particles`: the 2D particle measurements identical to
ImageJ 1.53t's Analyze Particles (Feret, MinFeret, ellipse, shape
descriptors, intensities) and size summaries; the sequential geometry runs
in the Numba kernels of :mod:`~emseg.measure._kernels`;
:mod:`~emseg.measure.vesicles`: the table of vesicles segmented in a tomogram
(centre, volume, equivalent diameter).
"""

from .particles import INTENSITY_COLUMNS, MEASUREMENT_COLUMNS, NUMERIC_COLUMNS, measure, summarize

from .vesicles import VESICLE_COLUMNS, vesicle_table

__all__ = ["measure", "summarize", "vesicle_table", "VESICLE_COLUMNS", "MEASUREMENT_COLUMNS", "NUMERIC_COLUMNS", "INTENSITY_COLUMNS"]
