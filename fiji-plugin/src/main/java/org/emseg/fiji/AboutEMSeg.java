package org.emseg.fiji;

import ij.IJ;
import ij.plugin.PlugIn;

/** Plugins > EMSeg > About EMSeg: versions and the backend in use. */
public class AboutEMSeg implements PlugIn {

    @Override
    public void run(String arg) {
        String text = about();
        if (java.awt.GraphicsEnvironment.isHeadless() || ij.macro.Interpreter.getInstance() != null) {
            IJ.log(text);
        } else {
            IJ.showMessage("About EMSeg", text);
        }
    }

    /** Plugin version, backend and the backend's emseg version (or why it cannot be reached). */
    public static String about() {
        StringBuilder sb = new StringBuilder("EMSeg Fiji plugin " + Settings.pluginVersion() + "\n");
        sb.append("Segmentation and ImageJ-identical measurement of particles and vesicles in electron\n"
                + "micrographs, backed by the emseg Python package.\n");
        Settings s = Settings.load();
        try {
            Backend b = Backends.get(s);
            String version = b.version();
            sb.append("Backend: ").append(b.describe()).append('\n');
            sb.append("emseg (Python): ").append(version).append('\n');
        } catch (BackendException e) {
            sb.append("Backend not available: ").append(e.getMessage()).append('\n');
        }
        sb.append("Default model: ").append(s.model);
        return sb.toString();
    }
}
