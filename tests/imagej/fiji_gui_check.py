"""Run the EMSeg menu commands in ImageJ's GUI (under Xvfb) and report what the windows hold.

Called by tests/test_fiji.py as ``xvfb-run python fiji_gui_check.py OUTDIR``; writes
OUTDIR/report.json and OUTDIR/screenshot.png (the whole virtual screen).
"""

import json
import sys
from pathlib import Path


def main(out):
    from emseg.imagej import fiji
    from emseg.workflows import sample_files

    ij = fiji.start(headless=False)
    from emseg.imagej.java import jclass
    IJ, WM = ij.IJ, ij.WindowManager
    ij.ImageJ()
    IJ.run("EMSeg Options...", f"python=[{sys.executable}] models=[] model=emseg-particles-sem backend=auto")
    imp = IJ.openImage(str(sample_files()[0]))
    imp.show()
    IJ.wait(500)
    IJ.run(imp, "Segment Particles...", "model=emseg-particles-sem pixel_size=0 threshold=0 "
                                        "roi_manager probability_map histogram")
    err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
    if err:
        raise SystemExit(f"Segment Particles failed: {err}")
    rm = ij.plugin.frame.RoiManager.getInstance()
    rt = ij.measure.ResultsTable.getResultsTable("EMSeg Results")
    report = {
        "rows": int(jclass("org.emseg.fiji.Display").table("EMSeg Results").rows()),
        "roi_manager": int(rm.getCount()) if rm else 0,
        "overlay": int(imp.getOverlay().size()) if imp.getOverlay() else 0,
        "windows": [str(t) for t in WM.getNonImageTitles()],
        "images": [str(WM.getImage(i).getTitle()) for i in WM.getIDList()],
        "results_window_rows": int(rt.size()) if rt else 0,
    }
    labels = WM.getImage("sample_sem_labels")
    IJ.run(labels, "Filter Particles...", "minferet_min=60 minferet_max=200 area_min=0 area_max=10000000 "
                                          "circularity_min=0 circularity_max=1 solidity_min=0 "
                                          "solidity_max=1 exclude_border roi_manager")
    err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
    if err:
        raise SystemExit(f"Filter Particles failed: {err}")
    report["filtered_rows"] = int(jclass("org.emseg.fiji.Display").table("EMSeg Results").rows())
    report["filtered_roi_manager"] = int(ij.plugin.frame.RoiManager.getInstance().getCount())
    # arrange: the segmented image with its outlines in front, the results table beside it
    win = imp.getWindow()
    win.setLocation(0, 100)
    WM.setCurrentWindow(win)
    win.toFront()
    frame = WM.getWindow("EMSeg Results")
    if frame is not None:
        frame.setLocation(800, 100)
        frame.setSize(780, 500)
        frame.toFront()
    win.toFront()
    IJ.wait(1500)
    robot = jclass("java.awt.Robot")()
    size = jclass("java.awt.Toolkit").getDefaultToolkit().getScreenSize()
    shot = robot.createScreenCapture(jclass("java.awt.Rectangle")(size))
    ij.IJ.saveAs(ij.ImagePlus("screenshot", shot), "PNG", str(out / "screenshot.png"))
    # the same rules through Classifier Filter (classifier none): same particles kept
    IJ.run(labels, "Classifier Filter...", f"image=[{imp.getTitle()}] classifier=none minimum_score=0 "
                                           "exclude_border ranges=[MinFeret=60:200] pixel_size=0 "
                                           "roi_manager")
    err = str(jclass("org.emseg.fiji.MacroFunctions").lastError())
    if err:
        raise SystemExit(f"Classifier Filter failed: {err}")
    table = jclass("org.emseg.fiji.Display").table("EMSeg Results")
    report["classified_rows"] = int(table.rows())
    report["classified_kept"] = int(sum(v != 0 for v in table.column("Kept")))
    report["classified_roi_manager"] = int(ij.plugin.frame.RoiManager.getInstance().getCount())
    ov = imp.getOverlay()
    colors = [ov.get(i).getStrokeColor() for i in range(ov.size())]
    report["classified_green"] = sum(int(c.getGreen() == 255 and c.getRed() == 0) for c in colors)
    report["classified_red"] = sum(int(c.getRed() == 255 and c.getGreen() == 0) for c in colors)
    imp.getWindow().toFront()
    IJ.wait(1000)
    shot = robot.createScreenCapture(jclass("java.awt.Rectangle")(size))
    ij.IJ.saveAs(ij.ImagePlus("screenshot", shot), "PNG", str(out / "screenshot_classified.png"))
    (out / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    from fiji_helpers import run_gui_check
    run_gui_check(main, Path(sys.argv[1]))
