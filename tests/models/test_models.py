"""emseg.models: configs, architectures, losses, training, export, loading (Keras on CPU)."""

import json

import numpy as np
import pytest

from emseg.models import ModelConfig, find_model, list_models

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


def test_config_json_round_trip_and_unknown_keys():
    c = ModelConfig(name="m", architecture="multires_unet", classes=["particle", "boundary"],
                    base_filters=8, depth=3, tile_size=256, pixel_size=7.5)
    again = ModelConfig.from_json(c.to_json())
    assert again == c
    data = json.loads(c.to_json())
    data["base_filter"] = 4                               # typo
    with pytest.raises(ValueError, match="unknown key.*base_filter"):
        ModelConfig.from_dict(data)
    with pytest.raises(ValueError, match="postprocess: unknown"):
        ModelConfig(postprocess={"neck": 3})
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth"):
        ModelConfig(tile_size=100, depth=3)
    with pytest.raises(ValueError, match="architecture"):
        ModelConfig(architecture="resnet")
    with pytest.raises(ValueError, match="first class"):
        ModelConfig(classes=["boundary", "particle"])
    with pytest.raises(ValueError, match="not valid JSON"):
        ModelConfig.from_json("{")
    # missing post-processing keys take their defaults
    assert ModelConfig(postprocess={"chain": "fru_net"}).postprocess["closing_radius"] == 2
    # values of the 2D chains are checked as the vesicle chain's are
    for bad, name in [({"neck_nm": 0}, "neck_nm"), ({"closing_radius": 1.5}, "closing_radius"),
                      ({"radon_depth": 2.0}, "radon_depth"), ({"remove_border": "yes"},
                                                                  "remove_border")]:
        with pytest.raises(ValueError, match=f"postprocess {name}"):
            ModelConfig(postprocess=bad)


