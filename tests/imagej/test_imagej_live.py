"""emseg.measure against ImageJ itself (ij.jar through JPype) on edge cases."""

import numpy as np
import pytest

from emseg.imagej import imagej_measure
from emseg.measure import measure
from emseg.synthetic import particle_labels, render_micrograph


def edge_cases():
    """Named label images covering ImageJ's special cases."""
    cases = {}
    a = np.zeros((9, 9), np.uint16)
    a[4, 4] = 1
    cases["single pixel"] = a
    a = np.zeros((9, 12), np.uint16)
    a[3, 2:9] = 1
    a[5:8, 10] = 2
    cases["1-pixel lines both ways"] = a
    a = np.zeros((14, 14), np.uint16)
    for i in range(10):
        a[2 + i, 1 + i] = 1      # falling diagonal
        a[11 - i, 3 + i] = 2     # rising diagonal
    cases["diagonal lines"] = a
    yy, xx = np.mgrid[:41, :41]
    r = np.hypot(yy - 20, xx - 20)
    ring = ((r <= 18) & (r > 8)).astype(np.uint16)
    ring[19:22, 19:22] = 2  # island inside the hole
    cases["ring with hole and island"] = ring
    a = np.zeros((30, 30), np.uint16)
    a[3:27, 3:9] = 1
    a[3:27, 21:27] = 1
    a[21:27, 3:27] = 1          # a U
    a[10:14, 12:18] = 3
    a[12, 11] = a[9, 15] = 3
    cases["concave shapes"] = a
    a = np.zeros((20, 25), np.uint16)
    a[0:4, 0:6] = 5
    a[15:20, 20:25] = 6
    a[0, 10:14] = 7
    a[8:13, 24] = 8
    cases["particles at the border"] = a
    a = np.zeros((20, 20), np.uint32)
    a[2:6, 2:6] = 3
    a[2:6, 6:9] = 17           # touching label
    a[10:15, 3:8] = 200
    a[12:18, 12:16] = 65000
    a[0, 19] = 3               # second piece of label 3
    cases["non-contiguous labels"] = a
    lab = particle_labels((160, 200), 80, radius=(3, 11), seed=7)
    cases["synthetic agglomerates"] = lab
    return cases


COLUMNS = ["Label", "Area", "X", "Y", "Perim.", "BX", "BY", "Width", "Height", "Major", "Minor",
           "Angle", "Circ.", "Feret", "FeretX", "FeretY", "FeretAngle", "MinFeret", "AR",
           "Round", "Solidity", "Mean", "StdDev", "Min", "Max", "Median"]


def assert_same(ours, theirs, what):
    assert len(ours) == len(theirs), what
    for col in COLUMNS:
        a = ours[col].to_numpy(float)
        b = theirs[col].to_numpy(float)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        close = np.isclose(a, b, rtol=1e-9, atol=1e-12)
        bad = ~(same | close)
        assert not bad.any(), (f"{what}: column {col}, rows {np.flatnonzero(bad)[:5]}: "
                               f"ours {a[bad][:5]} ImageJ {b[bad][:5]}")


@pytest.mark.parametrize("name", list(edge_cases()))
@pytest.mark.parametrize("pixel_size", [None, 7.344, (2.0, 3.0)],
                         ids=["pixels", "calibrated", "anisotropic"])
def test_matches_imagej(ij, name, pixel_size):
    labels = edge_cases()[name]
    image = render_micrograph(labels, seed=1).astype(np.uint16) * 3 + 1000
    ours = measure(labels, image, pixel_size=pixel_size)
    theirs = imagej_measure(labels, image, pixel_size=pixel_size)
    assert len(theirs) > 0
    assert_same(ours, theirs, name)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_intensity_types_match_imagej(ij, dtype):
    labels = particle_labels((60, 60), 12, radius=(3, 8), seed=3)
    image = np.random.default_rng(0).normal(100, 30, size=labels.shape).clip(0, 255).astype(dtype)
    assert_same(measure(labels, image), imagej_measure(labels, image), f"{dtype} image")


def test_a_process_that_started_imagej_exits_quietly(ij):
    """scyjava's exit hook failed on str thread names (convertStrings): a traceback at every
    exit; EMSeg's own hook shuts the JVM down cleanly."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", "from emseg.imagej import start_imagej; "
                          "ij = start_imagej(); print(ij.IJ.getVersion())"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith("1.5")
    assert "Traceback" not in run.stderr and "Exception" not in run.stderr, run.stderr
