"""The benchmark scripts run end to end (their numbers are checked, not their speed)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[2]


def test_bam_tio2_benchmark_scores_what_it_segments(bam_dir, tmp_path):
    from emseg import metrics as M
    from emseg.segment import segment_classical
    from emseg.io import read_image

    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_tio2.py"), "--method",
                        "classical", "--data", str(bam_dir), "--images", "2",
                        "--output", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "BAM paper, Table 1" in r.stdout and "pooled over all particles" in r.stdout
    table = pd.read_csv(tmp_path / "bam_tio2_classical.csv", dtype={"Image": str})
    assert len(table) == 3 and table["Image"].iloc[-1] == "mean"
    # recompute the first image's scores independently of the script
    path = sorted((bam_dir / "sem").glob("*.tif"))[0]
    image, size, _ = read_image(path)
    truth = M.to_instances(read_image(bam_dir / "masks" / f"{path.stem}_m.tif")[0][:704] > 0,
                           connectivity=4)
    labels, score, _ = segment_classical(image[:704], size)
    row = table.iloc[0]
    assert row["Image"] == path.stem
    assert row["IoU"] == pytest.approx(M.pixel_scores(labels, truth)["IoU"])
    assert row["Inst. IoU (pred)"] == pytest.approx(M.instance_iou(labels, truth)[0])
    assert row["Youden J"] == pytest.approx(M.youden_index(score, truth)[0])
    assert row["F1@0.5"] == pytest.approx(M.match_instances(labels, truth).f1)
    assert (tmp_path / f"bam_tio2_classical_{path.stem}.png").stat().st_size > 10000


def test_bam_tio2_benchmark_rejects_missing_data(tmp_path):
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_tio2.py"), "--data",
                        str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no sem/ and masks/" in r.stderr


def test_segment_bench_prints_ratios():
    pytest.importorskip("tensorflow")
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "segment_bench.py"), "--size", "128",
                        "--architectures", "unet,multires_unet", "--tile-size", "64", "--repeat", "1",
                        "--memory-size", "1000", "--volume-e2e-size", "32,96,96"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [line for line in r.stdout.splitlines() if "MP/s" in line and "tiled/plain" in line]
    assert [line.split()[0] for line in lines] == ["unet", "multires_unet"]
    assert all("tiled/plain time" in line and "end-to-end segment" in line for line in lines)
    assert "default model emseg-particles-sem: bare forward pass" in r.stdout
    assert "memory: 1000x1000 8-bit image" in r.stdout and "GB resident" in r.stdout
    line = next(x for x in r.stdout.splitlines() if x.startswith("volume: 32x96x96"))
    assert "end-to-end segment_volume" in line and "of the time" in line


def test_fiji_bench_prints_ratios():
    from emseg.imagej import find_plugin_jar
    if find_plugin_jar() is None:
        skip_or_fail("EMSeg plugin jar not built (make plugin)")
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "fiji_bench.py"), "--size", "256",
                        "--repeat", "2", "--no-backends"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "256x256 float32: NumPy->ImagePlus" in r.stdout
    assert "both ways / (2 x ImageJ copy) = " in r.stdout
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "fiji_bench.py"), "--size", "0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--size" in r.stderr


def test_bam_classifier_benchmark_counts_what_it_keeps(bam_dir, tiny_classifier, tmp_path):
    import numpy as np

    from emseg.io import read_image
    from emseg.measure import measure
    from emseg.metrics import to_instances

    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_classifier.py"), "--data",
                        str(bam_dir), "--images", "2", "--classifier", str(tiny_classifier.path),
                        "--output", str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "manual keep set" in r.stdout and "goal" in r.stdout
    table = pd.read_csv(tmp_path / "bam_classifier.csv")
    rows = table[table["setting"] == "(a) manual instances"].set_index("filter")
    assert {"keep all", "exclude border", "rule: no border, Solidity>=0.9",
            "classifier tiny-classifier"} <= set(rows.index)
    # recompute "keep all" and the rule filter independently of the script
    fit, total, rule_kept, rule_tp, ref = 0, 0, 0, 0, []
    for path in sorted((bam_dir / "sem").glob("*.tif"))[:2]:
        image, size, _ = read_image(path)
        truth = to_instances(read_image(bam_dir / "masks" / f"{path.stem}_m.tif")[0][:704] > 0,
                             connectivity=4)
        keep = read_image(bam_dir / "classes" / f"{path.stem}_cm.tif")[0] > 0
        t = measure(truth, image[:704], pixel_size=size)
        frac = np.array([keep[truth == k].mean() for k in t["Label"]])
        f = frac > 0.5
        rule = (~t["Border"] & (t["Solidity"] >= 0.9)).to_numpy()
        fit += f.sum()
        total += len(t)
        rule_kept += rule.sum()
        rule_tp += (rule & f).sum()
        ref.extend(t.loc[f, "MinFeret"])
    assert rows.loc["keep all", "particles"] == total and rows.loc["keep all", "kept"] == total
    assert rows.loc["keep all", "precision"] == pytest.approx(fit / total)
    assert rows.loc["keep all", "recall"] == 1.0
    assert rows.loc["rule: no border, Solidity>=0.9", "precision"] == pytest.approx(rule_tp / rule_kept)
    assert rows.loc["rule: no border, Solidity>=0.9", "recall"] == pytest.approx(rule_tp / fit)
    clf = rows.loc["classifier tiny-classifier"]
    assert 0 <= clf["precision"] <= 1 and 0 <= clf["recall"] <= 1
    assert clf["kept"] <= total and np.isfinite(clf["mean err"])
    assert any(p.suffix == ".png" and p.stat().st_size > 10000 for p in tmp_path.iterdir())


def test_bam_classifier_benchmark_rejects_missing_data(tmp_path):
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_classifier.py"), "--data",
                        str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no sem/" in r.stderr


def test_first_contact_bench_reports_first_line_and_no_tensorflow_lines():
    emseg = Path(sys.executable).with_name("emseg")
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "first_contact.py"), "--emseg",
                        str(emseg), "--repeat", "1"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "peer: python -c 'import tensorflow':" in r.stdout
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("emseg segment")]
    assert len(lines) == 2
    assert "missing file" in lines[0] and "exit 2" in lines[0] and "no such file" in lines[0]
    assert "good image" in lines[1] and "exit 0" in lines[1] and "particles" in lines[1]
    assert all("TensorFlow lines on stderr 0:" in ln for ln in lines)


def test_bam_gan_benchmark_runs_the_workflow_as_a_user(bam_dir, tmp_path):
    import json

    import numpy as np

    from emseg import io

    work = tmp_path / "work"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_gan.py"), "--data",
                        str(bam_dir), "--work", str(work), "--quick", "--images", "1"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    outlines, size, _ = io.read_image(work / "outlines.tif")
    assert len(np.unique(outlines)) == 41 and size == pytest.approx((7.344, 7.344), rel=1e-3)
    assert len(list((work / "synthetic" / "images").glob("*.tif"))) == 8
    assert (work / "models" / "bam-gan-multires" / "model.yaml").exists()
    scores = json.loads((work / "scores.json").read_text())
    for name in ("GAN-trained MultiRes U-Net", "emseg-particles-sem"):
        assert 0 <= scores[name]["segmentation"]["all"]["IoU"] <= 1
        assert "mean err" in scores[name]["size statistics (default classifier)"]["all"]
    assert "goals: MinFeret mean and median within 5 %" in r.stdout
    # the shipped default's score is bam_tio2.py's for the same image
    ref = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_tio2.py"), "--method",
                          "model", "--data", str(bam_dir), "--images", "1"],
                         capture_output=True, text=True, timeout=600)
    assert f"{scores['emseg-particles-sem']['segmentation']['all']['IoU']:.4f}" in ref.stdout
    # a model without a boundary class: bam_postprocess.py varies the necks alone
    grid = tmp_path / "grid.csv"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_postprocess.py"), "--data",
                        str(bam_dir), "--images", "1", "--neck", "7.5,40", "--model",
                        str(work / "models" / "bam-gan-multires"), "--output", str(grid)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    table = pd.read_csv(grid)
    assert len(table) == 2 and table["boundary_threshold"].isna().all()
    assert sorted(table["neck_nm"]) == [7.5, 40.0]


def test_bam_postprocess_grid_scores_what_emseg_segment_keeps(bam_dir, tmp_path):
    """The grid's row for the shipped settings is the end-to-end score of bam_classifier.py's
    pipeline (segment, measure, default classifier) on the same images; the choice follows
    the stated rule on images 1-8."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bam_classifier as bc
    import bam_postprocess as bp
    from emseg.models import find_model
    from emseg.models.saved import load_predictor

    shipped = find_model().meta["postprocess"]
    bt, neck = shipped["boundary_threshold"], shipped["neck_nm"]
    out = tmp_path / "grid.csv"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_postprocess.py"), "--data",
                        str(bam_dir), "--images", "2", "--boundary", f"{bt},0.2", "--neck",
                        f"{neck},40", "--output", str(out)], capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    grid = pd.read_csv(out)
    assert len(grid) == 4 and not any(c.startswith("9-24") for c in grid.columns)
    row = grid[(grid.boundary_threshold == bt) & (grid.neck_nm == neck)].iloc[0]
    items = bc.load_bam(bam_dir, 2)
    manual = [bc.manual_keep_set(it) for it in items]
    classifier = load_predictor(None, task="classifier")
    name = f"classifier {classifier.info.name}"
    filtered, _ = bc.run_filters(items, bc.end_to_end_tables(items), "pred", {name: classifier},
                                 desc="check")
    want = bc.score_filter(filtered[name], bc.reference_of(manual))
    for key in ("kept", "recall", "mean err", "D50 err", "KS"):
        assert row[f"1-8 {key}"] == pytest.approx(want[key], abs=1e-9), key
    best = bp.choose(grid.to_dict("records"), 0.02)
    assert (f"chosen on images 1-8: boundary_threshold {best['boundary_threshold']}, "
            f"neck_nm {best['neck_nm']}") in r.stdout
    bad = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_postprocess.py"),
                          "--data", str(bam_dir), "--neck", "deep"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "comma-separated numbers" in bad.stderr


