"""The package's shape: which parts may import what, and module sizes."""

import re
from pathlib import Path

import emseg

ROOT = Path(emseg.__file__).parent


def test_only_the_models_package_imports_tensorflow():
    pattern = re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b", re.M)
    offenders = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py")
                 if pattern.search(p.read_text()) and p.relative_to(ROOT).parts[0] != "models"]
    assert offenders == []


def test_tensorflow_is_imported_only_through_the_quiet_import():
    # models/_tf.py keeps TensorFlow's start-up notices off stderr; a direct import elsewhere
    # would print them again whenever that module happens to load TensorFlow first
    pattern = re.compile(r"^\s*import\s+(tensorflow|keras)\b", re.M)
    direct = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py")
              if pattern.search(p.read_text())]
    assert direct == ["models/_tf.py"]


def test_algorithm_packages_touch_no_files():
    # io is the only place that reads or writes: the algorithm packages never import it
    pattern = re.compile(r"^\s*(from\s+(\.\.|emseg\.)io\b|from\s+\.\.\s+import\s+io\b|"
                         r"import\s+(tifffile|mrcfile)\b|from\s+(tifffile|mrcfile)\b)", re.M)
    packages = ("segment", "measure", "metrics", "filter", "synthetic")
    offenders = [p.relative_to(ROOT).as_posix() for pkg in packages
                 for p in (ROOT / pkg).rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
    assert pattern.search("    from ..io import read_image\n")      # the pattern does match


def test_no_module_is_over_500_lines():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for p in ROOT.rglob("*.py")}
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > 500} == {}
