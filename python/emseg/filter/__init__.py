"""Keeping the particles fit for size statistics.

- :mod:`~emseg.filter.classifier`: the BAM workflow's classifier filter (a
  network scores every pixel from the image and the instance outlines; a
  particle's score is the mean over its pixels);
- :mod:`~emseg.filter.rules`: value ranges on any measurement column, border
  particles, and :func:`apply_filters`, which adds ``Score`` and ``Kept``.
"""

from .classifier import (Classification, classifier_input, classify, combine_scores,
                         encode_instances, instance_scores)
from .rules import apply_filters, border_filter, filter_labels, parse_range, range_filter

__all__ = ["encode_instances", "classifier_input", "combine_scores", "instance_scores",
           "Classification", "classify", "parse_range", "range_filter", "border_filter",
           "apply_filters", "filter_labels"]
