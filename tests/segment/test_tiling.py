"""emseg.predict: seamless tiled prediction and the segmentation pipeline
(with NumPy stand-ins for the network: the pipeline does not depend on TF)."""

import numpy as np
import pytest

from emseg.predict import blend_weights, predict_tiled, segment
from emseg.synthetic import sem_agglomerates


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
        predict_tiled(x, identity(), tile_size=64, halo=16, channels=1)
    with pytest.raises(TypeError, match="predict_fn"):
        predict_tiled(x, None, tile_size=64, halo=8, channels=1)
    with pytest.raises(ValueError, match="returned shape"):
        predict_tiled(x, identity(2), tile_size=64, halo=8, channels=1)


META = {"output": {"classes": ["particle"]}, "pixel_size_nm": 8.0, "tile_size": 128, "halo": 16,
        "normalization": {"mode": "image", "low": 1, "high": 99.8}, "threshold": 0.5,
        "postprocess": {"chain": "bam", "neck_nm": 7.5}}


def bright_network(batch):
    """Stand-in network: smoothed intensity above a level = particle."""
    from scipy import ndimage as ndi
    smooth = np.stack([ndi.gaussian_filter(t[..., 0], 1.0) for t in batch])
    return (1 / (1 + np.exp(-(smooth - 0.35) * 30)))[..., None].astype(np.float32)


def test_segment_excludes_data_bar_and_rescales_back():
    s = sem_agglomerates((300, 320), pixel_size=7.0, coverage=0.25, seed=4)
    image = np.vstack([s.image, np.zeros((30, 320), np.uint8)])
    image[-20:-10, 20:200:7] = 255                     # text in the bar
    seg = segment(image, bright_network, META, pixel_size=7.0)
    assert seg.databar_row == 300
    assert seg.labels.shape == image.shape and seg.probability.dtype == np.float32
    assert not seg.labels[300:].any() and not seg.probability[300:].any()
    from emseg.metrics import pixel_scores
    assert pixel_scores(seg.labels[:300], s.labels)["IoU"] > 0.7
    kept = segment(image, bright_network, META, pixel_size=7.0, keep_databar=True)
    assert kept.databar_row is None
    # a coarser threshold override shrinks the foreground
    strict = segment(image, bright_network, META, pixel_size=7.0, threshold=0.99)
    assert (strict.labels > 0).sum() < (seg.labels > 0).sum()
    assert strict.threshold == 0.99


def test_segment_validation():
    img = np.zeros((50, 50), np.uint8)
    with pytest.raises(ValueError, match="square"):
        segment(img, bright_network, META, pixel_size=(1.0, 2.0))
    with pytest.raises(ValueError, match="metadata"):
        segment(img, bright_network, {"pixel_size_nm": 8}, pixel_size=8.0)
    with pytest.raises(ValueError, match="threshold"):
        segment(img, bright_network, META, pixel_size=8.0, threshold=2)
    with pytest.raises(ValueError, match="options: unknown"):
        segment(img, bright_network, META, pixel_size=8.0, postprocess={"nek_nm": 3})


def test_fitted_tiles_waste_less_and_stay_seamless():
    from emseg.predict import fit_tile
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
