package org.emseg.fiji;

import ij.gui.OvalRoi;
import ij.gui.Overlay;
import ij.gui.Roi;

import java.awt.Color;

/**
 * Refined vesicles drawn on a tomogram's slices: every sphere of a vesicle table (centre X, Y, Z
 * and Radius in nm, ImageJ's convention: voxel i spans [i, i+1) x size) becomes, on each slice it
 * crosses, the circle where the slice's mid-plane cuts it, with that slice's radius.
 */
public final class VesicleCircles {
    private VesicleCircles() {
    }

    /**
     * The circles of every vesicle on every slice it crosses.
     *
     * @param table  vesicle table with the columns X, Y, Z, Radius (nm) and Label
     * @param pw     pixel width in nm
     * @param ph     pixel height in nm
     * @param pd     voxel depth (slice spacing) in nm
     * @param slices number of slices of the stack
     * @param color  outline colour
     * @return an overlay of {@link OvalRoi}s, each positioned on its slice (1-based) and named
     *         "vesicle LABEL"
     */
    public static Overlay overlay(Table table, double pw, double ph, double pd, int slices, Color color) {
        if (table == null) {
            throw new IllegalArgumentException("table: null");
        }
        for (String h : new String[]{"X", "Y", "Z", "Radius"}) {
            if (!table.has(h)) {
                throw new IllegalArgumentException("table: no column " + h
                        + " (a vesicle table of refined spheres is needed)");
            }
        }
        if (!(pw > 0 && ph > 0 && pd > 0)) {
            throw new IllegalArgumentException("voxel size: need positive nm values, got " + pw + ", "
                    + ph + ", " + pd);
        }
        if (slices < 1) {
            throw new IllegalArgumentException("slices: " + slices);
        }
        Overlay overlay = new Overlay();
        int[] labels = table.has("Label") ? table.labels() : null;
        for (int row = 0; row < table.rows(); row++) {
            double x = table.get("X", row);
            double y = table.get("Y", row);
            double z = table.get("Z", row);
            double r = table.get("Radius", row);
            if (!(r > 0) || Double.isNaN(x) || Double.isNaN(y) || Double.isNaN(z)) {
                continue;
            }
            int first = Math.max(0, (int) Math.ceil((z - r) / pd - 0.5));
            int last = Math.min(slices - 1, (int) Math.floor((z + r) / pd - 0.5));
            for (int k = first; k <= last; k++) {
                double dz = (k + 0.5) * pd - z;
                double rho = Math.sqrt(Math.max(0, r * r - dz * dz));
                if (rho <= 0) {
                    continue;
                }
                double rx = rho / pw;
                double ry = rho / ph;
                Roi roi = new OvalRoi(x / pw - rx, y / ph - ry, 2 * rx, 2 * ry);
                roi.setPosition(k + 1);
                roi.setStrokeColor(color);
                roi.setName("vesicle " + (labels == null ? row + 1 : labels[row]));
                overlay.add(roi);
            }
        }
        return overlay;
    }
}
