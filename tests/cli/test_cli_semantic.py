"""Multi-class (semantic) models from the command line: train on coded masks through a class
map, export, segment (class image with names and LUT, a probability map per class, class areas,
objects of instance classes), and the one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tifffile

pytest.importorskip("tensorflow")

from emseg import io  # noqa: E402

MAP = "0=background;64,96=membrane;255=organelle"


def run(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def coded_pair(seed, size=128):
    """An 8-bit image and its coded mask (0 background, 64/96 membrane, 255 organelle)."""
    from emseg.synthetic import organelle_classes

    grey, classes = organelle_classes((size, size), seed=seed, noise=0.04)
    image = np.clip(grey * 255, 0, 255).astype(np.uint8)
    coded = np.choose(classes, [0, 64, 255]).astype(np.uint8)
    coded[(classes == 1) & (np.arange(size)[None, :] % 2 == 0)] = 96     # two membrane codes
    return image, coded, classes


TRAIN = ["--instance-classes", "organelle", "--architecture", "unet", "--base-filters", "8",
         "--depth", "2", "--tile-size", "64", "--pixel-size", "2", "--batch-size", "4",
         "--learning-rate", "3e-3", "--lr-decay", "0.25,10", "--name", "tiny-classes"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("semantic")
    (d / "raw").mkdir()
    (d / "labels").mkdir()
    for s in range(5):
        image, coded, _ = coded_pair(s)
        tifffile.imwrite(d / "raw" / f"{s:02d}.tif", image)
        from PIL import Image
        Image.fromarray(coded).save(d / "labels" / f"{s:02d}.png")
    (d / "map.txt").write_text(MAP.replace(";", "\n"))
    r = run("train", "--images", d / "raw", "--masks", d / "labels", "--class-map", d / "map.txt",
            *TRAIN, "--epochs", "10", "-o", d / "run")
    assert r.returncode == 0, r.stderr
    assert "classes background, membrane, organelle" in r.stdout
    assert "validation mean Jaccard index" in r.stdout
    r = run("export", d / "run", "--models", d / "models")
    assert r.returncode == 0, r.stderr
    return d


def test_segment_writes_classes_probabilities_areas_and_objects(trained):
    d = trained
    image, _, classes = coded_pair(20)
    io.write_image(d / "new.tif", image, 2.0)
    meta = io.read_yaml(d / "models" / "tiny-classes" / "model.yaml")
    assert meta["task"] == "semantic" and meta["output"]["activation"] == "softmax"
    assert meta["postprocess"]["instance_classes"] == ["organelle"] and "threshold" not in meta
    r = run("segment", d / "new.tif", "--model", d / "models" / "tiny-classes", "-o", d / "out")
    assert r.returncode == 0, r.stderr
    names = {p.name for p in (d / "out").iterdir()}
    assert names == {"new_classes.tif", "new_classes.csv", "new_classes.png",
                     "new_prob_background.tif", "new_prob_membrane.tif",
                     "new_prob_organelle.tif", "new_organelle_labels.tif",
                     "new_organelle_results.csv"}
    assert "background" in r.stdout and "organelle objects" in r.stdout
    pred, size, _ = io.read_image(d / "out" / "new_classes.tif")
    assert size == (2.0, 2.0) and pred.dtype == np.uint8
    assert io.read_class_names(d / "out" / "new_classes.tif") == ["background", "membrane",
                                                                  "organelle"]
    from emseg.metrics import class_scores
    scores = class_scores(pred, classes, classes=[0, 1, 2])
    assert scores.loc["mean", "IoU"] > 0.6, scores            # a tiny network, 10 epochs
    areas = pd.read_csv(d / "out" / "new_classes.csv")
    assert list(areas.Class) == ["background", "membrane", "organelle"]
    assert areas.Fraction.sum() == pytest.approx(1)
    assert areas.Pixels[2] == pytest.approx((pred == 2).sum())
    objects = pd.read_csv(d / "out" / "new_organelle_results.csv")
    assert 3 <= len(objects) <= 9 and {"Area", "Feret", "Circ."} <= set(objects.columns)
    r = run("segment", d / "new.tif", "--model", d / "models" / "tiny-classes", "--threshold",
            "0.5", "-o", d / "out2")
    assert r.returncode == 2 and "most probable class" in r.stderr and not (d / "out2").exists()
    probs = [io.read_image(d / "out" / f"new_prob_{n}.tif")[0]
             for n in ("background", "membrane", "organelle")]
    assert np.allclose(np.sum(probs, 0), 1, atol=0.02)
    assert np.array_equal(np.argmax(probs, 0), pred)


@pytest.mark.parametrize("args, message", [
    (["--class-map", "0=a"], "at least two classes"),
    (["--class-map", "0=a;0=b"], "value 0 belongs to two classes"),
    (["--class-map", "missing.txt"], "neither VALUES=NAME"),
    (["--class-map", "0=a;255=b", "--semantic"], "not both"),
    (["--instance-classes", "a"], "for semantic models"),
    (["--class-map", "0,64,96=a;255=b"], "value(s) 128"),
    (["--lr-decay", "4,10"], "FACTOR in (0, 1)"),
    (["--encoder-weights", "imagenet"], "pretrained-encoder U-Nets"),
])
def test_bad_semantic_options_are_one_line(tmp_path, args, message):
    image, coded, _ = coded_pair(0)
    coded[0, 0] = 128
    tifffile.imwrite(tmp_path / "a.tif", image)
    from PIL import Image
    Image.fromarray(coded).save(tmp_path / "a_m.png")
    r = run("train", "--images", tmp_path / "a.tif", "--masks", tmp_path / "a_m.png",
            "--pixel-size", "2", "-o", tmp_path / "run", *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_evaluate_prints_per_class_jaccard_and_f1(trained, tmp_path):
    d = trained
    image, coded, classes = coded_pair(21)
    io.write_image(tmp_path / "b.tif", image, 2.0)
    r = run("segment", tmp_path / "b.tif", "--model", d / "models" / "tiny-classes",
            "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    from PIL import Image
    Image.fromarray(coded).save(tmp_path / "b_m.png")
    r = run("evaluate", "--pred", tmp_path / "out" / "b_classes.tif", "--truth",
            tmp_path / "b_m.png", "--class-map", MAP, "-o", tmp_path / "scores.csv")
    assert r.returncode == 0, r.stderr
    assert "per class (Jaccard index = IoU, F1)" in r.stdout and "mean Jaccard index" in r.stdout
    t = pd.read_csv(tmp_path / "scores.csv")
    assert list(t.Class) == ["background", "membrane", "organelle", "mean"]
    from emseg.metrics import class_scores
    pred = io.read_image(tmp_path / "out" / "b_classes.tif")[0]
    expected = class_scores(pred, classes, classes=[0, 1, 2])
    assert t.IoU[:3].tolist() == pytest.approx(expected.IoU[:3].tolist())
    assert t.F1[3] == pytest.approx(expected.loc["mean", "Dice"])
    # coded truth without the map: the values are no class indices
    r = run("evaluate", "--pred", tmp_path / "out" / "b_classes.tif", "--truth",
            tmp_path / "b_m.png")
    assert r.returncode == 2 and "give --class-map" in r.stderr


def test_explain_heats_the_class_where_it_is(trained, tmp_path):
    d = trained
    image, _, classes = coded_pair(22)
    io.write_image(tmp_path / "c.tif", image, 2.0)
    r = run("explain", tmp_path / "c.tif", "--model", d / "models" / "tiny-classes",
            "--class", "organelle", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "c_gradcam_organelle_unet.png").is_file()
    from emseg.workflows.explain import explain_file
    res = explain_file(tmp_path / "c.tif", d / "models" / "tiny-classes", "organelle")
    heat = res.maps["unet"]
    assert heat.shape == image.shape and heat.min() >= 0 and heat.max() == pytest.approx(1)
    # the network's evidence for organelles lies on and around them, not in the background
    from scipy import ndimage as ndi
    near = ndi.binary_dilation(classes == 2, iterations=6)
    assert heat[near].mean() > 2 * heat[~near].mean()
    for args, message in ((["--class", "nucleus"], "not one of background"),
                          (["--class", "organelle", "--model", "emseg-particles-sem"],
                           "explain takes a semantic")):
        r = run("explain", tmp_path / "c.tif", *(["--model", d / "models" / "tiny-classes"]
                                                 if "--model" not in args else []), *args)
        assert r.returncode == 2 and message in r.stderr, r.stderr


def test_train_ensemble_export_segment_and_explain(trained, tmp_path):
    """``emseg train-ensemble`` end to end with two tiny members: ranking, weight search,
    --resume without training again, one exported model that segments and is explained per
    member; and its one-line usage errors."""
    d = trained
    base = ["train-ensemble", "--images", d / "raw", "--masks", d / "labels", "--class-map",
            d / "map.txt", "--instance-classes", "organelle", "--members", "unet,fru_net",
            "--top", "2", "--step", "0.5", "--depth", "2", "--base-filters", "4",
            "--tile-size", "64", "--pixel-size", "2", "--epochs", "2", "--batch-size", "4",
            "--learning-rate", "3e-3", "-o", tmp_path / "ens"]
    r = run(*base)
    assert r.returncode == 0, r.stderr
    assert "unet: validation mean Jaccard index" in r.stdout
    assert "fru_net: validation mean Jaccard index" in r.stdout
    assert "ensemble of" in r.stdout and "equal weights" in r.stdout
    saved = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    assert sorted(saved["chosen"]) == ["fru_net", "unet"] and len(saved["grid"]) == 3
    stamp = (tmp_path / "ens" / "member-unet" / "best.keras").stat().st_mtime_ns
    r = run(*base)                          # an ensemble is there: --resume or another folder
    assert r.returncode == 2 and "--resume" in r.stderr and r.stderr.count("\n") == 1
    r = run(*base, "--resume")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ens" / "member-unet" / "best.keras").stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "ens" / "ensemble.json").read_text())["weights"] == \
        saved["weights"]
    r = run("export", tmp_path / "ens", "--models", tmp_path / "models")
    assert r.returncode == 0, r.stderr
    meta = io.read_yaml(tmp_path / "models" / "ensemble" / "model.yaml")
    assert meta["architecture"] == "ensemble" and meta["task"] == "semantic"
    image, _, _ = coded_pair(23)
    io.write_image(tmp_path / "e.tif", image, 2.0)
    r = run("segment", tmp_path / "e.tif", "--model", tmp_path / "models" / "ensemble",
            "-o", tmp_path / "seg")
    assert r.returncode == 0, r.stderr
    assert io.read_class_names(tmp_path / "seg" / "e_classes.tif") == ["background", "membrane",
                                                                       "organelle"]
    r = run("explain", tmp_path / "e.tif", "--model", tmp_path / "models" / "ensemble",
            "--class", "membrane", "-o", tmp_path / "why")
    assert r.returncode == 0, r.stderr
    kept = [m for m, w in zip(saved["chosen"], saved["weights"]) if w > 0]
    assert {p.name for p in (tmp_path / "why").iterdir()} == {
        f"e_gradcam_membrane_{m}.png" for m in kept + ["ensemble"]}
    for args, message in ((["--members", "unet_resnet34", "--top", "1", "--depth", "3"],
                           "--depth applies"),
                          (["--members", "unet,nonet"], "unknown or unusable"),
                          (["--top", "3"], "--top must be in 1..2")):
        bad = base[:-2] + ["-o", tmp_path / "bad", *args]
        r = run(*bad)
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and not (tmp_path / "bad").exists()

