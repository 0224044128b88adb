package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.Roi;
import ij.plugin.PlugIn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plugins > EMSeg > Classifier Filter...: keeps the particles of the current label image that a
 * classifier network judges fit for size statistics (whole, not occluded, correctly outlined),
 * optionally with range filters and border exclusion. Outlines kept particles in green and
 * discarded ones in red on the grey image, shows every particle's measurements with Score and
 * Kept, and a label image with the kept particles.
 */
public class ClassifierFilter implements PlugIn {

    @Override
    public void run(String arg) {
        ImagePlus imp = Commands.begin();
        if (imp == null) {
            return;
        }
        try {
            MeasureParticles.LabelInput input = MeasureParticles.LabelInput.of(imp);
            List<String> titles = MeasureParticles.greyImagesLike(imp);
            if (titles.isEmpty()) {
                throw new IllegalArgumentException("open the grey-level image of " + imp.getTitle()
                        + " too: the classifier looks at both");
            }
            Settings settings = Settings.load();
            Fields f = new Fields("EMSeg Classifier Filter");
            f.addChoice("Image (grey levels)", titles.toArray(new String[0]), guessImage(imp.getTitle(), titles));
            f.addString("Classifier", ClassifyOptions.DEFAULT_CLASSIFIER, 24);
            f.addNumber("Minimum_score", 0, 2, "(0 = the classifier's tuned value)");
            f.addCheckbox("Exclude_border particles", false);
            f.addString("Ranges", "", 24);
            f.addMessage("Ranges: e.g. MinFeret=20:300 Solidity=0.8: (classifier 'none' = rules only)");
            f.addNumber("Pixel_size", input.data.pixelWidth, 4, "nm (0 = image calibration)");
            f.addCheckbox("ROI_Manager", true);
            f.addCheckbox("Histogram", true);
            if (!f.show()) {
                return;
            }
            String imageTitle = f.nextChoice();
            String classifier = f.nextString();
            double minScore = f.nextNumber();
            boolean border = f.nextBoolean();
            String ranges = f.nextString();
            double pixel = f.nextNumber();
            boolean useRois = f.nextBoolean();
            boolean hist = f.nextBoolean();
            ClassifyOptions options = new ClassifyOptions(classifier, minScore > 0 ? minScore : Double.NaN,
                    border, ranges, settings.modelsDir);
            ImagePlus grey = WindowManager.getImage(imageTitle);
            if (grey == null) {
                throw new IllegalArgumentException("image " + imageTitle + " is not open");
            }
            ImageData image = Commands.withPixelSize(ImageData.of(grey), pixel);
            ImageData labels = Commands.withPixelSize(input.data, pixel);
            Backend backend = Backends.get(settings);
            IJ.showStatus("EMSeg: classifying the particles of " + imp.getTitle() + " (" + backend.describe() + ")");
            Table table = backend.classify(image, labels, options, new IJProgress("EMSeg: classifying"));
            boolean[] keep = kept(table);
            int[] particles = input.particles(8);
            int[] keptLabels = FilterParticles.keptLabels(particles, table, keep);
            String stem = SegmentParticles.stem(imp.getTitle());
            ImagePlus result = new ImagePlus(stem + "_kept",
                    Segmentation.labelProcessor(input.data.width, input.data.height, keptLabels));
            result.setCalibration(imp.getCalibration().copy());
            Display.show(result);
            Map<Integer, Roi> rois = LabelRois.fromLabels(particles, input.data.width, input.data.height);
            Map<Integer, Roi> keptRois = new LinkedHashMap<>();
            int[] ids = table.labels();
            for (int r = 0; r < ids.length; r++) {
                if (keep[r] && rois.containsKey(ids[r])) {
                    keptRois.put(ids[r], rois.get(ids[r]));
                }
            }
            Display.present(grey, keptRois, table.select(keep), null, null, useRois, hist);
            // every particle and its verdict in one table; outlines green (kept) and red on the image
            Display.results(table, Display.RESULTS);
            grey.setOverlay(Display.verdict(rois, table, keep));
            IJ.log("EMSeg Classifier Filter: kept " + RangeFilter.count(keep) + " of " + keep.length
                    + " particles of " + imp.getTitle() + " (" + options.classifier + ")");
            IJ.showProgress(1.0);
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Classifier Filter", e.getMessage());
        }
    }

    /** The Kept column as booleans. */
    static boolean[] kept(Table table) {
        double[] k = table.column("Kept");
        boolean[] out = new boolean[k.length];
        for (int i = 0; i < k.length; i++) {
            out[i] = k[i] != 0 && !Double.isNaN(k[i]);
        }
        return out;
    }

    /** The grey image of a label image named like EMSeg names them ("a_labels" -> "a"). */
    static String guessImage(String labelTitle, List<String> titles) {
        String stem = SegmentParticles.stem(labelTitle).replaceFirst("_(labels|mask|m|filtered|kept)$", "");
        for (String t : titles) {
            if (SegmentParticles.stem(t).equals(stem)) {
                return t;
            }
        }
        return titles.get(0);
    }
}
