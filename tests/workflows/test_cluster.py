"""Batches as Dask tasks: a local cluster and a scheduler with two workers on loopback, as a
user runs them on a cluster; results equal the serial run's byte for byte, a bad file is
reported while the others finish, a killed worker loses nothing, Ctrl-C stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from emseg.io import read_image, write_image
from emseg.synthetic import particle_labels, render_micrograph

N_IMAGES = 6


def run(*args, timeout=600):
    # a scheduler that does not answer is given up after 3 s (Dask's setting), not 30
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}
    return subprocess.run([sys.executable, "-m", "emseg", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def emseg_process(*args):
    return subprocess.Popen([sys.executable, "-m", "emseg", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Micrographs of different sizes (tasks of different lengths), one damaged file, and
    their label images."""
    src = tmp_path_factory.mktemp("batch")
    for i in range(N_IMAGES):
        shape = (160 + 40 * (i % 3), 200)
        lab = particle_labels(shape, 14, radius=(5, 10), seed=20 + i)
        write_image(src / f"img{i}.tif", render_micrograph(lab, seed=i), 5.0)
        write_image(src / f"img{i}_labels.tif", lab.astype(np.uint16), 5.0)
    (src / "broken.tif").write_bytes(b"II*\x00 not a TIFF")
    return src


def images(src):
    return [src / f"img{i}.tif" for i in range(N_IMAGES)]


