"""U-Nets with pretrained-classification encoders (WAE-Net's base learners): shapes at every
stride, the paper's size class, the input each encoder's ImageNet weights expect, and weight
files for the encoders Keras does not ship. ImageNet weights cannot be downloaded here, so every
network starts from random weights (``weights=None``)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from emseg.models import ENCODER_ARCHITECTURES, ModelConfig  # noqa: E402
from emseg.models.networks import build_model  # noqa: E402
from emseg.models.networks.encoder_unet import BOTTLENECK  # noqa: E402
from emseg.models.networks.encoders import ENCODERS, encoder  # noqa: E402


def config(architecture, classes=("vesicle",)):
    return ModelConfig(name="m", architecture=architecture, classes=list(classes), depth=5,
                       tile_size=64, halo=8)


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_features_halve_exactly_at_every_stride(name):
    model = encoder(name)
    outs = model(np.zeros((1, 96, 64, 3), np.float32))
    strides = [96 // o.shape[1] for o in outs]
    assert [64 // o.shape[2] for o in outs] == strides
    assert strides == ([1] if name == "vgg19" else []) + [2, 4, 8, 16, 32]
    assert all(96 % o.shape[1] == 0 for o in outs)


@pytest.mark.parametrize("architecture", ENCODER_ARCHITECTURES)
def test_base_learners_give_per_class_maps_of_the_input_size(architecture):
    model = build_model(config(architecture, ("membrane", "mitochondria")))
    assert model.count_params() < 30e6                          # the paper's size class
    assert model.get_layer(BOTTLENECK).output.shape[-1] == 1024
    x = np.random.default_rng(0).random((2, 64, 96, 1)).astype(np.float32)
    y = np.asarray(model(x, training=False))
    assert y.shape == (2, 64, 96, 2) and np.all((y >= 0) & (y <= 1))


def test_the_grey_image_reaches_the_encoder_as_its_imagenet_input():
    from emseg.models._tf import keras

    model = build_model(config("unet_vgg19"))
    stem = keras.Model(model.input, model.get_layer("vgg19_input").output)
    y = np.asarray(stem(np.full((1, 32, 32, 1), 0.5, np.float32)))
    # Caffe's preprocessing: 0-255, the BGR means subtracted, grey in every channel
    assert y[0, 0, 0] == pytest.approx([127.5 - 103.939, 127.5 - 116.779, 127.5 - 123.68])


@pytest.mark.parametrize("name", ["resnet34", "seresnet34"])
def test_resnet_encoders_load_a_weights_file_and_refuse_imagenet(name, tmp_path):
    trained = encoder(name)
    x = np.random.default_rng(1).random((1, 64, 64, 3)).astype(np.float32) * 255
    path = tmp_path / f"{name}.weights.h5"
    trained.save_weights(path)
    loaded = encoder(name, weights=path)
    assert np.allclose(np.asarray(loaded(x)[-1]), np.asarray(trained(x)[-1]), atol=1e-5)
    with pytest.raises(ValueError, match="no ImageNet weights"):
        encoder(name, weights="imagenet")
    with pytest.raises(ValueError, match="weights must be None, 'imagenet' or an existing"):
        encoder(name, weights=tmp_path / "missing.weights.h5")
    other = tmp_path / "other.h5"
    other.write_bytes(b"")
    with pytest.raises(ValueError, match=r"must be a \.weights\.h5 file"):
        encoder(name, weights=other)


def test_se_blocks_gate_the_channels():
    plain, se = encoder("resnet34"), encoder("seresnet34")
    assert se.count_params() > plain.count_params()
    assert any(layer.name.endswith("_se_scale") for layer in se.layers)
    assert not any(layer.name.endswith("_se_scale") for layer in plain.layers)


def test_config_checks_encoder_architectures():
    with pytest.raises(ValueError, match="depth 5"):
        ModelConfig(architecture="unet_resnet34", depth=4, tile_size=64, halo=8)
    with pytest.raises(ValueError, match="encoder must be one of"):
        encoder("resnet50")
    with pytest.raises(ValueError, match="has no pretrained encoder"):
        build_model(ModelConfig(architecture="unet", depth=2, tile_size=64, halo=8),
                    encoder_weights="imagenet")
