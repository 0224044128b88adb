"""Volume models: the CARE 3D U-Net, its config, volume training patches and augmentation."""

import numpy as np
import pytest

from emseg.models import VESICLE_DEFAULTS, ModelConfig
from emseg.models.data import augment, augment_volume, extract_patches
from emseg.models.training import prepare_patches

keras = pytest.importorskip("keras")


def config(**kw):
    base = dict(name="v", architecture="unet3d", classes=["vesicle"], base_filters=4, depth=2,
                dropout=0.0, pixel_size=2.2, tile_size=32, halo=4, patch_size=16)
    return ModelConfig(**{**base, **kw})


def test_volume_config_defaults_and_checks():
    c = config()
    assert c.ndim == 3 and c.training_patch == 16
    assert c.postprocess == VESICLE_DEFAULTS              # the vesicle chain by default
    assert ModelConfig.from_json(c.to_json()) == c
    assert ModelConfig().ndim == 2 and ModelConfig().postprocess["chain"] == "bam"
    with pytest.raises(ValueError, match="chain 'bam' does not apply to volumes"):
        config(postprocess={"chain": "bam"})
    with pytest.raises(ValueError, match="chain 'vesicles' does not apply to images"):
        ModelConfig(postprocess={"chain": "vesicles"})
    with pytest.raises(ValueError, match="postprocess: unknown key.*neck_nm"):
        config(postprocess={"neck_nm": 3.0})
    with pytest.raises(ValueError, match="max_extent"):
        config(postprocess={"max_extent": 2.0})
    assert config(postprocess={"refine_offset_nm": -0.6}).postprocess["refine_offset_nm"] == -0.6
    with pytest.raises(ValueError, match="refine_offset_nm must be <= 5"):
        config(postprocess={"refine_offset_nm": 12.0})
    with pytest.raises(ValueError, match="patch_size must be a multiple"):
        config(patch_size=18)
    assert config(normalization={"mode": "standardize"}).normalization == {"mode": "standardize"}
    with pytest.raises(ValueError, match="normalization mode"):
        config(normalization={"mode": "zscore", "low": 1, "high": 2})


def test_unet3d_takes_any_block_divisible_by_its_depth():
    from emseg.models.networks import build_model

    model = build_model(config())
    assert model.input_shape == (None, None, None, None, 1)
    out = model.predict(np.zeros((2, 16, 24, 32, 1), np.float32), verbose=0)
    assert out.shape == (2, 16, 24, 32, 1)
    assert np.all((out > 0) & (out < 1))
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv3D)]
    assert convs[0].kernel_size == (3, 3, 3) and convs[-1].kernel_size == (1, 1, 1)


def test_volume_patches_keep_only_those_with_enough_vesicle():
    from emseg.synthetic import synapse_tomogram

    tomo = synapse_tomogram((32, 64, 64), voxel_size=2.2, n_vesicles=12, seed=2)
    x, y = prepare_patches([(tomo.volume, tomo.labels, 2.2)], config(), overlap=0)
    assert x.shape[1:] == (16, 16, 16, 1) and y.shape == x.shape
    assert np.all(y.reshape(len(y), -1).mean(1) >= 0.03)
    everything = extract_patches(tomo.labels, 16, 0, ndim=3)
    assert len(x) < len(everything) == 2 * 4 * 4
    assert 0 <= x.min() and x.max() <= 1
    # at 1.1 nm the volume is halved to the model's 2.2 nm first
    fine = np.repeat(np.repeat(np.repeat(tomo.volume, 2, 0), 2, 1), 2, 2)
    fine_labels = np.repeat(np.repeat(np.repeat(tomo.labels, 2, 0), 2, 1), 2, 2)
    xf, _ = prepare_patches([(fine, fine_labels, (1.1, 1.1, 1.1))], config(), overlap=0)
    assert len(xf) == len(x)
    with pytest.raises(ValueError, match="must be volume"):
        prepare_patches([(tomo.volume[0], tomo.labels[0], 2.2)], config())
    with pytest.raises(ValueError, match="no training patch holds"):
        prepare_patches([(tomo.volume, np.zeros_like(tomo.labels), 2.2)], config())


def test_volume_augmentation_never_swaps_z_with_y_or_x():
    rng = np.random.default_rng(0)
    image = np.zeros((8, 12, 12, 1), np.float32)
    image[2] = 1.0                                     # one bright plane: z = 2
    target = image.copy()
    for _ in range(20):
        a, t = augment(image, target, rng, intensity=0, noise=0)
        assert a.shape == image.shape
        planes = np.flatnonzero(a[..., 0].reshape(8, -1).max(1) > 0.5)
        assert planes.tolist() in ([2], [5])            # flipped along z at most
        assert np.array_equal(a > 0.5, t > 0.5)         # the target moves with the image
    with pytest.raises(ValueError, match="must be a volume"):
        augment_volume(image[..., 0], target[:4], rng)
