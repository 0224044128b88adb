package org.emseg.fiji;

/**
 * The EMSeg Python backend as the menu commands see it.
 *
 * <p>Two implementations exist and are chosen by {@link Backends#get}: a Python object
 * registered through JPype when ImageJ was started from Python ({@code emseg imagej}, pyimagej),
 * and {@link CommandLineBackend}, which runs {@code python -m emseg} on temporary TIFF files.
 * Both must return identical results for the same input.</p>
 */
public interface Backend {

    /** One line naming the backend and where it runs, e.g. "command line: /usr/bin/python3". */
    String describe();

    /** Version of the emseg Python package behind this backend. */
    String version() throws BackendException;

    /**
     * Segments particles in a grey-level image with a trained model and measures them.
     *
     * @param image    grey-level image with its pixel size in nm
     * @param options  model, threshold and data-bar handling
     * @param progress receives the tile progress; never null
     */
    Segmentation segment(ImageData image, SegmentOptions options, Progress progress)
            throws BackendException;

    /**
     * Measures the particles of a label image (or binary mask) as ImageJ's Analyze Particles does.
     *
     * @param labels       label image or binary mask with its pixel size in nm (0 = pixels)
     * @param intensity    grey-level image of the same size for Mean, StdDev, ...; may be null
     * @param connectivity 4 or 8: how a binary mask splits into particles
     */
    Table measure(ImageData labels, ImageData intensity, int connectivity, Progress progress)
            throws BackendException;

    /**
     * Keeps the particles fit for size statistics: scores every particle of a segmentation with a
     * classifier network (unless the options say "none") and applies the rule filters.
     *
     * @param image    grey-level image the labels outline, with its pixel size in nm
     * @param labels   label image or binary mask (8-connected particles) of the same size
     * @param options  classifier, minimum score, border exclusion, ranges
     * @return every particle's measurements with the columns Score (NaN without classifier) and
     *         Kept (1 kept, 0 discarded)
     */
    Table classify(ImageData image, ImageData labels, ClassifyOptions options, Progress progress)
            throws BackendException;

    /**
     * Reads an image file ImageJ cannot open or calibrate itself (Gatan DM3/DM4, TIA SER, Velox
     * and Berkeley EMD, MRC, TIFF with Zeiss/FEI metadata, ...) with EMSeg's reader.
     *
     * @param path the file
     * @return its 2D grey-level image (8-bit, 16-bit or 32-bit) with the pixel size in nm found in
     *         the file (0 when none), titled by the file name, {@code sourcePath} the file
     */
    ImageData open(String path, Progress progress) throws BackendException;
}
