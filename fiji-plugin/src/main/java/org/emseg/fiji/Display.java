package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.gui.Overlay;
import ij.gui.Plot;
import ij.gui.Roi;
import ij.macro.Interpreter;
import ij.measure.ResultsTable;
import ij.plugin.frame.RoiManager;

import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Shows results the ImageJ way: "EMSeg Results" table, ROI Manager, outline overlay, label and
 * probability images, MinFeret histogram. Headless (no windows can exist) the tables and ROIs
 * are kept here, where macros ({@link MacroFunctions}) and tests find them.
 */
public final class Display {
    /** Title of the results table every command fills. */
    public static final String RESULTS = "EMSeg Results";
    public static final Color OUTLINE = Color.YELLOW;
    public static final Color KEPT = Color.GREEN;
    public static final Color DROPPED = Color.RED;

    private static final Map<String, Table> TABLES = new HashMap<>();
    private static final Map<String, ResultsTable> RESULTS_TABLES = new HashMap<>();
    private static Map<Integer, Roi> lastRois;

    private Display() {
    }

    static boolean headless() {
        return GraphicsEnvironment.isHeadless();
    }

    /** Shows an image (in batch mode it becomes the macro's current image). */
    public static void show(ImagePlus imp) {
        if (imp == null) {
            return;
        }
        if (headless() && !Interpreter.isBatchMode()) {
            return;  // no window can be made; the command's outputs are in the tables/ROIs here
        }
        imp.show();
    }

    /** Shows {@code table} as the ImageJ table {@code title} (full precision kept here too). */
    public static synchronized ResultsTable results(Table table, String title) {
        ResultsTable rt = table.toResultsTable();
        TABLES.put(title, table);
        RESULTS_TABLES.put(title, rt);
        if (!headless()) {
            rt.show(title);
        }
        return rt;
    }

    /** The last Table shown under {@code title} by an EMSeg command, or null. */
    public static synchronized Table table(String title) {
        return TABLES.get(title);
    }

    /** Stores a table under a title without showing it (batch summaries). */
    public static synchronized void keep(String title, Table table) {
        TABLES.put(title, table);
    }

    /** The ResultsTable last shown under {@code title} by an EMSeg command, or null. */
    public static synchronized ResultsTable resultsTable(String title) {
        return RESULTS_TABLES.get(title);
    }

    /** The selections of the last command, by label (also in the ROI Manager when there is one). */
    public static synchronized Map<Integer, Roi> lastRois() {
        return lastRois;
    }

    /** Outlines of {@code rois} as {@code imp}'s overlay, in one colour. */
    public static void overlay(ImagePlus imp, Collection<Roi> rois, Color color) {
        Overlay ov = new Overlay();
        for (Roi r : rois) {
            Roi c = (Roi) r.clone();
            c.setStrokeColor(color);
            ov.add(c);
        }
        imp.setOverlay(ov);
    }

    /**
     * Outlines of every table row's particle, green where {@code keep} is true and red elsewhere
     * (rows without a selection are left out).
     */
    public static Overlay verdict(Map<Integer, Roi> rois, Table table, boolean[] keep) {
        Overlay ov = new Overlay();
        int[] ids = table.labels();
        for (int r = 0; r < keep.length; r++) {
            Roi roi = rois.get(ids[r]);
            if (roi != null) {
                Roi c = (Roi) roi.clone();
                c.setStrokeColor(keep[r] ? KEPT : DROPPED);
                ov.add(c);
            }
        }
        return ov;
    }

    /** Puts {@code rois} in the ROI Manager (replacing its content), named by label. */
    public static void roiManager(ImagePlus imp, Collection<Roi> rois) {
        if (headless()) {
            return;  // ImageJ's ROI Manager is a window
        }
        RoiManager rm = Interpreter.isBatchMode() ? Interpreter.getBatchModeRoiManager() : null;
        if (rm == null) {
            rm = RoiManager.getRoiManager();
        }
        rm.reset();
        int i = 0;
        for (Roi r : rois) {
            rm.add(imp, (Roi) r.clone(), -1);
            rm.rename(i++, r.getName());
        }
    }

    /** A histogram of {@code column} shown as an ImageJ Plot window. */
    public static ImagePlus histogram(Table table, String column, String unit, String title) {
        if (!table.has(column)) {
            return null;
        }
        Plot plot = Histogram.plot(table, column, unit, title);
        ImagePlus imp = plot.getImagePlus();
        show(imp);
        return imp;
    }

    /**
     * Everything a command shows: results table, outlines on {@code target}, ROI Manager,
     * label and probability images and the MinFeret histogram.
     */
    public static void present(ImagePlus target, int[] labels, int width, int height, Table table,
                               ImagePlus labelImage, ImagePlus probability, boolean useRoiManager,
                               boolean histogram) {
        present(target, labels, width, height, table, labelImage, probability, useRoiManager,
                histogram, new String[0]);
    }

    /**
     * {@link #present} with the histograms of {@code report}'s measurements (a model's reported
     * ones, e.g. a vesicle model's diameter and roundness) instead of MinFeret's when it names
     * any.
     */
    public static void present(ImagePlus target, int[] labels, int width, int height, Table table,
                               ImagePlus labelImage, ImagePlus probability, boolean useRoiManager,
                               boolean histogram, String[] report) {
        IJ.showStatus("EMSeg: outlining " + table.rows() + " particles");
        present(target, LabelRois.fromLabels(labels, width, height), table, labelImage, probability,
                useRoiManager, histogram, report);
    }

