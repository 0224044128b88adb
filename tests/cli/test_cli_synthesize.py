"""emseg synthesize as a user runs it: the acceptance check's tiny settings give 4 calibrated
pairs that emseg train reads; a resumed run finishes the interrupted one without redoing its
steps; bad outlines get one line and exit 2 with nothing written."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from emseg import io
from emseg.synthetic import sem_agglomerates

pytest.importorskip("tensorflow")

TINY = ["--n-images", "4", "--tile-size", "128", "--shape-epochs", "1", "--cyclegan-epochs", "1"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, timeout=900, env={**os.environ})


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("sem")
    for k in range(2):
        s = sem_agglomerates((256, 320), pixel_size=8.0, seed=70 + k)
        io.write_image(d / f"img{k}.tif", s.image, 8.0)
        if k == 0:
            io.write_labels(d / "outlines.tif", s.labels, 8.0)
    return d


@pytest.fixture(scope="module")
def full(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "syn"
    r = run("synthesize", "--images", inputs / "img0.tif", inputs / "img1.tif", "--outlines",
            inputs / "outlines.tif", "--output", out, *TINY)
    assert r.returncode == 0, r.stderr
    return out, r


def test_a_bad_image_is_reported_and_the_others_go_on(inputs, tmp_path):
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00 truncated")
    out = tmp_path / "syn"
    r = run("synthesize", "--images", bad, inputs / "img0.tif", "--outlines",
            inputs / "outlines.tif", "--output", out, "--step", "shapes", "--shape-epochs", "1")
    assert r.returncode == 2 and "skipped" in r.stderr and "broken.tif" in r.stderr
    assert "Traceback" not in r.stderr
    state = json.loads((out / "synthesize.json").read_text())
    assert state["done"] == ["shapes"] and len(state["skipped_images"]) == 1
    assert bad.read_bytes() == b"II*\x00 truncated"          # the input is untouched


def test_tiny_run_makes_4_calibrated_pairs_for_emseg_train(full):
    from emseg.workflows import training_pairs

    out, r = full
    images, masks = sorted((out / "images").iterdir()), sorted((out / "masks").iterdir())
    assert [p.name for p in images] == [f"{k:04d}.tif" for k in range(4)]
    assert [p.name for p in masks] == [f"{k:04d}_m.tif" for k in range(4)]
    pairs = list(training_pairs([out / "images"], [out / "masks"]))
    assert len(pairs) == 4
    for image, mask, px in pairs:
        assert image.shape == mask.shape == (128, 128) and image.dtype == np.uint8
        assert px == pytest.approx(8.0) and set(np.unique(mask)) <= {0, 255}
    state = json.loads((out / "synthesize.json").read_text())
    assert state["done"] == ["shapes", "masks", "cyclegan", "generate"] and state["pairs"] == 4
    assert state["particles_kept"] > 0
    for name in ("sheet.png", "losses.png", "shapes/losses.csv", "cyclegan/losses.csv",
                 "shapes/generator.weights.h5", "cyclegan/g_ab.weights.h5"):
        assert (out / name).stat().st_size > 0, name
    assert "4 pairs in" in r.stdout and "8 nm per pixel" in r.stdout


def test_resumed_run_finishes_the_interrupted_one(inputs, tmp_path):
    # bit-identical resumption of the GANs is tested in-process (tests/models/test_gan.py); across
    # processes TensorFlow's multi-threaded CPU kernels sum in varying order, so here the resumed
    # run must finish what the interrupted one left, without redoing its steps
    small = ["--images", inputs / "img0.tif", inputs / "img1.tif", "--outlines",
             inputs / "outlines.tif", *TINY, "--cyclegan-filters", "4", "--cyclegan-blocks", "1",
             "--cyclegan-steps", "20"]
    whole = run("synthesize", *small, "--output", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    part = tmp_path / "part"
    assert run("synthesize", *small, "--output", part, "--step", "shapes", "--step",
               "masks").returncode == 0
    assert not (part / "images").exists()
    r = run("synthesize", *small, "--output", part, "--resume")
    assert r.returncode == 0, r.stderr
    assert len(list((part / "fake-masks").iterdir())) == 4
    state = json.loads((part / "synthesize.json").read_text())
    assert state["done"] == ["shapes", "masks", "cyclegan", "generate"] and state["pairs"] == 4
    assert [p.name for p in sorted((part / "images").iterdir())] == \
        [p.name for p in sorted((tmp_path / "whole" / "images").iterdir())]
    before = digest(part / "images")
    again = run("synthesize", *small, "--output", part, "--resume")   # all done: nothing redone
    assert again.returncode == 0 and digest(part / "images") == before
    other = run("synthesize", *small, "--output", part, "--resume", "--max-overlap", "0.1")
    assert other.returncode == 2 and "other settings" in other.stderr


@pytest.mark.parametrize("option, value", [("--particles", "abc"), ("--particles", "5,2"),
                                           ("--max-overlap", "1.5"), ("--tile-size", "30")])
def test_bad_options_one_line_exit_2(inputs, tmp_path, option, value):
    r = run("synthesize", "--images", inputs / "img0.tif", "--outlines", inputs / "outlines.tif",
            "--output", tmp_path / "syn", option, value)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert option.lstrip("-").split("-")[0] in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "syn").exists()


@pytest.mark.parametrize("case", ["none", "one_pixel", "wrong_file", "no_images"])
def test_bad_outlines_one_line_exit_2_nothing_written(inputs, tmp_path, case):
    out = tmp_path / "syn"
    args = ["synthesize", "--images", inputs / "img0.tif", "--output", out, *TINY]
    if case == "one_pixel":
        dot = np.zeros((64, 64), np.uint8)
        dot[30, 30] = 255
        io.write_labels(tmp_path / "dot.tif", dot, 8.0)
        args += ["--outlines", tmp_path / "dot.tif"]
    elif case == "wrong_file":
        (tmp_path / "RoiSet.zip").write_text("these are not ROIs")
        args += ["--outlines", tmp_path / "RoiSet.zip"]
    elif case == "no_images":
        args[2] = tmp_path / "missing.tif"
        args += ["--outlines", inputs / "outlines.tif"]
    r = run(*args)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    expected = {"none": "--outlines is needed", "one_pixel": "no particle outline of at least 4",
                "wrong_file": "not an ImageJ ROI file", "no_images": "missing.tif"}[case]
    assert expected in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
