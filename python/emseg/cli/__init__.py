"""The ``emseg`` command line, one module per command family (:mod:`~.info`,
:mod:`~.measure`, :mod:`~.evaluate`, :mod:`~.segment` (segment, filter,
demo), :mod:`~.train` (train, train-classifier, export, models),
:mod:`~.imagej` (imagej, install-fiji)); :mod:`~.common` holds what they share.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
