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
     * Segments the vesicles of a volume (a tomogram opened as a stack) with a volume model: the
     * volume pipeline of {@code emseg segment} on a tomogram, with the sphere refinement unless
     * the options say otherwise.
     *
     * @param volume   grey-level stack with its voxel size in nm (all three sizes needed)
     * @param options  volume model, threshold, refinement
     * @param progress receives the block and refinement progress; never null
     */
    VolumeSegmentation segmentVolume(VolumeData volume, SegmentOptions options, Progress progress)
            throws BackendException;

    /**
     * Reads any file EMSeg reads as ImageJ holds it, with the calibration EMSeg finds in it: an
     * MRC/REC tomogram or TIFF stack as a stack with its voxel size (plain ImageJ has no MRC
     * reader), a 2D image (Gatan DM3/DM4, TIA SER, Velox/Berkeley EMD, MRC, TIFF with Zeiss/FEI
     * metadata, ...) as one slice.
     *
     * @param path the file
     * @return its planes (8-bit, 16-bit or 32-bit) with the voxel size in nm found in the file
     *         (all 0 when none; a 2D image's depth is its pixel width), titled by the file name,
     *         {@code sourcePath} the file
     */
    VolumeData openVolume(String path, Progress progress) throws BackendException;
}
