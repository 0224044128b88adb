"""emseg.io: calibration from every supported source, round trips, errors."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from emseg.io import ImageReadError, read_image, write_image, write_labels, write_table


def test_bam_sem_images_have_zeiss_pixel_size(bam_dir):
    paths = sorted((bam_dir / "sem").glob("*.tif"))
    assert len(paths) == 24
    for p in paths:
        data, size, meta = read_image(p)
        assert size == (7.344, 7.344), p.name
        assert meta["pixel_size_source"] == "Zeiss SEM tag 34118"
        assert data.shape == (768, 1024) and data.dtype == np.uint8


@pytest.mark.parametrize("unit, factor", [("nm", 1), ("micron", 1e3),
                                          ("um", 1e3), ("\\u00B5m", 1e3), ("\\u00C5", 0.1),
                                          ("angstrom", 0.1)])
def test_imagej_calibration_units(tmp_path, unit, factor):
    p = tmp_path / "a.tif"
    tifffile.imwrite(p, np.zeros((4, 5), np.uint8), imagej=True,
                     resolution=(1 / 0.5, 1 / 0.25), metadata={"unit": unit})
    _, size, meta = read_image(p)
    assert size == pytest.approx((0.5 * factor, 0.25 * factor))
    assert meta["pixel_size_source"] == "ImageJ calibration"


def test_imagej_hyperstack_keeps_axes(tmp_path):
    p = tmp_path / "stack.tif"
    data = np.arange(2 * 3 * 4 * 5, dtype=np.uint16).reshape(2, 3, 4, 5)
    tifffile.imwrite(p, data, imagej=True, metadata={"axes": "ZCYX", "unit": "nm"},
                     resolution=(1 / 2.0, 1 / 2.0))
    out, size, meta = read_image(p)
    assert out.shape == data.shape and meta["axes"] == "ZCYX"
    np.testing.assert_array_equal(out, data)
    assert size == (2.0, 2.0)


def test_ome_physical_size(tmp_path):
    p = tmp_path / "a.ome.tif"
    tifffile.imwrite(p, np.zeros((4, 4), np.uint16), ome=True,
                     metadata={"PhysicalSizeX": 0.0125, "PhysicalSizeXUnit": "µm",
                               "PhysicalSizeY": 0.015, "PhysicalSizeYUnit": "µm"})
    _, size, meta = read_image(p)
    assert size == pytest.approx((12.5, 15.0))  # anisotropic: reported, not averaged
    assert meta["pixel_size_source"] == "OME-XML PhysicalSize"


@pytest.mark.parametrize("tag, text, size, source", [
    (34118, "0\r\n0\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 3.5 nm\r\n", (3.5, 3.5),
     "Zeiss SEM tag 34118"),
    (34682, "[User]\r\nDate=01/01/2020\r\n[Scan]\r\nPixelWidth=2.5e-09\r\nPixelHeight=2.6e-09\r\n",
     (2.5, 2.6), "FEI/Thermo Fisher metadata"),
])
def test_microscope_metadata(tmp_path, tag, text, size, source):
    p = tmp_path / "sem.tif"
    tifffile.imwrite(p, np.zeros((4, 4), np.uint8), extratags=[(tag, "s", 0, text, True)])
    _, got, meta = read_image(p)
    assert got == pytest.approx(size)
    assert meta["pixel_size_source"] == source


def test_resolution_tags_with_unit(tmp_path):
    p = tmp_path / "cm.tif"
    # 4 nm pixels = 2.5e6 pixels per cm
    tifffile.imwrite(p, np.zeros((4, 4), np.uint8), resolution=(2.5e6, 2.5e6),
                     resolutionunit="CENTIMETER")
    _, size, meta = read_image(p)
    assert size == pytest.approx((4.0, 4.0))
    assert meta["pixel_size_source"] == "TIFF resolution tags"
    q = tmp_path / "none.tif"
    tifffile.imwrite(q, np.zeros((4, 4), np.uint8), resolution=(2.0, 2.0), resolutionunit="NONE")
    assert read_image(q)[1] is None


def test_png_has_no_calibration(tmp_path):
    from skimage.io import imsave
    p = tmp_path / "a.png"
    imsave(p, np.full((3, 4), 7, np.uint8), check_contrast=False)
    data, size, meta = read_image(p)
    assert size is None and data.shape == (3, 4) and meta["format"] == "png"


@pytest.mark.parametrize("dtype, top", [(np.uint16, 65535), (np.uint32, 70000)])
def test_write_labels_round_trip(tmp_path, dtype, top):
    lab = np.zeros((6, 7), np.int64)
    lab[1:3, 1:4] = top
    lab[4, 5] = 2
    p = write_labels(tmp_path / "l.tif", lab, (2.5, 3.0))
    data, size, _ = read_image(p)
    assert data.dtype == dtype
    np.testing.assert_array_equal(data, lab)
    assert size == pytest.approx((2.5, 3.0))
    assert [f.name for f in tmp_path.iterdir()] == ["l.tif"]  # no temporary left


def test_write_labels_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="labels"):
        write_labels(tmp_path / "x.tif", np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="pixel_size"):
        write_labels(tmp_path / "x.tif", np.zeros((3, 3), np.uint8), 0)
    assert list(tmp_path.iterdir()) == []


def test_fiji_opens_written_files_with_their_scale(ij, tmp_path):
    for dtype, top in ((np.uint16, 600), (np.uint32, 70000)):
        lab = np.zeros((5, 6), np.uint32)
        lab[2, 3] = top
        p = write_labels(tmp_path / f"{dtype.__name__}.tif", lab, (7.344, 7.5))
        imp = ij.IJ.openImage(str(p))
        assert imp is not None
        cal = imp.getCalibration()
        assert str(cal.getUnit()) == "nm"
        assert cal.pixelWidth == pytest.approx(7.344) and cal.pixelHeight == pytest.approx(7.5)
        assert imp.getProcessor().getPixelValue(3, 2) == top
    img = (np.arange(30).reshape(5, 6) * 8).astype(np.uint8)
    p = write_image(tmp_path / "img.tif", img, 2.0)
    imp = ij.IJ.openImage(str(p))
    assert imp.getBitDepth() == 8 and imp.getCalibration().pixelWidth == pytest.approx(2.0)
    assert imp.getProcessor().getPixel(5, 4) == img[4, 5]


def test_write_table_csv(tmp_path):
    t = pd.DataFrame({"Label": [1, 2], "Area": [3.5, 4.25]})
    p = write_table(tmp_path / "t.csv", t)
    assert p.read_text().splitlines() == ["Label,Area", "1,3.5", "2,4.25"]
    with pytest.raises(TypeError, match="table"):
        write_table(tmp_path / "u.csv", {"a": 1})
    assert sorted(f.name for f in tmp_path.iterdir()) == ["t.csv"]


def test_read_errors(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not an image")
    with pytest.raises(ImageReadError, match="bad.tif: not a TIFF file"):
        read_image(bad)
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(ImageReadError, match="unsupported file type"):
        read_image(other)
    with pytest.raises(ImageReadError, match="not a file"):
        read_image(tmp_path)


@pytest.mark.parametrize("keep", [250, 1000])
def test_truncated_tiff_one_clear_error_no_tifffile_lines(tmp_path, capfd, keep):
    whole = tmp_path / "whole.tif"
    write_image(whole, np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8), 7.5)
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole.read_bytes()[:keep])
    with pytest.raises(ImageReadError, match="cut.tif: truncated or damaged TIFF"):
        read_image(cut)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""  # tifffile's own complaints are not printed


@pytest.mark.parametrize("unit, nm", [("µm", 1e3), ("\u03bcm", 1e3), ("Å", 0.1), ("nm", 1.0),
                                      ("\\u00B5m", 1e3), ("pixel", None), (None, None)])
def test_unit_to_nm(unit, nm):
    from emseg.io import unit_to_nm
    assert unit_to_nm(unit) == nm
