"""WAE-Net ensembles: the weight grid search (known answers), the one-graph ensemble equal to
the weighted average of its members, the config's checks, and training with resume per member."""

import json

import numpy as np
import pytest

from emseg.models import ModelConfig
from emseg.models.ensemble import search_weights


def onehot(classes, k, p=0.9):
    out = np.full(classes.shape + (k,), (1 - p) / (k - 1), np.float32)
    np.put_along_axis(out, classes[..., None], p, axis=-1)
    return out


def test_weight_search_finds_the_complementary_members():
    truth = np.repeat(np.arange(3), 100).reshape(3, 100)
    # member a knows classes 0 and 1 (calls 2 a 0); b knows class 2 and is unsure elsewhere;
    # c is noise
    rng = np.random.default_rng(0)
    a = onehot(np.where(truth == 2, 0, truth), 3, 0.6)
    b = np.where((truth == 2)[..., None], onehot(truth, 3, 0.95), np.float32(1 / 3))
    c = onehot(rng.integers(0, 3, truth.shape), 3, 0.9)
    s = search_weights([a, b, c], truth, step=0.1)
    assert s.score == pytest.approx(1.0) and sum(s.weights) == pytest.approx(1)
    assert s.weights[0] > 0 and s.weights[1] > 0 and s.weights[2] < min(s.weights[:2])
    assert s.beats_all and s.score > max(s.members) and s.score > s.equal
    assert len(s.grid) == 66                          # 3 weights in 0.1 steps on the simplex
    # one good member: the search says the ensemble does not help
    good = onehot(truth, 3)
    s = search_weights([good, c], truth, step=0.5)
    assert s.weights == (1.0, 0.0) and not s.beats_all
    with pytest.raises(ValueError, match="step must divide 1"):
        search_weights([a, b], truth, step=0.3)
    with pytest.raises(ValueError, match="class indices of shape"):
        search_weights([a, b], truth[:2], step=0.5)


def ensemble_config(weights=(0.7, 0.3)):
    members = [dict(architecture="unet", base_filters=4, depth=2, dropout=0.0, weight=weights[0]),
               dict(architecture="fru_net", base_filters=4, depth=2, dropout=0.0,
                    weight=weights[1])]
    return ModelConfig(name="e", architecture="ensemble", task="semantic",
                       classes=["a", "b", "c"], depth=2, tile_size=32, halo=4, members=members)


def test_ensemble_config_checks_members():
    c = ensemble_config()
    assert c.member(1).architecture == "fru_net" and c.member(1).members is None
    assert ModelConfig.from_json(c.to_json()) == c
    with pytest.raises(ValueError, match="sum to 1"):
        ensemble_config((0.5, 0.3))
    with pytest.raises(ValueError, match="an ensemble has members"):
        ModelConfig(architecture="ensemble", depth=2, tile_size=32, halo=4)
    bad = [dict(architecture="unet3d", base_filters=4, depth=2, dropout=0.0, weight=1.0)]
    with pytest.raises(ValueError, match="cannot be an ensemble member"):
        ModelConfig(architecture="ensemble", depth=2, tile_size=32, halo=4, members=bad)
    deep = [dict(architecture="unet", base_filters=4, depth=3, dropout=0.0, weight=1.0)]
    with pytest.raises(ValueError, match="exceeds the ensemble's depth"):
        ModelConfig(architecture="ensemble", depth=2, tile_size=32, halo=4, members=deep)


def test_the_ensemble_graph_is_the_weighted_average_of_its_members():
    pytest.importorskip("tensorflow")
    from emseg.models.ensemble import ensemble_from_members
    from emseg.models.networks import build_model

    c = ensemble_config()
    members = [build_model(c.member(i)) for i in range(2)]
    model = ensemble_from_members(c, members)
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype(np.float32)
    expected = 0.7 * np.asarray(members[0](x)) + 0.3 * np.asarray(members[1](x))
    assert np.allclose(np.asarray(model(x)), expected, atol=1e-6)


def three_class_image(seed, size=96):
    from emseg.synthetic import organelle_classes

    image, labels = organelle_classes((size, size), n=5, seed=seed)
    return image, labels, 1.0


def test_train_ensemble_ranks_members_searches_weights_and_resumes(tmp_path):
    pytest.importorskip("tensorflow")
    from emseg.models.ensemble import train_ensemble

    config = ModelConfig(name="wae", architecture="unet", task="semantic",
                         classes=["background", "membrane", "organelle"], base_filters=4,
                         depth=2, tile_size=32, halo=4, pixel_size=1.0,
                         normalization={"mode": "image", "low": 0.0, "high": 100.0})
    pairs = [three_class_image(s) for s in range(4)]
    kw = dict(validation_pairs=[three_class_image(9)], epochs=3, batch_size=8,
              learning_rate=3e-3, loss="focal_dice", verbose=0, augment_options=False)
    r = train_ensemble(pairs, config, tmp_path, ["unet", "fru_net", "multires_unet"], top=2,
                       step=0.25, **kw)
    chosen = [a for a, _ in r.ranking[:2]]                 # the best two, a zero weight drops
    assert [m["architecture"] for m in r.config.members] == [
        a for a, w in zip(chosen, r.search.weights) if w > 0]
    ious = [iou for _, iou in r.ranking]
    assert ious == sorted(ious, reverse=True)
    assert r.search.score >= max(r.search.members) - 1e-9   # the search includes each alone
    # the search scores each chosen member on the patches its training was scored on
    assert list(r.search.members) == pytest.approx([iou for _, iou in r.ranking[:2]])
    saved = json.loads((tmp_path / "ensemble.json").read_text())
    assert saved["chosen"] == [a for a, _ in r.ranking[:2]] and len(saved["grid"]) == 5
    assert (tmp_path / "best.keras").exists()
    assert ModelConfig.from_json((tmp_path / "config.json").read_text()) == r.config
    # again: finished members are not trained again, the same ensemble comes out
    stamp = (tmp_path / "member-unet" / "best.keras").stat().st_mtime_ns
    again = train_ensemble(pairs, config, tmp_path, ["unet", "fru_net", "multires_unet"],
                           top=2, step=0.25, **kw)
    assert (tmp_path / "member-unet" / "best.keras").stat().st_mtime_ns == stamp
    assert again.ranking == r.ranking and again.config == r.config


def test_grad_cam_of_an_ensemble_gives_each_member_and_their_average():
    pytest.importorskip("tensorflow")
    from emseg.models.ensemble import ensemble_from_members
    from emseg.models.gradcam import explain, grad_cam
    from emseg.models.networks import build_model

    c = ensemble_config()
    members = [build_model(c.member(i)) for i in range(2)]
    model = ensemble_from_members(c, members)
    image = three_class_image(3, 64)[0]
    maps = explain(model, c, image[:60, :50], 1)            # padded to the divisor inside
    assert set(maps) == {"unet", "fru_net", "ensemble"}
    assert all(m.shape == (60, 50) and m.min() >= 0 and m.max() <= 1 for m in maps.values())
    assert np.allclose(maps["ensemble"], 0.7 * maps["unet"] + 0.3 * maps["fru_net"])
    with pytest.raises(ValueError, match="class_index must be in 0..2"):
        grad_cam(members[0], image[None, :64, :64, None], 3)
