"""The napari tool end to end with napari's own ``make_napari_viewer`` fixture (offscreen Qt,
no mocks): EMSeg's reader, the dock widget from the npe2 manifest, segmentation with the
shipped model, corrections by clicks on the canvas, undo, and a save whose table, labels and
IMOD model agree.

Run by ``test_widget.py`` as ``python -m pytest tests/napari/napari_gui.py`` in a process of its
own: TensorFlow (which the rest of the suite loads) and an OpenGL context of Mesa's software
renderer crash when they share a process, so this one never loads TensorFlow (the widget runs
the network in an ``emseg segment`` process, as it does for users).
"""

import os
import subprocess
import sys
from pathlib import Path

import imodmodel
import numpy as np
import pandas as pd
import pytest

from emseg import io
from emseg.synthetic import synapse_tomogram

napari = pytest.importorskip("napari")
from qtpy.QtCore import Qt  # noqa: E402  (after napari: it chooses the Qt binding)

LEFT = Qt.MouseButton.LeftButton

pytestmark = pytest.mark.usefixtures("offscreen_qt")

VOXEL = 2.2
WIDGET = "Vesicles (segment and correct)"


@pytest.fixture(scope="module")
def tomogram(tmp_path_factory):
    d = tmp_path_factory.mktemp("napari")
    t = synapse_tomogram((40, 96, 96), voxel_size=VOXEL, n_vesicles=16, seed=4343)
    io.write_mrc(d / "synapse.mrc", t.volume, (VOXEL,) * 3)
    return d / "synapse.mrc", t


