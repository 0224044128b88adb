package org.emseg.fiji;

import ij.ImagePlus;
import ij.gui.Overlay;

import java.awt.Color;

/** What a backend returns for one volume: the vesicle labels and the vesicle table. */
public final class VolumeSegmentation {
    /** The labels (16-bit planes, or 32-bit when a label exceeds 65535), calibrated as the volume. */
    public final VolumeData labels;
    /**
     * One row per vesicle (ImageJ headings, nm): Label, X, Y, Z (centre; voxel i spans [i, i+1) x
     * size) and, for refined spheres, Radius, Diameter, Thickness, ...; EqDiameter otherwise.
     */
    public final Table table;

    public VolumeSegmentation(VolumeData labels, Table table) {
        if (labels == null) {
            throw new IllegalArgumentException("labels: missing");
        }
        if (table == null) {
            throw new IllegalArgumentException("table: missing");
        }
        String type = labels.pixelType();
        if (!type.equals("uint16") && !type.equals("float32")) {
            throw new IllegalArgumentException("labels: 16-bit or 32-bit planes expected, got " + type);
        }
        this.labels = labels;
        this.table = table;
    }

    /** Whether the table holds refined spheres (a Radius per vesicle). */
    public boolean refined() {
        return table.has("Radius");
    }

    /** The label stack, titled {@code title}, its display range over every label. */
    public ImagePlus labelImage(String title) {
        ImagePlus imp = labels.toImagePlus();
        imp.setTitle(title);
        double max = 1;
        if (table.rows() > 0 && table.has("Label")) {
            for (int v : table.labels()) {
                max = Math.max(max, v);
            }
        }
        imp.setDisplayRange(0, max);
        return imp;
    }

    /**
     * Each vesicle as a circle on every slice it crosses (refined spheres: their radius;
     * otherwise the sphere of the segment's volume, EqDiameter / 2).
     */
    public Overlay circles(Color color) {
        Table t = table;
        if (!refined()) {
            if (!table.has("EqDiameter")) {
                throw new IllegalArgumentException("table: neither Radius nor EqDiameter");
            }
            double[] d = table.column("EqDiameter");
            double[] r = new double[d.length];
            for (int i = 0; i < d.length; i++) {
                r[i] = d[i] / 2;
            }
            t = new Table(new String[]{"Label", "X", "Y", "Z", "Radius"}, new double[][]{
                toDouble(table.labels()), table.column("X"), table.column("Y"), table.column("Z"), r});
        }
        return VesicleCircles.overlay(t, labels.pixelWidth, labels.pixelHeight, labels.pixelDepth,
                labels.depth, color);
    }

    private static double[] toDouble(int[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
