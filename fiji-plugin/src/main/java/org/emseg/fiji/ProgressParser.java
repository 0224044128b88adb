package org.emseg.fiji;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads progress out of the emseg command's stderr: tqdm bars such as
 * {@code "  a.tif:  40%|####      | 4/10 [00:02<00:03, 2.0tile/s]"}. Lines end at '\r' or '\n'.
 */
public final class ProgressParser {
    private static final Pattern COUNT = Pattern.compile("\\|\\s*(\\d+)/(\\d+)\\s*\\[");
    private static final Pattern PLAIN = Pattern.compile(":\\s*(\\d+)(?:it|tile|image|file)?/(\\d+)");
    private final StringBuilder line = new StringBuilder();
    private final Progress progress;
    private String lastMessage = "";
    private String lastError = "";

    public ProgressParser(Progress progress) {
        this.progress = progress == null ? Progress.NONE : progress;
    }

    /** Feeds characters; calls the progress for every complete line that holds a count. */
    public void feed(char ch) {
        if (ch == '\r' || ch == '\n') {
            flush();
        } else {
            line.append(ch);
        }
    }

    /** Ends the current line. */
    public void flush() {
        if (line.length() == 0) {
            return;
        }
        String text = line.toString();
        line.setLength(0);
        int[] count = parse(text);
        if (count != null) {
            progress.update(count[0], count[1], text.trim());
        } else if (!text.trim().isEmpty()) {
            lastMessage = text.trim();
            if (lastMessage.contains(": error: ")) {
                lastError = lastMessage;
            }
        }
    }

    /**
     * The message to show on failure: the last error line ({@code "emseg convert: error: ..."},
     * not the batch summary that follows it), else the last line that was not a progress bar.
     */
    public String lastMessage() {
        return lastError.isEmpty() ? lastMessage : lastError;
    }

    /** {@code {done, total}} of a tqdm line, or null. */
    public static int[] parse(String text) {
        Matcher m = COUNT.matcher(text);
        if (!m.find()) {
            m = PLAIN.matcher(text);
            if (!m.find()) {
                return null;
            }
        }
        try {
            int done = Integer.parseInt(m.group(1));
            int total = Integer.parseInt(m.group(2));
            return total > 0 && done <= total ? new int[]{done, total} : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
