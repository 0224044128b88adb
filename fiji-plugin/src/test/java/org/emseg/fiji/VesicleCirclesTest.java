package org.emseg.fiji;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import ij.gui.Overlay;
import ij.gui.Roi;
import java.awt.Color;
import java.awt.Rectangle;
import org.junit.Test;

public class VesicleCirclesTest {

    private static Table one(double x, double y, double z, double r) {
        return new Table(new String[]{"Label", "X", "Y", "Z", "Radius"},
                new double[][]{{7}, {x}, {y}, {z}, {r}});
    }

    @Test
    public void everySliceTheSphereCrossesGetsItsCircle() {
        // centre on the mid-plane of slice 10 (0-based), radius 5 slices of 2 nm
        double pd = 2.0;
        Overlay o = VesicleCircles.overlay(one(50.0, 40.0, 10.5 * pd, 5 * pd), 1.0, 1.0, pd, 40, Color.YELLOW);
        assertEquals(9, o.size());                      // slices 6..14: |dz| < 10 nm
        double widest = 0;
        for (int i = 0; i < o.size(); i++) {
            Roi roi = o.get(i);
            int slice = roi.getPosition();
            double dz = (slice - 0.5) * pd - 10.5 * pd;
            double rho = Math.sqrt(100 - dz * dz);
            assertEquals(2 * rho, roi.getFloatWidth(), 1e-9);
            assertEquals(50.0, roi.getXBase() + roi.getFloatWidth() / 2, 1e-9);
            assertEquals(40.0, roi.getYBase() + roi.getFloatHeight() / 2, 1e-9);
            assertEquals("vesicle 7", roi.getName());
            widest = Math.max(widest, roi.getFloatWidth());
        }
        assertEquals(20.0, widest, 1e-9);              // the centre's slice: the full diameter
    }

    @Test
    public void anisotropicPixelsAndTheStackEnds() {
        Overlay o = VesicleCircles.overlay(one(30.0, 30.0, 1.0, 6.0), 1.5, 3.0, 2.0, 3, Color.RED);
        // z spans [-5, 7] nm: slices 0..2 of 2 nm (the stack has only 3)
        assertEquals(3, o.size());
        Roi mid = o.get(0);
        Rectangle b = mid.getBounds();
        assertTrue(b.width > b.height);                 // x pixels are smaller than y pixels
        double rho = Math.sqrt(36 - 0.0);               // slice 0's mid-plane at 1 nm = the centre
        assertEquals(2 * rho / 1.5, mid.getFloatWidth(), 1e-9);
        assertEquals(2 * rho / 3.0, mid.getFloatHeight(), 1e-9);
    }

    @Test
    public void refusesWhatIsNoVesicleTable() {
        try {
            VesicleCircles.overlay(new Table(new String[]{"Label", "Area"}, new double[][]{{1}, {2}}),
                    1, 1, 1, 5, Color.RED);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("no column X"));
        }
        try {
            VesicleCircles.overlay(one(1, 1, 1, 1), 0, 1, 1, 5, Color.RED);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("voxel size"));
        }
    }
}
