"""ImageJ ROIs (a ``RoiSet.zip`` saved from Fiji's ROI Manager, or one ``.roi``) as masks,
read with the ``roifile`` package.

ImageJ's area ROIs include a pixel when its centre lies inside the outline, and outline
vertices are pixel-corner coordinates, so a polygon is filled at its vertices shifted by half
a pixel, as ImageJ fills it.
"""

from pathlib import Path

import numpy as np

from .errors import ImageReadError

__all__ = ["ROI_SUFFIXES", "read_roi_masks"]

#: File endings read as ImageJ ROIs.
ROI_SUFFIXES = (".zip", ".roi")


def read_roi_masks(path):
    """Every area ROI of an ImageJ ROI file as a mask in its own bounding box.

    Parameters
    ----------
    path : path-like
        ``RoiSet.zip`` or a single ``.roi``.

    Returns
    -------
    list of (mask, (top, left))
        ``mask`` a 2D bool array, ``(top, left)`` its position in the image (pixels).

    Raises
    ------
    ImageReadError
        Not an ImageJ ROI file, no ROI in it, or a ROI that is not an area (a line or
        points).
    """
    import roifile

    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: not a file")
    try:
        rois = roifile.roiread(path)
    except Exception as exc:
        raise ImageReadError(f"{path}: not an ImageJ ROI file ({exc.__class__.__name__}: "
                             f"{exc})") from None
    rois = rois if isinstance(rois, list) else [rois]
    if not rois:
        raise ImageReadError(f"{path}: holds no ROI")
    out = []
    for k, roi in enumerate(rois, start=1):
        name = roi.name or f"#{k}"
        if roi.roitype in (roifile.ROI_TYPE.LINE, roifile.ROI_TYPE.POLYLINE,
                           roifile.ROI_TYPE.FREELINE, roifile.ROI_TYPE.ANGLE,
                           roifile.ROI_TYPE.POINT, roifile.ROI_TYPE.NOROI):
            raise ImageReadError(f"{path}: ROI {name} is a {roi.roitype.name.lower()}, not an "
                                 "outline of an area")
        xy = np.asarray(roi.coordinates(), float)
        if xy.ndim != 2 or len(xy) < 3:
            raise ImageReadError(f"{path}: ROI {name} has no outline")
        out.append(_polygon_mask(xy))
    return out


def _polygon_mask(xy):
    """The pixels whose centres lie inside the polygon ``xy`` (x, y vertices at pixel
    corners), in the polygon's box: ``(mask, (top, left))``."""
    from skimage.draw import polygon

    top, left = int(np.floor(xy[:, 1].min())), int(np.floor(xy[:, 0].min()))
    h = int(np.ceil(xy[:, 1].max())) - top + 1
    w = int(np.ceil(xy[:, 0].max())) - left + 1
    mask = np.zeros((h, w), bool)
    rr, cc = polygon(xy[:, 1] - top - 0.5, xy[:, 0] - left - 0.5, shape=(h, w))
    mask[rr, cc] = True
    return mask, (top, left)