@pytest.fixture(scope="module")
def cli_outputs(tomogram, tmp_path_factory):
    path, _ = tomogram
    out = tmp_path_factory.mktemp("cli")
    r = subprocess.run([sys.executable, "-m", "emseg", "segment", str(path), "--output", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out


def click(viewer, world):
    """A left click on the canvas where ``world`` (z, y, x nm) is: the slice and the camera
    are moved there, and vispy's mouse press and release go through napari's event path."""
    from qtpy.QtWidgets import QApplication

    viewer.dims.set_point(0, world[0])
    viewer.camera.center = tuple(world)
    QApplication.processEvents()
    canvas = viewer.window._qt_viewer.canvas._scene_canvas
    pos = (canvas.size[0] / 2, canvas.size[1] / 2)
    canvas.events.mouse_press(pos=pos, button=1, modifiers=())
    canvas.events.mouse_release(pos=pos, button=1, modifiers=())
    QApplication.processEvents()


def centre_world(table, row):
    """A vesicle's centre in napari's world coordinates (voxel i's centre at i x size)."""
    return tuple(table.loc[row, ["Z", "Y", "X"]].to_numpy(float) - VOXEL / 2)


def test_reader_opens_tomograms_and_emseg_outputs(make_napari_viewer, tomogram, cli_outputs):
    path, t = tomogram
    viewer = make_napari_viewer()
    [image] = viewer.open(str(path), plugin="emseg")
    assert image.data.shape == t.volume.shape
    np.testing.assert_allclose(image.scale, (VOXEL,) * 3, rtol=1e-6)
    [labels] = viewer.open(str(cli_outputs / "synapse_labels.mrc"), plugin="emseg")
    assert isinstance(labels, napari.layers.Labels)
    table = pd.read_csv(cli_outputs / "synapse_vesicles.csv")
    pd.testing.assert_frame_equal(labels.metadata["emseg_table"], table)
    assert set(np.unique(labels.data)) - {0} == set(table["Label"])
    [points] = viewer.open(str(cli_outputs / "synapse_vesicles.csv"), plugin="emseg")
    assert len(points.data) == len(table)
    # a point is where its vesicle's label is
    for (z, y, x), label in zip(points.data[:5] / VOXEL, table["Label"][:5]):
        assert labels.data[int(round(z)), int(round(y)), int(round(x))] == label
    from emseg.napari._reader import get_reader
    assert get_reader(str(path.with_suffix(".txt"))) is None


def test_segment_correct_undo_and_save(make_napari_viewer, qtbot, tomogram, cli_outputs,
                                      tmp_path):
    path, t = tomogram
    viewer = make_napari_viewer(show=True)
    viewer.open(str(path), plugin="emseg")
    _, widget = viewer.window.add_plugin_dock_widget("emseg", WIDGET)
    # the Segment button: emseg segment in a worker, the same result as the command line
    qtbot.mouseClick(widget.segment_button, LEFT)
    qtbot.waitUntil(lambda: widget.editor is not None, timeout=300_000)
    ed = widget.editor
    reference = pd.read_csv(cli_outputs / "synapse_vesicles.csv")
    pd.testing.assert_frame_equal(ed.table, reference)
    layer = widget.labels_layer
    assert layer.data is ed.labels
    n = len(ed)
    # remove a vesicle by clicking on it
    row = int(np.argmax(reference["Radius"].to_numpy() * ~reference["Border"].to_numpy()))
    label = int(reference["Label"][row])
    widget.set_mode("remove")
    click(viewer, centre_world(reference, row))
    assert len(ed) == n - 1 and not (layer.data == label).any()
    assert f"removed vesicle {label}" in widget.status.text()
    # undo brings it back
    qtbot.mouseClick(widget.undo_button, LEFT)
    assert len(ed) == n and (layer.data == label).sum() == reference["Voxels"][row]
    # remove it again and add it back with a click near its centre
    click(viewer, centre_world(reference, row))
    assert len(ed) == n - 1
    widget.set_mode("add")
    near = np.asarray(centre_world(reference, row)) + [0.0, 2.0, -2.0]
    click(viewer, near)
    assert len(ed) == n, widget.status.text()
    added = ed.table.iloc[-1]
    assert added.Radius == pytest.approx(reference["Radius"][row], abs=1.0)
    assert np.linalg.norm(added[["X", "Y", "Z"]].to_numpy(float)
                          - reference.loc[row, ["X", "Y", "Z"]].to_numpy(float)) < 1.5
    # select a label and remove it with the button, then undo
    other = int(ed.table["Label"].iloc[0])
    layer.selected_label = other
    qtbot.mouseClick(widget.remove_button, LEFT)
    assert len(ed) == n - 1 and not (layer.data == other).any()
    layer.selected_label = 9999
    qtbot.mouseClick(widget.remove_button, LEFT)
    assert "no vesicle 9999" in widget.status.text() and len(ed) == n - 1
    qtbot.mouseClick(widget.undo_button, LEFT)
    assert len(ed) == n and (layer.data == other).any()
    # clicking on a vesicle in add mode refuses, and says why
    click(viewer, centre_world(reference, 0 if row else 1))
    assert len(ed) == n and "already there" in widget.status.text()
    # save: table, labels and IMOD model from the same corrected vesicles
    out = tmp_path / "corrected"
    widget.output.setText(str(out))
    qtbot.mouseClick(widget.save_button, LEFT)
    saved = pd.read_csv(out / "synapse_vesicles.csv")
    assert len(saved) == n and list(saved["Label"]) == list(range(1, n + 1))
    labels, size, _ = io.read_volume(out / "synapse_labels.mrc")
    assert size == pytest.approx((VOXEL,) * 3)
    assert set(np.unique(labels)) - {0} == set(saved["Label"])
    np.testing.assert_array_equal(np.bincount(np.asarray(labels).ravel(),
                                              minlength=n + 1)[1:], saved["Voxels"])
    model = imodmodel.read(out / "synapse_vesicles.mod")
    assert len(model) == n
    # IMOD's convention (emseg.io.write_imod_points): x, y in pixels from the image's corner,
    # z the slice index
    np.testing.assert_allclose(model[["x", "y"]].to_numpy(float),
                               saved[["X", "Y"]].to_numpy(float) / VOXEL, atol=1e-3)
    np.testing.assert_allclose(model["z"].to_numpy(float), saved["Z"] / VOXEL - 0.5, atol=1e-3)
    assert (out / "synapse_diameters.png").is_file()
    # a picture of the tool (for the README)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    assert shot.std() > 10
    if os.environ.get("EMSEG_NAPARI_SCREENSHOT"):
        from PIL import Image
        Image.fromarray(shot).save(Path(os.environ["EMSEG_NAPARI_SCREENSHOT"]))
    assert "tensorflow" not in sys.modules


def test_widget_reports_bad_input(make_napari_viewer, tomogram, cli_outputs, tmp_path):
    path, t = tomogram
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("emseg", WIDGET)
    widget.segment(background=False)
    assert "open a tomogram first" in widget.status.text()
    viewer.add_image(t.volume, name="no size")
    widget.tomogram.setCurrentText("no size")
    widget.segment(background=False)
    assert "no voxel size" in widget.status.text()
    widget.voxel.setValue(VOXEL)
    widget.model.setText("no-such-model")
    widget.segment(background=False)
    assert "unknown model 'no-such-model'" in widget.status.text()
    assert widget.editor is None and not widget.save_button.isEnabled()
    # correcting outputs opened from files: the labels layer with its table, and the
    # refinement settings of the model the widget names
    [labels] = viewer.open(str(cli_outputs / "synapse_labels.mrc"), plugin="emseg")
    viewer.layers.selection.active = labels
    widget.edit_selected()
    assert "unknown model 'no-such-model'" in widget.status.text() and widget.editor is None
    from emseg.models import DEFAULT_VOLUME_MODEL, find_model
    widget.model.setText(DEFAULT_VOLUME_MODEL)
    widget.edit_selected()
    assert widget.editor is not None and len(widget.editor) == len(labels.metadata["emseg_table"])
    shipped = find_model(DEFAULT_VOLUME_MODEL).meta["postprocess"]["refine_offset_nm"]
    assert widget.editor.settings["refine_offset_nm"] == shipped != 0
    assert labels.data.dtype == np.int32 and labels.data is widget.editor.labels
    (tmp_path / "file").write_text("x")
    assert widget.save(tmp_path / "file") is None
    assert "not a folder" in widget.status.text()
