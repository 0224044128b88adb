"""What every generator shares: the result type and argument checks."""

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["SyntheticImage"]


@dataclass(frozen=True)
class SyntheticImage:
    """A synthetic micrograph with its exact answer.

    Attributes
    ----------
    image : (M, N) ndarray of uint8
    labels : (M, N) ndarray of int32
        Visible part of every object, numbered 1..n.
    pixel_size : float
        Pixel size in nm.
    visible_fraction : (n + 1,) ndarray of float, optional
        Visible part of every object's whole area (index = label, 0 unused):
        below 1 when other objects hide part of it or the image border cuts
        it (:func:`sem_agglomerates` only).
    cut_by_border : (n + 1,) ndarray of bool, optional
        Objects that extend beyond the image.
    """

    image: np.ndarray
    labels: np.ndarray
    pixel_size: float
    visible_fraction: np.ndarray = None
    cut_by_border: np.ndarray = None


def _check_shape(shape):
    if len(shape) != 2 or not all(isinstance(s, numbers.Integral) and s >= 8 for s in shape):
        raise ValueError(f"shape must be (rows, columns) of integers >= 8, got {shape}")
    return int(shape[0]), int(shape[1])


def _range(value, name):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (low, high), got {value!r}") from None
    if not 0 < lo <= hi:
        raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {value!r}")
    return lo, hi


def _keep_largest_pieces(labels, n, *, return_lut=False):
    """Keep each label's largest 8-connected piece; renumber 1..m (and return
    the old -> new label table with ``return_lut``)."""
    from skimage.measure import label as sk_label

    pieces = sk_label(labels, connectivity=2, background=0)
    sizes = np.bincount(pieces.ravel())
    owner = np.zeros(sizes.size, np.int64)
    owner[pieces.ravel()] = labels.ravel()
    best = np.zeros(n + 1, np.int64)
    order = np.argsort(sizes[1:], kind="stable") + 1
    best[owner[order]] = order
    keep = best[owner] == np.arange(sizes.size)
    keep[0] = True
    labels = np.where(keep[pieces], labels, 0)
    present = np.unique(labels[labels > 0])
    lut = np.zeros(n + 1, np.int32)
    lut[present] = np.arange(1, present.size + 1)
    return (lut[labels], lut) if return_lut else lut[labels]
