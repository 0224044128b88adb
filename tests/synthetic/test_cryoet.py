"""Synthetic cryo-ET synapse tomograms: exact labels, centres and radii; the imaging physics
(missing wedge, dark membranes) is really there."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from emseg.synthetic import ctf_1d, synapse_tomogram


@pytest.fixture(scope="module")
def tomo():
    return synapse_tomogram((48, 96, 96), voxel_size=2.2, n_vesicles=25, seed=4)


def test_labels_centres_and_radii_are_exact(tomo):
    labels, n = tomo.labels, len(tomo.radii)
    assert tomo.volume.shape == labels.shape == (48, 96, 96) and tomo.volume.dtype == np.float32
    assert labels.dtype == np.int32 and labels.max() == n > 5
    assert np.all((tomo.radii >= 15.0) & (tomo.radii <= 30.0))
    ids = np.arange(1, n + 1)
    counts = ndi.sum(np.ones_like(labels), labels, ids)
    inside = [i for i, (c, r) in enumerate(zip(tomo.centres, tomo.radii))
              if np.all(c - r / 2.2 > 1) and np.all(c + r / 2.2 < np.array(labels.shape) - 2)]
    assert inside                                      # some vesicles lie wholly inside
    expected = 4 / 3 * np.pi * (tomo.radii / 2.2) ** 3
    np.testing.assert_allclose(counts[inside], expected[inside], rtol=0.08)
    com = np.array(ndi.center_of_mass(labels > 0, labels, ids))
    np.testing.assert_allclose(com[inside], tomo.centres[inside], atol=0.15)
    # vesicles do not overlap: every label is one connected piece
    for i in inside:
        assert ndi.label(labels == i + 1)[1] == 1


def test_membranes_are_dark_and_the_lumen_is_not(tomo):
    labels, vol = tomo.labels, tomo.volume
    shell = (labels > 0) & ~ndi.binary_erosion(labels > 0, iterations=2)
    lumen = ndi.binary_erosion(labels > 0, iterations=4)
    assert vol[shell].mean() < vol[lumen].mean() - 0.2
    assert abs(float(vol.mean())) < 1e-3 and abs(float(vol.std()) - 1) < 1e-3


def test_the_missing_wedge_is_empty():
    t = synapse_tomogram((32, 64, 64), n_vesicles=10, tilt_deg=60, snr=1.0, seed=2)
    power = np.abs(np.fft.fftn(t.volume)) ** 2
    kz, _, kx = np.meshgrid(*(np.fft.fftfreq(n) for n in t.volume.shape), indexing="ij")
    angle = np.degrees(np.arctan2(np.abs(kz), np.abs(kx)))
    wedge = (angle > 65) & (np.abs(kz) > 0.05)
    seen = (angle < 55) & (np.hypot(kz, kx) > 0.05)
    assert power[wedge].mean() < 1e-6 * power[seen].mean()


def test_reproducible_and_seeds_differ():
    a = synapse_tomogram((24, 48, 48), n_vesicles=5, seed=7)
    b = synapse_tomogram((24, 48, 48), n_vesicles=5, seed=7)
    c = synapse_tomogram((24, 48, 48), n_vesicles=5, seed=8)
    np.testing.assert_array_equal(a.volume, b.volume)
    assert not np.array_equal(a.labels, c.labels)


def test_ctf_makes_dense_matter_dark_at_low_frequency():
    assert ctf_1d(0.0) < 0 and ctf_1d(0.05) < ctf_1d(0.0)     # 1/20 nm: strongly negative
    k = np.linspace(0, 0.5, 500)
    assert np.any(np.diff(np.sign(ctf_1d(k))) != 0)             # it oscillates (fringes)


@pytest.mark.parametrize("kwargs, message", [
    ({"shape": (8, 64, 64)}, "shape"), ({"voxel_size": 0.01}, "voxel_size"),
    ({"n_vesicles": -1}, "n_vesicles"), ({"diameter_nm": (60, 30)}, "diameter_nm"),
    ({"tilt_deg": 0}, "tilt_deg"), ({"snr": 0}, "snr"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synapse_tomogram(**{"shape": (16, 32, 32), **kwargs})
