package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.io.OpenDialog;
import ij.plugin.PlugIn;

/**
 * Plugins > EMSeg > Open Microscope File...: opens an image EMSeg reads and ImageJ does not (Gatan
 * DM3/DM4, TIA SER, Velox/Berkeley EMD, MRC, TIFF with Zeiss/FEI metadata) with its pixel size.
 */
public class OpenMicroscopeFile implements PlugIn {

    @Override
    public void run(String arg) {
        Commands.start();
        try {
            String path = path(arg);
            if (path == null) {
                return;  // cancelled
            }
            Backend backend = Backends.get(Settings.load());
            IJ.showStatus("EMSeg: reading " + path);
            ImageData data = backend.open(path, new IJProgress("EMSeg: reading"));
            ImagePlus imp = data.toImagePlus();
            imp.setTitle(data.title);
            imp.show();
            IJ.log("EMSeg: opened " + data.title + " (" + data.width + "x" + data.height + ", "
                    + (data.isCalibrated() ? data.pixelWidth + " nm per pixel" : "no pixel size in the file")
                    + ")");
            IJ.showStatus("");
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Open Microscope File", e.getMessage());
        }
    }

    /** The file from the macro options ({@code path=}), the argument or a file dialog. */
    private static String path(String arg) {
        String options = ij.Macro.getOptions();
        if (options != null) {
            String p = ij.Macro.getValue(options, "path", "");
            if (!p.isEmpty()) {
                return p;
            }
        }
        if (arg != null && !arg.isEmpty()) {
            return arg;
        }
        if (java.awt.GraphicsEnvironment.isHeadless()) {
            throw new IllegalArgumentException("give the file with path=[...]");
        }
        OpenDialog od = new OpenDialog("Open microscope file (DM3/DM4, SER, EMD, MRC, TIFF)");
        return od.getFileName() == null ? null : od.getDirectory() + od.getFileName();
    }
}
