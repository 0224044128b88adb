"""Make the README's picture of the napari vesicle tool.

    xvfb-run -a -s "-screen 0 1400x900x24" python python/scripts/napari_picture.py \
        docs/images/napari_vesicles.png

A synthetic tomogram (a seed the default model never saw) is opened with EMSeg's reader, its
vesicles segmented from the dock widget, one removed and added back by clicks, and the window
captured at a slice through many vesicles. Needs a display with OpenGL (Xvfb with Mesa): Qt's
offscreen platform renders no canvas.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np


def main(out):
    import napari
    from PIL import Image
    from qtpy.QtWidgets import QApplication

    from emseg import io
    from emseg.synthetic import synapse_tomogram

    voxel = 2.2
    t = synapse_tomogram((64, 160, 160), voxel_size=voxel, n_vesicles=40, seed=4343)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synapse.mrc"
        io.write_mrc(path, t.volume, (voxel,) * 3)
        viewer = napari.Viewer(show=True)
        viewer.window.resize(1350, 820)
        viewer.open(str(path), plugin="emseg")
        _, widget = viewer.window.add_plugin_dock_widget("emseg", "Vesicles (segment and correct)")
        editor = widget.segment(background=False)
        table = editor.table
        row = int(np.argmax(table["Radius"].to_numpy() * ~table["Border"].to_numpy()))
        centre = table.loc[row, ["Z", "Y", "X"]].to_numpy(float) / voxel - 0.5
        widget.set_mode("remove")
        widget.click(centre)
        widget.set_mode("add")
        widget.click(centre + [0, 1.0, -1.0])
        widget.output.setText(str(Path(tmp) / "corrected"))
        widget.save()
        viewer.dims.set_point(0, float(table.loc[row, "Z"]) - voxel / 2)
        viewer.reset_view()
        for _ in range(5):
            QApplication.processEvents()
        shot = viewer.screenshot(canvas_only=False, flash=False)
        Image.fromarray(shot).convert("RGB").save(out)
        viewer.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images/napari_vesicles.png"))
