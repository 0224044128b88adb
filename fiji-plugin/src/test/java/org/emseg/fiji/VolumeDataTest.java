package org.emseg.fiji;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import ij.ImagePlus;
import ij.gui.Overlay;
import java.awt.Color;
import org.junit.Test;

public class VolumeDataTest {

    private static Object[] planes(int n, int w, int h) {
        Object[] p = new Object[n];
        for (int z = 0; z < n; z++) {
            float[] f = new float[w * h];
            for (int i = 0; i < f.length; i++) {
                f[i] = z * 1000 + i;
            }
            p[z] = f;
        }
        return p;
    }

    @Test
    public void stackRoundTripKeepsPlanesAndVoxelSize() {
        VolumeData v = new VolumeData("t", 4, 3, planes(5, 4, 3), 2.0, 2.5, 3.0, null);
        ImagePlus imp = v.toImagePlus();
        assertEquals(5, imp.getNSlices());
        assertEquals("nm", imp.getCalibration().getUnit());
        VolumeData back = VolumeData.of(imp);
        assertEquals(5, back.depth);
        assertEquals(2.0, back.pixelWidth, 0);
        assertEquals(2.5, back.pixelHeight, 0);
        assertEquals(3.0, back.pixelDepth, 0);
        assertEquals("float32", back.pixelType());
        for (int z = 0; z < 5; z++) {
            assertSame(v.planes[z], back.planes[z]);             // no copy
        }
    }

    @Test
    public void uncalibratedStackHasNoVoxelSize() {
        VolumeData v = new VolumeData("t", 4, 3, planes(2, 4, 3), 0, 0, 0, null);
        assertFalse(v.isCalibrated());
        assertFalse(VolumeData.of(v.toImagePlus()).isCalibrated());
        assertTrue(v.withVoxelSize(1, 1, 1).isCalibrated());
    }

    @Test
    public void badVolumesAreRefusedNamingTheProblem() {
        Object[] mixed = {new float[12], new short[12]};
        try {
            new VolumeData("t", 4, 3, mixed, 0, 0, 0, null);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("slice 2"));
        }
        try {
            new VolumeData("t", 4, 3, planes(2, 4, 3), 1, 1, 0, null);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("voxel size"));
        }
        try {
            new VolumeData("t", 4, 3, new Object[]{new float[11]}, 0, 0, 0, null);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("11 values"));
        }
        try {
            new VolumeData("t", 4, 3, new Object[0], 0, 0, 0, null);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("planes"));
        }
    }

    @Test
    public void timeSeriesAndHyperstacksAreNotVolumes() {
        ImagePlus movie = new VolumeData("m", 4, 3, planes(3, 4, 3), 0, 0, 0, null).toImagePlus();
        movie.setDimensions(1, 1, 3);
        try {
            VolumeData.of(movie);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("time series of 3 frames"));
        }
        ImagePlus two = new VolumeData("c", 4, 3, planes(4, 4, 3), 0, 0, 0, null).toImagePlus();
        two.setDimensions(2, 2, 1);
        try {
            VolumeData.of(two);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("2 channel(s)"));
        }
    }

    @Test
    public void unrefinedVesiclesAreDrawnAsSpheresOfTheirVolume() {
        Object[] labels = new Object[20];
        for (int z = 0; z < 20; z++) {
            labels[z] = new short[40 * 40];
        }
        VolumeData lab = new VolumeData("l", 40, 40, labels, 2, 2, 2, null);
        Table t = new Table(new String[]{"Label", "X", "Y", "Z", "EqDiameter"},
                new double[][]{{3}, {40}, {40}, {21}, {20}});
        VolumeSegmentation seg = new VolumeSegmentation(lab, t);
        assertFalse(seg.refined());
        Overlay o = seg.circles(Color.YELLOW);
        // radius 10 nm = 5 slices of 2 nm around z = 21 nm (slice 10's mid-plane)
        assertEquals(9, o.size());
        assertEquals("vesicle 3", o.get(0).getName());
        ImagePlus imp = seg.labelImage("l_labels");
        assertEquals(20, imp.getNSlices());
        assertArrayEquals(new double[]{0, 3}, new double[]{imp.getDisplayRangeMin(), imp.getDisplayRangeMax()}, 0);
    }
}
