"""The vesicle editor behind the napari tool (no napari): add a refined sphere where a user
clicks, remove, undo, and the table and labels in step, on a synthetic tomogram with known
vesicles."""

import numpy as np
import pandas as pd
import pytest

from emseg.measure import sphere_table, vesicle_table
from emseg.napari import VesicleEditor
from emseg.segment import refine_spheres
from emseg.synthetic import synapse_tomogram

VOXEL = 2.2


@pytest.fixture(scope="module")
def refined():
    """A tomogram, its true vesicles refined as the pipeline refines segments, and the table."""
    t = synapse_tomogram((40, 96, 96), voxel_size=VOXEL, n_vesicles=14, seed=515)
    labels, spheres = refine_spheres(t.volume, t.labels, voxel_size=VOXEL)
    return t, labels, sphere_table(spheres, labels, VOXEL)


def editor_of(refined, **kw):
    t, labels, table = refined
    return VesicleEditor(t.volume, labels.copy(), table, VOXEL, **kw)


def inner_vesicle(table, shape):
    """A vesicle whose sphere lies well inside the tomogram."""
    c = table[["Z", "Y", "X"]].to_numpy() / VOXEL - 0.5
    r = table["Radius"].to_numpy() / VOXEL
    inside = np.all((c - r[:, None] > 2) & (c + r[:, None] < np.asarray(shape) - 3), axis=1)
    assert inside.any()
    return int(np.flatnonzero(inside)[0])


def test_remove_then_undo_restores_labels_and_table(refined):
    ed = editor_of(refined)
    labels0, table0 = ed.labels.copy(), ed.table.copy()
    row = inner_vesicle(ed.table, ed.labels.shape)
    label = int(ed.table["Label"][row])
    centre = ed.table.loc[row, ["Z", "Y", "X"]].to_numpy(float) / VOXEL - 0.5
    assert ed.label_at(centre) == label
    ed.remove(label)
    assert len(ed) == len(table0) - 1
    assert not (ed.labels == label).any()
    assert label not in set(ed.table["Label"])
    np.testing.assert_array_equal(ed.labels[labels0 != label], labels0[labels0 != label])
    assert np.isfinite(ed.table["PValue"]).all()      # rescored without the removed one
    assert ed.undo() == "remove"
    np.testing.assert_array_equal(ed.labels, labels0)
    pd.testing.assert_frame_equal(ed.table, table0)
    assert ed.undo() is None and not ed.can_undo()


def test_a_click_near_a_removed_vesicle_finds_it_again(refined):
    t, _, _ = refined
    ed = editor_of(refined)
    row = inner_vesicle(ed.table, ed.labels.shape)
    label = int(ed.table["Label"][row])
    truth = t.labels[tuple(np.round(ed.table.loc[row, ["Z", "Y", "X"]].to_numpy(float)
                                    / VOXEL - 0.5).astype(int))]
    true_centre, true_radius = t.centres[truth - 1], t.radii[truth - 1]
    ed.remove(label)
    click = true_centre + np.array([0.0, 2.0, -1.5])   # a click is never exactly central
    new = ed.add(click)
    assert new == int(ed.table["Label"].max()) and (ed.labels == new).any()
    got = ed.table[ed.table["Label"] == new].iloc[0]
    centre = np.array([got.Z, got.Y, got.X]) / VOXEL - 0.5
    assert np.linalg.norm(centre - true_centre) * VOXEL < 1.5        # nm
    assert got.Radius == pytest.approx(true_radius, abs=1.5)
    assert np.isfinite([got.Thickness, got.MembraneIntensity, got.LumenIntensity,
                        got.Correlation, got.Mahalanobis, got.PValue]).all()
    assert got.Correlation > 0.8 and np.isnan(got.Threshold)
    assert got.Voxels == (ed.labels == new).sum()
    # undo the add: the voxels and row are gone again
    assert ed.undo() == "add"
    assert not (ed.labels == new).any() and len(ed) == len(refined[2]) - 1


