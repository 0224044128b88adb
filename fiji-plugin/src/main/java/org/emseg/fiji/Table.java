package org.emseg.fiji;

import ij.measure.ResultsTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A measurement table as the backend returns it: named numeric columns in ImageJ's order, plus
 * an optional leading text column (the file name in batch summaries).
 *
 * <p>Values are kept at full double precision; {@link #toCsv()} writes the shortest decimal that
 * reads back to the same double, so a CSV round trip is exact (an ImageJ ResultsTable saves only
 * the displayed decimals).</p>
 */
public final class Table {
    private final String[] headings;
    private final double[][] columns;
    private final String textHeading;
    private final String[] text;

    /**
     * @param headings column names
     * @param columns  one array per heading, all of the same length
     */
    public Table(String[] headings, double[][] columns) {
        this(headings, columns, null, null);
    }

    public Table(String[] headings, double[][] columns, String textHeading, String[] text) {
        if (headings == null || columns == null || headings.length != columns.length) {
            throw new IllegalArgumentException("columns: need one array per heading");
        }
        int rows = columns.length > 0 ? columns[0].length : (text == null ? 0 : text.length);
        for (int c = 0; c < columns.length; c++) {
            if (headings[c] == null || headings[c].isEmpty()) {
                throw new IllegalArgumentException("headings: column " + c + " has no name");
            }
            if (columns[c] == null || columns[c].length != rows) {
                throw new IllegalArgumentException("columns: " + headings[c] + " has "
                        + (columns[c] == null ? "no" : String.valueOf(columns[c].length))
                        + " values, expected " + rows);
            }
        }
        if ((textHeading == null) != (text == null) || (text != null && text.length != rows)) {
            throw new IllegalArgumentException("text column: need a heading and one value per row");
        }
        this.headings = headings.clone();
        this.columns = columns;
        this.textHeading = textHeading;
        this.text = text;
    }

    public int rows() {
        return columns.length > 0 ? columns[0].length : (text == null ? 0 : text.length);
    }

    public String[] headings() {
        return headings.clone();
    }

    public boolean has(String heading) {
        return index(heading) >= 0;
    }

    private int index(String heading) {
        for (int c = 0; c < headings.length; c++) {
            if (headings[c].equals(heading)) {
                return c;
            }
        }
        return -1;
    }

    /** The values of one column (the table's own array: do not modify). */
    public double[] column(String heading) {
        int c = index(heading);
        if (c < 0) {
            throw new IllegalArgumentException("column " + heading + " is not in the table (columns: "
                    + String.join(", ", headings) + ")");
        }
        return columns[c];
    }

    public double get(String heading, int row) {
        return column(heading)[row];
    }

    /** The text column's heading, or null. */
    public String textHeading() {
        return textHeading;
    }

    public String text(int row) {
        return text == null ? null : text[row];
    }

    /** Particle labels (the "Label" column) as ints. */
    public int[] labels() {
        double[] v = column("Label");
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
        }
        return out;
    }

    /** The rows where {@code keep} is true. */
    public Table select(boolean[] keep) {
        if (keep.length != rows()) {
            throw new IllegalArgumentException("keep: " + keep.length + " flags for " + rows() + " rows");
        }
        int n = 0;
        for (boolean k : keep) {
            n += k ? 1 : 0;
        }
        double[][] cols = new double[columns.length][n];
        String[] txt = text == null ? null : new String[n];
        for (int r = 0, j = 0; r < keep.length; r++) {
            if (!keep[r]) {
                continue;
            }
            for (int c = 0; c < columns.length; c++) {
                cols[c][j] = columns[c][r];
            }
            if (txt != null) {
                txt[j] = text[r];
            }
            j++;
        }
        return new Table(headings, cols, textHeading, txt);
    }

    /** This table with a leading text column holding {@code value} in every row. */
    public Table withText(String heading, String value) {
        String[] txt = new String[rows()];
        Arrays.fill(txt, value);
        return new Table(headings, columns, heading, txt);
    }

    /**
     * Rows of several tables stacked; columns missing from a table are NaN there. Text columns
     * must agree (all absent or all with the same heading).
     */
    public static Table concat(List<Table> tables) {
        Map<String, Integer> order = new LinkedHashMap<>();
        String th = null;
        int total = 0;
        for (Table t : tables) {
            for (String h : t.headings) {
                if (!order.containsKey(h)) {
                    order.put(h, order.size());
                }
            }
            if (t.textHeading != null) {
                th = t.textHeading;
            }
            total += t.rows();
        }
        double[][] cols = new double[order.size()][total];
        String[] txt = th == null ? null : new String[total];
        int offset = 0;
        for (Table t : tables) {
            if (th != null && !th.equals(t.textHeading)) {
                throw new IllegalArgumentException("tables: text columns differ (" + th + " vs "
                        + t.textHeading + ")");
            }
            for (double[] col : cols) {
                Arrays.fill(col, offset, offset + t.rows(), Double.NaN);
            }
            for (int c = 0; c < t.headings.length; c++) {
                System.arraycopy(t.columns[c], 0, cols[order.get(t.headings[c])], offset, t.rows());
            }
            if (txt != null) {
                System.arraycopy(t.text, 0, txt, offset, t.rows());
            }
            offset += t.rows();
        }
        return new Table(order.keySet().toArray(new String[0]), cols, th, txt);
    }

    // ------------------------------------------------------------------ CSV

    /** The table as CSV text: a header line, one line per row, full precision. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder();
        List<String> head = new ArrayList<>();
        if (textHeading != null) {
            head.add(quote(textHeading));
        }
        for (String h : headings) {
            head.add(quote(h));
        }
        sb.append(String.join(",", head)).append('\n');
        for (int r = 0; r < rows(); r++) {
            if (text != null) {
                sb.append(quote(text[r]));
                if (headings.length > 0) {
                    sb.append(',');
                }
            }
            for (int c = 0; c < headings.length; c++) {
                if (c > 0) {
                    sb.append(',');
                }
                sb.append(format(columns[c][r], headings[c]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String format(double v, String heading) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15 && ("Label".equals(heading) || "Border".equals(heading))) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    private static String quote(String s) {
        if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    /**
     * Reads the CSV that {@code emseg measure}/{@code emseg segment} write (pandas): numbers,
     * empty cells as NaN, True/False as 1/0. A first column whose values are not numbers becomes
     * the text column.
     */
    public static Table parseCsv(String csv) {
        String[] lines = csv.replace("\r\n", "\n").split("\n");
        if (lines.length == 0 || lines[0].trim().isEmpty()) {
            throw new IllegalArgumentException("CSV: no header line");
        }
        List<String> head = splitCsvLine(lines[0]);
        List<List<String>> rows = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            List<String> cells = splitCsvLine(lines[i]);
            if (cells.size() != head.size()) {
                throw new IllegalArgumentException("CSV line " + (i + 1) + ": " + cells.size()
                        + " cells for " + head.size() + " columns");
            }
            rows.add(cells);
        }
        boolean textFirst = false;
        for (List<String> r : rows) {
            if (!isNumber(r.get(0))) {
                textFirst = true;
                break;
            }
        }
        int first = textFirst ? 1 : 0;
        String[] headings = head.subList(first, head.size()).toArray(new String[0]);
        double[][] cols = new double[headings.length][rows.size()];
        String[] text = textFirst ? new String[rows.size()] : null;
        for (int r = 0; r < rows.size(); r++) {
            List<String> cells = rows.get(r);
            if (textFirst) {
                text[r] = cells.get(0);
            }
            for (int c = 0; c < headings.length; c++) {
                String cell = cells.get(c + first);
                if (!isNumber(cell)) {
                    throw new IllegalArgumentException("CSV line " + (r + 2) + ", column " + headings[c]
                            + ": not a number: " + cell);
                }
                cols[c][r] = number(cell);
            }
        }
        return new Table(headings, cols, textFirst ? head.get(0) : null, text);
    }

    private static boolean isNumber(String cell) {
        String s = cell.trim();
        if (s.isEmpty() || s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")
                || s.equalsIgnoreCase("nan")) {
            return true;
        }
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static double number(String cell) {
        String s = cell.trim();
        if (s.isEmpty() || s.equalsIgnoreCase("nan")) {
            return Double.NaN;
        }
        if (s.equalsIgnoreCase("true")) {
            return 1.0;
        }
        if (s.equalsIgnoreCase("false")) {
            return 0.0;
        }
        return Double.parseDouble(s);
    }

    static List<String> splitCsvLine(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cur.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        out.add(cur.toString());
        return out;
    }

    // ------------------------------------------------------------------ ImageJ

    /**
     * An ImageJ ResultsTable with the same headings and full-precision values. The particle
     * number stays a numeric column "Label" (ImageJ's own Label column holds text, here the
     * text column when there is one, e.g. the file name).
     */
    public ResultsTable toResultsTable() {
        ResultsTable rt = new ResultsTable(rows());
        for (int r = 0; r < rows(); r++) {
            if (text != null) {
                rt.setLabel(text[r], r);
            }
            for (int c = 0; c < headings.length; c++) {
                rt.setValue(headings[c], r, columns[c][r]);
            }
        }
        rt.showRowNumbers(false);
        for (int c = 0; c < headings.length; c++) {
            String h = headings[c];
            int col = rt.getColumnIndex(h);
            if (col >= 0) {
                boolean integral = "Label".equals(h) || "Border".equals(h);
                rt.setDecimalPlaces(col, integral ? 0 : 3);
            }
        }
        return rt;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Table(%d rows: %s)", rows(), String.join(", ", headings));
    }
}
