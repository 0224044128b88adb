package org.emseg.fiji;

import ij.gui.Plot;

import java.util.Arrays;

/** Size histograms as ImageJ Plots. */
public final class Histogram {

    private Histogram() {
    }

    /**
     * Bin width for {@code values}: Freedman-Diaconis (2 IQR / n^(1/3)), falling back to the
     * square-root rule for degenerate spreads, and limited to 5..100 bins.
     */
    public static double binWidth(double[] values) {
        double[] v = finite(values);
        if (v.length == 0) {
            throw new IllegalArgumentException("values: no finite values to bin");
        }
        Arrays.sort(v);
        double range = v[v.length - 1] - v[0];
        if (range == 0) {
            return 1.0;
        }
        double iqr = quantile(v, 0.75) - quantile(v, 0.25);
        double width = 2 * iqr / Math.cbrt(v.length);
        if (!(width > 0)) {
            width = range / Math.max(1, Math.ceil(Math.sqrt(v.length)));
        }
        double bins = Math.ceil(range / width);
        if (bins < 5) {
            width = range / 5;
        } else if (bins > 100) {
            width = range / 100;
        }
        return width;
    }

    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    static double[] finite(double[] values) {
        int n = 0;
        double[] out = new double[values.length];
        for (double x : values) {
            if (!Double.isNaN(x) && !Double.isInfinite(x)) {
                out[n++] = x;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** A histogram Plot of one column, titled with the count; {@code unit} labels the x axis. */
    public static Plot plot(Table table, String column, String unit, String title) {
        double[] v = finite(table.column(column));
        Plot plot = new Plot(title, column + (unit == null || unit.isEmpty() ? "" : " (" + unit + ")"), "Count");
        if (v.length == 0) {
            plot.addLabel(0.4, 0.5, "no particles");
            return plot;
        }
        double w = binWidth(v);
        double min = v[0];
        for (double x : v) {
            min = Math.min(min, x);
        }
        plot.addHistogram(v, w, min + w / 2);
        plot.addLabel(0.02, 0.08, "n = " + v.length);
        return plot;
    }
}
