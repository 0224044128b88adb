package org.emseg.fiji;

import ij.IJ;
import ij.Menus;

import java.awt.GraphicsEnvironment;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Hashtable;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lets {@code IJ.run} work in a headless plain ImageJ 1.x.
 *
 * <p>ImageJ 1.x builds its command table while building AWT menus, which a headless JVM refuses,
 * so {@code IJ.run("Segment Particles...", ...)} fails there (Fiji patches this; plain ImageJ
 * does not). This fills the same table from ImageJ's own {@code IJ_Props.txt} and EMSeg's
 * {@code plugins.config}, without menus.</p>
 */
public final class Headless {
    private static final Pattern ENTRY = Pattern.compile("^\"(.+?)\"\\s*,\\s*(\\S.*)$");
    private static final Pattern CONFIG = Pattern.compile("^[^,]+,\\s*\"(.+?)\"\\s*,\\s*(\\S.*)$");

    private Headless() {
    }

    /**
     * Installs the command table when the JVM is headless and ImageJ has none yet.
     *
     * @return number of commands installed (0 when nothing had to be done)
     */
    public static synchronized int install() throws IOException {
        if (!GraphicsEnvironment.isHeadless() || Menus.getCommands() != null) {
            return 0;
        }
        Hashtable<String, String> table = new Hashtable<>();
        try (InputStream in = IJ.class.getResourceAsStream("/IJ_Props.txt")) {
            if (in != null) {
                Properties props = new Properties();
                props.load(in);
                for (Map.Entry<Object, Object> e : props.entrySet()) {
                    Matcher m = ENTRY.matcher(e.getValue().toString().trim());
                    if (m.matches()) {
                        table.put(m.group(1), m.group(2).trim());
                    }
                }
            }
        }
        try (InputStream in = Headless.class.getResourceAsStream("/plugins.config")) {
            if (in == null) {
                throw new IOException("plugins.config is missing from the EMSeg jar");
            }
            table.putAll(pluginsConfig(in));
        }
        try {
            Field f = Menus.class.getDeclaredField("pluginsTable");
            f.setAccessible(true);
            f.set(null, table);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IOException("this ImageJ version keeps its commands elsewhere: " + e, e);
        }
        return table.size();
    }

    /** Command name to class (with argument) of a plugins.config. */
    static Map<String, String> pluginsConfig(InputStream in) throws IOException {
        Map<String, String> out = new Hashtable<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            String t = line.trim();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            Matcher m = CONFIG.matcher(t);
            if (m.matches()) {
                out.put(m.group(1), m.group(2).trim());
            }
        }
        return out;
    }
}
