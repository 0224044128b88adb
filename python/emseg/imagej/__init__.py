"""ImageJ and Fiji: the reference EMSeg measures against, and the bridge to the plugin.

- :mod:`~emseg.imagej.reference`: start ImageJ 1.x from Python (JPype) and
  measure with its own ParticleAnalyzer (:func:`imagej_measure`);
- :mod:`~emseg.imagej.fiji`: start ImageJ/Fiji with the EMSeg plugin, the
  in-process backend, NumPy/ImagePlus conversion, ROIs, tables, macros,
  ``install-fiji``.

Importing this package starts no JVM.
"""

from .reference import (ImageJUnavailable, find_ij_jar, find_plugin_jar, imagej_measure,
                        start_imagej)

__all__ = ["ImageJUnavailable", "find_ij_jar", "find_plugin_jar", "start_imagej",
           "imagej_measure"]
