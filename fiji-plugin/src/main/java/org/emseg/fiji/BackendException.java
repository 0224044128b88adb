package org.emseg.fiji;

/** The backend refused the input or failed; the message is meant for the user, on one line. */
public class BackendException extends Exception {
    private static final long serialVersionUID = 1L;

    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
