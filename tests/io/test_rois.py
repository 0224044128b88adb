"""emseg.io.read_roi_masks: ImageJ ROI sets as masks, pixel for pixel what ImageJ 1.53t's own
Roi.getMask() gives (ROIs made and encoded by the real ImageJ)."""

import io as pyio
import zipfile

import numpy as np
import pytest
import roifile

from emseg.io import ImageReadError, read_roi_masks


def _imagej_rois(ij):
    import jpype
    F, I = jpype.JArray(jpype.JFloat), jpype.JArray(jpype.JInt)
    P = ij.gui.PolygonRoi
    return [P(F([10.5, 30.2, 25.0, 8.0]), F([5.0, 9.7, 30.3, 22.1]), 4, ij.gui.Roi.POLYGON),
            ij.gui.OvalRoi(40, 12, 17, 11), ij.gui.OvalRoi(3.5, 40.25, 20.5, 13.0),
            ij.gui.Roi(60, 5, 7, 9),
            P(I([60, 80, 70]), I([30, 35, 50]), 3, ij.gui.Roi.POLYGON),
            P(F([60.3, 80.1, 70.6, 65.2]), F([60.2, 62.7, 75.1, 70.4]), 4, ij.gui.Roi.FREEROI),
            P(I([10, 20, 20, 15, 15, 10]), I([70, 70, 80, 80, 90, 90]), 6, ij.gui.Roi.TRACED_ROI)]


def test_roi_set_masks_equal_imagejs(ij, tmp_path):
    rois = _imagej_rois(ij)
    path = tmp_path / "RoiSet.zip"
    with zipfile.ZipFile(path, "w") as z:      # as the ROI Manager saves: one .roi per entry
        for k, r in enumerate(rois):
            z.writestr(f"{k:04d}.roi", bytes(ij.io.RoiEncoder.saveAsByteArray(r)))
    ours = read_roi_masks(path)
    assert len(ours) == len(rois)
    for r, (mask, (top, left)) in zip(rois, ours):
        b = r.getBounds()
        theirs = np.zeros((100, 100), bool)
        m = r.getMask()
        theirs[b.y:b.y + b.height, b.x:b.x + b.width] = True if m is None else \
            np.array(m.getPixels(), np.int8).reshape(b.height, b.width) != 0
        mine = np.zeros((100, 100), bool)
        mine[top:top + mask.shape[0], left:left + mask.shape[1]] = mask
        assert theirs.sum() > 50 and np.array_equal(mine, theirs), str(r.getTypeAsString())
    single = tmp_path / "one.roi"
    single.write_bytes(bytes(ij.io.RoiEncoder.saveAsByteArray(rois[1])))
    assert np.array_equal(read_roi_masks(single)[0][0], ours[1][0])


def test_bad_roi_files(tmp_path):
    line = roifile.ImagejRoi.frompoints([[1, 1], [20, 20]])
    line.roitype = roifile.ROI_TYPE.LINE
    line.x1, line.y1, line.x2, line.y2 = 1.0, 1.0, 20.0, 20.0
    line.name = "stroke"
    line.tofile(tmp_path / "line.roi")
    with pytest.raises(ImageReadError, match="ROI stroke is a line, not an outline"):
        read_roi_masks(tmp_path / "line.roi")
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    with pytest.raises(ImageReadError, match="junk.zip: not an ImageJ ROI file"):
        read_roi_masks(tmp_path / "junk.zip")
    buf = pyio.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    (tmp_path / "empty.zip").write_bytes(buf.getvalue())
    with pytest.raises(ImageReadError, match="empty.zip"):
        read_roi_masks(tmp_path / "empty.zip")
    with pytest.raises(ImageReadError, match="not a file"):
        read_roi_masks(tmp_path / "missing.zip")
