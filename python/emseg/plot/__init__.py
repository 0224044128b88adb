"""Figures people look at instead of reading tables (matplotlib, no file I/O).

:mod:`~emseg.plot.overlays` draws over images (outlines, classes, heat maps, volume planes);
:mod:`~emseg.plot.charts` draws distributions and curves.
"""

from .charts import (gan_losses, radial_profiles, sample_comparison, size_histogram,
                     synthesis_sheet, training_curve)
from .overlays import (DISCARD_COLOR, KEEP_COLOR, PRED_COLOR, RED, TRUTH_COLOR, class_colours,
                       class_overlay, filter_overlay, heat_overlay, outline_overlay,
                       volume_slices)

__all__ = ["size_histogram", "outline_overlay", "filter_overlay", "volume_slices", "training_curve",
           "radial_profiles", "sample_comparison", "class_colours", "class_overlay",
           "gan_losses", "synthesis_sheet", "PRED_COLOR", "TRUTH_COLOR", "RED", "KEEP_COLOR",
           "DISCARD_COLOR", "heat_overlay"]
