package org.emseg.fiji;

import ij.IJ;
import ij.plugin.PlugIn;

/** Plugins > EMSeg > EMSeg Options...: Python executable, model folder, default model, backend. */
public class EMSegOptions implements PlugIn {

    @Override
    public void run(String arg) {
        Commands.start();
        try {
            Settings s = Settings.load();
            Fields f = new Fields("EMSeg Options");
            f.addString("Python (executable with emseg installed)", s.python, 36);
            f.addString("Models (extra model folder, optional)", s.modelsDir, 36);
            f.addString("Model (default)", s.model, 28);
            f.addChoice("Backend", Settings.BACKENDS, s.backend);
            if (!f.show()) {
                return;
            }
            Settings n = new Settings(f.nextString(), f.nextString(), f.nextString(), f.nextChoice());
            n.save();
            IJ.showStatus("EMSeg: options saved (" + n.python + ", backend " + n.backend + ")");
        } catch (IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Options", e.getMessage());
        }
    }
}
