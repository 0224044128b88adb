"""The error every reader raises for a file it cannot read."""

__all__ = ["ImageReadError"]


class ImageReadError(ValueError):
    """A file could not be read as an image (missing, unreadable, damaged, unsupported)."""
