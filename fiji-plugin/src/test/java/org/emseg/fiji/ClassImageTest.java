package org.emseg.fiji;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import ij.ImagePlus;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.gui.TextRoi;

import java.awt.Point;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.Test;

public class ClassImageTest {
    /*
     * 6x4, classes: 0 = cytoplasm, 1 = membrane (column 2), 2 = mitochondria (two blobs),
     * bottom row = data bar (no class).
     */
    private static final int W = 6;
    private static final int H = 4;
    private static final int[] CLASSES = {
        2, 2, 1, 0, 0, 0,
        2, 2, 1, 0, 2, 0,
        0, 0, 1, 0, 2, 0,
        255, 255, 255, 255, 255, 255};
    private static final String[] NAMES = {"cytoplasm", "membrane", "mitochondria"};
    private static final int[] COLOURS = {0xff0000, 0x00ff00, 0x0000ff};

    private static ClassImage example() {
        byte[] c = new byte[W * H];
        int[] objects = new int[W * H];
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) CLASSES[i];
            if (CLASSES[i] == 2) {
                objects[i] = i % W < 2 ? 1 : 2;
            }
        }
        Table areas = new Table(new String[]{"Index", "Pixels", "Fraction"},
                new double[][]{{0, 1, 2}, {8, 3, 7}, {8 / 18.0, 3 / 18.0, 7 / 18.0}}, "Class", NAMES);
        Table mito = new Table(new String[]{"Label", "Area"}, new double[][]{{1, 2}, {4, 2}});
        return new ClassImage(W, H, c, NAMES, COLOURS, null, areas, new String[]{"mitochondria"},
                new int[][]{objects}, new Table[]{mito});
    }

    private static Set<Integer> pixels(Roi roi) {
        Set<Integer> out = new HashSet<>();
        for (Point p : roi.getContainedPoints()) {
            out.add(p.y * W + p.x);
        }
        return out;
    }

    @Test
    public void classNamesTravelAsTheImagesProperty() {
        ClassImage c = example();
        assertEquals("0=cytoplasm;1=membrane;2=mitochondria", c.listing());
        assertArrayEquals(NAMES, ClassImage.parseListing(c.listing()));
        assertArrayEquals(NAMES, ClassImage.parseListing("2=mitochondria;0=cytoplasm;1=membrane"));
        for (String bad : new String[]{"", "0=a;0=b", "a;b", "0=a;5=b"}) {
            try {
                ClassImage.parseListing(bad);
                fail("accepted " + bad);
            } catch (IllegalArgumentException expected) {
                // the message says what could not be read
            }
        }
    }

    @Test
    public void imageHasTheLabelLutNamesAndLegend() {
        ClassImage c = example();
        ImagePlus imp = c.image("x_classes");
        assertEquals(8, imp.getBitDepth());
        assertEquals(2, imp.getProcessor().get(0, 0));
        assertEquals(c.listing(), imp.getProp(ClassImage.PROPERTY));
        assertArrayEquals(COLOURS, ClassImage.coloursOf(imp.getProcessor(), 3));
        assertEquals(0, imp.getProcessor().getColorModel().getRGB(255) & 0xffffff);  // no class: black
        assertTrue(((String) imp.getProperty("Info")).contains("2 = mitochondria"));
        Overlay legend = imp.getOverlay();
        assertEquals(1 + 2 * NAMES.length, legend.size());
        Set<String> texts = new HashSet<>();
        for (int i = 0; i < legend.size(); i++) {
            if (legend.get(i) instanceof TextRoi) {
                texts.add(((TextRoi) legend.get(i)).getText().trim());
            }
        }
        assertTrue(texts.toString(), texts.contains("mitochondria 38.9%"));
        assertTrue(texts.toString(), texts.contains("membrane 16.7%"));
    }

    @Test
    public void chosenClassesDefaultToTheInstanceClasses() {
        ClassImage c = example();
        assertArrayEquals(new String[]{"mitochondria"}, c.chooseClasses(""));
        assertArrayEquals(NAMES, c.chooseClasses(" all "));
        assertArrayEquals(new String[]{"membrane", "cytoplasm"}, c.chooseClasses("membrane, cytoplasm,membrane"));
        try {
            c.chooseClasses("nucleus");
            fail("accepted an unknown class");
        } catch (IllegalArgumentException e) {
            assertEquals("no class 'nucleus'; the model's classes: cytoplasm, membrane, mitochondria",
                    e.getMessage());
        }
    }

    @Test
    public void roisAreObjectsOfInstanceClassesAndOneSelectionOfOthers() {
        ClassImage c = example();
        List<Roi> rois = c.rois(new String[]{"mitochondria", "membrane"});
        assertEquals(3, rois.size());
        assertEquals("mitochondria-1", rois.get(0).getName());
        assertEquals(new HashSet<>(java.util.Arrays.asList(0, 1, 6, 7)), pixels(rois.get(0)));
        assertEquals("mitochondria-2", rois.get(1).getName());
        assertEquals(new HashSet<>(java.util.Arrays.asList(10, 16)), pixels(rois.get(1)));
        assertEquals("membrane", rois.get(2).getName());
        assertEquals(new HashSet<>(java.util.Arrays.asList(2, 8, 14)), pixels(rois.get(2)));
        assertEquals(0x0000ff, rois.get(0).getStrokeColor().getRGB() & 0xffffff);
        assertEquals(0x00ff00, rois.get(2).getStrokeColor().getRGB() & 0xffffff);
        // a class without pixels gives no selection
        ClassImage empty = new ClassImage(2, 1, new byte[]{0, 0}, new String[]{"a", "b"}, new int[]{1, 2},
                null, new Table(new String[]{"Fraction"}, new double[][]{{1, 0}}), null, new int[0][],
                new Table[0]);
        assertEquals(0, empty.rois(new String[]{"b"}).size());
    }

    @Test
    public void objectTableCarriesTheClass() {
        Table t = example().objectTable();
        assertEquals(2, t.rows());
        assertEquals("Class", t.textHeading());
        assertEquals("mitochondria", t.text(1));
    }

    @Test
    public void summaryRowHasEachClassAndTheNumberOfObjects() {
        Table row = example().summaryRow();
        assertArrayEquals(new String[]{"cytoplasm Fraction", "membrane Fraction", "mitochondria Fraction",
            "mitochondria objects"}, row.headings());
        assertEquals(7 / 18.0, row.get("mitochondria Fraction", 0), 0);
        assertEquals(2, row.get("mitochondria objects", 0), 0);
    }

    @Test
    public void segmentationOfClassesHasNoParticleLabels() {
        Segmentation s = new Segmentation(example(), 3, 2.0, 2.0, null);
        assertTrue(s.isClasses());
        assertEquals(3, s.table.rows());
        assertEquals(2.0, s.classImage("c").getCalibration().pixelWidth, 0);
        assertNull(s.classProbabilityImage("p"));
        assertEquals(2, (int) s.objectImage("mitochondria", "m").getProcessor().getStatistics().max);
        try {
            s.labelImage("l");
            fail("a class result made a particle label image");
        } catch (IllegalStateException expected) {
            // multi-class models have classes, not particle labels
        }
    }

    @Test
    public void badInputIsRefusedWithTheArgumentsName() {
        try {
            new ClassImage(W, H, new byte[W * H], NAMES, new int[]{1, 2}, null,
                    example().areas, null, new int[0][], new Table[0]);
            fail("accepted two colours for three classes");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("colours"));
        }
        byte[] c = new byte[W * H];
        c[5] = 7;
        try {
            new ClassImage(W, H, c, NAMES, COLOURS, null, example().areas, null, new int[0][], new Table[0]);
            fail("accepted class 7 of 3");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("classes"));
        }
    }
}
