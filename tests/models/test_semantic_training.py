"""Semantic (multi-class, softmax) models: configuration, one-hot targets, the categorical
focal + Dice loss with class weights, median-frequency balancing, and training on images whose
classes are known exactly."""

import numpy as np
import pytest

from emseg.models import ModelConfig
from emseg.models.data import targets


def semantic_config(**kw):
    base = dict(name="sem", architecture="unet", task="semantic",
                classes=["background", "membrane", "organelle"], base_filters=8, depth=2,
                pixel_size=1.0, tile_size=64, halo=8,
                normalization={"mode": "image", "low": 0.0, "high": 100.0})
    return ModelConfig(**{**base, **kw})


def test_semantic_config_checks_its_classes_and_chain():
    c = semantic_config(postprocess={"instance_classes": ["organelle"]})
    assert c.postprocess == {"chain": "classes", "instance_classes": ["organelle"],
                             "min_area_nm2": 0.0}
    with pytest.raises(ValueError, match="at least two classes"):
        semantic_config(classes=["membrane"])
    with pytest.raises(ValueError, match="nucleus not among the classes"):
        semantic_config(postprocess={"instance_classes": ["nucleus"]})
    with pytest.raises(ValueError, match="chain 'bam' does not apply to a semantic model"):
        semantic_config(postprocess={"chain": "bam"})
    with pytest.raises(ValueError, match="chain 'classes' does not apply to a segmentation"):
        ModelConfig(postprocess={"chain": "classes"})
    with pytest.raises(ValueError, match="works on images"):
        semantic_config(architecture="unet3d")
    assert ModelConfig.from_json(c.to_json()) == c


def test_semantic_targets_are_one_hot_class_indices():
    mask = np.array([[0, 1], [2, 1]], np.uint8)
    t = targets(mask, ["a", "b", "c"], semantic=True)
    assert t.shape == (2, 2, 3) and np.array_equal(t.argmax(-1), mask)
    assert np.all(t.sum(-1) == 1)
    with pytest.raises(ValueError, match="class value 3, but there are 3 classes"):
        targets(mask + 1, ["a", "b", "c"], semantic=True)


def test_median_frequency_weights():
    pytest.importorskip("tensorflow")
    from emseg.models.training import balanced_class_weights

    y = np.zeros((4, 4, 4), np.float32)        # frequencies 1/2, 1/4, 1/4, 0
    y[:2, :, 0] = 1
    y[2, :, 1] = 1
    y[3, :, 2] = 1
    assert balanced_class_weights(y) == [0.5, 1.0, 1.0, 20.0]


def test_categorical_focal_dice_rewards_the_right_class_and_weighs_classes():
    pytest.importorskip("tensorflow")
    from emseg.models.losses import make_loss

    truth = np.zeros((1, 8, 8, 3), np.float32)
    truth[..., 0] = 1
    truth[0, :2, :, 0], truth[0, :2, :, 2] = 0, 1           # a rare class 2
    loss = make_loss("focal_dice", semantic=True)

    def value(fn, pred):
        return float(np.mean(np.asarray(fn(truth, pred))))

    good = np.where(truth > 0, 0.98, 0.01).astype(np.float32)
    wrong_rare = good.copy()
    wrong_rare[0, :2, :] = [0.98, 0.01, 0.01]              # the rare class missed
    assert value(loss, good) < 0.03 and value(loss, wrong_rare) > 0.3
    heavy = make_loss("focal_dice", [1.0, 1.0, 10.0], semantic=True)
    light = make_loss("focal_dice", [1.0, 1.0, 0.1], semantic=True)
    assert value(heavy, wrong_rare) > value(loss, wrong_rare) > value(light, wrong_rare)
    with pytest.raises(ValueError, match="trains with focal_dice"):
        make_loss("bce", semantic=True)
    with pytest.raises(ValueError, match="one per class, not all zero"):
        make_loss("focal_dice", [0, 0, 0], semantic=True)


def three_class_image(seed, size=128):
    from emseg.synthetic import organelle_classes

    image, labels = organelle_classes((size, size), seed=seed)
    return image, labels, 1.0


def test_semantic_training_learns_three_classes(tmp_path):
    pytest.importorskip("tensorflow")
    from emseg.metrics import class_scores
    from emseg.models.training import train_model

    config = semantic_config()
    result = train_model([three_class_image(s) for s in range(6)], config, tmp_path / "run",
                         epochs=12, batch_size=4, learning_rate=3e-3, loss="focal_dice",
                         validation_pairs=[three_class_image(10)], verbose=0, seed=1,
                         augment_options={"rotation": 0, "elastic": 0, "intensity": 0.05,
                                          "noise": 0.01})
    assert result.threshold_iou > 0.75
    image, labels, _ = three_class_image(11)
    prob = np.asarray(result.model(image[None, ..., None], training=False))[0]
    assert np.allclose(prob.sum(-1), 1, atol=1e-4)                  # softmax
    scores = class_scores(prob.argmax(-1), labels, classes=[0, 1, 2])
    assert scores.loc["mean", "IoU"] > 0.75, scores
    import json
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert len(log["class_weights"]) == 3 and "val_mean_iou" in log["epochs"][-1]
    assert log["validation_iou"] == pytest.approx(result.threshold_iou)


def test_an_encoder_unet_trains_and_resumes(tmp_path):
    pytest.importorskip("tensorflow")
    from emseg.models.training import train_model

    config = semantic_config(architecture="unet_resnet34", depth=5)
    pairs = [three_class_image(s, 64) for s in range(3)]
    kw = dict(batch_size=2, learning_rate=1e-4, loss="focal_dice", verbose=0, seed=0,
              validation_pairs=[three_class_image(9, 64)], augment_options=False,
              lr_decay=(0.25, 10))
    train_model(pairs, config, tmp_path / "run", epochs=1, **kw)
    r = train_model(pairs, config, tmp_path / "run", epochs=2, resume=True, **kw)
    assert [h["epoch"] for h in r.history] == [1, 2]
    assert (tmp_path / "run" / "best.keras").exists()
    with pytest.raises(ValueError, match="one weight per class"):
        train_model(pairs, config, tmp_path / "other", epochs=1, class_weights=[1, 1], **kw)
    with pytest.raises(ValueError, match="lr_decay"):
        train_model(pairs, config, tmp_path / "other", epochs=1,
                    **{**kw, "lr_decay": (4, 10)})
