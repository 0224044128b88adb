"""Classifier configs, training, export and use through the command line."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import classifier_examples
from emseg.io import read_image, write_image
from emseg.models import ModelConfig

pytest.importorskip("tensorflow")


def run(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_classifier_config_rules():
    c = ModelConfig(name="c", architecture="multires_unet", task="classifier", input_channels=2,
                    classes=["keep", "occluded"], tile_size=64, depth=2, halo=8)
    assert c.score_weights == [1.0, 0.0]
    assert ModelConfig.from_json(c.to_json()) == c
    for bad, match in (({"input_channels": 1}, "input_channels"),
                       ({"classes": ["keep", "boundary"]}, "boundary"),
                       ({"score_weights": [1.0]}, "score_weights"),
                       ({"score_weights": [0.0, -0.5]}, "positive"),
                       ({"task": "detect"}, "task")):
        kw = dict(name="c", task="classifier", input_channels=2, classes=["keep", "occluded"],
                  tile_size=64, depth=2, halo=8)
        with pytest.raises(ValueError, match=match):
            ModelConfig(**{**kw, **bad})
    with pytest.raises(ValueError, match="classifiers only"):
        ModelConfig(score_weights=[1.0])


def test_tune_score_threshold_prefers_precision():
    from emseg.models.classifier_training import tune_score_threshold
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2])
    keep = np.array([1, 1, 1, 0, 1, 0, 0])
    t, precision, recall = tune_score_threshold(scores, keep)
    assert 0.6 < t <= 0.7 and precision == 1.0 and recall == 0.75
    assert tune_score_threshold(scores, np.ones(7))[0] == 0.5
    assert tune_score_threshold([], [])[0] == 0.5


def test_train_classifier_learns_and_exports(tiny_classifier):
    meta = tiny_classifier.meta
    assert meta["task"] == "classifier" and meta["score_weights"] == [1.0]
    assert meta["input"]["channels"] == 2 and "postprocess" not in meta
    assert 0.05 <= meta["threshold"] <= 0.95
    assert tiny_classifier.task == "classifier"
    from emseg.filter import classify
    from emseg.models.saved import load_predictor
    predictor = load_predictor(tiny_classifier.path, task="classifier")
    with pytest.raises(ValueError, match="not a segmentation model"):
        load_predictor(tiny_classifier.path, task="segmentation")
    from emseg.models.saved import SEGMENTING_TASKS
    with pytest.raises(ValueError, match="is a classifier model, not a segmentation model"):
        load_predictor(tiny_classifier.path, task=SEGMENTING_TASKS)
    assert load_predictor(tiny_classifier.path, task=("semantic", "classifier"),
                          lazy=True).info.task == "classifier"
    with pytest.raises(ValueError, match="task must be"):
        load_predictor(tiny_classifier.path, task=())
    image, labels, keep, px = next(classifier_examples(1, size=128, seed=100))
    res = classify(image, labels, predictor, predictor.meta, pixel_size=px)
    present = np.unique(labels[labels > 0])
    assert np.isfinite(res.scores[present]).all()
    assert ((res.scores[present] >= 0) & (res.scores[present] <= 1)).all()
    # the score is a mean over the instance: equal to the mean of the score map there
    k = present[0]
    assert res.scores[k] == pytest.approx(res.score_map[labels == k].mean(), rel=1e-5)


def test_train_classifier_input_errors(tmp_path):
    from emseg.models.classifier_training import prepare_classifier_patches, train_classifier
    c = ModelConfig(name="c", architecture="multires_unet", task="classifier", input_channels=2,
                    classes=["keep"], tile_size=32, depth=2, halo=4, base_filters=2, pixel_size=8.0)
    with pytest.raises(ValueError, match="empty"):
        prepare_classifier_patches(iter([]), c)
    with pytest.raises(ValueError, match="same shape"):
        prepare_classifier_patches([(np.zeros((8, 8)), np.zeros((8, 8), int), np.zeros((8, 9)), 8.0)], c)
    with pytest.raises(ValueError, match="epochs"):
        train_classifier(iter([]), c, tmp_path, epochs=0)
    with pytest.raises(ValueError, match="task='classifier'"):
        train_classifier(iter([]), ModelConfig(), tmp_path)
    x, y, lab = prepare_classifier_patches(classifier_examples(1), c)
    assert x.shape[1:] == (32, 32, 2) and y.shape[1:] == (32, 32, 1) and lab.shape == x.shape[:3]
    assert ((y[..., 0] > 0) <= (lab > 0)).all()            # keep only inside instances
    assert set(np.unique(x[..., 1])) <= {0.0, 0.5, 1.0}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("filter-files")
    image, labels, keep, px = next(classifier_examples(1, size=128, seed=200))
    write_image(d / "a.tif", image, (px, px))
    write_image(d / "a_labels.tif", labels.astype(np.uint16), (px, px))
    write_image(d / "a_keep.tif", keep.astype(np.uint8) * 255, (px, px))
    return d, image, labels, px


def test_filter_command_writes_labels_table_and_overlay(files, tiny_classifier, tmp_path):
    d, image, labels, px = files
    before = (d / "a_labels.tif").read_bytes()
    out = tmp_path / "out"
    r = run("filter", d / "a.tif", d / "a_labels.tif", "--classifier", tiny_classifier.path,
            "--range", "Area=1000:", "--output", out)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out / "a_labels_filtered.csv")
    assert {"Score", "Kept", "MinFeret", "Label"} <= set(table.columns)
    assert len(table) == len(np.unique(labels[labels > 0]))
    threshold = tiny_classifier.meta["threshold"]
    expect = (table["Score"] >= threshold) & (table["Area"] >= 1000)
    assert (table["Kept"] == expect).all()
    kept_labels, _, _ = read_image(out / "a_labels_filtered.tif")
    assert set(np.unique(kept_labels[kept_labels > 0])) == set(table.loc[table["Kept"], "Label"])
    assert f"kept {int(table['Kept'].sum())} of {len(table)} particles" in r.stdout
    assert "MinFeret" in r.stdout and (out / "a_labels_filtered.png").stat().st_size > 5000
    assert (d / "a_labels.tif").read_bytes() == before
    # a minimum score of 0 keeps what the ranges keep
    r = run("filter", d / "a.tif", d / "a_labels.tif", "--classifier", tiny_classifier.path,
            "--min-score", "0", "--output", out)
    assert r.returncode == 0 and pd.read_csv(out / "a_labels_filtered.csv")["Kept"].all()


def test_filter_command_rules_only(files, tmp_path):
    d, image, labels, px = files
    r = run("filter", d / "a.tif", d / "a_labels.tif", "--classifier", "none", "--exclude-border",
            "--range", "Solidity=0.9:", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "a_labels_filtered.csv")
    assert table["Score"].isna().all()
    assert (table["Kept"] == (~table["Border"] & (table["Solidity"] >= 0.9))).all()
    assert "rules only" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--range", "Foo=1:2"], "no column 'Foo'"),
    (["--range", "Area"], "range must be COLUMN=LOW:HIGH"),
    (["--min-score", "2"], "--min-score must be in [0, 1]"),
    (["--classifier", "emseg-particles-sem"], "not a classifier"),
    (["--classifier", "no-such-classifier"], "unknown model"),
])
def test_filter_command_bad_options(files, tmp_path, args, message):
    d, _, _, _ = files
    out = tmp_path / "out"
    r = run("filter", d / "a.tif", d / "a_labels.tif", "--classifier", "none", *args, "-o", out)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_filter_command_bad_files(files, tmp_path):
    d, image, _, px = files
    write_image(tmp_path / "small.tif", image[:50], (px, px))
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff")
    # outputs of labels b.tif are b_filtered.*: an image named so must not be overwritten
    (tmp_path / "b_filtered.tif").write_bytes((d / "a.tif").read_bytes())
    (tmp_path / "b.tif").write_bytes((d / "a_labels.tif").read_bytes())
    for args, message in (([tmp_path / "missing.tif", d / "a_labels.tif"], "no such file"),
                          ([d / "a.tif", bad], "bad.tif"),
                          ([tmp_path / "small.tif", d / "a_labels.tif"], "differ in shape"),
                          ([tmp_path / "b_filtered.tif", tmp_path / "b.tif"], "would overwrite")):
        r = run("filter", *args, "--classifier", "none", "-o", tmp_path)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "b_filtered.tif").read_bytes() == (d / "a.tif").read_bytes()


def test_segment_with_classifier_chains_filter(tiny_model, tiny_classifier, files, tmp_path):
    d, image, labels, px = files
    r = run("segment", d / "a.tif", "--model", tiny_model.path, "--classifier", tiny_classifier.path,
            "--output", tmp_path)
    assert r.returncode == 0, r.stderr
    seg = pd.read_csv(tmp_path / "a_results.csv")
    filt = pd.read_csv(tmp_path / "a_filtered.csv")
    assert len(filt) == len(seg) and (filt["MinFeret"] == seg["MinFeret"]).all()
    assert (filt["Kept"] == (filt["Score"] >= tiny_classifier.meta["threshold"])).all()
    assert (tmp_path / "a_filtered.tif").exists() and (tmp_path / "a_filtered.png").exists()
    r = run("segment", d / "a.tif", "--model", tiny_model.path, "--min-score", "0.5", "-o", tmp_path)
    assert r.returncode == 2 and "--min-score needs --classifier" in r.stderr


def test_train_classifier_command_and_export(files, tmp_path):
    d, _, _, _ = files
    out = tmp_path / "training"
    r = run("train-classifier", "--images", d / "a.tif", "--labels", d / "a_labels.tif",
            "--keep", d / "a_keep.tif", "--output", out, "--epochs", "1", "--tile-size", "32",
            "--depth", "2", "--base-filters", "2", "--model-pixel-size", "8", "--batch-size", "4")
    assert r.returncode == 0, r.stderr
    assert "score threshold" in r.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "classifier" and config["architecture"] == "multires_unet"
    r = run("export", out, "--models", tmp_path / "models", "--name", "mine")
    assert r.returncode == 0, r.stderr
    r = run("models", tmp_path / "models" / "mine")
    assert "mine" in r.stdout and "classifier" in r.stdout
    r = run("train-classifier", "--images", d / "a.tif", "--labels", d / "a_labels.tif",
            "--keep", d / "a_keep.tif", "--output", out, "--epochs", "1")
    assert r.returncode == 2 and "holds a training already" in r.stderr


def test_multi_class_classifier_combines_class_scores(tmp_path):
    """Four fitness classes (keep, occluded, cut, missegmented) and score weights."""
    from emseg.filter import classify
    from emseg.models.saved import SavedModelPredictor, export_model
    from emseg.synthetic import FITNESS_CLASSES, sem_classifier_example

    def triples(n, seed):
        for i in range(n):
            ex = sem_classifier_example((96, 96), pixel_size=8.0, diameter_nm=(100.0, 200.0),
                                        coverage=0.35, merge=0.2, split=0.1, seed=seed + i)
            yield ex.image, ex.labels, ex.classes, ex.pixel_size

    from emseg.models.classifier_training import prepare_classifier_patches, train_classifier
    config = ModelConfig(name="multi", architecture="multires_unet", task="classifier",
                         input_channels=2, classes=list(FITNESS_CLASSES), base_filters=4, depth=2,
                         tile_size=48, halo=8, pixel_size=8.0, score_weights=[1.0, -0.5, 0.0, 0.0])
    x, y, lab = prepare_classifier_patches(triples(1, 50), config)
    assert y.shape[-1] == 4 and (y.sum(-1) <= 1).all()            # one-hot per instance pixel
    assert ((y.sum(-1) == 1) == (lab > 0)).all()
    result = train_classifier(triples(3, 50), config, tmp_path / "t", epochs=1, batch_size=8,
                              verbose=0)
    info = export_model(result.model, result.config, tmp_path / "multi")
    assert info.meta["output"]["classes"] == list(FITNESS_CLASSES)
    assert info.meta["score_weights"] == [1.0, -0.5, 0.0, 0.0]
    predictor = SavedModelPredictor(info)
    image, labels, _, px = next(triples(1, 90))
    res = classify(image, labels, predictor, info.meta, pixel_size=px)
    occluded = classify(image, labels, predictor, {**info.meta, "score_weights": [0, 1, 0, 0]},
                        pixel_size=px)
    assert ((res.score_map >= 0) & (res.score_map <= 1)).all()
    assert not np.allclose(res.scores[1:], occluded.scores[1:])
