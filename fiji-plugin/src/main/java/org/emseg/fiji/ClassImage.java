package org.emseg.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.gui.TextRoi;
import ij.plugin.filter.ThresholdToSelection;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.LUT;

import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * What a backend returns for a multi-class (semantic) model: every pixel's class, each class's
 * probability, the class areas and, for the model's instance classes (mitochondria, nuclei),
 * their objects as label images with ImageJ's measurements. The same content as the files
 * {@code emseg segment} writes ({@code <stem>_classes.tif}, {@code _prob_<class>.tif},
 * {@code _classes.csv}, {@code _<class>_labels.tif}, {@code _<class>_results.csv}).
 */
public final class ClassImage {
    /** Class value of pixels that have no class (the microscope's data bar). */
    public static final int NO_CLASS = 255;
    /** The ImageJ image property holding the class names ({@code 0=membrane;1=glia}). */
    public static final String PROPERTY = "emseg.classes";

    public final int width;
    public final int height;
    /** Class index of every pixel row by row ({@link #NO_CLASS} where none). */
    public final byte[] classes;
    /** The model's classes; class {@code i} is {@code names[i]}. */
    public final String[] names;
    /** Colour of each class, 0xRRGGBB (the LUT of the class TIFF). */
    public final int[] colours;
    /** Each class's probability row by row, or null (not asked for). */
    public final float[][] probabilities;
    /** Per class: Class, Pixels, Area, Fraction. */
    public final Table areas;
    /** The classes split into objects, in the model's order. */
    public final String[] instanceClasses;
    /** Labels of each instance class's objects row by row (0 elsewhere). */
    public final int[][] objects;
    /** ImageJ measurements of each instance class's objects, one row per label. */
    public final Table[] objectTables;

    public ClassImage(int width, int height, byte[] classes, String[] names, int[] colours,
                      float[][] probabilities, Table areas, String[] instanceClasses, int[][] objects,
                      Table[] objectTables) {
        int n = width * height;
        if (width <= 0 || height <= 0 || classes == null || classes.length != n) {
            throw new IllegalArgumentException("classes: need " + width + "x" + height + " values");
        }
        if (names == null || names.length == 0 || names.length >= NO_CLASS) {
            throw new IllegalArgumentException("names: need 1-254 class names");
        }
        if (colours == null || colours.length != names.length) {
            throw new IllegalArgumentException("colours: need one per class (" + names.length + ")");
        }
        for (byte b : classes) {
            int v = b & 0xff;
            if (v >= names.length && v != NO_CLASS) {
                throw new IllegalArgumentException("classes: value " + v + " but " + names.length + " classes");
            }
        }
        if (probabilities != null) {
            if (probabilities.length != names.length) {
                throw new IllegalArgumentException("probabilities: need one map per class");
            }
            for (float[] p : probabilities) {
                if (p == null || p.length != n) {
                    throw new IllegalArgumentException("probabilities: need " + n + " values per class");
                }
            }
        }
        if (areas == null) {
            throw new IllegalArgumentException("areas: missing");
        }
        String[] inst = instanceClasses == null ? new String[0] : instanceClasses;
        if (objects == null || objectTables == null || objects.length != inst.length
                || objectTables.length != inst.length) {
            throw new IllegalArgumentException("objects: need labels and a table per instance class");
        }
        for (int k = 0; k < inst.length; k++) {
            indexOf(names, inst[k]);
            if (objects[k] == null || objects[k].length != n || objectTables[k] == null) {
                throw new IllegalArgumentException("objects: " + inst[k] + " needs " + n + " labels and a table");
            }
        }
        this.width = width;
        this.height = height;
        this.classes = classes;
        this.names = names.clone();
        this.colours = colours.clone();
        this.probabilities = probabilities;
        this.areas = areas;
        this.instanceClasses = inst.clone();
        this.objects = objects;
        this.objectTables = objectTables;
    }

