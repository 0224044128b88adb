package org.emseg.fiji;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import ij.gui.Roi;
import java.awt.Rectangle;
import java.util.Map;
import org.junit.Test;

public class LabelRoisTest {

    @Test
    public void outlinesEveryLabelInPlace() {
        int w = 10;
        int h = 8;
        int[] lab = new int[w * h];
        // label 5: 3x2 block at x 1..3, y 2..3; label 2: ring 4x4 at x 5..8, y 1..4 with a hole
        for (int y = 2; y <= 3; y++) {
            for (int x = 1; x <= 3; x++) {
                lab[y * w + x] = 5;
            }
        }
        for (int y = 1; y <= 4; y++) {
            for (int x = 5; x <= 8; x++) {
                lab[y * w + x] = (x == 6 || x == 7) && (y == 2 || y == 3) ? 0 : 2;
            }
        }
        Map<Integer, Roi> rois = LabelRois.fromLabels(lab, w, h);
        assertArrayEquals(new Integer[]{2, 5}, rois.keySet().toArray(new Integer[0]));
        Roi r5 = rois.get(5);
        assertEquals("5", r5.getName());
        assertEquals(new Rectangle(1, 2, 3, 2), r5.getBounds());
        assertEquals(6, r5.getContainedPoints().length);
        Roi r2 = rois.get(2);
        assertEquals(new Rectangle(5, 1, 4, 4), r2.getBounds());
        assertEquals(12, r2.getContainedPoints().length);  // the hole stays out
    }

    @Test
    public void componentsInRasterOrder() {
        int[] mask = {
            0, 1, 0, 0, 1,
            0, 0, 1, 0, 1,
            1, 0, 0, 0, 0,
        };
        assertArrayEquals(new int[]{0, 1, 0, 0, 2, 0, 0, 1, 0, 2, 3, 0, 0, 0, 0},
                LabelRois.components(mask, 5, 3, 8));
        int[] four = LabelRois.components(mask, 5, 3, 4);
        assertEquals(1, four[1]);
        assertEquals(2, four[4]);
        assertEquals(3, four[7]);  // diagonal neighbour of the first pixel is separate
        assertEquals(4, four[10]);
    }

    @Test
    public void binaryRule() {
        assertTrue(LabelRois.isBinary(new int[]{0, 255, 255}));
        assertTrue(LabelRois.isBinary(new int[]{0, 1}));
        assertFalse(LabelRois.isBinary(new int[]{0, 7}));
        assertFalse(LabelRois.isBinary(new int[]{0, 1, 2}));
    }

    @Test(expected = IllegalArgumentException.class)
    public void rejectsWrongSize() {
        LabelRois.fromLabels(new int[5], 2, 2);
    }
}
