"""emseg.segment.scaling: rescaling to a model's pixel/voxel size (2D, 3D, per axis), normalisation."""

import numpy as np
import pytest

from emseg.segment import normalize, rescale, rescale_factor


def test_rescale_factor_and_shapes():
    assert rescale_factor(7.344, 8.0) == pytest.approx(0.918)
    with pytest.raises(ValueError, match="model_pixel_size"):
        rescale_factor(1.0, 0)
    img = np.arange(100 * 60, dtype=np.float32).reshape(100, 60)
    assert rescale(img, 0.5).shape == (50, 30)
    assert rescale(img, 1.0004) is img            # negligible change: untouched
    lab = np.zeros((40, 40), np.int32)
    lab[10:20, 10:30] = 7
    up = rescale(lab, 2.0, order=0)
    assert up.shape == (80, 80) and set(np.unique(up)) == {0, 7}   # nearest keeps labels
    assert (up == 7).sum() == 4 * (lab == 7).sum()
    back = rescale(up, shape=(40, 40), order=0)
    np.testing.assert_array_equal(back, lab)
    with pytest.raises(ValueError, match="exactly one"):
        rescale(img)


def test_normalize_percentiles_and_limits():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    out = normalize(img, 0, 100)
    assert out.dtype == np.float32 and out.min() == 0 and out.max() == 1
    lo, hi = np.percentile(img, [1, 99])
    out = normalize(img, 1, 99)
    assert np.mean(out == 0) == pytest.approx(np.mean(img <= lo), abs=1e-9)
    np.testing.assert_allclose(normalize(img, limits=(10, 20))[img == 15], 0.5)
    assert normalize(np.full((4, 4), 9)).max() == 0       # flat image: no division by zero
    with pytest.raises(ValueError, match="low < high"):
        normalize(img, 50, 10)


def test_rescale_factor_per_axis():
    assert rescale_factor((4.4, 2.2, 2.2), 2.2) == pytest.approx((2.0, 1.0, 1.0))
    assert rescale_factor((4.4, 2.2, 1.1), (2.2, 2.2, 2.2)) == pytest.approx((2.0, 1.0, 0.5))
    assert rescale_factor(3.0, (1.5, 3.0)) == pytest.approx((2.0, 1.0))
    with pytest.raises(ValueError, match="different numbers of axes"):
        rescale_factor((1.0, 1.0, 1.0), (1.0, 1.0))
    with pytest.raises(ValueError, match="pixel_size"):
        rescale_factor((1.0, -1.0), 1.0)
    with pytest.raises(ValueError, match="model_pixel_size"):
        rescale_factor((1.0, 1.0), (1.0, float("nan")))


def test_rescale_volume_per_axis_and_back():
    vol = np.zeros((20, 40, 30), np.int32)
    vol[5:10, 10:30, 5:25] = 3                          # a box of 5 x 20 x 20 voxels
    # a tomogram with z spacing twice x/y, brought to isotropic voxels: z doubles
    iso = rescale(vol, rescale_factor((4.4, 2.2, 2.2), 2.2), order=0)
    assert iso.shape == (40, 40, 30)
    assert (iso == 3).sum() == 2 * (vol == 3).sum()
    np.testing.assert_array_equal(rescale(iso, shape=vol.shape, order=0), vol)
    smooth = rescale(vol.astype(np.float32), (0.5, 0.5, 0.5), order=1)
    assert smooth.shape == (10, 20, 15) and smooth.dtype == np.float32
    assert rescale(vol, (1.0, 1.0005, 0.9995)) is vol   # negligible on every axis: untouched
    with pytest.raises(ValueError, match="one per axis"):
        rescale(vol, (2.0, 1.0))
    with pytest.raises(ValueError, match="2D or 3D"):
        rescale(np.zeros((2, 3, 4, 5)), 2.0)


def test_rescale_channels_are_not_resized():
    img = np.random.default_rng(0).random((16, 12, 3)).astype(np.float32)
    out = rescale(img, 2.0, channel_axis=-1)
    assert out.shape == (32, 24, 3)
    np.testing.assert_allclose(out[..., 1], rescale(img[..., 1], 2.0), atol=1e-6)
    vol = rescale(img, 2.0)                             # without channel_axis: a thin volume
    assert vol.shape == (32, 24, 6)


def test_normalize_volume():
    vol = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(4, 5, 6)
    out = normalize(vol, 0, 100)
    assert out.shape == vol.shape and out.min() == 0 and out.max() == 1
    np.testing.assert_allclose(out, vol / vol.max(), atol=1e-6)


def test_rescaled_shape_and_sample_step_are_the_rules_rescale_and_statistics_use():
    from emseg.segment.scaling import intensity_stats, rescaled_shape, sample_step
    from emseg.segment.tiling import normalization_limits

    img = np.random.default_rng(1).random((301, 157)).astype(np.float32)
    for f in (0.918, 1.0004, 2.5, (0.5, 1.3)):
        assert rescale(img, f).shape == rescaled_shape(img.shape, f)
    assert rescaled_shape((100, 60), 1.0004) == (100, 60)
    assert rescaled_shape((3, 3), 0.01) == (1, 1)                  # never an empty axis
    with pytest.raises(ValueError, match="factor"):
        rescaled_shape((10, 10), (1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="factor"):
        rescaled_shape((10, 10), -1.0)
    # about 4 M values at most; 1 below that
    assert sample_step((2000, 2000)) == 1
    assert sample_step((20000, 20000)) == 10
    assert sample_step((512, 2048, 2048)) == 8
    assert sample_step((100, 100), max_samples=100) == 10
    # the statistics of a large image are those of its subsample at that step
    big = np.random.default_rng(2).integers(0, 256, (4096, 4100), dtype=np.uint8)
    step = sample_step(big.shape)
    assert step == 2                                                # 16.8 M values
    sub = big[::step, ::step].astype(np.float64)
    assert intensity_stats(big) == (pytest.approx(sub.mean()), pytest.approx(sub.std()))
    lo, hi = normalization_limits(big, {"mode": "image", "low": 1, "high": 99})
    assert (lo, hi) == tuple(np.percentile(big[::step, ::step], [1, 99]))
