package org.emseg.fiji;

import ij.ImagePlus;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;

/**
 * What a backend returns for one image: instance labels, probability map and measurements; for
 * a multi-class (semantic) model, its {@link #classes} instead.
 */
public final class Segmentation {
    public final int width;
    public final int height;
    /** Instance labels row by row, 0 = background; null for a multi-class model. */
    public final int[] labels;
    /** Foreground probability row by row, or null (measure only). */
    public final float[] probability;
    /** Measurements of every particle, one row per label; a multi-class model's class areas. */
    public final Table table;
    /** First row of the excluded data bar, or -1. */
    public final int databarRow;
    /** Pixel size used, nm. */
    public final double pixelWidth;
    public final double pixelHeight;
    /**
     * Where the backend found the pixel size when the image had none, e.g. "Zeiss SEM tag 34118
     * of 1908298.tif"; null when the image's own (or the dialog's) size was used.
     */
    public final String pixelSizeSource;
    /**
     * Measurements the model reports (its {@code model.yaml} {@code report}, e.g. the diameter
     * ECD and the roundness Circ. of a vesicle model): drawn as histograms. Empty when the model
     * names none.
     */
    public final String[] report;
    /** A multi-class model's classes, areas and objects; null for a particle model. */
    public final ClassImage classes;

    public Segmentation(int width, int height, int[] labels, float[] probability, Table table,
                        int databarRow, double pixelWidth, double pixelHeight) {
        this(width, height, labels, probability, table, databarRow, pixelWidth, pixelHeight, null);
    }

    public Segmentation(int width, int height, int[] labels, float[] probability, Table table,
                        int databarRow, double pixelWidth, double pixelHeight, String pixelSizeSource) {
        this(width, height, labels, probability, table, databarRow, pixelWidth, pixelHeight,
                pixelSizeSource, new String[0]);
    }

    public Segmentation(int width, int height, int[] labels, float[] probability, Table table,
                        int databarRow, double pixelWidth, double pixelHeight, String pixelSizeSource,
                        String[] report) {
        if (labels == null || labels.length != width * height) {
            throw new IllegalArgumentException("labels: need " + width + "x" + height + " values, got "
                    + (labels == null ? "none" : String.valueOf(labels.length)));
        }
        if (probability != null && probability.length != labels.length) {
            throw new IllegalArgumentException("probability: " + probability.length + " values for "
                    + labels.length + " labels");
        }
        if (table == null) {
            throw new IllegalArgumentException("table: missing");
        }
        this.width = width;
        this.height = height;
        this.labels = labels;
        this.probability = probability;
        this.table = table;
        this.databarRow = databarRow;
        this.pixelWidth = pixelWidth;
        this.pixelHeight = pixelHeight;
        this.pixelSizeSource = pixelSizeSource;
        this.report = report == null ? new String[0] : report.clone();
        this.classes = null;
    }

    /** The result of a multi-class model: its classes, with the class areas as the table. */
    public Segmentation(ClassImage classes, int databarRow, double pixelWidth, double pixelHeight,
                        String pixelSizeSource) {
        if (classes == null) {
            throw new IllegalArgumentException("classes: missing");
        }
        this.width = classes.width;
        this.height = classes.height;
        this.labels = null;
        this.probability = null;
        this.table = classes.areas;
        this.databarRow = databarRow;
        this.pixelWidth = pixelWidth;
        this.pixelHeight = pixelHeight;
        this.pixelSizeSource = pixelSizeSource;
        this.report = new String[0];
        this.classes = classes;
    }

    /** True for the result of a multi-class model (see {@link #classes}). */
    public boolean isClasses() {
        return classes != null;
    }

