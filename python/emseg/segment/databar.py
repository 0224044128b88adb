"""The microscope's data bar: the flat info panel at the bottom of SEM/TEM images."""

import numpy as np

from .._validate import check_2d_array

__all__ = ["detect_databar"]


def detect_databar(image, *, min_fraction=0.6, min_height=0.02, max_height=0.35, height=None):
    """First row of the microscope's data bar at the bottom of an image, or None.

    Data bars (SEM/TEM info panels with text and a scale bar) are drawn on a
    flat background: most pixels of each of their rows share one value,
    which never happens in a micrograph's noisy rows. The bar is the lowest
    run of such rows (gaps of text rows allowed) that reaches the bottom 5 %
    of the image and is at least ``min_height`` of the image tall;
    everything from its first row down is excluded.

    Parameters
    ----------
    image : (M, N) ndarray
    min_fraction : float, optional
        Fraction of a row's pixels that must share the row's most common value.
    min_height, max_height : float, optional
        Allowed bar height as a fraction of the image height.
    height : int, optional
        ``image`` holds only the bottom rows of an image of ``height`` rows (at least its
        bottom ``max_height``: all this function reads); the row returned is the whole's.

    Returns
    -------
    int or None
    """
    image = check_2d_array(image, "image", allow_bool=False)
    rows = image.shape[0] if height is None else int(height)
    top = rows - image.shape[0]
    if rows < 20:
        return None
    flat = np.zeros(rows, bool)
    lo = int(rows * (1 - max_height)) - 1
    if top < 0 or max(lo, 0) < top:
        raise ValueError(f"height: the image holds {image.shape[0]} rows, not the bottom "
                         f"{rows - max(lo, 0)} of {rows}")
    for r in range(rows - 1, max(lo, 0) - 1, -1):
        _, counts = np.unique(image[r - top], return_counts=True)
        flat[r] = counts.max() >= min_fraction * image.shape[1]
    idx = np.nonzero(flat)[0]
    if idx.size == 0 or idx[-1] < rows * 0.95 - 1:
        return None
    # walk up from the lowest flat row, bridging gaps of up to 3% of the height (text lines)
    gap = max(2, int(0.03 * rows))
    start = idx[-1]
    for r in idx[::-1][1:]:
        if start - r > gap:
            break
        start = r
    height = rows - start
    if height < min_height * rows or height > max_height * rows:
        return None
    return int(start)
