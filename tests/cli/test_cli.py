"""The emseg command line, run as users run it (subprocesses)."""

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import tifffile

from emseg.io import write_labels


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_version_and_help_are_instant_and_light():
    for args in (["--version"], ["--help"], ["measure", "--help"], ["evaluate", "--help"]):
        t0 = time.perf_counter()
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert time.perf_counter() - t0 < 5
    assert run("--version").stdout.strip().startswith("emseg ")
    assert "measure" in run("--help").stdout and "evaluate" in run("--help").stdout
    assert "--pixel-size" in run("measure", "--help").stdout
    code = ("import sys, emseg.cli as c; c.build_parser().format_help(); "
            "print(sorted(m for m in ('numba', 'tensorflow', 'pandas', 'skimage') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_no_command_prints_help_and_fails():
    r = run()
    assert r.returncode == 2 and "usage" in r.stdout


def test_example(tmp_path):
    r = run("measure", "--example", "--plot", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "160 particles, pixel size 2.5 nm from ImageJ" in r.stdout
    assert "MinFeret" in r.stdout and "D90" in r.stdout
    t = pd.read_csv(tmp_path / "example_labels_measurements.csv")
    assert len(t) == 160 and {"Mean", "MinFeret", "ECD", "Border"} <= set(t.columns)
    png = (tmp_path / "example_labels_minferet.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def files(tmp_path):
    lab = np.zeros((40, 50), np.uint16)
    lab[5:15, 5:20] = 1
    lab[20:30, 30:45] = 2
    a = write_labels(tmp_path / "a.tif", lab, 2.0)
    mask = np.zeros((40, 50), np.uint8)
    mask[10:20, 10:20] = 255
    mask[21:31, 21:31] = 255
    mask[20, 20] = 255  # joins the two squares only diagonally
    b = tmp_path / "b.tif"
    tifffile.imwrite(b, mask)
    return a, b


def test_measure_two_files_with_override_and_connectivity(tmp_path, files):
    a, b = files
    out = tmp_path / "out"
    r = run("measure", a, b, "--pixel-size", "3", "--connectivity", "4", "-o", out)
    assert r.returncode == 0, r.stderr
    ta = pd.read_csv(out / "a_measurements.csv")
    tb = pd.read_csv(out / "b_measurements.csv")
    assert list(ta["Area"]) == [150 * 9, 150 * 9]
    assert len(tb) == 3  # 4-connected: the diagonal pixel is its own particle
    assert "pixel size 3 nm from --pixel-size" in r.stdout
    r = run("measure", b, "-o", tmp_path / "c8.csv")
    assert r.returncode == 0 and len(pd.read_csv(tmp_path / "c8.csv")) == 1
    assert "uncalibrated (pixels)" in r.stdout


def test_combined_csv_has_file_column(tmp_path, files):
    a, b = files
    r = run("measure", a, b, "-o", tmp_path / "all.csv")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path / "all.csv")
    assert list(t["File"]) == ["a.tif", "a.tif", "b.tif"]


def test_intensity_image(tmp_path, files):
    a, _ = files
    img = tmp_path / "img.tif"
    tifffile.imwrite(img, np.full((40, 50), 9, np.uint8))
    r = run("measure", a, "--image", img, "-o", tmp_path / "i.csv")
    assert r.returncode == 0, r.stderr
    assert list(pd.read_csv(tmp_path / "i.csv")["Mean"]) == [9, 9]


def bad_inputs(tmp_path):
    cases = {}
    cases["missing"] = (tmp_path / "missing.tif", "no such file")
    p = tmp_path / "text.tif"
    p.write_text("hello")
    cases["not an image"] = (p, "not a TIFF file")
    p = tmp_path / "truncated.tif"
    whole = tmp_path / "whole.bin"
    tifffile.imwrite(whole, np.arange(400, dtype=np.uint16).reshape(20, 20), imagej=True)
    p.write_bytes(whole.read_bytes()[:600])
    whole.unlink()
    cases["truncated"] = (p, "truncated or damaged TIFF")
    p = tmp_path / "rgb.tif"
    tifffile.imwrite(p, np.zeros((20, 20, 3), np.uint8), photometric="rgb")
    cases["rgb"] = (p, "RGB image where a label image")
    p = tmp_path / "stack.tif"
    tifffile.imwrite(p, np.ones((3, 20, 20), np.uint8), photometric="minisblack")
    cases["3d"] = (p, "3D labels")
    p = tmp_path / "empty.tif"
    tifffile.imwrite(p, np.zeros((20, 20), np.uint8))
    cases["empty"] = (p, "empty")
    p = tmp_path / "neg.tif"
    tifffile.imwrite(p, np.full((20, 20), -3, np.int16))
    cases["negative"] = (p, "negative")
    p = tmp_path / "float.tif"
    tifffile.imwrite(p, np.ones((20, 20), np.float32))
    cases["float"] = (p, "floating-point")
    return cases


@pytest.mark.parametrize("case", ["missing", "not an image", "truncated", "rgb", "3d", "empty", "negative",
                                  "float"])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, case):
    path, message = bad_inputs(tmp_path)[case]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    out = tmp_path / "out"
    r = run("measure", path, "-o", out, "--plot")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert message in lines[0] and "Traceback" not in r.stderr
    assert not out.exists()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_batch_goes_on_past_a_bad_file(tmp_path, files):
    a, _ = files
    out = tmp_path / "out"
    r = run("measure", tmp_path / "nope.tif", a, "-o", out)
    assert r.returncode == 2
    assert "nope.tif: no such file" in r.stderr and "1 of 2 file(s) failed" in r.stderr
    assert (out / "a_measurements.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["--pixel-size", "-2"], "invalid pixel size"),
    (["--pixel-size", "abc"], "invalid pixel size"),
    (["--connectivity", "6"], "invalid choice"),
    (["--bogus"], "unrecognized arguments"),
    (["--columns", "Nope"], "unknown column"),
    (["--image", "x.tif", "y.tif"], "--image got 2 file(s) for 1 LABELS"),
])
def test_bad_options(tmp_path, files, args, message):
    a, _ = files
    r = run("measure", a, *args, "-o", tmp_path / "o")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr
    assert not (tmp_path / "o").exists()


