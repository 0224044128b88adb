"""The benchmark scripts run end to end (their numbers are checked, not their speed)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import skip_or_fail

REPO = Path(__file__).resolve().parents[1]


def test_bam_tio2_benchmark_scores_what_it_segments(bam_dir, tmp_path):
    from emseg import metrics as M
    from emseg.classical import segment_classical
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
                        "--memory-size", "1000"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [line for line in r.stdout.splitlines() if "MP/s" in line and "tiled/plain" in line]
    assert [line.split()[0] for line in lines] == ["unet", "multires_unet"]
    assert all("tiled/plain time" in line and "end-to-end segment" in line for line in lines)
    assert "default model emseg-particles-sem: bare forward pass" in r.stdout
    assert "memory: 1000x1000 8-bit image" in r.stdout and "GB resident" in r.stdout


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
