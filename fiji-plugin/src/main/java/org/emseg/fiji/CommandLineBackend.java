package org.emseg.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the configured Python as {@code python -m emseg ...} on temporary TIFF files: the backend
 * of a Fiji started normally. Checks the exit code, turns the command's one-line error into a
 * {@link BackendException}, forwards its progress bars and removes the temporary files.
 */
public final class CommandLineBackend implements Backend {
    private static final Pattern DATABAR = Pattern.compile("data bar from row (\\d+)");
    /** What {@code emseg segment} prints about a pixel size it read from --pixel-size-from. */
    private static final Pattern FROM_FILE = Pattern.compile(
            "\\(pixel size [^)]*? nm(?: \\(anisotropic\\))? from (.+? of [^,)]+)[,)]");
    private final Settings settings;

    public CommandLineBackend(Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException("settings: null");
        }
        this.settings = settings;
    }

    @Override
    public String describe() {
        return "command line: " + settings.python + " -m emseg";
    }

    @Override
    public String version() throws BackendException {
        String out = run(Arrays.asList(settings.python, "-m", "emseg", "--version"), null, Progress.NONE);
        return out.trim().replaceFirst("^emseg\\s+", "");
    }

    // ------------------------------------------------------------------ command lines

    /** {@code python -m emseg segment IMAGE --output DIR ...} for one image. */
    public List<String> segmentCommand(File image, File outDir, SegmentOptions o, double pw, double ph) {
        return segmentCommand(image, outDir, o, pw, ph, null);
    }

    /** As above; {@code original}: the file to read the pixel size from when there is none. */
    public List<String> segmentCommand(File image, File outDir, SegmentOptions o, double pw, double ph,
                                       String original) {
        List<String> cmd = new ArrayList<>(Arrays.asList(settings.python, "-m", "emseg", "segment",
                image.getPath(), "--output", outDir.getPath(), "--model", o.model));
        if (pw > 0) {
            cmd.add("--pixel-size");
            cmd.add(pixelSize(pw, ph));
        } else if (original != null) {
            cmd.add("--pixel-size-from");
            cmd.add(original);
        }
        if (!Double.isNaN(o.threshold)) {
            cmd.add("--threshold");
            cmd.add(Double.toString(o.threshold));
        }
        if (o.keepDatabar) {
            cmd.add("--keep-databar");
        }
        return cmd;
    }

    /**
     * {@code python -m emseg segment STACK --output DIR --model M --volume-format tif ...} for one
     * volume. An isotropic voxel size is passed as {@code --pixel-size} (exactly the number ImageJ
     * holds); an anisotropic one travels in the stack's calibration.
     */
    public List<String> segmentVolumeCommand(File stack, File outDir, SegmentOptions o, VolumeData v) {
        List<String> cmd = new ArrayList<>(Arrays.asList(settings.python, "-m", "emseg", "segment",
                stack.getPath(), "--output", outDir.getPath(), "--model", o.model, "--volume-format", "tif"));
        if (v.isCalibrated() && v.pixelWidth == v.pixelHeight && v.pixelWidth == v.pixelDepth) {
            cmd.add("--pixel-size");
            cmd.add(Double.toString(v.pixelWidth));
        }
        if (!Double.isNaN(o.threshold)) {
            cmd.add("--threshold");
            cmd.add(Double.toString(o.threshold));
        }
        if (!o.refine) {
            cmd.add("--no-refine");
        }
        return cmd;
    }

    /** {@code python -m emseg measure LABELS [--image IMAGE] --output CSV ...}. */
    public List<String> measureCommand(File labels, File image, File csv, double pw, double ph,
                                       int connectivity) {
        List<String> cmd = new ArrayList<>(Arrays.asList(settings.python, "-m", "emseg", "measure",
                labels.getPath()));
        if (image != null) {
            cmd.add("--image");
            cmd.add(image.getPath());
        }
        cmd.addAll(Arrays.asList("--output", csv.getPath(), "--connectivity", Integer.toString(connectivity)));
        if (pw > 0) {
            cmd.add("--pixel-size");
            cmd.add(pixelSize(pw, ph));
        }
        return cmd;
    }

    /** {@code python -m emseg filter IMAGE LABELS --output DIR ...}. */
    public List<String> filterCommand(File image, File labels, File outDir, ClassifyOptions o,
                                      double pw, double ph) {
        List<String> cmd = new ArrayList<>(Arrays.asList(settings.python, "-m", "emseg", "filter",
                image.getPath(), labels.getPath(), "--output", outDir.getPath(),
                "--classifier", o.classifier));
        if (!Double.isNaN(o.minScore)) {
            cmd.add("--min-score");
            cmd.add(Double.toString(o.minScore));
        }
        for (String r : o.ranges) {
            cmd.add("--range=" + r);  // one token: a range may start with '-'
        }
        if (o.excludeBorder) {
            cmd.add("--exclude-border");
        }
        if (pw > 0) {
            cmd.add("--pixel-size");
            cmd.add(pixelSize(pw, ph));
        }
        return cmd;
    }

    /** {@code python -m emseg convert FILE --output DIR}. */
    public List<String> convertCommand(File file, File outDir) {
        return new ArrayList<>(Arrays.asList(settings.python, "-m", "emseg", "convert", file.getPath(),
                "--output", outDir.getPath()));
    }

    static String pixelSize(double pw, double ph) {
        return pw == ph ? Double.toString(pw) : pw + "," + ph;
    }

    /** Environment of the command: unbuffered output, the extra model folder if any. */
    Map<String, String> environment(Map<String, String> env) {
        env.put("PYTHONUNBUFFERED", "1");
        env.put("PYTHONIOENCODING", "utf-8");
        if (!settings.modelsDir.isEmpty()) {
            env.put("EMSEG_MODELS", settings.modelsDir);  // the user model folder emseg searches
        }
        return env;
    }

    // ------------------------------------------------------------------ backend

    @Override
    public Segmentation segment(ImageData image, SegmentOptions options, Progress progress)
            throws BackendException {
        File dir = tempDir();
        try {
            File in = new File(dir, "image.tif");
            save(image.toImagePlus(), in);
            File out = new File(dir, "out");
            String stdout = run(segmentCommand(in, out, options, image.pixelWidth, image.pixelHeight,
                    image.sourcePath), null, progress);
            if (new File(out, "image_classes.tif").isFile()) {
                return classSegmentation(image, out, stdout);
            }
            ImagePlus lab = open(new File(out, "image_labels.tif"));
            ImagePlus prob = open(new File(out, "image_prob.tif"));
            Table table = Table.parseCsv(read(new File(out, "image_results.csv")));
            float[] p = (float[]) prob.getProcessor().convertToFloat().getPixels();
            Used used = new Used(image, lab, stdout);
            return new Segmentation(image.width, image.height, Segmentation.labelsOf(lab.getProcessor()),
                    p, table, used.databarRow, used.pixelWidth, used.pixelHeight, used.source,
                    Segmentation.reported(out, "image", table));
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * A multi-class model's files ({@code image_classes.tif} with the class names and LUT,
     * {@code image_prob_<class>.tif}, {@code image_classes.csv}, and {@code image_<class>_labels.tif}
     * with {@code image_<class>_results.csv} for each instance class) as one Segmentation.
     */
    private static Segmentation classSegmentation(ImageData image, File out, String stdout)
            throws BackendException {
        ImagePlus cls = open(new File(out, "image_classes.tif"));
        String[] names;
        try {
            names = ClassImage.parseListing(cls.getProp(ClassImage.PROPERTY));
        } catch (IllegalArgumentException e) {
            throw new BackendException("image_classes.tif: " + e.getMessage());
        }
        int n = image.width * image.height;
        float[][] prob = new float[names.length][];
        List<String> instances = new ArrayList<>();
        List<int[]> objects = new ArrayList<>();
        List<Table> tables = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            String part = Segmentation.fileName(names[i]);
            ImagePlus p = open(new File(out, "image_prob_" + part + ".tif"));
            prob[i] = (float[]) p.getProcessor().convertToFloat().getPixels();
            File results = new File(out, "image_" + part + "_results.csv");
            if (results.isFile()) {
                instances.add(names[i]);
                objects.add(Segmentation.labelsOf(open(new File(out, "image_" + part + "_labels.tif")).getProcessor()));
                tables.add(Table.parseCsv(read(results)));
            }
        }
        byte[] classes = (byte[]) cls.getProcessor().getPixels();
        if (classes.length != n) {
            throw new BackendException("image_classes.tif: " + classes.length + " pixels, expected " + n);
        }
        ClassImage c = new ClassImage(image.width, image.height, classes, names,
                ClassImage.coloursOf(cls.getProcessor(), names.length), prob,
                Table.parseCsv(read(new File(out, "image_classes.csv"))), instances.toArray(new String[0]),
                objects.toArray(new int[0][]), tables.toArray(new Table[0]));
        Used used = new Used(image, cls, stdout);
        return new Segmentation(c, used.databarRow, used.pixelWidth, used.pixelHeight, used.source);
    }

    /**
     * What {@code emseg segment} used for an image: the data bar it excluded (from its output)
     * and the pixel size, read from a TIFF it wrote when ImageJ had none, with where it found it.
     */
    private static final class Used {
        final int databarRow;
        final double pixelWidth;
        final double pixelHeight;
        final String source;

        Used(ImageData image, ImagePlus written, String stdout) {
            Matcher m = DATABAR.matcher(stdout);
            databarRow = m.find() ? Integer.parseInt(m.group(1)) : -1;
            if (image.isCalibrated()) {
                pixelWidth = image.pixelWidth;
                pixelHeight = image.pixelHeight;
                source = null;
            } else {  // the size emseg read from the original file
                ij.measure.Calibration cal = written.getCalibration();
                pixelWidth = Units.toNm(cal.pixelWidth, cal.getUnit());
                pixelHeight = Units.toNm(cal.pixelHeight, cal.getYUnit());
                Matcher f = FROM_FILE.matcher(stdout);
                source = f.find() ? f.group(1) : "the file";
            }
        }
    }

    @Override
    public VolumeSegmentation segmentVolume(VolumeData volume, SegmentOptions options, Progress progress)
            throws BackendException {
        if (!volume.isCalibrated()) {
            throw new IllegalArgumentException(volume.title + " has no voxel size in nm: give it (or set it "
                    + "with Image > Properties...); EMSeg never guesses it");
        }
        File dir = tempDir();
        try {
            File in = new File(dir, "volume.tif");
            ImagePlus imp = volume.toImagePlus();
            if (!new FileSaver(imp).saveAsTiffStack(in.getPath())) {
                throw new BackendException("cannot write the temporary file " + in);
            }
            File out = new File(dir, "out");
            try {
                run(segmentVolumeCommand(in, out, options, volume), null, progress);
            } catch (BackendException e) {
                // the message names the temporary copy; the user knows the stack by its title
                throw new BackendException(e.getMessage().replace(in.getPath(), volume.title));
            }
            VolumeData labels = VolumeData.of(open(new File(out, "volume_labels.tif")));
            Table table = Table.parseCsv(read(new File(out, "volume_vesicles.csv")));
            return new VolumeSegmentation(new VolumeData(labels.title, labels.width, labels.height,
                    labels.planes, volume.pixelWidth, volume.pixelHeight, volume.pixelDepth, null), table);
        } finally {
            deleteTree(dir);
        }
    }

    @Override
    public VolumeData openVolume(String path, Progress progress) throws BackendException {
        File file = new File(path);
        if (!file.isFile()) {
            throw new IllegalArgumentException(path + ": no such file");
        }
        File dir = tempDir();
        try {
            run(convertCommand(file, dir), null, progress);
            File[] written = dir.listFiles((d, n) -> n.endsWith(".tif"));
            if (written == null || written.length != 1) {
                throw new BackendException("emseg convert wrote no image for " + file.getName());
            }
            VolumeData data = VolumeData.of(open(written[0]));
            double pd = data.depth == 1 ? data.pixelWidth : data.pixelDepth;
            return new VolumeData(file.getName(), data.width, data.height, data.planes, data.pixelWidth,
                    data.pixelHeight, pd, file.getAbsolutePath());
        } finally {
            deleteTree(dir);
        }
    }

    @Override
    public Table measure(ImageData labels, ImageData intensity, int connectivity, Progress progress)
            throws BackendException {
        if (connectivity != 4 && connectivity != 8) {
            throw new IllegalArgumentException("connectivity must be 4 or 8, got " + connectivity);
        }
        File dir = tempDir();
        try {
            File lab = new File(dir, "labels.tif");
            save(labels.toImagePlus(), lab);
            File img = null;
            if (intensity != null) {
                img = new File(dir, "image.tif");
                save(intensity.toImagePlus(), img);
            }
            File csv = new File(dir, "measurements.csv");
            run(measureCommand(lab, img, csv, labels.pixelWidth, labels.pixelHeight, connectivity), null, progress);
            return Table.parseCsv(read(csv));
        } finally {
            deleteTree(dir);
        }
    }

    @Override
    public Table classify(ImageData image, ImageData labels, ClassifyOptions options, Progress progress)
            throws BackendException {
        if (image.width != labels.width || image.height != labels.height) {
            throw new IllegalArgumentException("image is " + image.width + "x" + image.height
                    + ", labels are " + labels.width + "x" + labels.height);
        }
        File dir = tempDir();
        try {
            File img = new File(dir, "image.tif");
            save(image.toImagePlus(), img);
            File lab = new File(dir, "labels.tif");
            save(labels.toImagePlus(), lab);
            File out = new File(dir, "out");
            double pw = image.isCalibrated() ? image.pixelWidth : labels.pixelWidth;
            double ph = image.isCalibrated() ? image.pixelHeight : labels.pixelHeight;
            run(filterCommand(img, lab, out, options, pw, ph), null, progress);
            return Table.parseCsv(read(new File(out, "labels_filtered.csv")));
        } finally {
            deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ plumbing

    /**
     * Runs {@code cmd}; returns its standard output. stderr feeds the progress; on a non-zero
     * exit the last non-progress line of stderr (emseg's one-line error) becomes the exception.
     */
    String run(List<String> cmd, File workDir, Progress progress) throws BackendException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (workDir != null) {
            pb.directory(workDir);
        }
        environment(pb.environment());
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException e) {
            throw new BackendException("cannot run " + settings.python + " (" + e.getMessage()
                    + "); set the Python that has emseg installed in Plugins > EMSeg > EMSeg Options...");
        }
        try {
            proc.getOutputStream().close();
        } catch (IOException ignored) {
            // nothing to send
        }
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final InputStream outStream = proc.getInputStream();
        Thread drain = new Thread(new Runnable() {
            @Override
            public void run() {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = outStream.read(buf)) > 0; ) {
                        stdout.write(buf, 0, n);
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            }
        }, "emseg-stdout");
        drain.start();
        ProgressParser parser = new ProgressParser(progress);
        try (Reader err = new InputStreamReader(proc.getErrorStream(), StandardCharsets.UTF_8)) {
            for (int ch; (ch = err.read()) >= 0; ) {
                parser.feed((char) ch);
            }
            parser.flush();
            int rc = proc.waitFor();
            drain.join();
            if (rc != 0) {
                String msg = parser.lastMessage();
                throw new BackendException(msg.isEmpty() ? String.join(" ", cmd) + " failed with exit code " + rc : msg);
            }
        } catch (IOException e) {
            throw new BackendException("reading the output of emseg failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            proc.destroy();
            Thread.currentThread().interrupt();
            throw new BackendException("interrupted");
        }
        return new String(stdout.toByteArray(), StandardCharsets.UTF_8);
    }

    private static File tempDir() throws BackendException {
        try {
            return Files.createTempDirectory("emseg-").toFile();
        } catch (IOException e) {
            throw new BackendException("cannot create a temporary folder: " + e.getMessage(), e);
        }
    }

    private static void save(ImagePlus imp, File file) throws BackendException {
        if (!new FileSaver(imp).saveAsTiff(file.getPath())) {
            throw new BackendException("cannot write the temporary file " + file);
        }
    }

    private static ImagePlus open(File file) throws BackendException {
        ImagePlus imp = file.isFile() ? IJ.openImage(file.getPath()) : null;
        if (imp == null) {
            throw new BackendException("emseg wrote no readable " + file.getName());
        }
        return imp;
    }

    private static String read(File file) throws BackendException {
        try {
            return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackendException("emseg wrote no readable " + file.getName());
        }
    }

    static void deleteTree(File f) {
        File[] kids = f.listFiles();
        if (kids != null) {
            for (File k : kids) {
                deleteTree(k);
            }
        }
        if (!f.delete() && f.exists()) {
            f.deleteOnExit();
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "CommandLineBackend(%s)", settings.python);
    }
}
