package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.gui.Roi;
import ij.plugin.PlugIn;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Plugins > EMSeg > Batch Segment Folder...: segments every image of a folder and writes, per
 * image, {@code <name>_labels.tif}, {@code <name>_results.csv} and {@code <name>_overlay.png},
 * plus {@code summary.csv} with every particle. With a multi-class model: {@code <name>_classes.tif}
 * (label LUT, class names), {@code <name>_classes.csv} (class areas), the objects of each instance
 * class ({@code <name>_<class>_labels.tif}, {@code _<class>_results.csv}), the overlay, and one
 * row per image in {@code summary.csv} (each class's area and fraction, each instance class's
 * number of objects). Unreadable files are logged and skipped.
 */
public class BatchSegmentFolder implements PlugIn {
    static final String[] SUFFIXES = {".tif", ".tiff", ".png", ".jpg", ".jpeg"};

    @Override
    public void run(String arg) {
        Commands.start();
        try {
            Settings settings = Settings.load();
            Fields f = new Fields("EMSeg Batch Segment Folder");
            f.addDirectory("Input folder", "");
            f.addDirectory("Output folder", "");
            f.addString("Model", settings.model, 28);
            f.addNumber("Pixel_size", 0, 4, "nm (0 = each file's calibration)");
            f.addNumber("Threshold", 0, 3, "(0 = model's tuned value)");
            f.addCheckbox("Keep_data_bar", false);
            if (!f.show()) {
                return;
            }
            File in = new File(f.nextString().trim());
            File out = new File(f.nextString().trim());
            String model = f.nextString();
            double pixel = f.nextNumber();
            double threshold = f.nextNumber();
            boolean keepBar = f.nextBoolean();
            SegmentOptions opts = new SegmentOptions(model, threshold == 0 ? Double.NaN : threshold, keepBar,
                    settings.modelsDir);
            Report report = run(in, out, opts, pixel, Backends.get(settings));
            IJ.log(report.toString());
            if (!report.failures.isEmpty()) {
                MacroFunctions.setLastError(report.failures.size() + " file(s) failed; see the Log");
            }
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            Commands.fail("Batch Segment Folder", e.getMessage());
        }
    }

    /** Images of {@code folder} by name (EMSeg's own outputs excluded). */
    public static List<File> images(File folder) {
        if (!folder.isDirectory()) {
            throw new IllegalArgumentException("input folder " + folder + " is not a folder");
        }
        File[] all = folder.listFiles();
        List<File> out = new ArrayList<>();
        if (all == null) {
            return out;
        }
        Arrays.sort(all);
        for (File file : all) {
            String n = file.getName().toLowerCase(Locale.ROOT);
            if (!file.isFile() || n.startsWith(".") || n.endsWith("_labels.tif") || n.endsWith("_prob.tif")
                    || n.endsWith("_classes.tif") || n.contains("_prob_")) {
                continue;
            }
            for (String s : SUFFIXES) {
                if (n.endsWith(s)) {
                    out.add(file);
                    break;
                }
            }
        }
        return out;
    }

