package org.emseg.fiji;

import java.util.Locale;

/** Length units of ImageJ calibrations, converted to nanometres. */
public final class Units {

    private Units() {
    }

    /**
     * Nanometres per {@code unit}, or NaN when the unit is not a length (pixel, inch is kept).
     * Accepts ImageJ's spellings: nm, µm/um/micron, mm, cm, m, Å/angstrom, pm, inch.
     */
    public static double nmPer(String unit) {
        if (unit == null) {
            return Double.NaN;
        }
        String u = unit.trim().toLowerCase(Locale.ROOT).replace('\u03bc', '\u00b5');
        switch (u) {
            case "nm": case "nanometer": case "nanometers": case "nanometre": case "nanometres":
                return 1.0;
            case "\u00b5m": case "um": case "micron": case "microns": case "micrometer":
            case "micrometers": case "micrometre": case "micrometres":
                return 1e3;
            case "mm": case "millimeter": case "millimeters":
                return 1e6;
            case "cm":
                return 1e7;
            case "m": case "meter": case "meters": case "metre": case "metres":
                return 1e9;
            case "\u00e5": case "a": case "angstrom": case "angstroms":
                return 0.1;
            case "pm":
                return 1e-3;
            case "inch": case "inches": case "in":
                return 2.54e7;
            default:
                return Double.NaN;
        }
    }

    /** {@code value} in {@code unit} as nanometres; 0 when the unit is not a length. */
    public static double toNm(double value, String unit) {
        double f = nmPer(unit);
        return Double.isNaN(f) || !(value > 0) || Double.isInfinite(value) ? 0.0 : value * f;
    }
}
