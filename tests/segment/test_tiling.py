"""emseg.segment.tiling: seamless tiled prediction of 2D images and 3D volumes
(with NumPy stand-ins for the network: tiling does not depend on TF)."""

import numpy as np
import pytest

from emseg.segment import blend_weights, predict_tiled


@pytest.mark.parametrize("length,size,halo", [(1000, 256, 32), (256, 256, 32), (700, 128, 16),
                                              (300, 64, 0)])
def test_blend_weights_partition_of_unity(length, size, halo):
    starts, weights, total = blend_weights(length, size, halo)
    acc = np.zeros(max(length, size))
    for s, w in zip(starts, weights):
        acc[s:s + size] += w
    np.testing.assert_allclose(acc[:length], total)
    # inside the image the ramps of neighbouring tiles sum to exactly one
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def identity(channels=1):
    return lambda batch: np.repeat(batch, channels, axis=-1)


@pytest.mark.parametrize("shape", [(300, 500), (64, 64), (40, 90), (513, 257)])
def test_tiled_identity_has_no_seams(shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    out = predict_tiled(x, identity(2), tile_size=64, halo=8, channels=2, batch_size=3)
    assert out.shape == shape + (2,) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], x, atol=1e-6)
    np.testing.assert_allclose(out[..., 1], x, atol=1e-6)


def test_tiled_blends_tile_dependent_outputs_smoothly():
    # a "network" whose output depends on the tile (its mean): blending must
    # give a continuous map, no jumps at tile borders
    fn = lambda b: np.broadcast_to(b.mean(axis=(1, 2, 3), keepdims=True), b.shape).copy()  # noqa
    x = np.linspace(0, 1, 400, dtype=np.float32)[None, :].repeat(100, 0)
    out = predict_tiled(x, fn, tile_size=64, halo=12, channels=1)[..., 0]
    assert np.abs(np.diff(out, axis=1)).max() < 0.05
    assert np.abs(np.diff(out, axis=0)).max() < 1e-6


def test_normalization_modes_and_progress():
    x = np.random.default_rng(1).integers(50, 200, (100, 130)).astype(np.uint8)
    calls = []
    out = predict_tiled(x, identity(), tile_size=64, halo=8, channels=1,
                        normalization={"mode": "image", "low": 0, "high": 100},
                        progress=lambda d, t: calls.append((d, t)))
    np.testing.assert_allclose(out[..., 0], (x - x.min()) / (x.max() - x.min()), atol=1e-5)
    assert calls[-1][0] == calls[-1][1] and len(calls) >= 1
    patch = predict_tiled(x, identity(), tile_size=64, halo=8, channels=1,
                          normalization={"mode": "patch", "low": 0, "high": 100})
    assert 0 <= patch.min() and patch.max() <= 1


def test_tiled_validation():
    x = np.zeros((10, 10), np.float32)
    with pytest.raises(ValueError, match="halo"):
        predict_tiled(x, identity(), tile_size=64, halo=17, channels=1)
    with pytest.raises(TypeError, match="predict_fn"):
        predict_tiled(x, None, tile_size=64, halo=8, channels=1)
    with pytest.raises(ValueError, match="returned shape"):
        predict_tiled(x, identity(2), tile_size=64, halo=8, channels=1)


def test_fitted_tiles_waste_less_and_stay_seamless():
    from emseg.segment import fit_tile
    assert fit_tile(2048, 512, 32, 8) == 464            # 5 tiles of 464 instead of 5 of 512
    assert fit_tile(300, 512, 32, 8) == 304             # small image: one tile, padded to 8
    for length in (100, 513, 1000, 2048, 3001):
        t = fit_tile(length, 256, 16, 8)
        assert t % 8 == 0 and t <= max(256, length + 7)
    x = np.random.default_rng(2).random((300, 520)).astype(np.float32)
    shapes = []

    def fn(batch):
        shapes.append(batch.shape[1:3])
        return batch
    out = predict_tiled(x, fn, tile_size=256, halo=16, channels=1, divisor=8)
    np.testing.assert_allclose(out[..., 0], x, atol=1e-6)
    assert set(shapes) == {(168, 200)}          # 2 x 3 fitted tiles instead of 2 x 3 of 256
    with pytest.raises(ValueError, match="divisor"):
        predict_tiled(x, fn, tile_size=128, halo=16, channels=1, divisor=3)


