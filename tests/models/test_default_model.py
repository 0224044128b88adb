"""The bundled default model: present, self-describing, and better than the
classical baseline on the real BAM TiO2 images (its model.yaml scores are
recomputed here, not trusted)."""

import subprocess
import sys
from pathlib import Path

import pytest

from emseg.models import DEFAULT_MODEL, find_model

REPO = Path(__file__).resolve().parents[2]
pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def default():
    info = find_model()
    assert info.name == DEFAULT_MODEL and info.path == REPO / "models" / DEFAULT_MODEL
    return info


def test_model_yaml_describes_the_model(default):
    meta = default.meta
    assert meta["architecture"] == "fru_net" and meta["output"]["classes"][0] == "particle"
    assert meta["pixel_size_nm"] == 8.0 and meta["input"]["axes"] == "byxc"
    assert 0 < meta["threshold"] < 1
    assert "synthetic" in meta["training"]["data"]
    assert meta["training"]["script"] == "python/scripts/train_default_model.py"
    size = sum(p.stat().st_size for p in default.path.rglob("*") if p.is_file())
    assert size < 10e6                                   # a few MB in the repository


def test_beats_the_classical_baseline_on_bam(default, bam_dir):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bam_tio2
    from emseg.workflows import evaluation_table

    model, _, _ = bam_tio2.run_benchmark(bam_dir, bam_tio2.model_method(default.path), desc="model")
    classical, _, _ = bam_tio2.run_benchmark(bam_dir, bam_tio2.run_classical, desc="classical")
    m = evaluation_table(model).iloc[-1]
    c = evaluation_table(classical).iloc[-1]
    assert len(model) == len(classical) == 24
    assert m["Inst. IoU (pred)"] > c["Inst. IoU (pred)"]
    # the scores written into model.yaml are what this run measures
    reported = default.meta["scores"]["mean"]
    for key in ("IoU", "Inst. IoU (pred)", "F1@0.5", "SEG"):
        assert reported[key] == pytest.approx(float(m[key]), abs=2e-3), key


def test_demo_with_the_default_model(tmp_path):
    r = subprocess.run([sys.executable, "-m", "emseg", "demo", "--output", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "with emseg-particles-sem" in r.stdout
    f1 = float(r.stdout.split("F1@0.5 ")[1].split(",")[0])
    assert f1 > 0.5          # the synthetic sample is in the model's training distribution
    assert len(list((tmp_path / "d").iterdir())) == 5


@pytest.fixture(scope="module")
def default_classifier():
    from emseg.models import DEFAULT_CLASSIFIER
    info = find_model(task="classifier")
    assert info.name == DEFAULT_CLASSIFIER and info.path == REPO / "models" / DEFAULT_CLASSIFIER
    return info


def test_classifier_yaml_describes_the_classifier(default_classifier):
    meta = default_classifier.meta
    assert meta["task"] == "classifier" and meta["architecture"] == "multires_unet"
    assert meta["input"]["channels"] == 2 and meta["output"]["classes"] == ["keep"]
    assert meta["score_weights"] == [1.0] and 0 < meta["threshold"] < 1
    assert "synthetic" in meta["training"]["data"]
    assert meta["training"]["script"] == "python/scripts/train_default_classifier.py"
    size = sum(p.stat().st_size for p in default_classifier.path.rglob("*") if p.is_file())
    assert size < 10e6


def test_classifier_scores_on_bam_are_reproduced(default_classifier, bam_dir):
    """Setting (a) of the benchmark, recomputed: the precision, recall and size errors in
    model.yaml are what the bundled classifier does on the manual BAM instances, and it keeps
    a better set than keeping everything."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bam_classifier as bc
    from emseg.models.saved import load_predictor

    items = bc.load_bam(bam_dir)
    predictor = load_predictor(default_classifier.path, task="classifier")
    name = f"classifier {predictor.info.name}"
    manual = [bc.manual_keep_set(it) for it in items]
    filtered, _ = bc.run_filters(items, manual, "truth", {name: predictor}, desc="(a)")
    reference = bc.reference_of(manual)
    got = bc.score_filter(filtered[name], reference)
    keep_all = bc.score_filter(filtered["keep all"], reference)
    reported = default_classifier.meta["scores"]["manual instances"]
    for key in ("precision", "recall", "mean err", "D50 err"):
        assert reported[key] == pytest.approx(got[key], abs=2e-3), key
    assert got["precision"] > keep_all["precision"] + 0.1
    assert abs(got["mean err"]) < abs(keep_all["mean err"])