def test_refuses_to_overwrite_input(tmp_path):
    lab = np.zeros((8, 8), np.uint8)
    lab[2:4, 2:4] = 1
    src = tmp_path / "x_measurements.csv"  # an input that the output would replace
    tifffile.imwrite(tmp_path / "x.tif", lab)
    src.write_text("keep")
    r = run("measure", tmp_path / "x.tif", "-o", tmp_path / "x.tif")
    assert r.returncode == 2
    assert "not a folder" in r.stderr
    r = run("measure", tmp_path / "x.tif", "--image", src, "-o", tmp_path)
    assert r.returncode == 2 and src.read_text() == "keep"


def test_no_labels_is_a_usage_error():
    r = run("measure")
    assert r.returncode == 2 and "no LABELS given" in r.stderr



# ---------------------------------------------------------------- evaluate

@pytest.fixture
def eval_files(tmp_path):
    truth = np.zeros((40, 40), np.uint8)
    truth[5:15, 5:15] = 255
    truth[20:35, 20:35] = 255
    pred = np.zeros((40, 40), np.uint16)
    pred[5:15, 5:14] = 1
    pred[20:35, 20:35] = 2
    (tmp_path / "t").mkdir()
    (tmp_path / "p").mkdir()
    for name in ("a", "b"):
        write_labels(tmp_path / "t" / f"{name}_m.tif", truth, 2.0)
        write_labels(tmp_path / "p" / f"{name}_labels.tif", pred)
    prob = np.where(truth > 0, 0.9, 0.1).astype(np.float32)
    tifffile.imwrite(tmp_path / "p" / "a_prob.tif", prob)
    return tmp_path


