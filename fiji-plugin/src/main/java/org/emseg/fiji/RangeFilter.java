package org.emseg.fiji;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps the particles whose measurements lie in given ranges (bounds included), optionally
 * dropping those that touch the image border (column "Border"). Missing values (NaN) fail.
 */
public final class RangeFilter {
    private final Map<String, double[]> ranges = new LinkedHashMap<>();
    private boolean excludeBorder;

    /** Keeps rows with {@code min <= column <= max}. */
    public RangeFilter range(String column, double min, double max) {
        if (column == null || column.isEmpty()) {
            throw new IllegalArgumentException("column: give a measurement name");
        }
        if (Double.isNaN(min) || Double.isNaN(max) || min > max) {
            throw new IllegalArgumentException(column + ": range " + min + " to " + max
                    + " is empty (minimum must not exceed maximum)");
        }
        ranges.put(column, new double[]{min, max});
        return this;
    }

    public RangeFilter excludeBorder(boolean exclude) {
        excludeBorder = exclude;
        return this;
    }

    /** One flag per row of {@code table}: true = kept. */
    public boolean[] apply(Table table) {
        int n = table.rows();
        boolean[] keep = new boolean[n];
        java.util.Arrays.fill(keep, true);
        for (Map.Entry<String, double[]> e : ranges.entrySet()) {
            double[] v = table.column(e.getKey());
            double lo = e.getValue()[0];
            double hi = e.getValue()[1];
            for (int r = 0; r < n; r++) {
                keep[r] &= v[r] >= lo && v[r] <= hi;
            }
        }
        if (excludeBorder) {
            double[] b = table.column("Border");
            for (int r = 0; r < n; r++) {
                keep[r] &= b[r] == 0;
            }
        }
        return keep;
    }

    /** Number of true flags. */
    public static int count(boolean[] keep) {
        int k = 0;
        for (boolean b : keep) {
            k += b ? 1 : 0;
        }
        return k;
    }
}