@pytest.mark.parametrize("tile", [32, 64])
def test_tiled_identity_reproduces_a_volume(tile):
    x = np.random.default_rng(3).random((70, 200, 190)).astype(np.float32)
    shapes = []

    def fn(batch):
        shapes.append(batch.shape)
        return batch
    out = predict_tiled(x, fn, tile_size=tile, halo=8, channels=1, batch_size=8)
    assert out.shape == (70, 200, 190, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], x, atol=1e-6)
    assert {s[1:] for s in shapes} == {(tile, tile, tile, 1)}
    assert max(s[0] for s in shapes) <= 8                  # one batch of tiles at a time


def test_tiled_volume_position_dependent_network_has_no_seams():
    # the output depends on where the tile lies (its mean coordinate): blending
    # the ramps of neighbouring tiles must leave a smooth map along every axis
    z, y, x = np.meshgrid(*(np.linspace(0, 1, n, dtype=np.float32) for n in (60, 90, 80)),
                          indexing="ij")
    vol = (z + 2 * y + 3 * x).astype(np.float32)

    def fn(batch):
        return np.broadcast_to(batch.mean(axis=(1, 2, 3, 4), keepdims=True), batch.shape).copy()
    out = predict_tiled(vol, fn, tile_size=32, halo=6, channels=1)[..., 0]
    # the same "network" on abutting tiles (halo 0): steps of 0.18-0.28 at the tile borders
    hard = predict_tiled(vol, fn, tile_size=32, halo=0, channels=1)[..., 0]
    for axis in range(3):
        smooth, steps = (np.abs(np.diff(a, axis=axis)).max() for a in (out, hard))
        assert smooth < 0.07, (axis, smooth)               # at most ~2.6x the data's own slope
        assert steps > 2.5 * smooth, (axis, steps, smooth)


def test_tiled_volume_per_axis_tiles_fitting_and_channels():
    vol = np.random.default_rng(4).random((20, 100, 90)).astype(np.float32)
    shapes = []

    def fn(batch):
        shapes.append(batch.shape[1:4])
        return np.concatenate([batch[..., :1], 1 - batch[..., :1]], -1)
    out = predict_tiled(vol, fn, tile_size=(16, 64, 64), halo=(2, 8, 8), channels=2, divisor=8)
    np.testing.assert_allclose(out[..., 0], vol, atol=1e-6)
    np.testing.assert_allclose(out[..., 1], 1 - vol, atol=1e-6)
    assert set(shapes) == {(16, 64, 56)}                  # fitted per axis, multiples of 8
    small = np.random.default_rng(5).random((5, 30, 20)).astype(np.float32)   # under one tile
    np.testing.assert_allclose(predict_tiled(small, lambda b: b, tile_size=32, halo=4,
                                             channels=1)[..., 0], small, atol=1e-6)
    two = np.stack([vol, vol * 0 + 0.25], -1)               # an extra input channel is passed on
    got = predict_tiled(two, lambda b: b[..., 1:], tile_size=32, halo=4, channels=1,
                        multichannel=True)
    np.testing.assert_allclose(got, 0.25, atol=1e-6)
    with pytest.raises(ValueError, match="one per axis"):
        predict_tiled(vol, fn, tile_size=(16, 64), halo=2, channels=2)
    with pytest.raises(ValueError, match="halo"):
        predict_tiled(vol, fn, tile_size=(16, 64, 64), halo=(5, 8, 8), channels=2)
    with pytest.raises(ValueError, match="2D .* or 3D"):
        predict_tiled(np.zeros((2, 3, 4, 5), np.float32), fn, tile_size=8, halo=1, channels=1)


