package org.emseg.fiji;

import ij.IJ;

/** Backend progress shown in ImageJ's status bar and progress bar. */
public final class IJProgress implements Progress {
    private final String prefix;

    public IJProgress(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public void update(int done, int total, String message) {
        IJ.showProgress(done, total);
        IJ.showStatus(prefix + (message == null || message.isEmpty() ? "" : ": " + message)
                + " (" + done + "/" + total + ")");
    }
}
