"""EMSeg: segmentation and ImageJ-identical measurement of particles and
vesicles in electron micrographs.

Heavy modules (TensorFlow models, Numba kernels) are imported on first use so
that ``import emseg`` and the command line's ``--help`` stay instant.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "summarize", "read_image", "write_labels", "write_table"]


def __getattr__(name):
    if name == "summarize":
        from .measure import summarize
        return summarize
    if name in ("read_image", "write_labels", "write_table"):
        from . import io as _io
        return getattr(_io, name)
    raise AttributeError(f"module 'emseg' has no attribute {name!r}")
