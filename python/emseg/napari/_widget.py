"""The napari dock widget: segment the vesicles of a tomogram with an EMSeg model, then correct
them by clicking (add a sphere refined around the click, remove a vesicle), undo, and save the
table, label volume and IMOD model together."""

from pathlib import Path

import numpy as np
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                            QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                            QRadioButton, QVBoxLayout, QWidget)

from .editor import VesicleEditor

__all__ = ["VesicleWidget"]

DEFAULT_MODEL = "emseg-vesicles-cryoet"
MODES = ("pan", "add", "remove")


class _Progress(QObject):
    """Progress of the worker thread, delivered in the GUI thread (a queued signal)."""

    changed = Signal(int, int)


class VesicleWidget(QWidget):
    """Segment and correct the vesicles of a tomogram (Plugins > EMSeg).

    Parameters
    ----------
    napari_viewer : napari.Viewer
    """

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.editor = None
        self.labels_layer = None
        self.worker = None
        self._tomogram_name = None

        self.tomogram = QComboBox()
        self.model = QLineEdit(DEFAULT_MODEL)
        self.voxel = QDoubleSpinBox()
        self.voxel.setRange(0, 1000)
        self.voxel.setDecimals(4)
        self.voxel.setSuffix(" nm")
        self.voxel.setSpecialValueText("from the file")
        self.refine = QCheckBox("refine to spheres")
        self.refine.setChecked(True)
        self.segment_button = QPushButton("Segment vesicles")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self._progress = _Progress()
        self._progress.changed.connect(self._show_progress)
        self.edit_button = QPushButton("Correct the selected labels layer")
        form = QFormLayout()
        form.addRow("tomogram", self.tomogram)
        form.addRow("model", self.model)
        form.addRow("voxel size", self.voxel)
        form.addRow(self.refine)
        box = QGroupBox("Segmentation")
        inner = QVBoxLayout(box)
        inner.addLayout(form)
        inner.addWidget(self.segment_button)
        inner.addWidget(self.progress)
        inner.addWidget(self.edit_button)

        self.mode_buttons = {m: QRadioButton(t) for m, t in
                             zip(MODES, ("pan / zoom", "click adds a vesicle",
                                         "click removes a vesicle"))}
        self.mode_buttons["pan"].setChecked(True)
        self.remove_button = QPushButton("Remove the selected label")
        self.undo_button = QPushButton("Undo")
        self.output = QLineEdit()
        self.output.setPlaceholderText("output folder")
        self.save_button = QPushButton("Save table, labels and IMOD model")
        edit = QGroupBox("Correction")
        col = QVBoxLayout(edit)
        for b in self.mode_buttons.values():
            col.addWidget(b)
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addWidget(self.undo_button)
        col.addLayout(row)
        col.addWidget(self.output)
        col.addWidget(self.save_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(edit)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.segment_button.clicked.connect(lambda: self.segment())
        self.edit_button.clicked.connect(lambda: self.edit_selected())
        self.remove_button.clicked.connect(lambda: self.remove_selected())
        self.undo_button.clicked.connect(lambda: self.undo())
        self.save_button.clicked.connect(lambda: self.save())
        self.viewer.layers.events.inserted.connect(self._refresh_choices)
        self.viewer.layers.events.removed.connect(self._refresh_choices)
        self.viewer.mouse_drag_callbacks.append(self._on_click)
        self._refresh_choices()
        self._enable()

    # ------------------------------------------------------------------ state

    @property
    def mode(self):
        return next(m for m, b in self.mode_buttons.items() if b.isChecked())

    def set_mode(self, mode):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode_buttons[mode].setChecked(True)

    def _say(self, text, *, warn=False):
        self.status.setText(text)
        if warn:
            from napari.utils.notifications import show_warning
            show_warning(f"EMSeg: {text}")

    def _enable(self):
        editing = self.editor is not None
        for b in self.mode_buttons.values():
            b.setEnabled(editing)
        self.remove_button.setEnabled(editing)
        self.undo_button.setEnabled(editing and self.editor.can_undo())
        self.save_button.setEnabled(editing)

    def _refresh_choices(self, event=None):
        import napari

        current = self.tomogram.currentText()
        names = [layer.name for layer in self.viewer.layers
                 if isinstance(layer, napari.layers.Image) and layer.ndim == 3]
        self.tomogram.clear()
        self.tomogram.addItems(names)
        if current in names:
            self.tomogram.setCurrentText(current)

    def _tomogram_layer(self):
        name = self.tomogram.currentText()
        if not name or name not in self.viewer.layers:
            raise ValueError("open a tomogram first (a 3D image layer)")
        return self.viewer.layers[name]

    def voxel_size(self, layer):
        """The tomogram's voxel size (z, y, x) in nm: the widget's value, else the file's (EMSeg's
        reader), else the layer's scale when it was set; never guessed."""
        if self.voxel.value() > 0:
            return (float(self.voxel.value()),) * 3
        size = layer.metadata.get("emseg_voxel_size")
        if size is not None:
            return tuple(float(s) for s in size)
        if not np.allclose(layer.scale, 1):
            return tuple(float(s) for s in layer.scale)
        raise ValueError(f"{layer.name} has no voxel size: give it in nm")

    # ------------------------------------------------------------------ segmentation

    def segment(self, *, background=True):
        """Segment the chosen tomogram with the model (in a worker thread unless
        ``background`` is False); the result becomes the labels layer under correction.

        The network runs in a separate ``emseg segment`` process, as Fiji's command-line
        backend does: TensorFlow loaded into a process whose OpenGL context is Mesa's
        software renderer crashes (their LLVM builds clash), and the viewer stays responsive.
        """
        try:
            layer = self._tomogram_layer()
            size = self.voxel_size(layer)
            model, meta = self._model()
        except (ValueError, OSError) as exc:
            self._say(str(exc), warn=True)
            return None
        volume = np.asarray(layer.data)
        refine = self.refine.isChecked()
        self._say(f"segmenting {layer.name} ...")
        self.segment_button.setEnabled(False)

        self.progress.setRange(0, 0)
        self.progress.setVisible(True)

        def job():
            labels, table = segment_in_subprocess(volume, size, model, refine=refine,
                                                  name=_stem(layer.name),
                                                  progress=self._progress.changed.emit)
            return layer.name, volume, labels, table, size, meta

        if not background:
            try:
                return self._segmented(job())
            except (ValueError, OSError) as exc:
                self._failed(exc)
                return None
        from napari.qt.threading import create_worker
        self.worker = create_worker(job, _start_thread=False)
        self.worker.returned.connect(self._segmented)
        self.worker.errored.connect(self._failed)
        self.worker.start()
        return self.worker

    def _model(self):
        """The model the widget names and its ``model.yaml``: it segments, and its refinement
        settings (edge rule and offset) refine the vesicles a click adds."""
        from ..models.config import is_volume_model
        from ..models.saved import load_predictor
        model = self.model.text().strip()
        meta = load_predictor(model, task="segmentation", lazy=True).meta
        if not is_volume_model(meta):
            raise ValueError(f"model {model!r} segments 2D images, not tomograms")
        return model, meta

    def _show_progress(self, done, total):
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _failed(self, exc):
        self.progress.setVisible(False)
        self.segment_button.setEnabled(True)
        self._say(f"segmentation failed: {exc}", warn=True)

    def _segmented(self, result):
        name, volume, labels, table, size, meta = result
        self.progress.setVisible(False)
        self.segment_button.setEnabled(True)
        labels = np.ascontiguousarray(labels, dtype=np.int32)
        self.labels_layer = self.viewer.add_labels(labels, name=f"{_stem(name)} vesicles",
                                                   scale=size)
        self._start(volume, table, size, name, meta.get("postprocess") or {})
        return self.editor

    def _start(self, volume, table, size, name, settings=None):
        from ..models.config import VESICLE_DEFAULTS
        known = {k: v for k, v in (settings or {}).items() if k in VESICLE_DEFAULTS}
        self.editor = VesicleEditor(volume, self.labels_layer.data, table, size, settings=known)
        self._tomogram_name = name
        self.viewer.layers.selection.active = self.labels_layer
        self._enable()
        kind = "refined spheres" if self.editor.refined else "segments"
        self._say(f"{len(self.editor)} vesicles ({kind}); choose a click mode to correct them")

    def edit_selected(self):
        """Correct a labels layer opened from EMSeg's outputs (``<stem>_labels.mrc`` with its
        ``<stem>_vesicles.csv``) against the chosen tomogram; added vesicles are refined with
        the settings of the model the widget names (the one that made the outputs)."""
        import napari
        try:
            layer = self.viewer.layers.selection.active
            if not isinstance(layer, napari.layers.Labels):
                raise ValueError("select the labels layer to correct")
            table = layer.metadata.get("emseg_table")
            if table is None:
                raise ValueError(f"{layer.name} has no vesicle table (open the "
                                 "<stem>_labels.mrc that has <stem>_vesicles.csv beside it)")
            tomo = self._tomogram_layer()
            if tuple(tomo.data.shape) != tuple(layer.data.shape):
                raise ValueError(f"{layer.name} {layer.data.shape} and {tomo.name} "
                                 f"{tomo.data.shape} differ in shape")
            size = self.voxel_size(tomo)
            if not isinstance(layer.data, np.ndarray) or layer.data.dtype != np.int32:
                layer.data = np.ascontiguousarray(layer.data, dtype=np.int32)
            _, meta = self._model()
            self.labels_layer = layer
            self._start(np.asarray(tomo.data), table, size, tomo.name,
                        meta.get("postprocess") or {})
        except ValueError as exc:
            self._say(str(exc), warn=True)

    # ------------------------------------------------------------------ correction

    def _on_click(self, viewer, event):
        if self.editor is None or self.mode == "pan" or getattr(event, "button", 1) != 1:
            return
        if viewer.dims.ndisplay != 2:
            self._say("switch to the 2D view to add or remove vesicles", warn=True)
            return
        point = self.labels_layer.world_to_data(event.position)
        self.click(point)

    def click(self, point):
        """What a click at ``point`` (voxels, z y x) does in the current mode; returns the
        label added or removed, or None."""
        try:
            if self.mode == "add":
                label = self.editor.add(point)
                self._say(f"added vesicle {label} (radius "
                          f"{self._radius(label):.1f} nm); {len(self.editor)} vesicles")
            elif self.mode == "remove":
                label = self.editor.label_at(point)
                if not label:
                    raise ValueError("no vesicle there")
                self.editor.remove(label)
                self._say(f"removed vesicle {label}; {len(self.editor)} vesicles")
            else:
                return None
        except ValueError as exc:
            self._say(str(exc), warn=True)
            return None
        self.labels_layer.refresh()
        self._enable()
        return label

    def remove_selected(self):
        """Remove the vesicle whose label is selected in the labels layer (its label box or
        the picker); returns it, or None."""
        if self.editor is None:
            return None
        label = int(self.labels_layer.selected_label)
        try:
            self.editor.remove(label)
        except ValueError as exc:
            self._say(str(exc), warn=True)
            return None
        self.labels_layer.refresh()
        self._enable()
        self._say(f"removed vesicle {label}; {len(self.editor)} vesicles")
        return label

    def _radius(self, label):
        return float(self.editor.radii()[self.editor.table["Label"].to_numpy() == label][0])

    def undo(self):
        if self.editor is None:
            return None
        kind = self.editor.undo()
        if kind is not None:
            self.labels_layer.refresh()
            self._say(f"undone ({kind}); {len(self.editor)} vesicles")
        self._enable()
        return kind

    def save(self, folder=None):
        """Write ``<stem>_vesicles.csv``, ``<stem>_labels.mrc``, ``<stem>_vesicles.mod`` and
        ``<stem>_diameters.png`` from the corrected vesicles (numbered 1..n), all from the
        same table; returns the paths."""
        from ..workflows.vesicles import volume_output_paths, write_volume_outputs

        if self.editor is None:
            self._say("nothing to save: segment or open vesicles first", warn=True)
            return None
        folder = Path(folder if folder is not None else self.output.text().strip() or ".")
        try:
            if folder.exists() and not folder.is_dir():
                raise ValueError(f"{folder} exists and is not a folder")
            folder.mkdir(parents=True, exist_ok=True)
            stem = _stem(self._tomogram_name)
            paths = volume_output_paths(folder, stem, refined=self.editor.refined)
            paths = {k: paths[k] for k in ("labels", "table", "model", "histogram")}
            labels, table = self.editor.result()
            write_volume_outputs(paths, table, labels, self.editor.voxel_size, name=stem)
        except (ValueError, OSError) as exc:
            self._say(f"saving failed: {exc}", warn=True)
            return None
        self._say(f"saved {len(table)} vesicles to {folder}")
        return paths


def segment_in_subprocess(volume, voxel_size, model, *, refine=True, name="tomogram",
                          progress=None):
    """``emseg segment`` on ``volume`` in a separate process: ``(labels, table)``.

    ``progress(done, total)`` follows the command's progress bars (network blocks, then the
    refined vesicles).

    The volume goes through a temporary MRC file with its voxel size (an isotropic one is also
    passed as ``--pixel-size``, exactly); a failure raises ValueError with the command's
    one-line message.
    """
    import re
    import subprocess
    import sys
    import tempfile

    from .. import io

    size = tuple(float(s) for s in voxel_size)
    with tempfile.TemporaryDirectory(prefix="emseg-napari-") as tmp:
        src = Path(tmp) / f"{name}.mrc"
        io.write_mrc(src, volume, size)
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "emseg", "segment", str(src), "--output", str(out),
               "--model", str(model)]
        if size[0] == size[1] == size[2]:
            cmd += ["--pixel-size", repr(size[0])]
        if not refine:
            cmd.append("--no-refine")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        lines = _follow(proc, re.compile(r"(\d+)/(\d+) \["), progress)
        if proc.wait() != 0:
            msg = next((ln for ln in reversed(lines) if ln and "%|" not in ln), "")
            raise ValueError(msg or f"emseg segment failed with exit code {proc.returncode}")
        labels = np.asarray(io.read_volume(out / f"{name}_labels.mrc")[0], dtype=np.int32)
        table = io.read_table(out / f"{name}_vesicles.csv")
    return labels, table


def _follow(proc, pattern, progress):
    """Read the command's stderr to its end, passing its tqdm counts to ``progress``; returns
    its lines."""
    text = b""
    for chunk in iter(lambda: proc.stderr.read(256), b""):
        text += chunk
        found = pattern.findall(chunk.decode("utf-8", "replace"))
        if found and progress is not None:
            progress(*map(int, found[-1]))
    return [ln.strip() for ln in text.decode("utf-8", "replace").replace("\r", "\n").split("\n")]


def _stem(name):
    """A layer or file name without its volume extension."""
    for ext in (".mrc", ".rec", ".map", ".tiff", ".tif"):
        if str(name).lower().endswith(ext):
            return str(name)[:-len(ext)]
    return str(name)
