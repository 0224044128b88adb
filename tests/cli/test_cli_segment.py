"""The segmentation commands (segment, demo, train, export, models), run as users run them."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emseg.io import read_image, write_image
from emseg.synthetic import particle_labels, render_micrograph

pytest.importorskip("tensorflow")


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600, env={**os.environ, **(env or {})})


def no_traceback(r):
    return "Traceback" not in r.stderr


@pytest.fixture()
def images(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    lab = particle_labels((120, 150), 15, radius=(5, 10), seed=3)
    write_image(src / "good.tif", render_micrograph(lab, seed=3), 5.0)
    (src / "broken.tif").write_bytes(b"II*\x00 this is not a TIFF")
    import tifffile
    tifffile.imwrite(src / "nocal.tif", render_micrograph(lab, seed=4))
    return src, lab


def test_models_lists_installed_and_extra(tiny_model):
    r = run("models", tiny_model.path.parent)
    assert r.returncode == 0 and "tiny: segmentation, unet, 5.0 nm/px, classes particle,boundary" in r.stdout
    assert "emseg-particles-sem (default): segmentation" in r.stdout
    assert "emseg-classifier-sem (default): classifier, multires_unet" in r.stdout
    r = run("models", "/no/such/folder")
    assert r.returncode == 2 and "is not a folder" in r.stderr


def test_segment_batch_goes_on_and_writes_three_files(images, tiny_model, tmp_path):
    src, lab = images
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "out"
    r = run("segment", src / "good.tif", src / "broken.tif", src / "nocal.tif", "--model",
            tiny_model.path, "--output", out)
    assert r.returncode == 2 and no_traceback(r)
    assert "broken.tif" in r.stderr and "nocal.tif: no pixel size" in r.stderr
    assert "2 of 3 image(s) failed" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good_labels.tif", "good_prob.tif",
                                                    "good_results.csv"]
    labels, size, _ = read_image(out / "good_labels.tif")
    prob, psize, _ = read_image(out / "good_prob.tif")
    assert size == psize == (5.0, 5.0) and labels.shape == prob.shape == lab.shape
    assert prob.dtype == np.float32 and 0 <= prob.min() and prob.max() <= 1
    table = pd.read_csv(out / "good_results.csv")
    assert len(table) == labels.max() > 0 and {"Area", "MinFeret", "Mean"} <= set(table.columns)
    assert f"{len(table)} particles" in r.stdout
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before     # inputs untouched
    # explicit pixel size rescues the uncalibrated file
    r = run("segment", src / "nocal.tif", "--model", tiny_model.path, "--pixel-size", "5",
            "--output", out, "--threshold", "0.3")
    assert r.returncode == 0, r.stderr
    assert (out / "nocal_labels.tif").exists()
    # or the calibration of the file it was copied from (what the Fiji plugin passes)
    r = run("segment", src / "nocal.tif", "--model", tiny_model.path, "--pixel-size-from",
            src / "good.tif", "--output", tmp_path / "from")
    assert r.returncode == 0, r.stderr
    assert "pixel size 5 nm from ImageJ calibration of good.tif" in r.stdout
    assert read_image(tmp_path / "from" / "nocal_labels.tif")[1] == (5.0, 5.0)
    r = run("segment", src / "nocal.tif", "--model", tiny_model.path, "--pixel-size-from",
            src / "nope.tif", "--output", tmp_path / "from2")
    assert r.returncode == 2 and "--pixel-size-from" in r.stderr and "no such file" in r.stderr
    assert not (tmp_path / "from2").exists()


#: Anything TensorFlow says at start-up (absl, oneDNN, CUDA, C++ log lines).
TF_LINE = ("absl", "oneDNN", "cuda", "I0000", "W0000", "E0000", "tensorflow", "TensorFlow")


def test_segment_reports_the_models_measurements(images, tiny_model, tmp_path):
    """A model whose model.yaml names measurements to report (a vesicle model: diameter and
    roundness) gets their summary printed and a histogram each."""
    import shutil

    from emseg import io
    src, _ = images
    model = tmp_path / "vesicle-model"
    shutil.copytree(tiny_model.path, model)
    meta = io.read_yaml(model / "model.yaml")
    io.write_yaml(model / "model.yaml", {**meta, "report": ["ECD", "Circ."]})
    out = tmp_path / "out"
    r = run("segment", src / "good.tif", "--model", model, "--output", out)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good_Circ.png", "good_ECD.png",
                                                    "good_labels.tif", "good_prob.tif",
                                                    "good_results.csv"]
    table = pd.read_csv(out / "good_results.csv")
    inner = table[~table.Border.astype(bool)]
    line = next(x for x in r.stdout.splitlines() if x.strip().startswith("ECD:"))
    assert f"n {len(inner)}," in line and f"median {inner.ECD.median():.4g}" in line
    assert "Circ.: n" in r.stdout


def test_successful_segment_stderr_holds_no_tensorflow_line(images, tiny_model, tmp_path):
    src, _ = images
    r = run("segment", src / "good.tif", "--model", tiny_model.path, "--output", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    noisy = [ln for ln in r.stderr.splitlines() if any(w in ln for w in TF_LINE)]
    assert noisy == []
    assert "good.tif:" in r.stdout and (tmp_path / "o" / "good_labels.tif").exists()


def test_bad_inputs_fail_before_the_model_loads_and_create_nothing(images, tmp_path):
    src, _ = images
    out = tmp_path / "never"
    code = ("import sys; from emseg.cli import main; "
            f"rc = main(['segment', {str(tmp_path / 'missing.tif')!r}, {str(src / 'broken.tif')!r}, "
            f"'--output', {str(out)!r}]); "
            "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow', rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.stdout.split() == ["no", "tensorflow", "2"]
    assert "missing.tif: no such file" in r.stderr and "broken.tif: truncated or damaged" in r.stderr
    assert "2 of 2 image(s) failed" in r.stderr and no_traceback(r)
    assert not out.exists()


@pytest.mark.parametrize("args,message", [
    (["--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["--threshold", "1.5"], "--threshold must be in [0, 1]"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
])
def test_segment_bad_options_one_line(images, tmp_path, args, message):
    src, _ = images
    r = run("segment", src / "good.tif", "--output", tmp_path / "o", *args)
    assert r.returncode == 2 and message in r.stderr and no_traceback(r)
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_segment_refuses_a_classifier_model(images, tiny_classifier, tmp_path):
    src, _ = images
    r = run("segment", src / "good.tif", "--output", tmp_path / "o", "--model",
            tiny_classifier.path)
    assert r.returncode == 2 and no_traceback(r)
    assert "is a classifier model, not a segmentation model" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_train_export_segment_round_trip(tmp_path):
    data, masks = tmp_path / "data", tmp_path / "masks"
    data.mkdir()
    masks.mkdir()
    for i in range(3):
        lab = particle_labels((96, 96), 12, radius=(5, 9), seed=10 + i)
        write_image(data / f"img{i}.tif", render_micrograph(lab, seed=i), 5.0)
        write_image(masks / f"img{i}_mask.tif", (lab > 0).astype(np.uint8) * 255, 5.0)
    work = tmp_path / "train"
    common = ["--images", data, "--masks", masks,          # folders work as well as files
              "--output", work, "--architecture", "fru_net", "--base-filters", "4", "--depth", "2",
              "--tile-size", "48", "--batch-size", "4", "--learning-rate", "0.003"]
    r = run("train", *common, "--epochs", "1", "--name", "cli-model")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "on 3 image(s)" in r.stdout
    assert "threshold" in r.stdout and (work / "best.keras").exists()
    log = json.loads((work / "log.json").read_text())
    assert len(log["epochs"]) == 1 and log["config"]["architecture"] == "fru_net"
    r = run("train", *common, "--epochs", "1")
    assert r.returncode == 2 and "use --resume" in r.stderr
    r = run("train", *common, "--epochs", "2", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(json.loads((work / "log.json").read_text())["epochs"]) == 2
    models = tmp_path / "models"
    r = run("export", work, "--models", models, "--description", "test model")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (models / "cli-model" / "saved_model").is_dir()
    r = run("export", work, "--models", models)
    assert r.returncode == 2 and "--overwrite" in r.stderr
    r = run("segment", data / "img0.tif", "--model", models / "cli-model", "--output", tmp_path / "s")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "s" / "img0_labels.tif").exists()


@pytest.mark.parametrize("args,message", [
    (["--class-weights", "1"], "--class-weights must be positive numbers"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--resume"], "no training to resume"),
    (["--architecture", "resnet"], "invalid choice"),
])
def test_train_bad_options(tmp_path, images, args, message):
    src, _ = images
    r = run("train", "--images", src / "good.tif", "--masks", src / "good.tif", "--output",
            tmp_path / "t", *args)
    assert r.returncode == 2 and message in r.stderr and no_traceback(r)


def test_train_unpaired_files_one_line(tmp_path, images):
    src, _ = images
    r = run("train", "--images", src / "good.tif", src / "nocal.tif", "--masks", src / "good.tif",
            src / "x_mask.tif", "--output", tmp_path / "t")
    assert r.returncode == 2 and "unpaired files" in r.stderr and no_traceback(r)


def test_demo_writes_every_result(tiny_model, tmp_path):
    out = tmp_path / "demo"
    r = run("demo", "--output", out, "--model", tiny_model.path)
    assert r.returncode == 0, r.stderr[-3000:]
    names = ["sample_sem_labels.tif", "sample_sem_prob.tif", "sample_sem_results.csv",
             "sample_sem_overlay.png", "sample_sem_minferet.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    for n in names:
        assert f"wrote {out / n}" in r.stdout
    assert "data bar from row 592 excluded" in r.stdout
    labels = read_image(out / "sample_sem_labels.tif")[0]
    assert not labels[592:].any()