def test_thin_volume_is_padded_per_tile_not_copied():
    # 12 slices under 32^3 tiles: the input is read tile by tile, never padded whole
    import tracemalloc

    vol = np.random.default_rng(6).random((12, 400, 400)).astype(np.float32)
    out_bytes = vol.size * 4
    tracemalloc.start()
    out = predict_tiled(vol, lambda b: b, tile_size=32, halo=4, channels=1, batch_size=4)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(out[..., 0], vol, atol=1e-6)
    assert peak < 1.3 * out_bytes, peak / out_bytes   # a padded copy would add 2.7x the output


@pytest.mark.parametrize("shape,tile,halo", [((150, 230), 64, 8), ((40, 70, 90), 32, 4)])
def test_a_region_of_the_map_equals_the_whole_maps(shape, tile, halo):
    from emseg.segment.tiling import normalization_limits, region_window

    rng = np.random.default_rng(3)
    x = rng.random(shape).astype(np.float32) * 100

    def fn(batch):
        return np.tanh(batch * 2 - 1)
    norm = {"mode": "image", "low": 1, "high": 99}
    whole = predict_tiled(x, fn, tile_size=tile, halo=halo, channels=1, normalization=norm,
                          batch_size=3, divisor=16)
    region = tuple(slice(n // 3, n // 3 + n // 2) for n in shape)
    np.testing.assert_array_equal(
        predict_tiled(x, fn, tile_size=tile, halo=halo, channels=1, normalization=norm,
                      batch_size=3, divisor=16, region=region), whole[region])
    window = region_window(shape, region, tile_size=tile, halo=halo, divisor=16)
    assert all(w.start <= r.start and w.stop >= r.stop for w, r in zip(window, region))
    limits = normalization_limits(x, norm)
    part = predict_tiled(x[window], fn, tile_size=tile, halo=halo, channels=1,
                         normalization=norm, batch_size=3, divisor=16, region=region,
                         full_shape=shape, origin=[w.start for w in window], limits=limits)
    np.testing.assert_array_equal(part, whole[region])
    with pytest.raises(ValueError, match="needs the whole image's normalisation"):
        predict_tiled(x[window], fn, tile_size=tile, halo=halo, channels=1, normalization=norm,
                      region=region, full_shape=shape, origin=[w.start for w in window])
    with pytest.raises(ValueError, match="window does not hold every tile"):
        predict_tiled(x[window][1:], fn, tile_size=tile, halo=halo, channels=1,
                      normalization=norm, divisor=16, region=region, full_shape=shape,
                      origin=[w.start + 1 if i == 0 else w.start for i, w in enumerate(window)],
                      limits=limits)


@pytest.mark.parametrize("shape,tile,halo", [((300, 230), 64, 8), ((70, 40, 50), 32, 4),
                                             ((40, 90), 64, 8)])
def test_predict_rows_hands_out_the_whole_map_band_by_band(shape, tile, halo):
    from emseg.segment.tiling import predict_rows

    x = np.random.default_rng(4).random(shape).astype(np.float32)
    norm = {"mode": "image", "low": 1, "high": 99}
    limits = tuple(np.percentile(x, [1, 99]))
    whole = predict_tiled(x, lambda b: np.tanh(b * 2 - 1), tile_size=tile, halo=halo,
                          channels=1, normalization=norm, batch_size=3, limits=limits)
    # a band is a view valid until the next one is asked for: keep copies
    bands = [(rows, band.copy()) for rows, band in
             predict_rows(x, lambda b: np.tanh(b * 2 - 1), tile_size=tile, halo=halo,
                          channels=1, normalization=norm, batch_size=3, limits=limits)]
    # one row of tiles in memory, one tile deep (a band of a tomogram's planes is gigabytes)
    for _, band in predict_rows(x, lambda b: np.tanh(b * 2 - 1), tile_size=tile, halo=halo,
                                channels=1, normalization=norm, batch_size=3, limits=limits):
        assert band.base is not None and band.base.shape[0] <= tile
    assert bands[0][0].start == 0 and bands[-1][0].stop == shape[0]
    assert all(a[0].stop == b[0].start for a, b in zip(bands, bands[1:]))
    np.testing.assert_array_equal(np.concatenate([b for _, b in bands]), whole)
