package org.emseg.fiji;

import ij.Prefs;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The plugin's settings: Python executable, extra model folder, default model and backend.
 *
 * <p>Read from built-in defaults, then {@code emseg.properties} beside the plugin jar (written by
 * {@code emseg install-fiji}), then ImageJ's preferences (set by EMSeg Options...).</p>
 */
public final class Settings {
    /** Backend choices (single tokens, as GenericDialog choices should be). */
    public static final String[] BACKENDS = {"auto", "in-process", "command-line"};
    public static final String DEFAULT_MODEL = "emseg-particles-sem";
    static final String[] KEYS = {"python", "models", "model", "backend"};

    public final String python;
    public final String modelsDir;
    public final String model;
    public final String backend;

    public Settings(String python, String modelsDir, String model, String backend) {
        if (python == null || python.trim().isEmpty()) {
            throw new IllegalArgumentException("python: give the Python executable that has emseg installed");
        }
        if (model == null || model.trim().isEmpty()) {
            throw new IllegalArgumentException("model: give a model name or folder");
        }
        boolean known = false;
        for (String b : BACKENDS) {
            known |= b.equals(backend);
        }
        if (!known) {
            throw new IllegalArgumentException("backend must be one of auto, in-process, command-line; got " + backend);
        }
        this.python = python.trim();
        this.modelsDir = modelsDir == null ? "" : modelsDir.trim();
        this.model = model.trim();
        this.backend = backend;
    }

    /** Built-in defaults: {@code python3} ({@code python} on Windows), the default model, auto. */
    public static Settings defaults() {
        boolean windows = System.getProperty("os.name", "").toLowerCase().startsWith("win");
        return new Settings(windows ? "python" : "python3", "", DEFAULT_MODEL, "auto");
    }

    /** These settings with values from {@code props} (keys python, models, model, backend). */
    public Settings with(Properties props) {
        return new Settings(props.getProperty("python", python), props.getProperty("models", modelsDir),
                props.getProperty("model", model), props.getProperty("backend", backend));
    }

    /** The settings in effect: defaults, then emseg.properties beside the jar, then ImageJ prefs. */
    public static Settings load() {
        Settings s = defaults();
        File props = propertiesFile();
        if (props != null && props.isFile()) {
            try {
                s = s.with(readProperties(props));
            } catch (IOException | IllegalArgumentException e) {
                ij.IJ.log("EMSeg: ignoring " + props + ": " + e.getMessage());
            }
        }
        Properties prefs = new Properties();
        for (String k : KEYS) {
            String v = Prefs.get("emseg." + k, null);
            if (v != null) {
                prefs.setProperty(k, v);
            }
        }
        try {
            return s.with(prefs);
        } catch (IllegalArgumentException e) {
            ij.IJ.log("EMSeg: ignoring saved options: " + e.getMessage());
            return s;
        }
    }

    /** Stores these settings in ImageJ's preferences (saved when ImageJ quits). */
    public void save() {
        Prefs.set("emseg.python", python);
        Prefs.set("emseg.models", modelsDir);
        Prefs.set("emseg.model", model);
        Prefs.set("emseg.backend", backend);
    }

    static Properties readProperties(File file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(file)) {
            p.load(in);
        }
        return p;
    }

    /** {@code emseg.properties} in the folder of the jar holding this class, or null. */
    static File propertiesFile() {
        try {
            File jar = new File(Settings.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return new File(jar.getParentFile(), "emseg.properties");
        } catch (Exception e) {
            return null;
        }
    }

    /** The plugin's version (from the jar's build), e.g. "0.1.0". */
    public static String pluginVersion() {
        try (InputStream in = Settings.class.getResourceAsStream("/emseg-plugin.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
