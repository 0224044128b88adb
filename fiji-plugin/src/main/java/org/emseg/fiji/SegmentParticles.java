package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.plugin.PlugIn;

/**
 * Plugins > EMSeg > Segment Particles...: segment the current image with a trained model. On a
 * stack (a tomogram) it runs the volume pipeline: vesicle label stack, vesicle table and each
 * vesicle drawn as a circle on the slices it crosses. With a multi-class model (organelles) it
 * shows the class image with its label LUT and legend, the class areas, the objects of the
 * instance classes and the selections of the chosen classes.
 */
public class SegmentParticles implements PlugIn {
    /** The default model for stacks. */
    public static final String VOLUME_MODEL = "emseg-vesicles-cryoet";

    @Override
    public void run(String arg) {
        ImagePlus imp = Commands.begin();
        if (imp == null) {
            return;
        }
        if (imp.getStackSize() > 1) {
            runVolume(imp);
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
            f.addString("ROI_classes", "", 20);
            f.addMessage("ROI classes: multi-class models only; empty = the model's instance classes, "
                    + "'all', or names separated by commas");
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
            String roiClasses = f.nextString();
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
            if (seg.isClasses()) {
                Display.presentClasses(imp, seg, stem, seg.classes.chooseClasses(roiClasses), rois, prob);
                IJ.showProgress(1.0);
                return;
            }
            Display.present(imp, seg.labels, seg.width, seg.height, seg.table,
                    seg.labelImage(stem + "_labels"), prob ? seg.probabilityImage(stem + "_prob") : null,
                    rois, hist, seg.report);
            IJ.showProgress(1.0);
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Segment Particles", e.getMessage());
        }
    }

    /** The volume pipeline on the current stack. */
    private static void runVolume(ImagePlus imp) {
        try {
            VolumeData data = VolumeData.of(imp);
            Settings settings = Settings.load();
            Fields f = new Fields("EMSeg Segment Vesicles (stack)");
            f.addString("Model", Settings.DEFAULT_MODEL.equals(settings.model) ? VOLUME_MODEL : settings.model, 28);
            f.addNumber("Voxel_size", data.pixelWidth, 4, "nm (0 = stack calibration)");
            f.addNumber("Threshold", 0, 3, "(0 = model's rule)");
            f.addCheckbox("Refine_spheres (radial profiles, CryoVesNet)", true);
            f.addCheckbox("Circles (each vesicle on the slices it crosses)", true);
            f.addCheckbox("Histogram", true);
            f.addHelp("https://github.com/emseg/emseg#tomograms-in-fiji");
            if (!f.show()) {
                return;
            }
            String model = f.nextString();
            double voxel = f.nextNumber();
            double threshold = f.nextNumber();
            boolean refine = f.nextBoolean();
            boolean circles = f.nextBoolean();
            boolean hist = f.nextBoolean();
            data = withVoxelSize(data, voxel);
            if (!data.isCalibrated()) {
                throw new IllegalArgumentException(imp.getTitle() + " has no voxel size in nm: give Voxel_size "
                        + "(or set it with Image > Properties...); EMSeg never guesses it");
            }
            SegmentOptions opts = new SegmentOptions(model, threshold == 0 ? Double.NaN : threshold, false,
                    settings.modelsDir, refine);
            Backend backend = Backends.get(settings);
            IJ.showStatus("EMSeg: segmenting vesicles in " + imp.getTitle() + " (" + backend.describe() + ")");
            VolumeSegmentation seg = backend.segmentVolume(data, opts, new IJProgress("EMSeg: segmenting"));
            Display.presentVolume(imp, seg, seg.labelImage(stem(imp.getTitle()) + "_labels"), circles, hist);
            IJ.showProgress(1.0);
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Segment Particles", e.getMessage());
        }
    }

    /** Voxel size in nm from a dialog value: > 0 overrides (isotropic), 0 keeps the stack's calibration. */
    static VolumeData withVoxelSize(VolumeData data, double nm) {
        if (!(nm >= 0) || Double.isInfinite(nm)) {
            throw new IllegalArgumentException("voxel size must be > 0 nm (or 0 for the stack calibration), got " + nm);
        }
        boolean same = nm == data.pixelWidth && nm == data.pixelHeight && nm == data.pixelDepth;
        return nm > 0 && !same ? data.withVoxelSize(nm, nm, nm) : data;
    }

    /** Title without its image extension. */
    static String stem(String title) {
        String t = title == null ? "image" : title;
        String lower = t.toLowerCase();
        for (String ext : new String[]{".ome.tiff", ".ome.tif", ".tiff", ".tif", ".png", ".jpeg", ".jpg",
                ".dm3", ".dm4", ".ser", ".emd", ".mrc", ".rec", ".map", ".st", ".ali"}) {
            if (lower.endsWith(ext)) {
                return t.substring(0, t.length() - ext.length());
            }
        }
        return t;
    }
}
