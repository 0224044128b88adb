"""Radial profiles and the membrane read off them, on volumes with known answers."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from scipy.special import erf

from emseg.measure import RadialProfile, fit_membrane, label_edge_offsets, radial_profile
from emseg.measure.radial import distance_grid


def shell_volume(shape, centre, radius, thickness, spacing, blur_nm, noise=0.0, seed=0):
    """A dark shell (outer radius ``radius``, ``thickness`` nm) blurred by a Gaussian of
    ``blur_nm``, computed analytically from the exact sub-voxel centre: grey 1 outside, 0 at the
    membrane, lumen 1."""
    d = distance_grid(shape, centre, spacing)
    s = blur_nm * np.sqrt(2)
    dark = 0.5 * (erf((d - (radius - thickness)) / s) - erf((d - radius) / s))
    rng = np.random.default_rng(seed)
    return (1.0 - dark + rng.normal(0, noise, shape)).astype(np.float32)


def test_profile_of_the_distance_itself_is_the_distance():
    spacing = (1.5, 1.0, 1.0)
    centre = (10.3, 12.6, 11.2)
    vol = distance_grid((24, 26, 24), centre, spacing).astype(np.float32)
    p = radial_profile(vol, centre, voxel_size=spacing, max_radius_nm=10)
    sel = (p.distance >= 2) & (p.distance <= 9.5)
    assert np.abs(p.mean[sel] - p.distance[sel]).max() < 0.05
    assert np.isclose(p.distance[1] - p.distance[0], 0.25)       # a quarter of the finest voxel
    flat = radial_profile(np.full((20, 20, 20), 3.0), (9.5, 9.5, 9.5), voxel_size=1.0,
                          max_radius_nm=8, bin_nm=0.5)
    assert np.allclose(flat.mean[np.isfinite(flat.mean)], 3.0)
    assert flat.weight.sum() == pytest.approx(4 / 3 * np.pi * 8 ** 3, rel=0.03)


@pytest.mark.parametrize("blur", [0.8, 1.5, 2.2])
def test_steepest_edge_is_the_membranes_edge_whatever_the_blur(blur):
    spacing = (2.0, 2.0, 2.0)
    centre = (15.37, 15.81, 14.62)
    r, t = 19.0, 5.0
    vol = shell_volume((32, 32, 32), centre, r, t, spacing, blur, noise=0.05)
    p = radial_profile(vol, centre, voxel_size=spacing, max_radius_nm=30)
    fit = fit_membrane(p, 17.0)
    assert fit.valid
    # sub-voxel (2 nm voxels); at 2.2 nm of blur the membrane's two edges begin to merge
    assert fit.radius == pytest.approx(r, abs=0.5 if blur > 2 else 0.2)
    assert fit.membrane_centre == pytest.approx(r - t / 2, abs=0.4)
    assert fit.thickness == pytest.approx(t, abs=1.0)
    assert fit.membrane_intensity < 0.5 < fit.lumen_intensity and fit.outside_intensity > 0.8
    # CryoVesNet's rule puts the edge about one blur width further out
    cvn = fit_membrane(p, 17.0, edge="second_derivative")
    assert cvn.radius - fit.radius > 0.6 * blur


def test_offset_moves_the_radius_and_thickness_and_stays_inside_the_membrane_range():
    spacing = (2.0, 2.0, 2.0)
    centre = (15.4, 15.2, 14.7)
    vol = shell_volume((32, 32, 32), centre, 19.0, 5.0, spacing, 1.0, noise=0.02)
    p = radial_profile(vol, centre, voxel_size=spacing, max_radius_nm=30)
    plain = fit_membrane(p, 17.0)
    moved = fit_membrane(p, 17.0, offset_nm=0.8)
    assert moved.radius == pytest.approx(plain.radius + 0.8, abs=1e-9)
    assert moved.thickness == pytest.approx(plain.thickness + 1.6, abs=1e-9)
    assert moved.membrane_centre == plain.membrane_centre
    # never inside the membrane's centre nor beyond the fringe
    assert fit_membrane(p, 17.0, offset_nm=-50).radius == pytest.approx(plain.membrane_centre)
    assert fit_membrane(p, 17.0, offset_nm=50).radius == pytest.approx(plain.fringe)
    with pytest.raises(ValueError, match="offset_nm"):
        fit_membrane(p, 17.0, offset_nm=float("nan"))


@pytest.mark.parametrize("beyond", [0.0, 1.0])
def test_label_edge_offsets_measure_where_labels_put_the_edge(beyond):
    """Shells whose labels reach ``beyond`` nm past the membrane's edge: the offsets say so."""
    spacing = (1.5, 1.5, 1.5)
    shape = (48, 96, 48)
    centres = [(23.6, 23.3, 23.8), (24.2, 70.4, 23.1), (23.0, 47.0, 0.0)]   # the last is cut
    radii = [17.0, 21.0, 15.0]
    vol = np.ones(shape, np.float32)
    labels = np.zeros(shape, np.int32)
    rng = np.random.default_rng(3)
    for k, (c, r) in enumerate(zip(centres, radii), start=1):
        vol += shell_volume(shape, c, r, 4.5, spacing, 1.0) - 1
        labels[distance_grid(shape, c, spacing) <= r + beyond] = k
    vol += rng.normal(0, 0.05, shape).astype(np.float32)
    ids, offsets = label_edge_offsets(vol, labels, voxel_size=spacing)
    assert list(ids) == [1, 2]                     # the vesicle cut by a face is left out
    assert np.abs(offsets - beyond).max() < 0.25   # nm, at 1.5 nm voxels
    with pytest.raises(ValueError, match="labels shape"):
        label_edge_offsets(vol, labels[1:], voxel_size=spacing)
    with pytest.raises(ValueError, match="edge"):
        label_edge_offsets(vol, labels, voxel_size=spacing, edge="outer")