def test_bam_postprocess_whole_files_is_what_emseg_segment_keeps(bam_dir, tmp_path):
    """--whole-files scores exactly what `emseg segment FILE --classifier default` keeps."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bam_classifier as bc
    from emseg.metrics import distribution_errors
    from emseg.models import find_model

    shipped = find_model().meta["postprocess"]
    bt, neck = shipped["boundary_threshold"], shipped["neck_nm"]
    out = tmp_path / "grid.csv"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bam_postprocess.py"), "--data",
                        str(bam_dir), "--images", "1", "--boundary", str(bt), "--neck", str(neck),
                        "--whole-files", "--output", str(out)], capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "(whole files)" in r.stdout
    row = pd.read_csv(out).iloc[0]
    item = bc.load_bam(bam_dir, 1)[0]
    image = bam_dir / "sem" / f"{item['stem']}.tif"
    cli = subprocess.run([sys.executable, "-m", "emseg", "segment", str(image), "--classifier",
                          "default", "--output", str(tmp_path / "cli")], capture_output=True,
                         text=True, timeout=900)
    assert cli.returncode == 0, cli.stderr[-2000:]
    kept = pd.read_csv(tmp_path / "cli" / f"{item['stem']}_filtered.csv")
    kept = kept[kept.Kept.astype(bool)]
    manual = bc.manual_keep_set(item)
    errors = distribution_errors(kept.MinFeret, manual.loc[manual.Fit, "MinFeret"])
    assert row["1-8 kept"] == len(kept)
    assert row["1-8 mean err"] == pytest.approx(errors["mean"], abs=1e-9)
    assert row["1-8 D50 err"] == pytest.approx(errors["median"], abs=1e-9)


def test_em_multiclass_table_pools_the_folds_done(tmp_path):
    """The multi-class benchmark's table: confusions pooled over the folds done so far, the
    ensemble's training time that of all its members, and a note saying how many folds."""
    import argparse

    import numpy as np
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import em_multiclass as bench
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    from emseg.metrics import confusion_scores
    names = ["a", "b"]
    fold1 = {"unet_resnet34": np.array([[8, 2], [1, 9]]),
             "WAE-Net ensemble": np.array([[9, 1], [1, 9]])}
    fold2 = {"unet_resnet34": np.array([[5, 0], [5, 10]]),
             "WAE-Net ensemble": np.array([[6, 0], [2, 12]])}
    confusions = {m: [fold1[m], fold2[m]] for m in fold1}
    times = {"unet_resnet34": [600.0, 900.0], "unet_vgg19": [300.0, 300.0]}
    args = argparse.Namespace(output=tmp_path, folds=5, model_pixel_size=9.2, tile=128,
                              epochs=20, encoder_weights=None)
    bench.write_table(confusions, times, names, args, 2, 12)
    table = pd.read_csv(tmp_path / "em_multiclass.csv").set_index("Method")
    expected = confusion_scores(fold1["WAE-Net ensemble"] + fold2["WAE-Net ensemble"], names)
    assert table.loc["WAE-Net ensemble", "mean IoU"] == pytest.approx(expected.loc["mean", "IoU"])
    assert table.loc["WAE-Net ensemble", "IoU b"] == pytest.approx(expected.loc["b", "IoU"])
    assert list(table.index) == ["WAE-Net ensemble", "unet_resnet34"]    # best first
    assert table.loc["unet_resnet34", "train min/fold"] == pytest.approx(12.5)
    assert table.loc["WAE-Net ensemble", "train min/fold"] == pytest.approx(17.5)  # all members
    md = (tmp_path / "em_multiclass.md").read_text()
    assert "2 of 5 folds done" in md and "random (no ImageNet)" in md
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "em_multiclass.py"), "--data",
                        str(tmp_path / "nothing")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "no sections in" in r.stderr


def test_scale_bench_batch_compares_serial_and_dask():
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "scale_bench.py"), "--quick",
                        "--part", "batch"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "batch: 4 images of 256x256 px" in r.stdout
    assert "dask/serial throughput:" in r.stdout and "identical CSVs: yes (4 files)" in r.stdout


def test_scale_bench_mosaic_reports_memory_and_identical_tables():
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "scale_bench.py"), "--quick",
                        "--part", "mosaic"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [line for line in r.stdout.splitlines() if "in chunks:" in line]
    assert [line.split()[0] for line in lines] == ["512x512", "1024x1024"]
    assert all("peak RSS" in line and "MP/s" in line for line in lines)
    assert r.stdout.count("identical tables: yes") == 2
    assert "time per pixel after start-up, largest vs smallest" in r.stdout
    assert "start-up (a 256x256 image)" in r.stdout
