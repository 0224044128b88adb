"""Vesicles as refined spheres: known centres and radii, outliers, overlaps, drawing."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from emseg.metrics import vesicle_scores
from emseg.segment import draw_spheres, mahalanobis_pvalues, refine_sphere, refine_spheres
from emseg.segment.spheres import initial_spheres, resolve_overlaps
from emseg.synthetic import synapse_tomogram

VOXEL = 2.2


@pytest.fixture(scope="module")
def tomo():
    return synapse_tomogram((56, 104, 104), voxel_size=VOXEL, n_vesicles=30, seed=515, snr=0.4)


def degraded(labels, shift=1):
    """A segmentation as networks give it: off by a voxel in x, shrunk along z."""
    lab = np.roll(labels, shift, axis=2)
    shrink = np.zeros((3, 3, 3), bool)
    shrink[:, 1, 1] = True
    out = np.zeros_like(lab)
    for k in range(1, int(lab.max()) + 1):
        out[ndi.binary_erosion(lab == k, structure=shrink)] = k
    return out


def test_one_vesicle_is_recentred_and_its_radius_found_between_voxels(tomo):
    shape = np.asarray(tomo.volume.shape)
    inner = [i for i, (c, r) in enumerate(zip(tomo.centres, tomo.radii))
             if np.all(c - r / VOXEL - 2 > 0) and np.all(c + r / VOXEL + 2 < shape - 1)]
    assert len(inner) >= 3
    errors = []
    for i in inner[:4]:
        true = tomo.centres[i]
        start = true + np.array([0.6, -0.9, 0.8])       # 1.35 voxels off
        c, fit, profile, moves = refine_sphere(tomo.volume, start, 0.8 * tomo.radii[i],
                                               voxel_size=VOXEL)
        assert fit.valid and moves >= 3
        errors.append((np.linalg.norm((c - true) * VOXEL), fit.radius - tomo.radii[i]))
    errors = np.asarray(errors)
    assert errors[:, 0].max() < 0.5                      # nm: from 3 nm off
    assert np.abs(errors[:, 1]).max() < 1.2               # nm, radii 15-30 nm


def test_the_models_edge_offset_moves_every_radius_by_it(tomo):
    seg = degraded(tomo.labels)
    _, plain = refine_spheres(tomo.volume, seg, voxel_size=VOXEL, growth=0)
    _, moved = refine_spheres(tomo.volume, seg, voxel_size=VOXEL, growth=0, edge_offset_nm=0.8)
    inner = ~plain.border & ~moved.border
    assert np.array_equal(plain.source, moved.source) and inner.sum() >= 10
    # the radius is read 0.8 nm further out; the centres barely move (the correlation box
    # grows with the radius)
    shift = moved.features[inner, 0] - plain.features[inner, 0]
    assert np.median(shift) == pytest.approx(0.8, abs=0.05)
    assert np.median(np.linalg.norm((moved.centres - plain.centres)[inner], axis=1)) < 0.1
    with pytest.raises(ValueError, match="edge_offset_nm"):
        refine_spheres(tomo.volume, seg, voxel_size=VOXEL, edge_offset_nm=float("inf"))


def test_refinement_improves_a_degraded_segmentation(tomo):
    seg = degraded(tomo.labels)
    # a false segment where there is no membrane: a ball of background, away from the faces
    free = ndi.distance_transform_edt(np.pad(tomo.labels == 0, 1))[1:-1, 1:-1, 1:-1]
    z, y, x = np.unravel_index(int(np.argmax(free)), free.shape)
    zz, yy, xx = np.indices(seg.shape)
    false = ((zz - z) ** 2 + (yy - y) ** 2 + (xx - x) ** 2 <= 16) & (seg == 0)
    seg[false] = seg.max() + 1
    given = seg.copy()
    refined, spheres = refine_spheres(tomo.volume, seg, voxel_size=VOXEL, workers=2)
    assert np.array_equal(seg, given)                    # the input is not touched ...
    again, _ = refine_spheres(tomo.volume, given, voxel_size=VOXEL, overwrite_labels=True)
    assert again is given and np.array_equal(again, refined)   # ... unless asked
    assert refined.dtype == np.int32 and refined.max() == len(spheres.radii)
    assert spheres.removed == {int(seg.max()): "no membrane"}
    before = vesicle_scores(seg, tomo.labels, voxel_size=VOXEL)
    after = vesicle_scores(refined, tomo.labels, voxel_size=VOXEL)
    assert after["FP"] == 0 and after["TP"] == before["TP"]
    assert after["Dice"] > before["Dice"] + 0.01, (before, after)
    assert after["Delta_c"] < before["Delta_c"]
    # the vesicles inside the tomogram: their sphere's diameter against the true one, and the
    # segments' equivalent diameter before (cut vesicles keep their segment's voxels)
    inner = ~spheres.border
    true_d = 2 * tomo.radii[spheres.source[inner] - 1]
    counts = np.bincount(seg.ravel(), minlength=int(seg.max()) + 1)
    seg_d = np.cbrt(6 * counts[spheres.source[inner]] * VOXEL ** 3 / np.pi)
    ref_d = 2 * spheres.radii[inner]
    err_after = np.mean(1 - np.minimum(ref_d, true_d) / np.maximum(ref_d, true_d))
    err_before = np.mean(1 - np.minimum(seg_d, true_d) / np.maximum(seg_d, true_d))
    assert err_after < 0.05 and err_after < err_before, (err_before, err_after)
    centre_err = np.linalg.norm((spheres.centres[inner] - tomo.centres[spheres.source[inner] - 1])
                                * VOXEL, axis=1)
    assert np.median(centre_err) < 0.3 and centre_err.mean() < 1.0    # segments: 2.2 nm off
    # the table's ingredients: one row per sphere, sources, features, flags
    n = len(spheres.radii)
    assert spheres.features.shape == (n, 5) and len(spheres.profiles) == len(spheres.fits) == n
    assert set(spheres.source) <= set(range(1, int(seg.max())))
    assert inner.sum() >= 5
    assert np.all(spheres.features[inner, 2] < spheres.features[inner, 3])   # dark membranes
    assert np.all(np.isfinite(spheres.pvalue[inner]))
    assert (spheres.pvalue < 0.3).any()                  # flagged ...
    assert len(spheres.removed) == 1                     # ... not removed (remove_p = 0)
    # removing the outliers as the paper does removes true vesicles
    _, strict = refine_spheres(tomo.volume, seg, voxel_size=VOXEL, remove_p=0.3, growth=2)
    assert sum(v == "outlier" for v in strict.removed.values()) >= 1
    # a region: vesicles whose centre is outside are dropped
    region = np.zeros(seg.shape, bool)
    region[:, :, :52] = True
    inside, sp2 = refine_spheres(tomo.volume, seg, voxel_size=VOXEL, mask=region)
    assert "outside region" in sp2.removed.values()
    assert np.all(sp2.centres[:, 2] < 52.5)


def test_initial_spheres_are_centroids_and_half_the_longest_box_edge():
    labels = np.zeros((20, 30, 40), np.int32)
    labels[2:6, 3:13, 5:25] = 1          # box 4 x 10 x 20 voxels
    labels[10:15, 20:25, 30:35] = 3
    ids, centres, radii = initial_spheres(labels, (2.0, 1.0, 1.0))
    assert list(ids) == [1, 3]
    assert np.allclose(centres[0], (3.5, 7.5, 14.5)) and np.allclose(centres[1], (12, 22, 32))
    assert np.allclose(radii, (10.0, 5.0))               # nm: max(4 x 2, 10, 20) / 2; 5 x 2 / 2


def test_mahalanobis_p_values_are_uniform_for_gaussian_features_and_robust():
    rng = np.random.default_rng(3)
    x = rng.multivariate_normal([20, 5, -0.5], [[4, 0.5, 0], [0.5, 0.3, 0], [0, 0, 0.01]], 2000)
    d2, p = mahalanobis_pvalues(x)
    assert np.mean(p < 0.3) == pytest.approx(0.3, abs=0.03)   # k degrees of freedom: uniform
    # 5 % gross outliers neither hide themselves nor flag the rest
    bad = x.copy()
    bad[:100] += [15, 4, 1]
    d2, p = mahalanobis_pvalues(bad)
    assert np.all(p[:100] < 1e-6)
    assert np.mean(p[100:] < 0.3) == pytest.approx(0.3, abs=0.04)
    # the reference rows set the scale; rows with NaN get NaN
    bad[5] = np.nan
    d2, p = mahalanobis_pvalues(bad, reference=np.arange(len(bad)) >= 100)
    assert np.isnan(p[5]) and np.all(p[:5] < 1e-6)
    d2, p = mahalanobis_pvalues(x[:3])                 # too few to estimate a covariance
    assert np.all(p == 1.0)
    with pytest.raises(ValueError, match="features"):
        mahalanobis_pvalues(np.zeros(4))
    with pytest.raises(ValueError, match="reference"):
        mahalanobis_pvalues(x, reference=np.ones(3, bool))


def test_overlapping_spheres_shrink_until_they_touch():
    centres = np.array([[10, 10, 10], [10, 10, 20], [10, 10, 40.0]])   # voxels
    radii = np.array([12.0, 12.0, 5.0])                                # nm, 2 nm voxels
    out = resolve_overlaps(centres, radii, 2.0)
    assert np.allclose(out, [10.0, 10.0, 5.0])     # 20 nm apart: 4 nm overlap, 2 nm each
    chain = resolve_overlaps(np.array([[0, 0, 0], [0, 0, 10], [0, 0, 20.0]]), [12, 12, 12], 2.0)
    pos = np.array([0, 20, 40.0])
    assert all(chain[i] + chain[i + 1] <= pos[i + 1] - pos[i] + 1e-9 for i in range(2))
    assert np.array_equal(resolve_overlaps(centres[:1], [3.0], 2.0), [3.0])


def test_spheres_are_drawn_from_sub_voxel_centres():
    centre = np.array([[20.3, 21.7, 19.45]])
    labels = draw_spheres((40, 44, 40), centre, [24.0], (2.0, 2.0, 2.0))
    assert labels.dtype == np.int32 and labels.max() == 1
    volume = labels.sum() * 8.0
    assert volume == pytest.approx(4 / 3 * np.pi * 24 ** 3, rel=0.02)
    assert np.allclose(np.argwhere(labels == 1).mean(axis=0), centre[0], atol=0.05)
    two = draw_spheres((20, 20, 40), [[10, 10, 10], [10, 10, 20]], [10.0, 10.0], 1.0)
    assert set(np.unique(two)) == {0, 1, 2}


def test_bad_arguments_name_themselves(tomo):
    vol = tomo.volume
    with pytest.raises(ValueError, match="labels shape"):
        refine_spheres(vol, tomo.labels[:-1], voxel_size=VOXEL)
    with pytest.raises(ValueError, match="mask shape"):
        refine_spheres(vol, tomo.labels, voxel_size=VOXEL, mask=np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="remove_p"):
        refine_spheres(vol, tomo.labels, voxel_size=VOXEL, remove_p=0.5, refine_p=0.3)
    with pytest.raises(ValueError, match="edge"):
        refine_spheres(vol, tomo.labels, voxel_size=VOXEL, edge="outer")
    with pytest.raises(ValueError, match="growth"):
        refine_spheres(vol, tomo.labels, voxel_size=VOXEL, growth=-1)
    with pytest.raises(ValueError, match="voxel_size"):
        refine_spheres(vol, tomo.labels, voxel_size=0)
    with pytest.raises(ValueError, match="radius_nm"):
        refine_sphere(vol, (5, 5, 5), -3, voxel_size=VOXEL)
    with pytest.raises(ValueError, match="centre"):
        refine_sphere(vol, (5, 5), 10, voxel_size=VOXEL)
    with pytest.raises(ValueError, match="iterations"):
        refine_sphere(vol, (5, 5, 5), 10, voxel_size=VOXEL, iterations=-2)
    empty, sp = refine_spheres(vol, np.zeros(vol.shape, np.int32), voxel_size=VOXEL)
    assert empty.max() == 0 and len(sp.radii) == 0 and sp.removed == {}


def test_refinement_of_a_label_volume_larger_than_memory_equals_in_memory(tomo, tmp_path):
    """Labels in a zarr array (boxes found chunk by chunk, spheres drawn box by box) and a
    region: the spheres, removals, drawn labels and table of the in-memory run."""
    import zarr

    from emseg.measure import sphere_table

    seg = degraded(tomo.labels).astype(np.int32)
    seg[seg == 3] = 0                                   # a label with no voxels
    region = np.zeros(seg.shape, bool)
    region[:, :, :70] = True
    want, ws = refine_spheres(tomo.volume, seg.copy(), voxel_size=VOXEL, mask=region, growth=2)
    lazy = zarr.open_array(tmp_path / "l.zarr", mode="w", shape=seg.shape,
                           chunks=(16, 32, 32), dtype="i4")
    lazy[:] = seg
    got, gs = refine_spheres(tomo.volume, lazy, voxel_size=VOXEL, mask=region, growth=2,
                             chunk_shape=(20, 40, 36))
    assert got is lazy
    assert "outside region" in ws.removed.values() and gs.removed == ws.removed
    np.testing.assert_array_equal(gs.centres, ws.centres)
    np.testing.assert_array_equal(gs.radii, ws.radii)
    np.testing.assert_array_equal(gs.pvalue, ws.pvalue)
    np.testing.assert_array_equal(lazy[:], want)
    assert sphere_table(gs, lazy, VOXEL).equals(sphere_table(ws, want, VOXEL))
