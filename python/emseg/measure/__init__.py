"""Measurements of segmented objects.

:mod:`~emseg.measure.particles`: the 2D particle measurements identical to
ImageJ 1.53t's Analyze Particles (Feret, MinFeret, ellipse, shape
descriptors, intensities) and size summaries; the sequential geometry runs
in the Numba kernels of :mod:`~emseg.measure._kernels`;
:mod:`~emseg.measure.vesicles`: the table of vesicles segmented in a tomogram
(centre, volume, equivalent diameter; or the refined spheres' radius, membrane and outlier
statistics); :mod:`~emseg.measure.radial`: radial profiles of vesicles and the membrane,
radius and thickness read off them (CryoVesNet), and where labels put the membrane's edge.
"""

from .particles import INTENSITY_COLUMNS, MEASUREMENT_COLUMNS, NUMERIC_COLUMNS, measure, summarize

from .radial import MembraneFit, RadialProfile, fit_membrane, label_edge_offsets, radial_profile
from .vesicles import SPHERE_COLUMNS, VESICLE_COLUMNS, sphere_table, vesicle_table

__all__ = ["measure", "summarize", "vesicle_table", "sphere_table", "radial_profile",
           "fit_membrane", "label_edge_offsets", "RadialProfile", "MembraneFit", "SPHERE_COLUMNS", "VESICLE_COLUMNS", "MEASUREMENT_COLUMNS", "NUMERIC_COLUMNS", "INTENSITY_COLUMNS"]
