package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.plugin.PlugIn;

/** Plugins > EMSeg > Segment Particles...: segment the current image with a trained model. */
public class SegmentParticles implements PlugIn {

    @Override
    public void run(String arg) {
        ImagePlus imp = Commands.begin();
        if (imp == null) {
            return;
        }
        try {
            ImageData data = ImageData.of(imp);
            Settings settings = Settings.load();
            Fields f = new Fields("EMSeg Segment Particles");
            f.addString("Model", settings.model, 28);
            f.addNumber("Pixel_size", data.pixelWidth, 4, "nm (0 = image calibration)");
            f.addNumber("Threshold", 0, 3, "(0 = model's tuned value)");
            f.addCheckbox("Keep_data_bar (do not detect the microscope's info bar)", false);
            f.addCheckbox("ROI_Manager", true);
            f.addCheckbox("Probability_map", true);
            f.addCheckbox("Histogram", true);
            f.addHelp("https://github.com/emseg/emseg#use-in-fiji");
            if (!f.show()) {
                return;
            }
            String model = f.nextString();
            double pixel = f.nextNumber();
            double threshold = f.nextNumber();
            boolean keepBar = f.nextBoolean();
            boolean rois = f.nextBoolean();
            boolean prob = f.nextBoolean();
            boolean hist = f.nextBoolean();
            data = Commands.withPixelSize(data, pixel);
            if (!data.isCalibrated() && data.sourcePath == null) {
                throw new IllegalArgumentException(imp.getTitle() + " has no pixel size in nm: give Pixel_size "
                        + "(or set it with Analyze > Set Scale); EMSeg never guesses it");
            }
            SegmentOptions opts = new SegmentOptions(model, threshold == 0 ? Double.NaN : threshold,
                    keepBar, settings.modelsDir);
            Backend backend = Backends.get(settings);
            IJ.showStatus("EMSeg: segmenting " + imp.getTitle() + " (" + backend.describe() + ")");
            Segmentation seg = backend.segment(data, opts, new IJProgress("EMSeg: segmenting"));
            Commands.noteCalibration(imp.getTitle(), seg);
            String stem = stem(imp.getTitle());
            Display.present(imp, seg.labels, seg.width, seg.height, seg.table,
                    seg.labelImage(stem + "_labels"), prob ? seg.probabilityImage(stem + "_prob") : null,
                    rois, hist);
            IJ.showProgress(1.0);
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Segment Particles", e.getMessage());
        }
    }

    /** Title without its image extension. */
    static String stem(String title) {
        String t = title == null ? "image" : title;
        String lower = t.toLowerCase();
        for (String ext : new String[]{".ome.tiff", ".ome.tif", ".tiff", ".tif", ".png", ".jpeg", ".jpg",
                ".dm3", ".dm4", ".ser", ".emd", ".mrc"}) {
            if (lower.endsWith(ext)) {
                return t.substring(0, t.length() - ext.length());
            }
        }
        return t;
    }
}