    private static int indexOf(String[] names, String name) {
        int i = Arrays.asList(names).indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no class '" + name + "'; the model's classes: "
                    + String.join(", ", names));
        }
        return i;
    }

    /** Index of the class {@code name}; IllegalArgumentException naming the classes if none. */
    public int index(String name) {
        return indexOf(names, name);
    }

    /** The class names as the {@value #PROPERTY} property holds them: {@code 0=a;1=b}. */
    public String listing() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            b.append(i == 0 ? "" : ";").append(i).append('=').append(names[i]);
        }
        return b.toString();
    }

    /** Class names of a {@value #PROPERTY} listing, in class order. */
    public static String[] parseListing(String listing) {
        if (listing == null || listing.trim().isEmpty()) {
            throw new IllegalArgumentException("no class names (image property " + PROPERTY + ")");
        }
        String[] parts = listing.trim().split(";");
        String[] out = new String[parts.length];
        for (String part : parts) {
            int eq = part.indexOf('=');
            int i;
            try {
                i = Integer.parseInt(part.substring(0, Math.max(eq, 0)).trim());
            } catch (NumberFormatException e) {
                i = -1;
            }
            if (eq < 0 || i < 0 || i >= out.length || out[i] != null) {
                throw new IllegalArgumentException("class names: cannot read '" + part + "' in " + listing);
            }
            out[i] = part.substring(eq + 1).trim();
        }
        return out;
    }

    /** ImageJ's label LUT of the classes: class colours, black for {@link #NO_CLASS} and unused values. */
    public LUT lut() {
        byte[] r = new byte[256];
        byte[] g = new byte[256];
        byte[] b = new byte[256];
        for (int i = 0; i < colours.length; i++) {
            r[i] = (byte) (colours[i] >> 16);
            g[i] = (byte) (colours[i] >> 8);
            b[i] = (byte) colours[i];
        }
        return new LUT(r, g, b);
    }

    /** The class colours of an 8-bit image's LUT (how the command line's TIFF carries them). */
    public static int[] coloursOf(ImageProcessor ip, int n) {
        java.awt.image.ColorModel cm = ip.getColorModel();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = cm.getRGB(i) & 0xffffff;
        }
        return out;
    }

    /**
     * The class image (8-bit, values = class indices) with the label LUT, the class names in
     * its Info and {@value #PROPERTY} property, and the legend as its overlay.
     */
    public ImagePlus image(String title) {
        ByteProcessor bp = new ByteProcessor(width, height, classes.clone(), null);
        bp.setLut(lut());
        bp.setMinAndMax(0, 255);  // value i shows LUT entry i
        ImagePlus imp = new ImagePlus(title, bp);
        imp.setProp(PROPERTY, listing());
        StringBuilder info = new StringBuilder("EMSeg class image\n");
        for (int i = 0; i < names.length; i++) {
            info.append(i).append(" = ").append(names[i]).append('\n');
        }
        imp.setProperty("Info", info.append(NO_CLASS).append(" = no class\n").toString());
        imp.setOverlay(legend());
        return imp;
    }

    /**
     * A legend of the classes in the image's top-left corner: a swatch of each class's colour
     * and its name (and area fraction), on a dark box so it reads on any class.
     */
    public Overlay legend() {
        int size = Math.max(10, Math.min(width, height) / 40);
        Font font = new Font("SansSerif", Font.PLAIN, size);
        Overlay ov = new Overlay();
        int line = size + size / 2;
        int maxChars = 0;
        String[] text = new String[names.length];
        double[] fraction = areas.has("Fraction") ? areas.column("Fraction") : null;
        for (int i = 0; i < names.length; i++) {
            text[i] = names[i] + (fraction != null && i < fraction.length
                    ? String.format(java.util.Locale.ROOT, " %.1f%%", 100 * fraction[i]) : "");
            maxChars = Math.max(maxChars, text[i].length());
        }
        Roi box = new Roi(0, 0, size * 2 + maxChars * size * 0.62 + size, line * names.length + size / 2.0);
        box.setFillColor(new Color(0, 0, 0, 160));
        box.setName("legend");
        ov.add(box);
        for (int i = 0; i < names.length; i++) {
            int y = size / 4 + i * line;
            Roi swatch = new Roi(size / 2, y + size / 8, size, size);
            swatch.setFillColor(new Color(colours[i]));
            swatch.setName("legend " + names[i]);
            ov.add(swatch);
            TextRoi label = new TextRoi(size * 2, y - size / 8, text[i], font);
            label.setStrokeColor(Color.WHITE);
            label.setName("legend " + names[i]);
            ov.add(label);
        }
        return ov;
    }

    /** One 32-bit slice per class (0..1), labelled by the class, or null without maps. */
    public ImagePlus probabilityStack(String title) {
        if (probabilities == null) {
            return null;
        }
        ImageStack stack = new ImageStack(width, height);
        for (int i = 0; i < names.length; i++) {
            stack.addSlice(names[i], new FloatProcessor(width, height, probabilities[i], null));
        }
        ImagePlus imp = new ImagePlus(title, stack);
        imp.setDisplayRange(0, 1);
        return imp;
    }

    /** The objects of all instance classes in one table, the class in its text column "Class". */
    public Table objectTable() {
        List<Table> parts = new ArrayList<>();
        for (int k = 0; k < instanceClasses.length; k++) {
            parts.add(objectTables[k].withText("Class", instanceClasses[k]));
        }
        return Table.concat(parts);
    }

    /**
     * The image in one row, for a batch summary: each class's area and fraction
     * ({@code <class> Area}, {@code <class> Fraction}) and each instance class's number of objects
     * ({@code <class> objects}).
     */
    public Table summaryRow() {
        List<String> heads = new ArrayList<>();
        List<double[]> cols = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            for (String what : new String[]{"Area", "Fraction"}) {
                if (areas.has(what)) {
                    heads.add(names[i] + " " + what);
                    cols.add(new double[]{areas.get(what, i)});
                }
            }
        }
        for (int k = 0; k < instanceClasses.length; k++) {
            heads.add(instanceClasses[k] + " objects");
            cols.add(new double[]{objectTables[k].rows()});
        }
        return new Table(heads.toArray(new String[0]), cols.toArray(new double[0][]));
    }

    /**
     * The classes a dialog's "ROI classes" field names: empty for the model's instance classes,
     * "all" for every class, else class names separated by commas.
     */
    public String[] chooseClasses(String spec) {
        String s = spec == null ? "" : spec.trim();
        if (s.isEmpty()) {
            return instanceClasses.clone();
        }
        if (s.equalsIgnoreCase("all")) {
            return names.clone();
        }
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String part : s.split(",")) {
            String name = part.trim();
            if (!name.isEmpty()) {
                out.add(names[indexOf(names, name)]);
            }
        }
        return out.toArray(new String[0]);
    }

    /**
     * Selections of the chosen classes, each in its class's colour: one per object of an
     * instance class (named {@code <class>-<label>}), one composite selection of all pixels of
     * any other class (named by the class). No ImageJ ROI groups: their colours need Fiji's
     * Glasbey LUT, and plain ImageJ logs a line per selection without it.
     */
    public List<Roi> rois(String[] chosen) {
        List<Roi> out = new ArrayList<>();
        List<String> inst = Arrays.asList(instanceClasses);
        for (String name : chosen) {
            int c = index(name);
            Color colour = new Color(colours[c]);
            int k = inst.indexOf(name);
            if (k >= 0) {
                for (Map.Entry<Integer, Roi> e : LabelRois.fromLabels(objects[k], width, height).entrySet()) {
                    Roi roi = e.getValue();
                    roi.setName(name + "-" + e.getKey());
                    roi.setStrokeColor(colour);
                    out.add(roi);
                }
                continue;
            }
            Roi roi = classSelection(c);
            if (roi != null) {
                roi.setName(name);
                roi.setStrokeColor(colour);
                out.add(roi);
            }
        }
        return out;
    }

    /** All pixels of class {@code c} as one selection, or null when it has none. */
    Roi classSelection(int c) {
        byte[] mask = new byte[classes.length];
        boolean any = false;
        for (int i = 0; i < classes.length; i++) {
            if ((classes[i] & 0xff) == c) {
                mask[i] = (byte) 255;
                any = true;
            }
        }
        if (!any) {
            return null;
        }
        ByteProcessor bp = new ByteProcessor(width, height, mask, null);
        bp.setThreshold(255, 255, ImageProcessor.NO_LUT_UPDATE);
        return new ThresholdToSelection().convert(bp);
    }
}
