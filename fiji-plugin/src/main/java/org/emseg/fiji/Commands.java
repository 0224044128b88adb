package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;

/** What every menu command shares: the current image, error reporting. */
final class Commands {

    private Commands() {
    }

    /** The current image, or null after telling the user there is none. */
    static ImagePlus currentImage() {
        ImagePlus imp = WindowManager.getCurrentImage();
        if (imp == null) {
            IJ.error("EMSeg", "There is no image open.");
        }
        return imp;
    }

    /**
     * Reports a failure: a dialog when a person ran the command; in a macro (or headless) a Log
     * line instead, so that a batch macro goes on and can read the error with
     * {@code call("org.emseg.fiji.MacroFunctions.lastError")}.
     */
    static void fail(String command, String message) {
        MacroFunctions.setLastError(message);
        IJ.showProgress(1.0);
        IJ.showStatus("EMSeg: " + command + " failed");
        if (ij.macro.Interpreter.getInstance() != null || java.awt.GraphicsEnvironment.isHeadless()) {
            IJ.log("EMSeg " + command + ": error: " + message);
        } else {
            IJ.error("EMSeg " + command, message);
        }
    }

    /** Marks the start of a command (clears the last error). */
    static void start() {
        MacroFunctions.setLastError("");
    }

    /** Start of a command on the current image: clears the last error; null when no image is open. */
    static ImagePlus begin() {
        start();
        return currentImage();
    }

    /**
     * Tells the Log (and macros, through {@code MacroFunctions.pixelSizeSource}) when the backend
     * took the pixel size from the file because ImageJ had none.
     */
    static void noteCalibration(String title, Segmentation seg) {
        String note = seg.calibrationNote(title);
        MacroFunctions.setPixelSizeSource(seg.pixelSizeSource == null ? "" : seg.pixelSizeSource);
        if (note != null) {
            IJ.log("EMSeg: " + note);
        }
    }

    /** Pixel size in nm from a dialog value: > 0 overrides, 0 keeps the image's calibration. */
    static ImageData withPixelSize(ImageData data, double nm) {
        if (!(nm >= 0) || Double.isInfinite(nm)) {
            throw new IllegalArgumentException("pixel size must be > 0 nm (or 0 for the image calibration), got " + nm);
        }
        return nm > 0 && nm != data.pixelWidth ? data.withPixelSize(nm, nm) : data;
    }
}