def test_fit_finds_no_membrane_where_there_is_none():
    rng = np.random.default_rng(1)
    vol = rng.normal(0, 1, (30, 30, 30)).astype(np.float32)
    vol = ndi.gaussian_filter(vol, 1.0)
    p = radial_profile(vol, (15, 15, 15), voxel_size=2.0, max_radius_nm=28)
    bright = radial_profile(2 - shell_volume((30, 30, 30), (15, 15, 15), 18, 5, (2.0,) * 3, 1.0),
                            (15, 15, 15), voxel_size=2.0, max_radius_nm=28)
    # a bright shell is no membrane (membranes are dark)
    assert not fit_membrane(bright, 17.0).valid
    fits = [fit_membrane(p, 17.0)]
    assert all(np.isfinite(f.membrane_centre) or not f.valid for f in fits)


def test_bad_arguments_name_themselves():
    vol = np.zeros((10, 10, 10), np.float32)
    with pytest.raises(ValueError, match="centre"):
        radial_profile(vol, (1, 2), voxel_size=1.0, max_radius_nm=3)
    with pytest.raises(ValueError, match="farther than max_radius_nm"):
        radial_profile(vol, (40, 5, 5), voxel_size=1.0, max_radius_nm=3)
    with pytest.raises(ValueError, match="max_radius_nm"):
        radial_profile(vol, (5, 5, 5), voxel_size=1.0, max_radius_nm=-1)
    with pytest.raises(ValueError, match="bin_nm"):
        radial_profile(vol, (5, 5, 5), voxel_size=1.0, max_radius_nm=3, bin_nm=0)
    with pytest.raises(ValueError, match="voxel_size"):
        radial_profile(vol, (5, 5, 5), voxel_size=-2.0, max_radius_nm=3)
    with pytest.raises(ValueError, match="volume"):
        radial_profile(vol[0], (5, 5, 5), voxel_size=1.0, max_radius_nm=3)
    p = radial_profile(vol, (5, 5, 5), voxel_size=1.0, max_radius_nm=4)
    with pytest.raises(TypeError, match="RadialProfile"):
        fit_membrane(np.zeros(5), 3.0)
    with pytest.raises(ValueError, match="radius_guess_nm"):
        fit_membrane(p, 0)
    with pytest.raises(ValueError, match="edge"):
        fit_membrane(p, 3.0, edge="middle")
    with pytest.raises(ValueError, match="search"):
        fit_membrane(p, 3.0, search=(1.5, 0.5))
    assert isinstance(p, RadialProfile)
