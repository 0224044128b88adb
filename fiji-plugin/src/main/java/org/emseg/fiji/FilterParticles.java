package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.gui.DialogListener;
import ij.gui.GenericDialog;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.plugin.PlugIn;

import java.awt.AWTEvent;
import java.util.Map;

/**
 * Plugins > EMSeg > Filter Particles...: keep the particles of the current label image whose
 * MinFeret, Area, circularity and solidity lie in ranges set with sliders, optionally dropping
 * border particles. The preview outlines kept particles in green and dropped ones in red while
 * the sliders move. Writes a new label image with the kept particles and their measurements.
 */
public class FilterParticles implements PlugIn, DialogListener {
    /** Filtered columns and their dialog names (first words unique, macro keys). */
    static final String[][] COLUMNS = {
        {"MinFeret", "MinFeret"}, {"Area", "Area"}, {"Circ.", "Circularity"}, {"Solidity", "Solidity"}};

    private Table table;
    private Map<Integer, Roi> rois;
    private ImagePlus imp;
    private Overlay original;

    @Override
    public void run(String arg) {
        imp = Commands.begin();
        if (imp == null) {
            return;
        }
        try {
            MeasureParticles.LabelInput input = MeasureParticles.LabelInput.of(imp);
            Settings settings = Settings.load();
            Backend backend = Backends.get(settings);
            IJ.showStatus("EMSeg: measuring " + imp.getTitle() + " (" + backend.describe() + ")");
            table = backend.measure(input.data, null, 8, new IJProgress("EMSeg: measuring"));
            int[] particles = input.particles(8);
            rois = LabelRois.fromLabels(particles, input.data.width, input.data.height);

            Fields f = new Fields("EMSeg Filter Particles");
            String unit = input.data.isCalibrated() ? "nm" : "px";
            for (String[] c : COLUMNS) {
                double[] lim = limits(c[0]);
                double step = "Circ.".equals(c[0]) || "Solidity".equals(c[0]) ? 0.01 : stepFor(lim[1] - lim[0]);
                String u = "MinFeret".equals(c[0]) ? " (" + unit + ")" : "Area".equals(c[0]) ? " (" + unit + "\u00b2)" : "";
                f.addSlider(c[1] + "_min" + u, lim[0], lim[1], lim[0], step);
                f.addSlider(c[1] + "_max" + u, lim[0], lim[1], lim[1], step);
            }
            f.addCheckbox("Exclude_border particles", false);
            f.addCheckbox("ROI_Manager", true);
            f.addCheckbox("Histogram", true);
            GenericDialog gd = f.dialog();
            original = imp.getOverlay();
            if (gd != null) {
                f.addCheckbox("Preview", true);
                gd.addDialogListener(this);
                preview(new RangeFilter().apply(table));
            }
            boolean ok = f.show();
            if (!ok) {
                imp.setOverlay(original);
                return;
            }
            RangeFilter filter = new RangeFilter();
            for (String[] c : COLUMNS) {
                filter.range(c[0], f.nextNumber(), f.nextNumber());
            }
            filter.excludeBorder(f.nextBoolean());
            boolean useRois = f.nextBoolean();
            boolean hist = f.nextBoolean();
            boolean[] keep = filter.apply(table);
            preview(keep);
            int[] kept = keptLabels(particles, table, keep);
            Table out = table.select(keep);
            String stem = SegmentParticles.stem(imp.getTitle());
            ImagePlus result = new ImagePlus(stem + "_filtered",
                    Segmentation.labelProcessor(input.data.width, input.data.height, kept));
            result.setCalibration(imp.getCalibration().copy());
            Display.show(result);
            Display.present(result, kept, input.data.width, input.data.height, out, null, null, useRois, hist);
            IJ.log("EMSeg Filter Particles: kept " + out.rows() + " of " + table.rows() + " particles of "
                    + imp.getTitle());
        } catch (BackendException | IllegalArgumentException | IllegalStateException e) {
            if (imp != null && original != null) {
                imp.setOverlay(original);
            }
            Commands.fail("Filter Particles", e.getMessage());
        }
    }

    /** Live preview: re-reads the sliders and recolours the outlines. */
    @Override
    public boolean dialogItemChanged(GenericDialog gd, AWTEvent e) {
        RangeFilter filter = new RangeFilter();
        try {
            for (String[] c : COLUMNS) {
                double lo = gd.getNextNumber();
                double hi = gd.getNextNumber();
                if (gd.invalidNumber() || lo > hi) {
                    return false;
                }
                filter.range(c[0], lo, hi);
            }
        } catch (IllegalArgumentException ex) {
            return false;
        }
        filter.excludeBorder(gd.getNextBoolean());
        gd.getNextBoolean();
        gd.getNextBoolean();
        boolean show = gd.getNextBoolean();
        if (show) {
            boolean[] keep = filter.apply(table);
            preview(keep);
            IJ.showStatus("EMSeg: keeping " + RangeFilter.count(keep) + " of " + keep.length + " particles");
        } else {
            imp.setOverlay(original);
        }
        return true;
    }

    private void preview(boolean[] keep) {
        imp.setOverlay(Display.verdict(rois, table, keep));
    }

    private double[] limits(String column) {
        if ("Circ.".equals(column) || "Solidity".equals(column)) {
            return new double[]{0, 1};
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (double v : table.column(column)) {
            if (!Double.isNaN(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo > hi) {
            return new double[]{0, 1};
        }
        return new double[]{Math.floor(lo), Math.ceil(hi) == Math.floor(lo) ? Math.floor(lo) + 1 : Math.ceil(hi)};
    }

    static double stepFor(double range) {
        return range > 1000 ? 1 : range > 10 ? 0.1 : 0.01;
    }

    /** The labels with dropped particles set to 0. */
    static int[] keptLabels(int[] labels, Table table, boolean[] keep) {
        int max = 0;
        for (int v : labels) {
            max = Math.max(max, v);
        }
        boolean[] ok = new boolean[max + 1];
        int[] ids = table.labels();
        for (int r = 0; r < ids.length; r++) {
            if (keep[r] && ids[r] <= max) {
                ok[ids[r]] = true;
            }
        }
        int[] out = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            out[i] = ok[labels[i]] ? labels[i] : 0;
        }
        return out;
    }
}