def visible_files(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def assert_same_file(a, b):
    """CSVs byte for byte, label and probability images value for value."""
    if a.suffix == ".csv":
        assert a.read_bytes() == b.read_bytes(), a
    elif a.suffix == ".tif":
        np.testing.assert_array_equal(read_image(a)[0], read_image(b)[0], err_msg=str(a))


def assert_same_outputs(a, b):
    assert visible_files(a) == visible_files(b)
    for name in visible_files(a):
        assert_same_file(a / name, b / name)


@pytest.fixture(scope="module")
def serial(batch, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    r = run("segment", *images(batch), "--model", tiny_model.path, "-o", out)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_segment_filter_measure_on_a_local_cluster_equal_the_serial_run(batch, tiny_model,
                                                                         serial, tmp_path):
    out = tmp_path / "dask"
    r = run("segment", *images(batch)[:3], batch / "broken.tif", *images(batch)[3:],
            "--model", tiny_model.path, "-o", out, "--dask", "--dask-workers", "2")
    # the damaged file is reported on one line, the others finish
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "broken.tif: truncated or damaged" in r.stderr and "1 of 7 image(s) failed" in r.stderr
    assert sum(line.endswith("_results.csv") for line in r.stdout.splitlines()) == N_IMAGES
    assert_same_outputs(out, serial)

    # filter: pairs of image and labels, classifier none (rules), serial vs Dask
    pairs = [p for i in range(N_IMAGES) for p in (batch / f"img{i}.tif",
                                                   batch / f"img{i}_labels.tif")]
    rules = ["--classifier", "none", "--range", "Area=100:", "--exclude-border"]
    r1 = run("filter", *pairs, *rules, "-o", tmp_path / "f1")
    r2 = run("filter", *pairs, *rules, "-o", tmp_path / "f2", "--dask", "--dask-workers", "2")
    assert r1.returncode == r2.returncode == 0, r2.stderr[-3000:]
    assert len(visible_files(tmp_path / "f1")) == 3 * N_IMAGES
    assert_same_outputs(tmp_path / "f1", tmp_path / "f2")

    # measure, one CSV per file and one combined table
    labels = [batch / f"img{i}_labels.tif" for i in range(N_IMAGES)]
    for target in ("m", "all.csv"):
        r1 = run("measure", *labels, "-o", tmp_path / "serial" / target)
        r2 = run("measure", *labels, "-o", tmp_path / "dask" / target, "--dask=local")
        assert r1.returncode == r2.returncode == 0, r2.stderr[-3000:]
        assert r1.stdout.count("Summary of 6 files") == 1
        assert sorted(r1.stdout.splitlines()) == sorted(
            r2.stdout.replace(str(tmp_path / "dask"), str(tmp_path / "serial")).splitlines())
    assert_same_outputs(tmp_path / "serial" / "m", tmp_path / "dask" / "m")
    assert ((tmp_path / "serial" / "all.csv").read_bytes()
            == (tmp_path / "dask" / "all.csv").read_bytes())


def test_python_api_loads_the_model_once_per_worker(batch, tiny_model, serial, tmp_path):
    from emseg.models.saved import load_predictor
    from emseg.workflows import dask_client, run_jobs, segment_to_folder

    model = load_predictor(tiny_model.path, lazy=True)
    calls = [((path, tmp_path, model), {}) for path in images(batch)]
    done = []
    with dask_client(workers=2) as client:
        outcomes = run_jobs(segment_to_folder, calls, client=client,
                            on_done=lambda i, o: done.append(i))

        def loads():
            from emseg.models import saved
            return sorted(p.loads for p in saved._SHARED.values())
        per_worker = client.run(loads)
    assert sorted(done) == list(range(N_IMAGES))
    assert [o.path for o in outcomes] == images(batch)
    assert all(o.error is None and len(o.written) == 3 for o in outcomes)
    # every worker that ran a file loaded the model exactly once, for all its files
    assert len(per_worker) == 2
    assert all(v in ([], [1]) for v in per_worker.values()) and [1] in per_worker.values()
    assert model.loads == 0        # this process never loaded it
    assert_same_outputs(tmp_path, serial)
    # serially, the same function, no client
    outcomes = run_jobs(segment_to_folder, [((batch / "broken.tif", tmp_path / "s", model), {})])
    assert "truncated or damaged" in outcomes[0].error and not (tmp_path / "s").exists()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_existing_scheduler_with_a_worker_killed_mid_batch(batch, tiny_model, serial, tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes, as on a cluster; one worker is
    killed while it runs a file: Dask gives the file to the other, nothing is lost and no
    output is half-written."""
    from distributed import Client

    import shutil

    more = [shutil.copy(p, tmp_path / f"more{i}.tif") for i, p in enumerate(images(batch))]
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]
    try:
        for i in range(2):
            procs.append(subprocess.Popen([*dask, "worker", address, "--nthreads", "1",
                                           "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                                          **quiet))
        pids = {f"w{i}": p.pid for i, p in enumerate(procs[1:])}
        with Client(address, timeout="30s") as watcher:
            wait_for(lambda: len(watcher.scheduler_info()["workers"]) == 2, 60, "two workers")
            out = tmp_path / "out"
            job = emseg_process("segment", *images(batch), *more, "--model", tiny_model.path,
                                "-o", out, "--dask", address)
            # kill a worker while it holds a file, once the batch is under way
            wait_for(lambda: out.exists() and any(out.glob("*_results.csv")), 300,
                     "the first result")
            victim = None

            def busy_worker():
                nonlocal victim
                busy = [w for w, tasks in watcher.processing().items() if tasks]
                info = watcher.scheduler_info()["workers"]
                victim = next((pids[info[w]["name"]] for w in busy if info[w]["name"] in pids),
                              None)
                return victim is not None or job.poll() is not None
            wait_for(busy_worker, 120, "a busy worker")
            assert victim is not None, "the batch ended before a worker could be killed"
            os.kill(victim, signal.SIGKILL)
            stdout, stderr = job.communicate(timeout=600)
        assert job.returncode == 0, stderr[-3000:]
        assert stdout.count("_results.csv") == 2 * N_IMAGES
        assert len(visible_files(out)) == 2 * len(visible_files(serial))
        for name in visible_files(serial):
            assert_same_file(out / name, serial / name)
            assert_same_file(out / name.replace("img", "more"), serial / name)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_ctrl_c_stops_the_batch_cleanly(batch, tiny_model, tmp_path):
    import shutil

    many = []
    for k in range(10):         # enough files that the batch is still running at Ctrl-C
        for i, path in enumerate(images(batch)):
            many.append(shutil.copy(path, tmp_path / f"copy{k}_{i}.tif"))
    out = tmp_path / "out"
    job = emseg_process("segment", *many, "--model", tiny_model.path, "-o", out, "--dask",
                        "--dask-workers", "1")
    wait_for(lambda: out.exists() and any(out.glob("*_results.csv")), 300, "the first result")
    job.send_signal(signal.SIGINT)
    stdout, stderr = job.communicate(timeout=120)
    assert job.returncode == 130, stderr[-3000:]
    assert stderr.strip().splitlines()[-1].endswith("emseg: interrupted")
    assert "Traceback" not in stderr
    # what was written is whole: every table there is complete and reads back
    from emseg.io import read_table
    written = visible_files(out)
    assert 0 < len(written) < 3 * len(many)
    for name in written:
        if name.endswith(".csv"):
            assert len(read_table(out / name)) > 0


def test_bad_dask_options_are_one_line(batch, tmp_path):
    for args, message in [
        (["--dask", str(batch / "img0.tif")], "--dask takes a scheduler address"),
        (["--dask-workers", "2"], "--dask-workers needs --dask without an address"),
        (["--dask", "--dask-workers", "0"], "--dask-workers must be at least 1"),
        (["--dask", f"tcp://127.0.0.1:{free_port()}"], "no Dask scheduler answers at"),
    ]:
        r = run("measure", batch / "img0_labels.tif", "-o", tmp_path / "o", *args, timeout=120)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr[-2000:])
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "o").exists()