    /** Outcome of a batch. */
    public static final class Report {
        public int images;
        public int particles;
        public final List<String> failures = new ArrayList<>();
        public File summary;

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("EMSeg Batch Segment Folder: " + images + " image(s), "
                    + particles + " particles" + (summary == null ? "" : ", summary " + summary));
            if (!failures.isEmpty()) {
                sb.append("; ").append(failures.size()).append(" file(s) skipped:");
                for (String s : failures) {
                    sb.append("\n  ").append(s);
                }
            }
            return sb.toString();
        }
    }

    /** A multi-class model's files for one image, with the overlay; returns the number of objects. */
    private static int saveClasses(Segmentation seg, ImagePlus imp, File out, String stem) throws IOException {
        int objects = writeClassFiles(seg, out, stem);
        ij.gui.Overlay ov = new ij.gui.Overlay();
        for (Roi r : seg.classes.rois(seg.classes.instanceClasses)) {
            ov.add(r);
        }
        imp.setOverlay(ov);
        MacroFunctions.saveImage(new File(out, stem + "_overlay.png"), imp.flatten(), true);
        return objects;
    }

    /**
     * The files {@code emseg segment} writes for a multi-class model, except the picture:
     * {@code <stem>_classes.tif}, {@code _classes.csv}, {@code _<class>_labels.tif} and
     * {@code _<class>_results.csv}; returns the number of objects.
     */
    static int writeClassFiles(Segmentation seg, File out, String stem) throws IOException {
        ClassImage c = seg.classes;
        MacroFunctions.saveImage(new File(out, stem + "_classes.tif"), seg.classImage(stem + "_classes"), false);
        MacroFunctions.writeAtomically(new File(out, stem + "_classes.csv"), c.areas.toCsv());
        int objects = 0;
        for (int k = 0; k < c.instanceClasses.length; k++) {
            String part = stem + "_" + Segmentation.fileName(c.instanceClasses[k]);
            MacroFunctions.saveImage(new File(out, part + "_labels.tif"),
                    seg.objectImage(c.instanceClasses[k], part + "_labels"), false);
            MacroFunctions.writeAtomically(new File(out, part + "_results.csv"), c.objectTables[k].toCsv());
            objects += c.objectTables[k].rows();
        }
        return objects;
    }

    /** Segments every image of {@code in} into {@code out}; goes on past bad files. */
    public static Report run(File in, File out, SegmentOptions opts, double pixel, Backend backend) {
        List<File> files = images(in);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no images (" + String.join(", ", SUFFIXES) + ") in " + in);
        }
        if (!out.isDirectory() && !out.mkdirs()) {
            throw new IllegalArgumentException("cannot create the output folder " + out);
        }
        if (out.getAbsoluteFile().equals(in.getAbsoluteFile())) {
            throw new IllegalArgumentException("output folder must differ from the input folder");
        }
        Report report = new Report();
        List<Table> all = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            File file = files.get(i);
            IJ.showProgress(i, files.size());
            IJ.showStatus("EMSeg batch: " + file.getName() + " (" + (i + 1) + "/" + files.size() + ")");
            String problem = MacroFunctions.checkImage(file.getPath());
            if (!problem.isEmpty()) {
                report.failures.add(problem);
                continue;
            }
            ImagePlus imp = IJ.openImage(file.getPath());
            if (imp.getStackSize() > 1) {
                // never one slice of a tomogram through a 2D model
                report.failures.add(file.getName() + ": a stack of " + imp.getStackSize() + " slices; segment "
                        + "tomograms with Segment Particles... on the stack or with macros/batch_segment.ijm");
                imp.close();
                continue;
            }
            try {
                ImageData data = Commands.withPixelSize(ImageData.of(imp), pixel)
                        .withSourcePath(file.getAbsolutePath());
                Segmentation seg = backend.segment(data, opts, Progress.NONE);
                Commands.noteCalibration(file.getName(), seg);
                String stem = SegmentParticles.stem(file.getName());
                if (seg.isClasses()) {
                    report.particles += saveClasses(seg, imp, out, stem);
                    all.add(seg.classes.summaryRow().withText("File", file.getName()));
                    report.images++;
                    continue;
                }
                MacroFunctions.saveImage(new File(out, stem + "_labels.tif"), seg.labelImage(stem + "_labels"), false);
                MacroFunctions.writeAtomically(new File(out, stem + "_results.csv"), seg.table.toCsv());
                Map<Integer, Roi> rois = LabelRois.fromLabels(seg.labels, seg.width, seg.height);
                Display.overlay(imp, rois.values(), Display.OUTLINE);
                MacroFunctions.saveImage(new File(out, stem + "_overlay.png"), imp.flatten(), true);
                all.add(seg.table.withText("File", file.getName()));
                report.images++;
                report.particles += seg.table.rows();
            } catch (BackendException | IllegalArgumentException | IOException e) {
                report.failures.add(file.getName() + ": " + e.getMessage());
            } finally {
                imp.close();
            }
        }
        IJ.showProgress(1.0);
        if (!all.isEmpty()) {
            report.summary = new File(out, "summary.csv");
            try {
                MacroFunctions.writeAtomically(report.summary, Table.concat(all).toCsv());
            } catch (IOException e) {
                report.failures.add("summary.csv: " + e.getMessage());
                report.summary = null;
            }
        }
        return report;
    }
}
