"""ImageJ and Fiji: the reference EMSeg measures against, and the bridge to the plugin.

- :mod:`~emseg.imagej.reference`: start ImageJ 1.x from Python (JPype) and
  measure with its own ParticleAnalyzer (:func:`imagej_measure`);
- :mod:`~emseg.imagej.fiji`: start ImageJ/Fiji with the EMSeg plugin,
  NumPy/ImagePlus conversion, ROIs, tables, macros, ``install-fiji``;
- :mod:`~emseg.imagej.backend`: the plugin's in-process backend (EMSeg's
  workflows on ImageJ's pixel arrays).

Importing this package starts no JVM.
"""

from .reference import (ImageJUnavailable, find_ij_jar, find_plugin_jar, imagej_measure,
                        start_imagej)

__all__ = ["ImageJUnavailable", "find_ij_jar", "find_plugin_jar", "start_imagej",
           "imagej_measure"]