def test_evaluate_prints_table_and_writes_csv(eval_files):
    d = eval_files
    before = {p: p.read_bytes() for p in d.rglob("*.tif")}
    r = run("evaluate", "--pred", d / "p/a_labels.tif", d / "p/b_labels.tif",
            "--truth", d / "t/b_m.tif", d / "t/a_m.tif", "--prob", d / "p/a_prob.tif",
            "-o", d / "scores.csv")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["Image", "IoU", "Youden", "J"]
    assert lines[1].split()[0] == "a" and lines[3].split()[0] == "mean"
    assert "pooled: TP 4, FP 0, FN 0" in r.stdout
    t = pd.read_csv(d / "scores.csv")
    assert list(t["Image"]) == ["a", "b", "mean"]
    assert t.loc[0, "Youden J"] == 1.0 and np.isnan(t.loc[1, "Youden J"])
    assert t.loc[0, "IoU"] == pytest.approx(315 / 325)
    assert t.loc[2, "F1@0.5"] == 1.0 and "Center residual" in t.columns
    assert {p: p.read_bytes() for p in d.rglob("*.tif")} == before   # inputs untouched


def test_evaluate_prints_the_fru_net_table(eval_files):
    d = eval_files
    r = run("evaluate", "--pred", d / "p/a_labels.tif", d / "p/b_labels.tif",
            "--truth", d / "t/b_m.tif", d / "t/a_m.tif", "--table", "fru-net",
            "-o", d / "table1.csv")
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0].split()
    assert header[:3] == ["Image", "SEG", "DET"] and "FP ratio" in r.stdout.splitlines()[0]
    t = pd.read_csv(d / "table1.csv")
    assert list(t["Image"]) == ["a", "b", "all"]
    assert t.loc[2, "TP"] == 4 and t.loc[2, "FP"] == 0 and t.loc[2, "FP ratio"] == 0
    assert "pooled: SEG" in r.stdout
    # SEG pools every true vesicle: the images' SEG weighted by their vesicles
    r = run("evaluate", "--pred", d / "p/a_labels.tif", d / "p/b_labels.tif",
            "--truth", d / "t/b_m.tif", d / "t/a_m.tif", "-o", d / "all.csv")
    # the default output ends with the same pooled Table 1 (what a vesicle study reports)
    lines = r.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "FRU-Net paper's Table 1 over all 2" in line)
    assert lines[at + 1].split()[:2] == ["SEG", "DET"] and "FP ratio" in lines[at + 1]
    assert float(lines[at + 2].split()[0]) == pytest.approx(t.loc[2, "SEG"], abs=1e-4)
    full = pd.read_csv(d / "all.csv").iloc[:2]
    n = full["Objects (truth)"]
    assert t.loc[2, "SEG"] == pytest.approx((full["SEG"] * n).sum() / n.sum())
    assert t.loc[:1, "SEG"].tolist() == pytest.approx(full["SEG"].tolist())


@pytest.mark.parametrize("args, message", [
    ([], "no files given"),
    (["--pred", "p/a_labels.tif", "p/b_labels.tif", "--truth", "t/a_m.tif"],
     "unpaired files: prediction(s) without ground truth"),
    (["--pred", "p/a_labels.tif", "--truth", "t/a_m.tif", "--iou-threshold", "0"],
     "--iou-threshold must be in (0, 1]"),
    (["--pred", "p/a_labels.tif", "--truth", "t/a_m.tif", "-o", "out.txt"], "must be a .csv"),
    (["--pred", "p/a_labels.tif", "--truth", "t/a_m.tif", "--column", "Size"], "unknown measurement"),
    (["--pred", "p/a_labels.tif", "--truth", "t/a_m.tif", "--connectivity", "6"], "invalid choice"),
    (["--pred", "p/missing.tif", "--truth", "t/a_m.tif"], "missing.tif"),
])
def test_evaluate_bad_input_is_one_line(eval_files, args, message):
    r = run("evaluate", *args, cwd=eval_files)
    assert r.returncode == 2
    err = [line for line in r.stderr.splitlines() if "%|" not in line]
    assert len(err) <= 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_evaluate_goes_on_past_a_bad_pair(eval_files):
    d = eval_files
    tifffile.imwrite(d / "p" / "b_labels.tif", np.zeros((40, 41), np.uint8))
    r = run("evaluate", "--pred", "p/a_labels.tif", "p/b_labels.tif", "--truth", "t/a_m.tif",
            "t/b_m.tif", "-o", "s.csv", cwd=d)
    assert r.returncode == 2
    assert "b_labels.tif: shape (40, 41) differs from ground truth" in r.stderr
    assert "1 of 2 pair(s) failed" in r.stderr
    assert list(pd.read_csv(d / "s.csv")["Image"]) == ["a", "mean"]