def test_add_refuses_points_it_cannot_use(refined):
    ed = editor_of(refined)
    label = int(ed.table["Label"][0])
    on = np.argwhere(ed.labels == label)[0]
    with pytest.raises(ValueError, match=f"vesicle {label} is already there"):
        ed.add(on)
    with pytest.raises(ValueError, match="outside the tomogram"):
        ed.add((-5, 10, 10))
    with pytest.raises(ValueError, match="three finite numbers"):
        ed.add((1, 2))
    with pytest.raises(ValueError, match="no vesicle 999"):
        ed.remove(999)
    flat = VesicleEditor(np.zeros((20, 40, 40), np.float32), np.zeros((20, 40, 40), np.int32),
                         refined[2].iloc[:0], VOXEL)
    with pytest.raises(ValueError, match="no vesicle membrane"):
        flat.add((10, 20, 20), radius_nm=10)
    assert not flat.can_undo()


def test_an_added_sphere_never_overlaps_its_neighbours(refined):
    ed = editor_of(refined)
    before = ed.labels.copy()
    row = inner_vesicle(ed.table, ed.labels.shape)
    c = ed.table.loc[row, ["Z", "Y", "X"]].to_numpy(float) / VOXEL - 0.5
    r = ed.table["Radius"][row] / VOXEL
    # just outside the vesicle, where a careless sphere would overlap it
    try:
        new = ed.add(c + np.array([0, r + 2, 0]))
    except ValueError as exc:
        assert "no room" in str(exc) or "membrane" in str(exc)
        return
    np.testing.assert_array_equal(ed.labels[before != 0], before[before != 0])
    got = ed.table[ed.table["Label"] == new].iloc[0]
    others = ed.table[ed.table["Label"] != new]
    d = np.linalg.norm(others[["Z", "Y", "X"]].to_numpy() - [got.Z, got.Y, got.X], axis=1)
    assert np.all(d >= others["Radius"].to_numpy() + got.Radius - 1e-6)


def test_result_is_numbered_in_table_order(refined):
    ed = editor_of(refined)
    ed.remove(int(ed.table["Label"][2]))
    labels, table = ed.result()
    assert list(table["Label"]) == list(range(1, len(table) + 1))
    assert set(np.unique(labels)) - {0} == set(table["Label"])
    counts = np.bincount(labels.ravel(), minlength=len(table) + 1)[1:]
    np.testing.assert_array_equal(counts, table["Voxels"].to_numpy())
    for a, b in zip(table.itertuples(), ed.table.itertuples()):
        assert (a.X, a.Y, a.Z) == (b.X, b.Y, b.Z)


def test_segments_without_refinement_can_be_corrected_too(refined):
    t, _, _ = refined
    table = vesicle_table(t.labels, VOXEL)
    ed = VesicleEditor(t.volume, t.labels.astype(np.int32), table, VOXEL)
    assert not ed.refined
    label = int(table["Label"][0])
    ed.remove(label)
    new = ed.add(t.centres[label - 1])
    assert list(ed.table.columns) == list(table.columns)
    assert ed.table["Voxels"].iloc[-1] == (ed.labels == new).sum()


def test_editor_checks_its_inputs(refined):
    t, labels, table = refined
    with pytest.raises(ValueError, match="labels shape"):
        VesicleEditor(t.volume, labels[:-1].copy(), table, VOXEL)
    with pytest.raises(ValueError, match="int32"):
        VesicleEditor(t.volume, labels.astype(np.uint16), table, VOXEL)
    with pytest.raises(ValueError, match="no column"):
        VesicleEditor(t.volume, labels.copy(), table.drop(columns="X"), VOXEL)
    with pytest.raises(TypeError, match="DataFrame"):
        VesicleEditor(t.volume, labels.copy(), table.to_numpy(), VOXEL)
    with pytest.raises(ValueError, match="voxel_size"):
        VesicleEditor(t.volume, labels.copy(), table, -1)
