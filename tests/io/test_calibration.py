"""emseg.io.calibration: plausible sizes, which source wins, descriptions."""

import math

import mrcfile
import numpy as np
import pytest

from emseg.io import check_plausible, describe_size, resolve_pixel_size


@pytest.mark.parametrize("size", [(0.0,), (-1.0, 1.0), (math.nan, 1.0), (0.0018,), (2e4, 2e4),
                                  (math.inf,)])
def test_absurd_sizes_are_refused_with_the_fix(size):
    with pytest.raises(ValueError, match="--pixel-size"):
        check_plausible(size, origin="in a.mrc from MRC header")


def test_plausible_range_edges():
    assert check_plausible((0.01, 1e4)) == (0.01, 1e4)
    with pytest.raises(TypeError, match="sequence"):
        check_plausible(None)


def test_explicit_size_wins_and_file_sizes_are_checked():
    assert resolve_pixel_size((3.0, 3.0), ((0.0018, 0.0018), {})) == ((3.0, 3.0), "--pixel-size")
    meta = {"pixel_size_source": "Zeiss SEM tag 34118"}
    assert resolve_pixel_size(None, (None, {}), ((7.344, 7.344), meta)) == \
        ((7.344, 7.344), "Zeiss SEM tag 34118")
    assert resolve_pixel_size(None, (None, {})) == (None, None)
    bad = {"pixel_size_source": "MRC header", "path": "tomo.mrc"}
    with pytest.raises(ValueError, match=r"0.0018 nm in tomo.mrc from MRC header is not "
                                         r"plausible.*--pixel-size"):
        resolve_pixel_size(None, ((0.0018, 0.0018), bad))
    with pytest.raises(ValueError, match=r"pixel size 3 x 0 nm in a.tif"):
        resolve_pixel_size(None, ((3.0, 0.0), {"path": "a.tif"}))


def test_cryovesnet_style_header_is_an_error_in_a_workflow(tmp_path):
    # the header CryoVesNet users met: 0.018 Å per voxel
    from emseg.workflows import measure_file
    p = tmp_path / "labels.mrc"
    with mrcfile.new(p) as mrc:
        mrc.set_data(np.eye(8, dtype=np.uint16)[None].repeat(1, 0)[0])
        mrc.voxel_size = 0.018
    with pytest.raises(ValueError, match=r"labels.mrc from MRC header is not plausible"):
        measure_file(p)
    assert measure_file(p, pixel_size=(2.2, 2.2)).pixel_size == (2.2, 2.2)


def test_describe_size():
    assert describe_size((7.344, 7.344), "Zeiss SEM tag 34118") == "7.344 nm from Zeiss SEM tag 34118"
    assert describe_size((4.4, 2.2, 2.2), "MRC header") == "4.4 x 2.2 x 2.2 nm (anisotropic) from MRC header"
    assert describe_size(None) == "uncalibrated (pixels)"
    # float32 header rounding is not anisotropy
    assert describe_size((0.0018000000715, 0.0018000000716, 0.0018000000714)) == "0.0018 nm"