@pytest.fixture()
def two_samples(tmp_path):
    """Two folders of result tables: sample B's vesicles are larger; a filtered table and a
    border object that must not count."""
    from emseg.measure import measure
    from emseg.synthetic import tem_vesicles
    for name, d, seed in (("A", (30, 90), 0), ("B", (80, 180), 10)):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(2):
            t = tem_vesicles((384, 384), pixel_size=1.56, diameter_nm=d, n_vesicles=25,
                             seed=seed + i, debris=0.0)
            table = measure(t.labels, pixel_size=1.56)
            table.to_csv(folder / f"img{i}_results.csv", index=False)
    # image 0 of A was filtered: its kept rows replace its results table
    t = pd.read_csv(tmp_path / "A" / "img0_results.csv")
    t["Kept"] = np.arange(len(t)) % 2 == 0
    t.to_csv(tmp_path / "A" / "img0_filtered.csv", index=False)
    return tmp_path


def test_compare_two_samples(two_samples):
    d = two_samples
    before = {p: p.read_bytes() for p in d.rglob("*.csv")}
    r = run("compare", d / "A", d / "B", "--name", "HEK", "--name", "MEF", "-o", d / "out")
    assert r.returncode == 0, r.stderr
    assert "HEK vs MEF" in r.stdout and "Wilcoxon rank-sum p = " in r.stdout
    s = pd.read_csv(d / "out" / "compare_summary.csv")
    assert s.Column.tolist() == ["ECD"] * 2 + ["Circ."] * 2 + ["Round"] * 2
    # the counts: border objects out, and only the filtered table's kept rows for image 0
    a0 = pd.read_csv(d / "A" / "img0_filtered.csv")
    a1 = pd.read_csv(d / "A" / "img1_results.csv")
    n_a = int((a0.Kept & ~a0.Border).sum() + (~a1.Border).sum())
    assert s.loc[0, "n"] == n_a and s.loc[0, "Sample"] == "HEK"
    assert s.loc[0, "CI low"] <= s.loc[0, "Median"] <= s.loc[0, "CI high"]
    t = pd.read_csv(d / "out" / "compare_tests.csv")
    ecd = t[t.Column == "ECD"].iloc[0]
    assert ecd["Median difference"] > 20 and ecd["p Wilcoxon"] < 1e-4
    for png in ("compare_ECD.png", "compare_Circ.png", "compare_Round.png"):
        assert (d / "out" / png).stat().st_size > 10000
    assert {p: p.read_bytes() for p in before} == before       # the tables are untouched
    # one column, a single table per sample
    r = run("compare", d / "A" / "img1_results.csv", d / "B" / "img0_results.csv", "--column",
            "MinFeret", "-o", d / "one")
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(d / "one" / "compare_summary.csv").Column.unique().tolist() == ["MinFeret"]


@pytest.mark.parametrize("args, message", [
    (["A"], "at least two samples"),
    (["A", "B", "--name", "x"], "--name given 1 time(s) for 2 samples"),
    (["A", "B", "--column", "Size"], "no column 'Size'"),
    (["A", "missing"], "missing: no such file or folder"),
    (["A", "B", "--confidence", "2"], "--confidence must be in (0, 1)"),
    (["A", "A"], "samples share a name"),
])
def test_compare_bad_input_is_one_line(two_samples, args, message):
    r = run("compare", *args, "-o", "out", cwd=two_samples)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (two_samples / "out").exists()
