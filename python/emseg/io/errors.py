"""The error every reader raises for a file it cannot read, and the readers' own complaints."""

import contextlib
import logging

__all__ = ["ImageReadError", "collected_log"]


class ImageReadError(ValueError):
    """A file could not be read as an image (missing, unreadable, damaged, unsupported)."""


@contextlib.contextmanager
def collected_log(*names):
    """What the loggers ``names`` (``"tifffile"``, ``"rsciio"``) say, as a list of messages
    instead of lines on stderr ahead of EMSeg's own message."""
    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.propagate for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
    try:
        yield messages
    finally:
        for lg, propagate in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.propagate = propagate
