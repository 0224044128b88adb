"""emseg.batch: file-level measurement, pixel-size precedence, combining tables."""

import numpy as np
import pytest
import tifffile

from emseg.batch import combine_tables, load_labels, measure_file
from emseg.io import write_image, write_labels


@pytest.fixture
def scene(tmp_path):
    lab = np.zeros((30, 30), np.uint16)
    lab[5:10, 5:12] = 1
    lab[15:25, 15:20] = 2
    calibrated = write_labels(tmp_path / "cal.tif", lab, 2.0)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, lab)
    image = write_image(tmp_path / "img.tif", np.full((30, 30), 50, np.uint8), 4.0)
    return calibrated, plain, image


def test_pixel_size_precedence(scene):
    calibrated, plain, image = scene
    r = measure_file(calibrated, image)
    assert r.pixel_size == (2.0, 2.0) and r.pixel_size_source == "ImageJ"  # labels' own
    r = measure_file(plain, image)
    assert r.pixel_size == (4.0, 4.0)  # from the intensity image
    assert list(r.table["Mean"]) == [50, 50]
    r = measure_file(calibrated, pixel_size=(3.0, 3.0))
    assert r.pixel_size == (3.0, 3.0) and r.pixel_size_source == "--pixel-size"
    assert list(r.table["Area"]) == [35 * 9, 50 * 9]
    r = measure_file(plain)
    assert r.pixel_size is None and r.table.attrs["unit"] == "pixel"


def test_shape_mismatch_and_bad_labels(tmp_path, scene):
    calibrated, _, _ = scene
    other = write_image(tmp_path / "small.tif", np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match="small.tif: shape"):
        measure_file(calibrated, other)
    flt = tmp_path / "f.tif"
    tifffile.imwrite(flt, np.ones((5, 5), np.float32))
    with pytest.raises(TypeError, match="f.tif: floating-point"):
        load_labels(flt)


def test_combine_tables_units(scene):
    calibrated, plain, _ = scene
    ra, rp = measure_file(calibrated), measure_file(plain)
    assert combine_tables([ra, measure_file(plain, pixel_size=5.0)]).attrs["unit"] == "nm"
    mixed = combine_tables([ra, rp])
    assert mixed.attrs["unit"] == "mixed"
    assert list(mixed["File"]) == ["cal.tif"] * 2 + ["plain.tif"] * 2
    assert "File" not in combine_tables([ra], file_column=False).columns
    with pytest.raises(ValueError, match="results is empty"):
        combine_tables([])
