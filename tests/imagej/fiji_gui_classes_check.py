"""Segment Particles with a multi-class model in ImageJ's GUI (under Xvfb): the class image
window with its label LUT and legend, the class-area table, the ROI Manager.

Called by tests/imagej/test_fiji_classes.py as ``xvfb-run python fiji_gui_classes_check.py
IMAGE MODEL OUTDIR``; writes OUTDIR/report.json and OUTDIR/classes.png (a capture of the class
image's window, legend included).
"""

import json
import sys
from pathlib import Path


def main(image, model, out):
    from emseg.imagej import fiji

    ij = fiji.start(headless=False)
    from emseg.imagej.java import jclass
    IJ, WM = ij.IJ, ij.WindowManager
    ij.ImageJ()
    IJ.run("EMSeg Options...", f"python=[{sys.executable}] models=[] model=emseg-particles-sem "
                               "backend=auto")
    imp = IJ.openImage(str(image))
    imp.show()
    IJ.wait(500)
    IJ.run(imp, "Segment Particles...", f"model=[{model}] pixel_size=0 threshold=0 roi_manager "
                                        "probability_map roi_classes=all")
    err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
    if err:
        raise SystemExit(f"Segment Particles failed: {err}")
    stem = Path(image).stem
    classes = WM.getImage(f"{stem}_classes")
    rm = ij.plugin.frame.RoiManager.getInstance()
    report = {
        "windows": [str(t) for t in WM.getNonImageTitles()],
        "images": [str(WM.getImage(i).getTitle()) for i in WM.getIDList()],
        "roi_manager": [str(rm.getRoi(i).getName()) for i in range(rm.getCount())] if rm else [],
        "legend": int(classes.getOverlay().size()) if classes.getOverlay() else 0,
    }
    win = classes.getWindow()
    win.setLocation(0, 0)
    # magnify so the legend's text is large enough to read on the capture
    IJ.run(classes, "Set... ", "zoom=400 x=64 y=64")
    win.toFront()
    IJ.wait(1500)
    robot = jclass("java.awt.Robot")()
    shot = robot.createScreenCapture(win.getBounds())
    IJ.saveAs(ij.ImagePlus("classes", shot), "PNG", str(out / "classes.png"))
    (out / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    from fiji_helpers import run_gui_check
    run_gui_check(main, Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
