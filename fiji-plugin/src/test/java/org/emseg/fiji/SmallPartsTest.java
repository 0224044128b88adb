package org.emseg.fiji;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import ij.ImagePlus;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.Test;

/** The GUI-free helpers: units, image data, filters, progress parsing, settings, options. */
public class SmallPartsTest {

    @Test
    public void units() {
        assertEquals(7.5, Units.toNm(7.5, "nm"), 0);
        assertEquals(7.5, Units.toNm(0.0075, "\u00b5m"), 1e-12);
        assertEquals(7.5, Units.toNm(0.0075, "micron"), 1e-12);
        assertEquals(7.5, Units.toNm(75, "\u00c5"), 1e-12);
        assertEquals(0.0, Units.toNm(1, "pixel"), 0);
        assertEquals(0.0, Units.toNm(-1, "nm"), 0);
    }

    @Test
    public void imageDataCarriesCalibration() {
        ImagePlus imp = new ImagePlus("a.tif", new ShortProcessor(4, 3));
        imp.getCalibration().pixelWidth = 0.002;
        imp.getCalibration().pixelHeight = 0.002;
        imp.getCalibration().setUnit("um");
        ImageData d = ImageData.of(imp);
        assertEquals("uint16", d.pixelType());
        assertEquals(2.0, d.pixelWidth, 1e-12);
        ImagePlus back = d.toImagePlus();
        assertEquals("nm", back.getCalibration().getUnit());
        assertEquals(2.0, back.getCalibration().pixelHeight, 1e-12);
        assertFalse(ImageData.of(new ImagePlus("b", new FloatProcessor(2, 2))).isCalibrated());
        try {
            ImageData.of(new ImagePlus("rgb", new ij.process.ColorProcessor(2, 2)));
            fail("RGB accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("RGB"));
        }
        try {
            new ImageData("x", 2, 2, new float[3], 0, 0);
            fail("wrong pixel count accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("pixels"));
        }
    }

    @Test
    public void labelsRoundTrip() {
        int[] lab = {0, 3, 70000, 3};
        ImageProcessor ip = Segmentation.labelProcessor(2, 2, lab);
        assertTrue(ip instanceof FloatProcessor);
        assertArrayEquals(lab, Segmentation.labelsOf(ip));
        int[] small = {0, 3, 65535, 3};
        ImageProcessor sp = Segmentation.labelProcessor(2, 2, small);
        assertTrue(sp instanceof ShortProcessor);
        assertArrayEquals(small, Segmentation.labelsOf(sp));
        try {
            Segmentation.labelsOf(new FloatProcessor(1, 1, new float[]{1.5f}));
            fail("fractional label accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("whole numbers"));
        }
    }

    @Test
    public void rangeFilter() {
        Table t = new Table(new String[]{"Label", "MinFeret", "Border"},
                new double[][]{{1, 2, 3, 4}, {10, 20, Double.NaN, 30}, {0, 0, 0, 1}});
        assertArrayEquals(new boolean[]{false, true, false, true},
                new RangeFilter().range("MinFeret", 20, 30).apply(t));
        assertArrayEquals(new boolean[]{false, true, false, false},
                new RangeFilter().range("MinFeret", 20, 30).excludeBorder(true).apply(t));
        assertEquals(2, RangeFilter.count(new boolean[]{true, false, true}));
        try {
            new RangeFilter().range("MinFeret", 5, 1);
            fail("empty range accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("MinFeret"));
        }
        assertArrayEquals(new int[]{0, 2, 0, 2}, FilterParticles.keptLabels(new int[]{1, 2, 4, 2},
                t, new boolean[]{false, true, true, false}));
    }

    @Test
    public void progressParser() {
        assertArrayEquals(new int[]{4, 10}, ProgressParser.parse("  a.tif:  40%|####      | 4/10 [00:02<00:03, 2.0tile/s]"));
        assertNull(ProgressParser.parse("emseg segment: error: bad.tif: not an image"));
        final List<int[]> got = new ArrayList<>();
        ProgressParser p = new ProgressParser(new Progress() {
            @Override
            public void update(int done, int total, String message) {
                got.add(new int[]{done, total});
            }
        });
        for (char c : ("x:  0%|  | 0/5 [00:00<?]\rx: 20%|# | 1/5 [00:01<00:04]\nemseg segment: error: boom\n"
                + "emseg segment: 1 of 1 image(s) failed\n").toCharArray()) {
            p.feed(c);
        }
        p.flush();
        assertEquals(2, got.size());
        assertArrayEquals(new int[]{1, 5}, got.get(1));
        assertEquals("emseg segment: error: boom", p.lastMessage());
    }

    @Test
    public void settingsLayers() {
        Settings d = Settings.defaults();
        assertEquals("auto", d.backend);
        assertEquals(Settings.DEFAULT_MODEL, d.model);
        Properties p = new Properties();
        p.setProperty("python", "/opt/py/bin/python");
        p.setProperty("backend", "command-line");
        Settings s = d.with(p);
        assertEquals("/opt/py/bin/python", s.python);
        assertEquals("command-line", s.backend);
        assertEquals(d.model, s.model);
        try {
            new Settings("python", "", "m", "gpu");
            fail("unknown backend accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("backend"));
        }
    }

    @Test
    public void commandLines() throws Exception {
        CommandLineBackend b = new CommandLineBackend(new Settings("/py", "/models", "m", "command-line"));
        List<String> seg = b.segmentCommand(new File("in.tif"), new File("out"),
                new SegmentOptions("emseg-particles-sem", 0.6, true, null), 7.5, 7.5);
        assertEquals("[/py, -m, emseg, segment, in.tif, --output, out, --model, emseg-particles-sem, "
                + "--pixel-size, 7.5, --threshold, 0.6, --keep-databar]", seg.toString());
        List<String> seg2 = b.segmentCommand(new File("in.tif"), new File("out"),
                new SegmentOptions("m", Double.NaN, false, null), 0, 0);
        assertFalse(seg2.contains("--threshold") || seg2.contains("--pixel-size") || seg2.contains("--keep-databar"));
        List<String> mea = b.measureCommand(new File("l.tif"), new File("i.tif"), new File("o.csv"), 2, 3, 4);
        assertEquals("[/py, -m, emseg, measure, l.tif, --image, i.tif, --output, o.csv, --connectivity, 4, "
                + "--pixel-size, 2.0,3.0]", mea.toString());
        Map<String, String> env = b.environment(new java.util.HashMap<String, String>());
        assertEquals("/models", env.get("EMSEG_MODELS"));
        assertEquals("1", env.get("PYTHONUNBUFFERED"));
    }

    @Test
    public void filterCommandAndOptions() {
        CommandLineBackend b = new CommandLineBackend(new Settings("/py", "", "m", "command-line"));
        ClassifyOptions o = new ClassifyOptions("c", 0.7, true, " MinFeret=50:300, Circ.=-1:1;Area=: ", null);
        assertEquals(Arrays.asList("MinFeret=50:300", "Circ.=-1:1", "Area=:"), o.ranges);
        assertEquals("[/py, -m, emseg, filter, i.tif, l.tif, --output, out, --classifier, c, --min-score, 0.7, "
                + "--range=MinFeret=50:300, --range=Circ.=-1:1, --range=Area=:, --exclude-border, "
                + "--pixel-size, 7.5]",
                b.filterCommand(new File("i.tif"), new File("l.tif"), new File("out"), o, 7.5, 7.5).toString());
        ClassifyOptions none = new ClassifyOptions("None", Double.NaN, false, "", null);
        assertTrue(none.rulesOnly() && none.ranges.isEmpty());
        List<String> cmd = b.filterCommand(new File("i.tif"), new File("l.tif"), new File("o"), none, 0, 0);
        assertFalse(cmd.contains("--min-score") || cmd.contains("--pixel-size") || cmd.contains("--exclude-border"));
        String[][] bad = {{"c", "2", ""}, {"", "NaN", ""}, {"none", "0.5", ""}, {"c", "NaN", "MinFeret"},
                {"c", "NaN", "A=x:1"}, {"c", "NaN", "A=3:2"}, {"c", "NaN", "A=1:2:3"}};
        for (String[] b2 : bad) {
            try {
                new ClassifyOptions(b2[0], Double.parseDouble(b2[1]), false, b2[2], null);
                fail("accepted " + Arrays.toString(b2));
            } catch (IllegalArgumentException expected) {
                assertFalse(expected.getMessage().isEmpty());
            }
        }
    }

    @Test
    public void keptColumnAndImageGuess() {
        Table t = Table.parseCsv("Label,Score,Kept\n1,0.9,True\n2,0.1,False\n3,,False\n");
        assertArrayEquals(new boolean[]{true, false, false}, ClassifierFilter.kept(t));
        assertEquals("a.tif", ClassifierFilter.guessImage("a_labels", Arrays.asList("b.tif", "a.tif")));
        assertEquals("b.tif", ClassifierFilter.guessImage("x_labels", Arrays.asList("b.tif", "a.tif")));
    }

    @Test
    public void missingPythonIsAClearError() {
        CommandLineBackend b = new CommandLineBackend(
                new Settings("/nonexistent/python-for-emseg", "", "m", "command-line"));
        try {
            b.version();
            fail("ran a missing executable");
        } catch (BackendException e) {
            assertTrue(e.getMessage().startsWith("cannot run /nonexistent/python-for-emseg"));
            assertTrue(e.getMessage().contains("EMSeg Options"));
        }
    }

    @Test
    public void failingCommandReportsItsLastLine() throws Exception {
        CommandLineBackend b = new CommandLineBackend(new Settings("sh", "", "m", "command-line"));
        List<String> cmd = new ArrayList<>();
        cmd.add("sh");
        cmd.add("-c");
        cmd.add("echo 'x: 50%|#| 1/2 [00:01<00:01]' >&2; echo 'emseg segment: error: bad input' >&2; exit 2");
        try {
            b.run(cmd, null, Progress.NONE);
            fail("exit code 2 ignored");
        } catch (BackendException e) {
            assertEquals("emseg segment: error: bad input", e.getMessage());
        }
        cmd.set(2, "echo hello");
        assertEquals("hello\n", b.run(cmd, null, Progress.NONE));
    }

    @Test
    public void segmentOptionsValidate() {
        try {
            new SegmentOptions(" ", Double.NaN, false, null);
            fail("empty model accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("model"));
        }
        try {
            new SegmentOptions("m", 1.5, false, null);
            fail("threshold 1.5 accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("threshold"));
        }
    }

    @Test
    public void headlessFieldsReadMacroOptions() {
        Fields f = Fields.fromOptions("t", "model=[my model] pixel_size=7.5 keep_data_bar connectivity=4");
        f.addString("Model", "default", 10);
        f.addNumber("Pixel_size", 0, 3, "nm");
        f.addNumber("Threshold", 0.25, 3, "");
        f.addCheckbox("Keep_data_bar (explained)", false);
        f.addCheckbox("ROI_Manager", true);
        f.addChoice("Connectivity (of masks)", new String[]{"8", "4"}, "8");
        assertTrue(f.show());
        assertEquals("my model", f.nextString());
        assertEquals(7.5, f.nextNumber(), 0);
        assertEquals(0.25, f.nextNumber(), 0);
        assertTrue(f.nextBoolean());
        assertFalse(f.nextBoolean());  // absent checkbox keys are off, as in GenericDialog
        assertEquals("4", f.nextChoice());
        Fields bad = Fields.fromOptions("t", "pixel_size=abc");
        bad.addNumber("Pixel_size", 0, 3, "nm");
        bad.show();
        try {
            bad.nextNumber();
            fail("non-number accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("pixel_size"));
        }
        Fields none = Fields.fromOptions("t", null);
        none.addString("Model", "m", 5);
        try {
            none.show();
            fail("headless without options");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().contains("model="));
        }
    }

    @Test
    public void pluginsConfigMenus() throws Exception {
        Map<String, String> m = Headless.pluginsConfig(new ByteArrayInputStream((
                "# comment\nPlugins>EMSeg, \"Segment Particles...\", org.emseg.fiji.SegmentParticles\n")
                .getBytes(StandardCharsets.UTF_8)));
        assertEquals("org.emseg.fiji.SegmentParticles", m.get("Segment Particles..."));
        assertEquals(1, m.size());
        Map<String, String> shipped = Headless.pluginsConfig(Headless.class.getResourceAsStream("/plugins.config"));
        for (String cmd : new String[]{"Segment Particles...", "Measure Particles...", "Filter Particles...",
            "Batch Segment Folder...", "EMSeg Options...", "About EMSeg"}) {
            String cls = shipped.get(cmd);
            Class.forName(cls).asSubclass(ij.plugin.PlugIn.class);
        }
    }

    @Test
    public void histogramBins() {
        double[] v = new double[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 100;
        }
        double w = Histogram.binWidth(v);
        assertTrue(w > 0.99 && w < 20);
        assertEquals(1.0, Histogram.binWidth(new double[]{3, 3, 3}), 0);
        assertEquals(2.0 / 5, Histogram.binWidth(new double[]{0, 2}), 1e-12);  // at least 5 bins
    }

    @Test
    public void batchListsImagesOnly() throws Exception {
        File dir = Files.createTempDirectory("emseg-test").toFile();
        try {
            for (String n : new String[]{"b.tif", "a.PNG", "a_labels.tif", "a_prob.tif", "notes.txt", ".hidden.tif"}) {
                new File(dir, n).createNewFile();
            }
            List<File> imgs = BatchSegmentFolder.images(dir);
            assertEquals(2, imgs.size());
            assertEquals("a.PNG", imgs.get(0).getName());
            assertEquals("b.tif", imgs.get(1).getName());
        } finally {
            CommandLineBackend.deleteTree(dir);
        }
        assertFalse(dir.exists());
        assertEquals("x.y", SegmentParticles.stem("x.y.tif"));
        assertEquals("s", SegmentParticles.stem("s.ome.tif"));
    }
}