    /**
     * The part of an output file name {@code emseg segment} makes of a measurement's name:
     * letters and digits kept, anything else an underscore, no underscore at either end
     * ("Circ." becomes "Circ").
     */
    public static String fileName(String column) {
        StringBuilder b = new StringBuilder();
        for (char c : column.toCharArray()) {
            b.append(Character.isLetterOrDigit(c) ? c : '_');
        }
        String s = b.toString();
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '_') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '_') {
            end--;
        }
        return s.substring(start, end);
    }

    /**
     * The measurements {@code emseg segment} reported for the image {@code stem} in
     * {@code folder}: the table's columns that have a {@code <stem>_<column>.png} histogram there.
     */
    public static String[] reported(java.io.File folder, String stem, Table table) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String column : table.headings()) {
            if (new java.io.File(folder, stem + "_" + fileName(column) + ".png").isFile()) {
                out.add(column);
            }
        }
        return out.toArray(new String[0]);
    }

    /**
     * What to tell the user when the pixel size came from the file rather than ImageJ: one line
     * for the Log, or null.
     */
    public String calibrationNote(String title) {
        if (pixelSizeSource == null || pixelSizeSource.isEmpty()) {
            return null;
        }
        String size = pixelWidth == pixelHeight ? fmt(pixelWidth) : fmt(pixelWidth) + " x " + fmt(pixelHeight);
        return title + ": ImageJ has no calibration; EMSeg used " + size + " nm from " + pixelSizeSource;
    }

    private static String fmt(double v) {
        String s = String.format(java.util.Locale.ROOT, "%.6g", v);
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    /** The labels as a 16-bit processor, or 32-bit when a label exceeds 65535. */
    public ImageProcessor labelProcessor() {
        if (labels == null) {
            throw new IllegalStateException("a multi-class model gives classes, not particle labels");
        }
        return labelProcessor(width, height, labels);
    }

    static ImageProcessor labelProcessor(int width, int height, int[] labels) {
        int max = 0;
        for (int v : labels) {
            max = Math.max(max, v);
        }
        ImageProcessor ip;
        if (max <= 65535) {
            short[] s = new short[labels.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = (short) labels[i];
            }
            ip = new ShortProcessor(width, height, s, null);
        } else {
            float[] f = new float[labels.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = labels[i];
            }
            ip = new FloatProcessor(width, height, f, null);
        }
        ip.setMinAndMax(0, Math.max(1, max));
        return ip;
    }

    /** Integer labels of a label image plane (8, 16 or 32-bit); refuses negative or fractional. */
    public static int[] labelsOf(ImageProcessor ip) {
        int n = ip.getWidth() * ip.getHeight();
        int[] out = new int[n];
        Object px = ip.getPixels();
        if (px instanceof byte[]) {
            byte[] b = (byte[]) px;
            for (int i = 0; i < n; i++) {
                out[i] = b[i] & 0xff;
            }
        } else if (px instanceof short[]) {
            short[] s = (short[]) px;
            for (int i = 0; i < n; i++) {
                out[i] = s[i] & 0xffff;
            }
        } else if (px instanceof float[]) {
            float[] f = (float[]) px;
            for (int i = 0; i < n; i++) {
                if (!(f[i] >= 0) || f[i] != Math.rint(f[i]) || f[i] > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("labels: pixel " + i + " is " + f[i]
                            + "; a label image holds whole numbers >= 0");
                }
                out[i] = (int) f[i];
            }
        } else {
            throw new IllegalArgumentException("labels: RGB image where a label image is expected");
        }
        return out;
    }

    /** The label image, calibrated in nm. */
    public ImagePlus labelImage(String title) {
        ImagePlus imp = new ImagePlus(title, labelProcessor());
        calibrate(imp);
        notePixelSizeSource(imp, "");
        return imp;
    }

    /**
     * A multi-class model's class image (label LUT, class names, legend overlay), calibrated
     * in nm.
     */
    public ImagePlus classImage(String title) {
        if (classes == null) {
            throw new IllegalStateException("a particle model gives labels, not classes");
        }
        ImagePlus imp = classes.image(title);
        calibrate(imp);
        notePixelSizeSource(imp, (String) imp.getProperty("Info"));
        return imp;
    }

    /** A multi-class model's probability of each class, one calibrated slice per class, or null. */
    public ImagePlus classProbabilityImage(String title) {
        ImagePlus imp = classes == null ? null : classes.probabilityStack(title);
        if (imp != null) {
            calibrate(imp);
        }
        return imp;
    }

    /** The label image of instance class {@code name}'s objects, calibrated in nm. */
    public ImagePlus objectImage(String name, String title) {
        if (classes == null) {
            throw new IllegalStateException("a particle model gives labels, not classes");
        }
        int k = java.util.Arrays.asList(classes.instanceClasses).indexOf(name);
        if (k < 0) {
            throw new IllegalArgumentException(name + " is not an instance class of the model");
        }
        ImagePlus imp = new ImagePlus(title, labelProcessor(width, height, classes.objects[k]));
        calibrate(imp);
        return imp;
    }

    private void notePixelSizeSource(ImagePlus imp, String info) {
        if (pixelSizeSource != null && !pixelSizeSource.isEmpty()) {
            // Image > Show Info, and saved with the TIFF
            imp.setProperty("Info", (info == null ? "" : info) + "EMSeg pixel size source: "
                    + pixelSizeSource + "\n");
        }
    }

    /** The probability map (32-bit, 0..1), or null (a multi-class model: see classes). */
    public ImagePlus probabilityImage(String title) {
        if (probability == null) {
            return null;
        }
        FloatProcessor fp = new FloatProcessor(width, height, probability, null);
        fp.setMinAndMax(0, 1);
        ImagePlus imp = new ImagePlus(title, fp);
        calibrate(imp);
        return imp;
    }

    private void calibrate(ImagePlus imp) {
        if (pixelWidth > 0 && pixelHeight > 0) {
            imp.setCalibration(ImageData.nmCalibration(pixelWidth, pixelHeight));
        }
    }
}
