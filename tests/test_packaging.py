"""What a user gets from ``pip install ./python`` (not editable): the wheel carries the default
models and the demo runs from it, outside the source checkout."""

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # no build isolation: the build uses this environment's setuptools, no download
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--quiet", "-w", str(out), str(REPO / "python")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    wheels = list(out.glob("emseg-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_ships_the_default_models_and_samples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for model in ("emseg-particles-sem", "emseg-classifier-sem", "emseg-vesicles-cryoet",
                  "emseg-vesicles-tem", "emseg-vesicles-tem-unet"):
        assert f"emseg/bundled_models/{model}/model.yaml" in names
        assert f"emseg/bundled_models/{model}/saved_model/saved_model.pb" in names
    assert "emseg/data/sample_sem.tif" in names
    assert not any("test" in n.split("/")[0] for n in names)   # only the package


def test_demo_runs_from_a_non_editable_install_in_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    # the wheel itself, installed into the fresh venv ...
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                        str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # ... its dependencies (TensorFlow & co.) borrowed from this environment, whose editable
    # emseg stays invisible (a path in a .pth file does not run that folder's .pth files)
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import emseg; print(emseg.__file__)"],
                           capture_output=True, text=True, cwd=work, timeout=120)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr
    r = subprocess.run([str(python), "-m", "emseg", "demo", "--output", "demo"],
                       capture_output=True, text=True, cwd=work, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "with emseg-particles-sem:" in r.stdout
    assert (work / "demo" / "sample_sem_results.csv").exists()
    r = subprocess.run([str(python), "-m", "emseg", "models"], capture_output=True, text=True,
                       cwd=work, timeout=120)
    assert f"  {site / 'emseg' / 'bundled_models' / 'emseg-particles-sem'}\n" in r.stdout, r.stdout
