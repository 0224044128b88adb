package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Static helpers for macros, called as {@code call("org.emseg.fiji.MacroFunctions.NAME", ...)}.
 * They return "" on success and an error message otherwise, so a batch macro can log a bad file
 * and go on (the macro language has no exceptions).
 */
public final class MacroFunctions {

    private static volatile String lastError = "";
    private static volatile String pixelSizeSource = "";

    private MacroFunctions() {
    }

    /** The error of the last EMSeg command, "" when it succeeded. */
    public static String lastError() {
        return lastError;
    }

    static void setLastError(String message) {
        lastError = message == null ? "" : message;
        if (!lastError.isEmpty()) {
            pixelSizeSource = "";
        }
    }

    /**
     * Where the last Segment Particles found the pixel size when ImageJ had none (e.g. "Zeiss SEM
     * tag 34118 of 1908298.tif"); "" when the image's own calibration or the dialog's was used.
     */
    public static String pixelSizeSource() {
        return pixelSizeSource;
    }

    static void setPixelSizeSource(String source) {
        pixelSizeSource = source == null ? "" : source;
    }

    /** "" when {@code path} is an image EMSeg can segment, else why not. */
    public static String checkImage(String path) {
        File f = new File(path);
        if (!f.isFile()) {
            return path + ": no such file";
        }
        ImagePlus imp;
        try {
            imp = IJ.openImage(path);
        } catch (RuntimeException e) {
            imp = null;
        }
        if (imp == null) {
            return f.getName() + ": not an image ImageJ can read";
        }
        try {
            ImageData.of(imp);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } finally {
            imp.close();
        }
        return "";
    }

    /** Writes the table an EMSeg command showed as {@code title} to {@code path} (full precision). */
    public static String saveTable(String title, String path) {
        Table t = Display.table(title);
        if (t == null) {
            return "no EMSeg table named " + title;
        }
        try {
            writeAtomically(new File(path), t.toCsv());
            return "";
        } catch (IOException e) {
            return "cannot write " + path + ": " + e.getMessage();
        }
    }

    /** Appends the rows of table {@code from} to table {@code to}, with a File column = {@code file}. */
    public static String appendTable(String from, String to, String file) {
        Table t = Display.table(from);
        if (t == null) {
            return "no EMSeg table named " + from;
        }
        Table old = Display.table(to);
        List<Table> parts = new ArrayList<>();
        if (old != null) {
            parts.add(old);
        }
        parts.add(t.withText("File", file));
        Display.keep(to, Table.concat(parts));
        return "";
    }

    /**
     * Writes the last multi-class segmentation's files into folder {@code dir} as
     * {@code emseg segment} names them ({@code <stem>_classes.tif}, {@code _classes.csv},
     * {@code _<class>_labels.tif}, {@code _<class>_results.csv}).
     */
    public static String saveClassResults(String dir, String stem) {
        Segmentation seg = Display.lastClasses();
        if (seg == null) {
            return "no multi-class segmentation to save (Segment Particles with a multi-class model)";
        }
        try {
            BatchSegmentFolder.writeClassFiles(seg, new File(dir), stem);
            return "";
        } catch (IOException e) {
            return "cannot write into " + dir + ": " + e.getMessage();
        }
    }

    /** Forgets table {@code title} (start of a new batch). */
    public static String clearTable(String title) {
        Display.keep(title, null);
        return "";
    }

    /** Saves the current image with its overlay burnt in as PNG (outline pictures of a batch). */
    public static String saveFlattened(String path) {
        ImagePlus imp = ij.WindowManager.getCurrentImage();
        if (imp == null) {
            return "no current image";
        }
        try {
            saveImage(new File(path), imp.flatten(), true);
            return "";
        } catch (IOException e) {
            return "cannot write " + path + ": " + e.getMessage();
        }
    }

    /** Number of rows of table {@code title} ("0" when there is none). */
    public static String tableSize(String title) {
        Table t = Display.table(title);
        return Integer.toString(t == null ? 0 : t.rows());
    }

    /** Number of rows of an EMSeg table whose Kept column is set ("0" without such a column). */
    public static String keptCount(String title) {
        Table t = Display.table(title);
        if (t == null || !t.has("Kept")) {
            return "0";
        }
        return Integer.toString(RangeFilter.count(ClassifierFilter.kept(t)));
    }

    /** Writes one output file given a path to write to. */
    interface Output {
        void write(File path) throws IOException;
    }

    /** Writes {@code file} through a temporary file beside it, so no half-written output remains. */
    static void writeAtomically(File file, Output output) throws IOException {
        File dir = file.getAbsoluteFile().getParentFile();
        File tmp = File.createTempFile("." + file.getName(), ".part", dir);
        try {
            output.write(tmp);
            Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (tmp.exists()) {
                tmp.delete();
            }
        }
    }

    /** {@link #writeAtomically(File, Output)} of UTF-8 text. */
    static void writeAtomically(File file, final String text) throws IOException {
        writeAtomically(file, new Output() {
            @Override
            public void write(File path) throws IOException {
                Files.write(path.toPath(), text.getBytes(StandardCharsets.UTF_8));
            }
        });
    }

    /** {@link #writeAtomically(File, Output)} of an image as TIFF or PNG (ImageJ's FileSaver). */
    static void saveImage(File file, final ImagePlus imp, final boolean png) throws IOException {
        writeAtomically(file, new Output() {
            @Override
            public void write(File path) throws IOException {
                ij.io.FileSaver saver = new ij.io.FileSaver(imp);
                if (!(png ? saver.saveAsPng(path.getPath()) : saver.saveAsTiff(path.getPath()))) {
                    throw new IOException("cannot write " + file.getName());
                }
            }
        });
    }
}
