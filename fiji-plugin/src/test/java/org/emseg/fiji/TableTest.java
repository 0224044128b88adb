package org.emseg.fiji;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import ij.measure.ResultsTable;
import java.util.Arrays;
import org.junit.Test;

public class TableTest {

    private static Table sample() {
        return new Table(new String[]{"Label", "Area", "Border"},
                new double[][]{{1, 2, 3}, {0.1 + 0.2, 1e-17, 12345.678901234567}, {0, 1, 0}});
    }

    @Test
    public void csvRoundTripIsExact() {
        Table t = sample();
        Table back = Table.parseCsv(t.toCsv());
        assertArrayEquals(t.headings(), back.headings());
        for (String h : t.headings()) {
            assertArrayEquals(t.column(h), back.column(h), 0.0);
        }
        assertTrue(t.toCsv().startsWith("Label,Area,Border\n1,0.30000000000000004,0\n"));
    }

    @Test
    public void parsesPandasCsv() {
        Table t = Table.parseCsv("Label,Area,Circ.,Border\r\n1,2437.5,0.879,False\n2,3031.25,,True\n");
        assertEquals(2, t.rows());
        assertArrayEquals(new double[]{0, 1}, t.column("Border"), 0.0);
        assertTrue(Double.isNaN(t.get("Circ.", 1)));
        assertArrayEquals(new int[]{1, 2}, t.labels());
        assertNull(t.textHeading());
    }

    @Test
    public void firstTextColumnAndQuotes() {
        Table t = Table.parseCsv("File,Label,Area\n\"a,b.tif\",1,2\nc.tif,2,3\n");
        assertEquals("File", t.textHeading());
        assertEquals("a,b.tif", t.text(0));
        assertEquals(2, t.rows());
        assertTrue(t.toCsv().contains("\"a,b.tif\",1,2.0"));
    }

    @Test
    public void rejectsBadCsv() {
        try {
            Table.parseCsv("Label,Area\n1\n");
            fail("short line accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("line 2"));
        }
        try {
            Table.parseCsv("Label,Area\n1,abc\n");
            fail("text in a numeric column accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("Area"));
        }
    }

    @Test
    public void selectAndConcat() {
        Table t = sample();
        Table kept = t.select(new boolean[]{true, false, true});
        assertArrayEquals(new double[]{1, 3}, kept.column("Label"), 0.0);
        Table other = new Table(new String[]{"Label", "Mean"}, new double[][]{{9}, {4.5}});
        Table all = Table.concat(Arrays.asList(kept.withText("File", "a"), other.withText("File", "b")));
        assertEquals(3, all.rows());
        assertArrayEquals(new String[]{"Label", "Area", "Border", "Mean"}, all.headings());
        assertTrue(Double.isNaN(all.get("Mean", 0)));
        assertEquals(4.5, all.get("Mean", 2), 0.0);
        assertEquals("b", all.text(2));
    }

    @Test
    public void resultsTableKeepsFullPrecision() {
        ResultsTable rt = sample().toResultsTable();
        assertEquals(3, rt.size());
        assertEquals(12345.678901234567, rt.getValue("Area", 2), 0.0);
        assertEquals(2.0, rt.getValue("Label", 1), 0.0);
        assertTrue(rt.columnExists("Border"));
    }

    @Test
    public void validatesShape() {
        try {
            new Table(new String[]{"A", "B"}, new double[][]{{1, 2}, {1}});
            fail("ragged columns accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("B"));
        }
        try {
            sample().column("Nope");
            fail("unknown column");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("Nope"));
        }
        assertFalse(sample().has("Nope"));
    }
}
