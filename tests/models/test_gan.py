"""emseg.models.networks.gan and gan_training: the networks build with the right shapes, train a
few steps on tiny inputs, and a run interrupted and resumed ends with the weights of an
uninterrupted one."""

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from emseg.models.gan_training import (CycleGanConfig, ShapeGanConfig,  # noqa: E402
                                       generate_shapes, load_generator, train_cyclegan,
                                       train_shape_gan, translate)
from emseg.models.networks.gan import (patchgan_discriminator, resnet_generator,  # noqa: E402
                                       wgan_critic, wgan_generator)


def test_networks_shapes():
    g = wgan_generator(latent_dim=8, size=32, filters=4)
    out = np.asarray(g(np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)))
    assert out.shape == (3, 32, 32, 1) and out.min() >= -1 and out.max() <= 1
    assert wgan_critic(32, 4)(out).shape == (3, 1)
    r = resnet_generator(1, filters=4, n_blocks=1)
    for side in (32, 48):                         # fully convolutional
        x = np.zeros((1, side, side, 1), np.float32)
        assert r(x).shape == (1, side, side, 1)
    assert patchgan_discriminator(1, filters=4)(np.zeros((1, 64, 64, 1), np.float32)).shape == \
        (1, 8, 8, 1)
    with pytest.raises(ValueError, match="size must be a power of two"):
        wgan_generator(size=48)


def _crops():
    crops = np.zeros((6, 32, 32), bool)
    for k in range(6):
        crops[k, 8:20 + k, 10:24 - k] = True
    return crops


def _stop_after_first(epoch, total, entry):
    if epoch == 1:
        raise KeyboardInterrupt


def test_shape_gan_trains_and_resumes_to_the_same_weights(tmp_path):
    cfg = ShapeGanConfig(size=32, latent_dim=8, filters=4, scale=1.5, pixel_size_nm=7.3)
    gen, history = train_shape_gan(_crops(), cfg, tmp_path / "a", epochs=2, batch_size=8)
    assert [h["epoch"] for h in history] == [1, 2]
    assert all(np.isfinite(h[k]) for h in history for k in ("critic", "generator",
                                                            "gradient_penalty"))
    with pytest.raises(KeyboardInterrupt):
        train_shape_gan(_crops(), cfg, tmp_path / "b", epochs=2, batch_size=8,
                        progress=_stop_after_first)
    resumed, h2 = train_shape_gan(_crops(), cfg, tmp_path / "b", epochs=2, batch_size=8,
                                  resume=True)
    assert len(h2) == 2 and h2[1]["critic"] == history[1]["critic"]
    for a, b in zip(gen.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the exported generator: weights and config only, rebuilt on load
    net, loaded = load_generator(tmp_path / "a", "shapes")
    assert loaded == cfg and sorted(p.name for p in (tmp_path / "a").glob("*.*")) == \
        ["config.json", "generator.weights.h5", "losses.csv"]
    masks = generate_shapes(net, loaded, 5, seed=2)
    assert masks.shape == (5, 32, 32) and masks.dtype == bool
    np.testing.assert_array_equal(masks, generate_shapes(gen, cfg, 5, seed=2))


def test_resume_refuses_other_settings_and_missing_checkpoints(tmp_path):
    cfg = ShapeGanConfig(size=32, latent_dim=8, filters=4)
    with pytest.raises(ValueError, match="no checkpoint"):
        train_shape_gan(_crops(), cfg, tmp_path / "x", epochs=1, resume=True)
    train_shape_gan(_crops(), cfg, tmp_path / "x", epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="settings differ"):
        train_shape_gan(_crops(), cfg, tmp_path / "x", epochs=2, batch_size=4, resume=True)
    with pytest.raises(ValueError, match="crops must be"):
        train_shape_gan(np.zeros((3, 16, 16)), cfg, tmp_path / "y", epochs=1)
    with pytest.raises(ValueError, match="unknown keys"):
        ShapeGanConfig.from_dict({**cfg.to_dict(), "dropout": 0.5})
    with pytest.raises(ValueError, match="no trained"):
        load_generator(tmp_path / "nothing", "images")


def test_cyclegan_trains_and_resumes_to_the_same_weights(tmp_path):
    rng = np.random.default_rng(0)
    masks = rng.random((5, 32, 32)) > 0.6
    images = rng.random((4, 32, 32)).astype(np.float32)
    cfg = CycleGanConfig(tile_size=32, filters=4, n_blocks=1, disc_filters=4, pixel_size_nm=2.0)
    g, history = train_cyclegan(masks, images, cfg, tmp_path / "a", epochs=2, steps_per_epoch=3,
                                pool_size=2)
    assert history[0]["learning_rate"] == pytest.approx(2e-4)
    assert history[1]["learning_rate"] == pytest.approx(2e-4)     # decay starts at the half
    with pytest.raises(KeyboardInterrupt):
        train_cyclegan(masks, images, cfg, tmp_path / "b", epochs=2, steps_per_epoch=3,
                       pool_size=2, progress=_stop_after_first)
    resumed, _ = train_cyclegan(masks, images, cfg, tmp_path / "b", epochs=2, steps_per_epoch=3,
                                pool_size=2, resume=True)
    for a, b in zip(g.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    net, loaded = load_generator(tmp_path / "a", "images")
    fake = translate(net, masks[:2])
    assert fake.shape == (2, 32, 32) and 0 <= fake.min() and fake.max() <= 1
    state = json.loads((tmp_path / "a" / "checkpoint" / "state.json").read_text())
    assert state["config"] == cfg.to_dict() and len(state["history"]) == 2
    with pytest.raises(ValueError, match=r"images must be scaled to \[0, 1\]"):
        train_cyclegan(masks, images * 3, cfg, tmp_path / "c", epochs=1)
