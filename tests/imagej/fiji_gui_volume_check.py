"""Open a tomogram and segment its vesicles through the EMSeg menu commands in ImageJ's GUI
(under Xvfb); report what the windows hold.

Called by tests/imagej/test_fiji_volumes.py as ``xvfb-run python fiji_gui_volume_check.py
TOMOGRAM OUTDIR``; writes OUTDIR/report.json and OUTDIR/screenshot.png (the whole virtual
screen, the stack at a slice through many vesicles).
"""

import json
import sys
from pathlib import Path


def main(tomogram, out):
    from emseg.imagej import fiji

    ij = fiji.start(headless=False)
    from emseg.imagej.java import jclass
    IJ, WM = ij.IJ, ij.WindowManager
    ij.ImageJ()
    IJ.run("EMSeg Options...", f"python=[{sys.executable}] models=[] model=emseg-particles-sem "
                               "backend=auto")
    IJ.run("Open Microscope File...", f"path=[{tomogram}]")
    err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
    if err:
        raise SystemExit(f"Open Microscope File failed: {err}")
    imp = WM.getCurrentImage()
    IJ.run(imp, "Segment Particles...", "model=emseg-vesicles-cryoet voxel_size=0 threshold=0 "
                                        "refine_spheres circles histogram")
    err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
    if err:
        raise SystemExit(f"Segment Particles failed: {err}")
    table = jclass("org.emseg.fiji.Display").table("EMSeg Results")
    rt = ij.measure.ResultsTable.getResultsTable("EMSeg Results")
    # the slice that cuts the most vesicles
    ov = imp.getOverlay()
    positions = [int(ov.get(i).getPosition()) for i in range(ov.size())]
    best = max(set(positions), key=positions.count)
    imp.setSlice(best)
    report = {
        "slices": int(imp.getNSlices()),
        "rows": int(table.rows()),
        "results_window_rows": int(rt.size()) if rt else 0,
        "windows": [str(t) for t in WM.getNonImageTitles()],
        "images": [str(WM.getImage(i).getTitle()) for i in WM.getIDList()],
        "circles_on_slice": positions.count(best),
    }
    win = imp.getWindow()
    win.setLocation(0, 100)
    IJ.run(imp, "Set... ", f"zoom=300 x={imp.getWidth() // 2} y={imp.getHeight() // 2}")
    frame = WM.getWindow("EMSeg Results")
    if frame is not None:
        frame.setLocation(820, 100)
        frame.setSize(760, 500)
        frame.toFront()
    WM.setCurrentWindow(win)
    win.toFront()
    IJ.wait(1500)
    robot = jclass("java.awt.Robot")()
    size = jclass("java.awt.Toolkit").getDefaultToolkit().getScreenSize()
    shot = robot.createScreenCapture(jclass("java.awt.Rectangle")(size))
    IJ.saveAs(ij.ImagePlus("screenshot", shot), "PNG", str(out / "screenshot.png"))
    (out / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    from fiji_helpers import run_gui_check
    run_gui_check(main, Path(sys.argv[1]), Path(sys.argv[2]))
