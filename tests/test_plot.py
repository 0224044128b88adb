"""emseg.plot: the MinFeret histogram."""

import numpy as np
import pandas as pd
import pytest

from emseg.plot import size_histogram


def test_histogram_counts_every_particle():
    t = pd.DataFrame({"MinFeret": np.r_[np.arange(1.0, 31.0), np.nan]})
    t.attrs["unit"] = "nm"
    fig = size_histogram(t, bins=5)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 5 and sum(heights) == 30
    assert ax.get_xlabel() == "MinFeret (nm)"
    assert "n = 30" in ax.get_title()


def test_histogram_of_a_ratio_has_no_length_unit():
    t = pd.DataFrame({"Circ.": [0.8, 0.9, 0.95], "ECD": [40.0, 55.0, 70.0]})
    t.attrs["unit"] = "nm"
    assert size_histogram(t, "Circ.").axes[0].get_xlabel() == "Circ."
    assert size_histogram(t, "ECD").axes[0].get_xlabel() == "ECD (nm)"
    assert size_histogram(t, "Circ.", unit="a.u.").axes[0].get_xlabel() == "Circ. (a.u.)"


def test_histogram_rejects_unknown_column():
    with pytest.raises(ValueError, match="column 'Nope'"):
        size_histogram(pd.DataFrame({"A": [1.0]}), "Nope")
    with pytest.raises(TypeError, match="table must be"):
        size_histogram([1.0, 2.0])


def test_outline_overlay_draws_both_outlines():
    from emseg.plot import PRED_COLOR, TRUTH_COLOR, outline_overlay

    image = np.full((40, 60), 30, np.uint8)
    truth = np.zeros((40, 60), np.uint16)
    truth[5:20, 5:20] = 1
    pred = np.zeros_like(truth)
    pred[22:35, 30:50] = 4
    fig = outline_overlay(image, pred, truth, title="test")
    assert tuple(fig.get_size_inches() * fig.dpi) == pytest.approx((60, 40))
    rgb = fig.axes[0].images[0].get_array()
    assert tuple(rgb[22, 40]) == PRED_COLOR and tuple(rgb[5, 10]) == TRUTH_COLOR
    assert tuple(rgb[10, 10]) == tuple(rgb[0, 0])       # interiors keep the image
    with pytest.raises(ValueError, match="labels shape"):
        outline_overlay(image, pred[:10])


def test_training_curve_marks_the_best_epoch():
    from emseg.plot import training_curve
    history = [{"epoch": i + 1, "loss": 1 / (i + 1), "val_loss": v, "learning_rate": 1e-3}
               for i, v in enumerate([0.5, 0.3, 0.35])]
    fig = training_curve(history)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()][:2] == ["training loss", "validation loss"]
    best = [line for line in ax.get_lines() if line.get_label().startswith("best")][0]
    assert best.get_label() == "best (epoch 2)" and best.get_xdata()[0] == 2
    with pytest.raises(ValueError, match="empty"):
        training_curve([])


def test_radial_profiles_mark_membrane_and_radius_of_refined_vesicles():
    from emseg.measure.radial import distance_grid
    from emseg.plot import radial_profiles
    from emseg.segment import refine_spheres

    shape, spacing = (40, 40, 80), (2.0, 2.0, 2.0)
    vol = np.ones(shape, np.float32)
    labels = np.zeros(shape, np.int32)
    for k, (c, r) in enumerate((((20, 20, 20), 16.0), ((20, 20, 58), 22.0)), start=1):
        d = distance_grid(shape, c, spacing)
        vol[(d > r - 5) & (d <= r)] = 0.0           # dark membranes
        labels[d <= r - 2] = k
    _, spheres = refine_spheres(vol, labels, voxel_size=spacing)
    fig = radial_profiles(spheres, title="two vesicles")
    shown = [ax for ax in fig.axes if ax.lines]
    assert len(shown) == 2
    for ax, fit in zip(shown, sorted(spheres.fits, key=lambda f: f.radius)):
        xs = [line.get_xdata()[0] for line in ax.lines[1:]]   # the marker lines
        assert xs == pytest.approx([fit.membrane_centre, fit.radius])
        assert f"radius {fit.radius:.1f} nm" in [t.get_text() for t in ax.get_legend().texts]
    assert sorted(f.radius for f in spheres.fits) == pytest.approx([16.0, 22.0], abs=1.0)


def test_volume_slices_of_large_planes_are_an_overview():
    """Planes over 1024 voxels are shown at every n-th voxel (the outlines with them); small
    tomograms are enlarged to whole voxels."""
    from emseg.plot import volume_slices

    volume = np.random.default_rng(0).normal(size=(5, 2050, 60)).astype(np.float32)
    labels = np.zeros(volume.shape, np.int32)
    labels[:, 900:1300, 10:50] = 1
    fig = volume_slices(volume, labels, dpi=100)
    w, h = fig.get_size_inches() * 100
    assert round(h) == 684 and round(w) == 3 * 20 + 2 * 4      # every 3rd voxel
    small = volume_slices(volume[:, :96, :50], labels[:, :96, :50], dpi=100)
    assert round(small.get_size_inches()[1] * 100) == 96 * 4   # enlarged to 384
