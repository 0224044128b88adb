"""Importing Keras HDF5 models without letting Keras deserialise the file: built-in layers
rebuilt, Lambda layers and custom objects refused, outputs reproduced."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tf_keras = pytest.importorskip("tf_keras")     # writes and reads Keras 2 HDF5 files, as users have

from conftest import REPO, skip_or_fail  # noqa: E402

CRYOVESNET = Path(os.environ.get("EMSEG_CRYOVESNET_WEIGHTS",
                                 REPO.parent / "shared" / "models" / "cryovesnet" / "weights.h5"))


def emseg(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def small_unet_2d(path, extra=None):
    L = tf_keras.layers
    x = inp = tf_keras.Input((32, 32, 1), name="image")
    a = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    a = L.BatchNormalization()(a)
    b = L.MaxPooling2D(2)(a)
    b = L.Conv2D(8, 3, padding="same", activation="relu")(b)
    if extra is not None:
        b = extra(b)
    b = L.UpSampling2D(2)(b)
    c = L.Concatenate()([a, b])
    out = L.Conv2D(1, 1, activation="sigmoid")(c)
    model = tf_keras.Model(inp, out)
    rng = np.random.default_rng(0)
    model.set_weights([(rng.uniform(0.5, 1.5, w.shape) if "variance" in w.name
                        else rng.normal(0, 0.3, w.shape)).astype(np.float32)
                       for w in model.weights])
    model.save(path, save_format="h5")
    return model


def test_a_keras2_hdf5_model_imports_and_reproduces_its_output(tmp_path):
    from emseg.models.registry import find_model
    from emseg.models.saved import SavedModelPredictor

    reference = small_unet_2d(tmp_path / "unet.h5")
    out = tmp_path / "imported"
    r = emseg("import-model", "keras", tmp_path / "unet.h5", "--pixel-size", "5",
              "--tile-size", "64", "--halo", "8", "--normalization", "image:1,99", "--output", out)
    assert r.returncode == 0, r.stderr
    assert "imported unet.h5 as imported" in r.stdout
    info = find_model(out)
    assert info.meta["pixel_size_nm"] == 5.0 and info.meta["tile_size"] == 64
    assert info.meta["input"]["axes"] == "byxc" and info.meta["input"]["divisor"] == 2
    assert info.meta["normalization"] == {"mode": "image", "low": 1.0, "high": 99.0}
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype(np.float32)
    want = reference.predict(x, verbose=0)
    got = SavedModelPredictor(info)(x)
    assert np.max(np.abs(got - want)) < 1e-5
    # and, the input size opened up, on any tile divisible by 2
    assert SavedModelPredictor(info)(np.zeros((1, 48, 80, 1), np.float32)).shape == (1, 48, 80, 1)


@pytest.mark.parametrize("kind", ["lambda", "custom"])
def test_lambda_layers_and_custom_objects_are_refused_with_the_reason(tmp_path, kind):
    if kind == "lambda":
        extra = tf_keras.layers.Lambda(lambda t: t * 2.0, name="doubler")
    else:
        class Doubler(tf_keras.layers.Layer):
            def call(self, t):
                return t * 2.0
        extra = Doubler(name="doubler")
    small_unet_2d(tmp_path / "bad.h5", extra=extra)
    before = (tmp_path / "bad.h5").read_bytes()
    r = emseg("import-model", "keras", tmp_path / "bad.h5", "--pixel-size", "5", "--output",
              tmp_path / "out")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert ("Lambda layer (doubler)" if kind == "lambda" else "not a built-in Keras layer") \
        in r.stderr
    assert "never runs code from a model file" in r.stderr
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "bad.h5").read_bytes() == before


def test_bad_import_options_are_one_line_errors(tmp_path):
    small_unet_2d(tmp_path / "unet.h5")
    for args, message in [
        (("keras", tmp_path / "unet.h5", "--output", tmp_path / "a"), "--pixel-size"),
        (("keras", tmp_path / "unet.h5", "--pixel-size", "5", "--tile-size", "63",
          "--output", tmp_path / "a"), "multiple of 2"),
        (("keras", tmp_path / "unet.h5", "--pixel-size", "5", "--normalization", "z",
          "--output", tmp_path / "a"), "--normalization"),
        (("keras", tmp_path / "missing.h5", "--pixel-size", "5"), "no such file"),
        (("keras", tmp_path / "unet.h5", "--pixel-size", "5", "--classes", "a,b",
          "--output", tmp_path / "a"), "2 names for 1 output"),
    ]:
        r = emseg("import-model", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "a").exists()
    (tmp_path / "text.h5").write_text("not hdf5")
    r = emseg("import-model", "keras", tmp_path / "text.h5", "--pixel-size", "5")
    assert r.returncode == 2 and "not an HDF5 file" in r.stderr


def test_cryovesnets_published_network_imports_with_its_settings(tmp_path):
    if not CRYOVESNET.is_file():
        skip_or_fail(f"CryoVesNet weights not found at {CRYOVESNET}")
    from emseg.models.registry import find_model
    from emseg.models.saved import SavedModelPredictor

    out = tmp_path / "cryovesnet"
    r = emseg("import-model", "cryovesnet", CRYOVESNET, "--output", out)
    assert r.returncode == 0, r.stderr
    meta = find_model(out).meta
    assert meta["voxel_size_nm"] == [2.2, 2.2, 2.2] and meta["axes"] == "ZYX"
    assert (meta["block_size"], meta["halo"], meta["roi_size"]) == (64, 4, 56)
    assert meta["normalization"] == {"mode": "standardize"}
    assert meta["postprocess"]["chain"] == "vesicles"
    assert meta["license"] == "GPL-3.0-only"
    # the network CryoVesNet loads (its stored 32^3 input), through tf_keras, as reference
    reference = tf_keras.models.load_model(CRYOVESNET, compile=False)
    x = np.random.default_rng(2).standard_normal((2, 32, 32, 32, 1)).astype(np.float32)
    want = reference.predict(x, verbose=0)
    predictor = SavedModelPredictor(find_model(out))
    assert np.max(np.abs(predictor(x) - want)) < 1e-5
    assert predictor(np.zeros((1, 64, 64, 64, 1), np.float32)).shape == (1, 64, 64, 64, 1)


def test_a_keras3_hdf5_volume_model_imports_too(tmp_path):
    keras = pytest.importorskip("keras")
    from emseg.models.keras_import import import_keras_hdf5
    from emseg.models.saved import SavedModelPredictor

    L = keras.layers
    x = inp = keras.Input((None, None, None, 1))
    a = L.BatchNormalization()(L.Conv3D(4, 3, padding="same", activation="relu")(x))
    b = L.UpSampling3D(2)(L.Conv3D(4, 3, padding="same")(L.MaxPooling3D(2)(a)))
    out = L.Conv3D(1, 1, activation="sigmoid")(L.Concatenate()([a, b]))
    model = keras.Model(inp, out)
    model.save(tmp_path / "k3.h5")                     # Keras 3's own HDF5 layout
    info = import_keras_hdf5(tmp_path / "k3.h5", pixel_size=2.0, tile_size=32,
                             output=tmp_path / "vol")
    assert info.meta["axes"] == "ZYX" and info.meta["input"]["divisor"] == 2
    assert info.meta["postprocess"]["threshold_rule"] == "shell"
    block = np.random.default_rng(3).random((1, 16, 16, 16, 1)).astype(np.float32)
    assert np.max(np.abs(SavedModelPredictor(info)(block) - model.predict(block, verbose=0))) < 1e-6
