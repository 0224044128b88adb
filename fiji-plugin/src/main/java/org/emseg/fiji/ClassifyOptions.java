package org.emseg.fiji;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Options of one classifier-filter call (a plain value object, checked on construction). */
public final class ClassifyOptions {
    /** Default classifier filter of the Python package. */
    public static final String DEFAULT_CLASSIFIER = "emseg-classifier-sem";
    /** Classifier name meaning "rule filters only". */
    public static final String NONE = "none";

    /** Installed classifier name, classifier folder, or {@link #NONE}. */
    public final String classifier;
    /** Minimum mean score of a kept particle in [0, 1], or NaN for the classifier's tuned value. */
    public final double minScore;
    /** Drop particles touching the image border. */
    public final boolean excludeBorder;
    /** Range filters, each {@code COLUMN=LOW:HIGH} (either bound may be empty). */
    public final List<String> ranges;
    /** Extra folder searched for models (EMSeg Options...), or null. */
    public final String modelsDir;

    public ClassifyOptions(String classifier, double minScore, boolean excludeBorder, String ranges,
                           String modelsDir) {
        if (classifier == null || classifier.trim().isEmpty()) {
            throw new IllegalArgumentException("classifier: give an installed classifier, a folder or 'none'");
        }
        if (!Double.isNaN(minScore) && !(minScore >= 0 && minScore <= 1)) {
            throw new IllegalArgumentException("minimum score must be in [0, 1] (or NaN for the "
                    + "classifier's value), got " + minScore);
        }
        this.classifier = classifier.trim();
        if (NONE.equalsIgnoreCase(this.classifier) && !Double.isNaN(minScore)) {
            throw new IllegalArgumentException("a minimum score needs a classifier (classifier is 'none')");
        }
        this.minScore = minScore;
        this.excludeBorder = excludeBorder;
        this.ranges = Collections.unmodifiableList(parseRanges(ranges));
        this.modelsDir = modelsDir == null || modelsDir.trim().isEmpty() ? null : modelsDir.trim();
    }

    /** True when no classifier runs (rule filters only). */
    public boolean rulesOnly() {
        return NONE.equalsIgnoreCase(classifier);
    }

    /**
     * Splits {@code "MinFeret=50:300 Solidity=0.9:"} (spaces, commas or semicolons between
     * ranges) into checked {@code COLUMN=LOW:HIGH} items.
     */
    static List<String> parseRanges(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String item : text.trim().split("[\\s,;]+")) {
            if (item.isEmpty()) {
                continue;
            }
            int eq = item.indexOf('=');
            int colon = item.indexOf(':', eq + 1);
            if (eq <= 0 || colon < 0 || item.indexOf(':', colon + 1) >= 0) {
                throw new IllegalArgumentException("range must be COLUMN=LOW:HIGH, got " + item);
            }
            double lo = bound(item, item.substring(eq + 1, colon), Double.NEGATIVE_INFINITY);
            double hi = bound(item, item.substring(colon + 1), Double.POSITIVE_INFINITY);
            if (lo > hi) {
                throw new IllegalArgumentException("range " + item + ": LOW must not exceed HIGH");
            }
            out.add(item);
        }
        return out;
    }

    private static double bound(String item, String s, double dflt) {
        if (s.trim().isEmpty()) {
            return dflt;
        }
        try {
            double v = Double.parseDouble(s.trim());
            if (Double.isNaN(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("range " + item + ": bounds must be numbers");
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ClassifyOptions(%s, min score %s, border %s, ranges %s)",
                classifier, minScore, excludeBorder, ranges);
    }
}