    /** {@link #present} with the particles' selections already made. */
    public static void present(ImagePlus target, Map<Integer, Roi> rois, Table table,
                               ImagePlus labelImage, ImagePlus probability, boolean useRoiManager,
                               boolean histogram) {
        present(target, rois, table, labelImage, probability, useRoiManager, histogram,
                new String[0]);
    }

    /** Measurements whose histogram has no unit (ratios). */
    private static final java.util.Set<String> UNITLESS = new java.util.HashSet<>(
            java.util.Arrays.asList("Circ.", "AR", "Round", "Solidity", "Angle", "FeretAngle"));

    /** {@link #present} with the particles' selections already made and the reported columns. */
    public static void present(ImagePlus target, Map<Integer, Roi> rois, Table table,
                               ImagePlus labelImage, ImagePlus probability, boolean useRoiManager,
                               boolean histogram, String[] report) {
        synchronized (Display.class) {
            lastRois = rois;
        }
        results(table, RESULTS);
        if (target != null) {
            overlay(target, rois.values(), OUTLINE);
        }
        show(labelImage);
        show(probability);
        if (useRoiManager && target != null) {
            roiManager(target, rois.values());
        }
        if (histogram) {
            boolean nm = target != null && "nm".equals(target.getCalibration().getUnit());
            String[] columns = report == null || report.length == 0 ? new String[] {"MinFeret"}
                    : report;
            for (String column : columns) {
                histogram(table, column, UNITLESS.contains(column) ? "" : nm ? "nm" : "pixels",
                        (target == null ? "" : target.getTitle() + " ") + column);
            }
        }
        IJ.showStatus("EMSeg: " + table.rows() + " particles");
    }

    /** Title of the class-area table of a multi-class model. */
    public static final String CLASS_AREAS = "EMSeg Class Areas";
    /** Title of the one-row table of the last multi-class image (a batch summary's row). */
    public static final String CLASS_SUMMARY = "EMSeg Class Summary";
    private static Segmentation lastClasses;

    /** The last multi-class segmentation Segment Particles showed, or null. */
    public static synchronized Segmentation lastClasses() {
        return lastClasses;
    }

    /**
     * Everything Segment Particles shows for a multi-class model: the class image with its label
     * LUT and legend, the class areas ("EMSeg Class Areas"), the objects of the instance classes
     * with their class ("EMSeg Results"), the probability of each class as a stack, and the
     * selections of the chosen classes (outlined on {@code target} in the class colours, in the
     * ROI Manager by class group).
     *
     * @param chosen the classes to select (see {@link ClassImage#chooseClasses})
     */
    public static void presentClasses(ImagePlus target, Segmentation seg, String stem, String[] chosen,
                                      boolean useRoiManager, boolean probability) {
        ClassImage c = seg.classes;
        IJ.showStatus("EMSeg: outlining " + String.join(", ", chosen));
        java.util.List<Roi> rois = c.rois(chosen);
        Map<Integer, Roi> byIndex = new java.util.LinkedHashMap<>();
        for (Roi r : rois) {
            byIndex.put(byIndex.size() + 1, r);
        }
        synchronized (Display.class) {
            lastRois = byIndex;
            lastClasses = seg;
        }
        results(c.areas, CLASS_AREAS);
        keep(CLASS_SUMMARY, c.summaryRow());
        results(c.objectTable(), RESULTS);
        if (target != null) {
            Overlay ov = new Overlay();
            for (Roi r : rois) {
                ov.add((Roi) r.clone());
            }
            target.setOverlay(ov);
        }
        show(seg.classImage(stem + "_classes"));
        if (probability) {
            show(seg.classProbabilityImage(stem + "_prob"));
        }
        if (useRoiManager && target != null) {
            roiManager(target, rois);
        }
        StringBuilder status = new StringBuilder("EMSeg:");
        double[] fraction = c.areas.column("Fraction");
        for (int i = 0; i < c.names.length; i++) {
            status.append(i == 0 ? " " : ", ").append(c.names[i]).append(' ')
                    .append(String.format(java.util.Locale.ROOT, "%.1f%%", 100 * fraction[i]));
        }
        IJ.showStatus(status.toString());
    }

    /** Colour of the vesicles' circles. */
    public static final Color VESICLE = Color.YELLOW;

    /**
     * Everything the stack command shows: the vesicle table as "EMSeg Results" (ImageJ headings,
     * nm), each vesicle's circle on the slices it crosses as {@code target}'s overlay, the label
     * stack and the diameter histogram.
     */
    public static void presentVolume(ImagePlus target, VolumeSegmentation seg, ImagePlus labelImage,
                                     boolean circles, boolean histogram) {
        synchronized (Display.class) {
            lastRois = null;
        }
        results(seg.table, RESULTS);
        if (circles && target != null) {
            Overlay ov = seg.circles(VESICLE);
            target.setOverlay(ov);
            synchronized (Display.class) {
                Map<Integer, Roi> byRoi = new HashMap<>();
                for (int i = 0; i < ov.size(); i++) {
                    byRoi.put(i + 1, ov.get(i));
                }
                lastRois = byRoi;
            }
        }
        show(labelImage);
        if (histogram) {
            String column = seg.refined() ? "Diameter" : "EqDiameter";
            histogram(seg.table, column, "nm", (target == null ? "" : target.getTitle() + " ") + column);
        }
        IJ.showStatus("EMSeg: " + seg.table.rows() + " vesicles");
    }
}
