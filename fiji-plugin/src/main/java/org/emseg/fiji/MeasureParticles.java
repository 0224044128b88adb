package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.plugin.PlugIn;

import java.util.ArrayList;
import java.util.List;

/**
 * Plugins > EMSeg > Measure Particles...: ImageJ-identical measurements (plus ECD and Border)
 * of every particle of the current label image or binary mask.
 */
public class MeasureParticles implements PlugIn {
    static final String NONE = "none";

    @Override
    public void run(String arg) {
        ImagePlus imp = Commands.begin();
        if (imp == null) {
            return;
        }
        try {
            LabelInput input = LabelInput.of(imp);
            List<String> titles = new ArrayList<>();
            titles.add(NONE);
            titles.addAll(greyImagesLike(imp));
            Settings settings = Settings.load();
            Fields f = new Fields("EMSeg Measure Particles");
            f.addChoice("Intensity_image", titles.toArray(new String[0]), NONE);
            f.addChoice("Connectivity (of binary masks)", new String[]{"8", "4"}, "8");
            f.addNumber("Pixel_size", input.data.pixelWidth, 4, "nm (0 = image calibration)");
            f.addCheckbox("ROI_Manager", true);
            f.addCheckbox("Histogram", true);
            if (!f.show()) {
                return;
            }
            String intensityTitle = f.nextChoice();
            int connectivity = Integer.parseInt(f.nextChoice().trim());
            double pixel = f.nextNumber();
            boolean rois = f.nextBoolean();
            boolean hist = f.nextBoolean();
            ImageData labels = Commands.withPixelSize(input.data, pixel);
            ImagePlus intensityImp = null;
            ImageData intensity = null;
            if (!NONE.equals(intensityTitle)) {
                intensityImp = WindowManager.getImage(intensityTitle);
                if (intensityImp == null) {
                    throw new IllegalArgumentException("intensity image " + intensityTitle + " is not open");
                }
                intensity = ImageData.of(intensityImp);
                if (intensity.width != labels.width || intensity.height != labels.height) {
                    throw new IllegalArgumentException("intensity image " + intensityTitle + " is "
                            + intensity.width + "x" + intensity.height + ", labels are " + labels.width + "x"
                            + labels.height);
                }
            }
            Backend backend = Backends.get(settings);
            IJ.showStatus("EMSeg: measuring " + imp.getTitle() + " (" + backend.describe() + ")");
            Table table = backend.measure(labels, intensity, connectivity, new IJProgress("EMSeg: measuring"));
            int[] particles = input.particles(connectivity);
            ImagePlus target = intensityImp != null ? intensityImp : imp;
            Display.present(target, particles, labels.width, labels.height, table, null, null, rois, hist);
            IJ.showProgress(1.0);
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Measure Particles", e.getMessage());
        }
    }

    /** Titles of the other open non-RGB images of the same size as {@code imp}. */
    static List<String> greyImagesLike(ImagePlus imp) {
        List<String> titles = new ArrayList<>();
        for (int id : idList()) {
            ImagePlus other = WindowManager.getImage(id);
            if (other != null && other != imp && other.getWidth() == imp.getWidth()
                    && other.getHeight() == imp.getHeight() && other.getType() != ImagePlus.COLOR_RGB) {
                titles.add(other.getTitle());
            }
        }
        return titles;
    }

    static int[] idList() {
        int[] ids = WindowManager.getIDList();
        return ids == null ? new int[0] : ids;
    }

    /** A label image or binary mask ready for the backend (16-bit) and for outlining. */
    static final class LabelInput {
        final ImageData data;
        final int[] values;
        final boolean binary;

        private LabelInput(ImageData data, int[] values, boolean binary) {
            this.data = data;
            this.values = values;
            this.binary = binary;
        }

        static LabelInput of(ImagePlus imp) {
            ImageData plane = ImageData.of(imp);
            int[] values = Segmentation.labelsOf(imp.getProcessor());
            int max = 0;
            for (int v : values) {
                max = Math.max(max, v);
            }
            if (max == 0) {
                throw new IllegalArgumentException(imp.getTitle() + " is empty: no particle pixels");
            }
            if (max > 65535) {
                throw new IllegalArgumentException(imp.getTitle() + ": labels above 65535 are not supported");
            }
            Object px = Segmentation.labelProcessor(plane.width, plane.height, values).getPixels();
            ImageData data = new ImageData(imp.getTitle(), plane.width, plane.height, px, plane.pixelWidth,
                    plane.pixelHeight);
            return new LabelInput(data, values, LabelRois.isBinary(values));
        }

        /** Particles as the backend numbers them: the labels, or a mask's components. */
        int[] particles(int connectivity) {
            return binary ? LabelRois.components(values, data.width, data.height, connectivity) : values;
        }
    }
}
