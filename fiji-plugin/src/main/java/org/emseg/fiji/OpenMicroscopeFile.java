package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.io.OpenDialog;
import ij.plugin.PlugIn;

/**
 * Plugins > EMSeg > Open Microscope File...: opens an image EMSeg reads and ImageJ does not (Gatan
 * DM3/DM4, TIA SER, Velox/Berkeley EMD, MRC, TIFF with Zeiss/FEI metadata) with its pixel size,
 * and MRC/REC tomograms as stacks with their voxel size (plain ImageJ has no MRC reader).
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
            VolumeData data = backend.openVolume(path, new IJProgress("EMSeg: reading"));
            ImagePlus imp = data.toImagePlus();
            imp.setTitle(data.title);
            // Image > Show Info and the commands' calibration fallback find the file
            ij.io.FileInfo fi = new ij.io.FileInfo();
            java.io.File file = new java.io.File(data.sourcePath == null ? path : data.sourcePath);
            fi.fileName = file.getName();
            fi.directory = file.getAbsoluteFile().getParent() + java.io.File.separator;
            imp.setFileInfo(fi);
            imp.show();
            String size = data.depth > 1 ? data.width + "x" + data.height + "x" + data.depth
                    : data.width + "x" + data.height;
            String cal = !data.isCalibrated() ? "no pixel size in the file"
                    : data.depth > 1 ? "voxel " + data.pixelWidth + " x " + data.pixelHeight + " x "
                    + data.pixelDepth + " nm" : data.pixelWidth + " nm per pixel";
            IJ.log("EMSeg: opened " + data.title + " (" + size + ", " + cal + ")");
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
        OpenDialog od = new OpenDialog("Open microscope file (DM3/DM4, SER, EMD, MRC/REC, TIFF)");
        return od.getFileName() == null ? null : od.getDirectory() + od.getFileName();
    }
}
