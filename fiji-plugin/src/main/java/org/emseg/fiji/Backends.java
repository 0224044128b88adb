package org.emseg.fiji;

/** Chooses the backend: the registered in-process one when there is one, else the command line. */
public final class Backends {
    private static volatile Backend inProcess;

    private Backends() {
    }

    /** Registers the Python backend of this JVM (called from Python by emseg.imagej.fiji). */
    public static void register(Backend backend) {
        if (backend == null) {
            throw new IllegalArgumentException("backend: null");
        }
        inProcess = backend;
    }

    public static void unregister() {
        inProcess = null;
    }

    /** The registered in-process backend, or null. */
    public static Backend inProcess() {
        return inProcess;
    }

    /**
     * The backend {@code settings.backend} asks for: "auto" takes the in-process backend when one
     * is registered and the command line otherwise.
     *
     * @throws BackendException when "in-process" is asked for but ImageJ was not started from Python
     */
    public static Backend get(Settings settings) throws BackendException {
        Backend local = inProcess;
        switch (settings.backend) {
            case "in-process":
                if (local == null) {
                    throw new BackendException("no in-process backend: start ImageJ/Fiji with 'emseg imagej' "
                            + "or choose backend=command-line in EMSeg Options...");
                }
                return local;
            case "command-line":
                return new CommandLineBackend(settings);
            default:
                return local != null ? local : new CommandLineBackend(settings);
        }
    }
}
