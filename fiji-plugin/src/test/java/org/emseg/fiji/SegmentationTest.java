package org.emseg.fiji;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.Test;

public class SegmentationTest {

    @Test
    public void fileNamesAreThoseEmsegSegmentWrites() {
        assertEquals("Circ", Segmentation.fileName("Circ."));
        assertEquals("ECD", Segmentation.fileName("ECD"));
        assertEquals("Perim", Segmentation.fileName("Perim."));
        assertEquals("a_b", Segmentation.fileName("_a b."));
    }

    @Test
    public void reportedColumnsAreTheTablesWithAHistogram() throws IOException {
        File dir = Files.createTempDirectory("emseg-report").toFile();
        try {
            Table t = new Table(new String[]{"Label", "ECD", "Circ.", "MinFeret"},
                    new double[][]{{1}, {40}, {0.9}, {35}});
            assertArrayEquals(new String[0], Segmentation.reported(dir, "image", t));
            new File(dir, "image_Circ.png").createNewFile();
            new File(dir, "image_ECD.png").createNewFile();
            new File(dir, "other_MinFeret.png").createNewFile();
            assertArrayEquals(new String[]{"ECD", "Circ."}, Segmentation.reported(dir, "image", t));
            Segmentation s = new Segmentation(1, 1, new int[]{1}, null, t, -1, 1, 1, null,
                    new String[]{"ECD"});
            assertArrayEquals(new String[]{"ECD"}, s.report);
            assertEquals(0, new Segmentation(1, 1, new int[]{1}, null, t, -1, 1, 1).report.length);
        } finally {
            for (File f : dir.listFiles()) {
                f.delete();
            }
            dir.delete();
        }
    }
}
