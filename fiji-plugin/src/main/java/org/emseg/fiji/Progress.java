package org.emseg.fiji;

/** Receives progress from a backend (tiles predicted, files done). */
public interface Progress {

    /** {@code done} of {@code total} steps finished; {@code message} may be empty. */
    void update(int done, int total, String message);

    /** A progress that ignores everything. */
    Progress NONE = new Progress() {
        @Override
        public void update(int done, int total, String message) {
        }
    };
}