@pytest.mark.parametrize("arch", ["fru_net", "multires_unet", "unet"])
def test_architectures_are_fully_convolutional(arch):
    from emseg.models.networks import build_model
    config = ModelConfig(architecture=arch, base_filters=4, depth=2, tile_size=32, halo=4,
                         classes=["particle", "boundary"])
    model = build_model(config)
    for shape in ((2, 32, 32, 1), (1, 64, 96, 1)):
        out = model.predict(np.random.rand(*shape).astype("float32"), verbose=0)
        assert out.shape == shape[:3] + (2,)
        assert 0 <= out.min() and out.max() <= 1
    kinds = [type(layer).__name__ for layer in model.layers]
    if arch == "fru_net":
        assert kinds.count("AveragePooling2D") == 2 and "ELU" in kinds
        assert {layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"} == {0.1}
        assert kinds.count("Add") == 2 * 2 + 1        # residual layers: 2 down, connection, 2 up
        assert model.layers[-1].kernel_size == (1, 1)
    elif arch == "multires_unet":
        assert kinds.count("Conv2DTranspose") == 2 and "BatchNormalization" in kinds
    else:
        assert kinds.count("MaxPooling2D") == 2 and "BatchNormalization" not in kinds
    with pytest.raises(TypeError, match="ModelConfig"):
        build_model({"architecture": arch})


def test_losses_match_their_formulas():
    from emseg.models.losses import make_loss
    y = np.array([[[[1.0], [0.0]]]], np.float32)
    p = np.array([[[[0.8], [0.3]]]], np.float32)
    bce = float(make_loss("bce", (1.0, 3.0))(y, p))
    expected = np.mean([-3 * np.log(0.8), -np.log(0.7)])
    assert bce == pytest.approx(expected, rel=1e-5)
    fd = make_loss("focal_dice")
    perfect = float(fd(y, y * 0.999999 + 1e-7))
    wrong = float(fd(y, 1 - y))
    assert perfect < 0.01 < 0.5 < wrong
    with pytest.raises(ValueError, match="loss"):
        make_loss("mse")
    with pytest.raises(ValueError, match="class_weights"):
        make_loss("bce", (0, 1))


def test_training_writes_everything_and_learns(tiny_training):
    r = tiny_training
    folder = r.folder
    for f in ("best.keras", "last.keras", "log.json", "training_curve.png", "config.json"):
        assert (folder / f).is_file(), f
    log = json.loads((folder / "log.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [1, 2, 3, 4] == [h["epoch"] for h in r.history]
    assert log["threshold"] == r.config.threshold and 0 < r.config.threshold < 1
    assert log["train_patches"] > 0 and log["validation_patches"] >= 1
    assert ModelConfig.from_json((folder / "config.json").read_text()) == r.config
    assert r.history[-1]["loss"] < r.history[0]["loss"]
    assert r.threshold_iou > 0.6          # bright particles on dark: learnt in 4 epochs
    from PIL import Image
    png = np.asarray(Image.open(folder / "training_curve.png").convert("L"))
    assert png.std() > 10


def test_resume_continues_the_same_run(tiny_training, tmp_path):
    import shutil

    from conftest import _easy_pairs
    from emseg.models.training import train_model
    work = tmp_path / "resume"
    shutil.copytree(tiny_training.folder, work)
    r = train_model(_easy_pairs(6), tiny_training.config, work, epochs=5, batch_size=4,
                    learning_rate=3e-3, verbose=0, seed=1, resume=True)
    assert [h["epoch"] for h in r.history] == [1, 2, 3, 4, 5]
    assert r.history[:4] == tiny_training.history
    with pytest.raises(ValueError, match="resume"):
        train_model(_easy_pairs(2), tiny_training.config, tmp_path / "none", resume=True)


def test_training_input_validation(tmp_path):
    from emseg.models.training import prepare_patches, train_model
    config = ModelConfig(tile_size=32, depth=2, halo=4, base_filters=2, pixel_size=5.0)
    with pytest.raises(ValueError, match="empty"):
        prepare_patches(iter([]), config)
    with pytest.raises(ValueError, match="same shape"):
        prepare_patches([(np.zeros((10, 10)), np.zeros((10, 12), np.uint8), 5.0)], config)
    with pytest.raises(ValueError, match=r"pairs\[0\]"):
        prepare_patches([(np.zeros((10, 10)),)], config)
    with pytest.raises(ValueError, match="epochs"):
        train_model([], config, tmp_path, epochs=0)
    # a mask at another pixel size is rescaled with the image (nearest neighbour)
    img = np.zeros((64, 64), np.uint8)
    img[16:48, 16:48] = 200
    x, y = prepare_patches([(img, (img > 0).astype(np.uint8), 2.5)], config)
    assert x.shape == (1, 32, 32, 1) and y.shape == (1, 32, 32, 1)
    assert y.sum() == 16 * 16 and set(np.unique(y)) == {0.0, 1.0}


def test_export_and_savedmodel_predictor(tiny_training, tiny_model, tmp_path):
    from emseg.models.saved import SavedModelPredictor, export_model
    meta = tiny_model.meta
    assert meta["name"] == "tiny" and meta["format"] == "tensorflow_saved_model"
    assert meta["pixel_size_nm"] == 5.0 and meta["output"]["classes"] == ["particle", "boundary"]
    assert meta["threshold"] == tiny_training.config.threshold
    assert meta["input"]["divisor"] == 4 and meta["training"] == {"data": "test"}
    assert set(meta["software"]) >= {"emseg", "tensorflow", "keras"}
    predictor = SavedModelPredictor(tiny_model)
    x = np.random.default_rng(0).random((3, 48, 64, 1)).astype(np.float32)
    np.testing.assert_allclose(predictor(x), tiny_training.model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="exists"):
        export_model(tiny_training.model, tiny_training.config, tiny_model.path)
    # from the best checkpoint file (custom loss included) in a fresh process
    import subprocess
    import sys
    code = ("from emseg.models import ModelConfig; from emseg.models.saved import export_model; "
            f"export_model({str(tiny_training.folder / 'best.keras')!r}, "
            f"ModelConfig.from_json(open({str(tiny_training.folder / 'config.json')!r}).read()), "
            f"{str(tmp_path / 'fromfile')!r})")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    again = SavedModelPredictor(find_model(tmp_path / "fromfile"))
    np.testing.assert_allclose(again(x), predictor(x), atol=1e-5)
    with pytest.raises(ValueError, match="no such checkpoint"):
        export_model(tmp_path / "missing.keras", tiny_training.config, tmp_path / "m")
    assert not (tmp_path / "m").exists() and not list(tmp_path.glob(".m-*"))


def test_update_postprocess_keeps_config_and_model_yaml_in_step(tiny_model, tmp_path):
    import shutil

    from emseg import io
    from emseg.models import ModelConfig
    from emseg.models.saved import update_postprocess
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name in ("config.json", "model.yaml"):
        shutil.copy(tiny_model.path / name, folder / name)
    info = update_postprocess(folder, {"neck_nm": 5.5}, scores={"measured on": "test"})
    config = ModelConfig.from_json(io.read_text(folder / "config.json"))
    assert config.postprocess["neck_nm"] == 5.5 == info.meta["postprocess"]["neck_nm"]
    assert info.meta["postprocess"] == config.postprocess
    assert info.meta["scores"] == {"IoU": 0.0, "measured on": "test"}    # added, not replaced
    before = {n: (folder / n).read_bytes() for n in ("config.json", "model.yaml")}
    with pytest.raises(ValueError, match="unknown key.*refine_offset_nm"):
        update_postprocess(folder, {"refine_offset_nm": 0.5})   # not a setting of this chain
    with pytest.raises(ValueError, match="neck_nm"):
        update_postprocess(folder, {"neck_nm": "deep"})
    assert before == {n: (folder / n).read_bytes() for n in before}     # nothing written
    with pytest.raises(ValueError, match="not an exported model"):
        update_postprocess(tmp_path, {"neck_nm": 5.5})


def test_registry(tiny_model, tmp_path):
    info = find_model(tiny_model.path)
    assert info.name == "tiny" and info.path == tiny_model.path
    assert [m.name for m in list_models([tiny_model.path.parent])].count("tiny") == 1
    with pytest.raises(ValueError, match="unknown model 'no-such-model'"):
        find_model("no-such-model")
    (tmp_path / "half").mkdir()
    with pytest.raises(ValueError, match="not a model folder"):
        find_model(tmp_path / "half")
