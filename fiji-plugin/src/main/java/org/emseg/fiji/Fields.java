package org.emseg.fiji;

import ij.Macro;
import ij.gui.GenericDialog;

import java.awt.GraphicsEnvironment;
import java.util.ArrayList;
import java.util.List;

/**
 * A GenericDialog that also works headless.
 *
 * <p>With a display it is a plain GenericDialog (macro-recordable; a macro call fills it from
 * its options without showing it). Headless, where plain ImageJ 1.x cannot create a dialog, the
 * values come from the macro options with GenericDialog's own key rule ({@link Macro#trimKey}),
 * so the same recorded {@code run("...", "key=value ...")} line works in both.</p>
 */
public final class Fields {
    private final GenericDialog gd;
    private final String options;
    private final List<String> keys = new ArrayList<>();
    private final List<String> defaults = new ArrayList<>();
    private int next;

    public Fields(String title) {
        this(title, GraphicsEnvironment.isHeadless() ? null : new GenericDialog(title), Macro.getOptions());
    }

    /** Headless fields reading {@code options} (for tests and macro helpers). */
    public static Fields fromOptions(String title, String options) {
        return new Fields(title, null, options);
    }

    private Fields(String title, GenericDialog gd, String options) {
        this.gd = gd;
        this.options = options;
    }

    /** The dialog, for listeners and previews; null when headless. */
    public GenericDialog dialog() {
        return gd;
    }

    private void remember(String label, String def) {
        keys.add(Macro.trimKey(label));
        defaults.add(def);
    }

    public void addNumber(String label, double def, int digits, String units) {
        if (gd != null) {
            gd.addNumericField(label, def, digits, 8, units);
        }
        remember(label, Double.toString(def));
    }

    public void addSlider(String label, double min, double max, double def, double step) {
        if (gd != null) {
            gd.addSlider(label, min, max, def, step);
        }
        remember(label, Double.toString(def));
    }

    public void addString(String label, String def, int columns) {
        if (gd != null) {
            gd.addStringField(label, def, columns);
        }
        remember(label, def);
    }

    public void addDirectory(String label, String def) {
        if (gd != null) {
            gd.addDirectoryField(label, def, 30);
        }
        remember(label, def);
    }

    public void addCheckbox(String label, boolean def) {
        if (gd != null) {
            gd.addCheckbox(label, def);
        }
        remember(label, def ? "true" : "false");
    }

    public void addChoice(String label, String[] items, String def) {
        if (gd != null) {
            gd.addChoice(label, items, def);
        }
        remember(label, def);
    }

    public void addMessage(String text) {
        if (gd != null) {
            gd.addMessage(text);
        }
    }

    public void addHelp(String url) {
        if (gd != null) {
            gd.addHelp(url);
        }
    }

    /**
     * Shows the dialog (or reads the macro options headless); false when cancelled.
     *
     * @throws IllegalStateException headless without macro options
     */
    public boolean show() {
        next = 0;
        if (gd != null) {
            gd.showDialog();
            return !gd.wasCanceled();
        }
        if (options == null) {
            throw new IllegalStateException("running headless: give the options in the macro call, e.g. run(\"...\", \""
                    + String.join("=... ", keys) + "=...\")");
        }
        return true;
    }

    private String value() {
        String key = keys.get(next);
        String def = defaults.get(next);
        next++;
        return Macro.getValue(options, key, def);
    }

    public double nextNumber() {
        if (gd != null) {
            next++;
            return gd.getNextNumber();
        }
        String key = keys.get(next);
        String v = value();
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a number: " + v);
        }
    }

    public String nextString() {
        if (gd != null) {
            next++;
            return gd.getNextString();
        }
        return value();
    }

    public String nextChoice() {
        if (gd != null) {
            next++;
            return gd.getNextChoice();
        }
        return value();
    }

    public boolean nextBoolean() {
        if (gd != null) {
            next++;
            return gd.getNextBoolean();
        }
        String key = keys.get(next++);
        // GenericDialog's rule: a checkbox is on when its key appears as a word in the options
        return (" " + options + " ").contains(" " + key + " ");
    }
}
