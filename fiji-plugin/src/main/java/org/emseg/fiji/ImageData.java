package org.emseg.fiji;

import ij.ImagePlus;
import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;

/**
 * One 2D grey-level plane with its pixel size in nanometres, as it crosses to the backend.
 *
 * <p>Pixels stay in ImageJ's own arrays ({@code byte[]}, {@code short[]} or {@code float[]},
 * row by row), so the in-process backend reads them without a copy through JPype and the
 * command-line backend writes them unchanged to a TIFF: both see the same numbers.</p>
 */
public final class ImageData {
    public final String title;
    public final int width;
    public final int height;
    /** {@code byte[]} (unsigned 8-bit), {@code short[]} (unsigned 16-bit) or {@code float[]}. */
    public final Object pixels;
    /** Pixel width and height in nm; 0 when unknown. */
    public final double pixelWidth;
    public final double pixelHeight;
    /**
     * The file the image was opened from, or null. When ImageJ found no calibration in it
     * (Zeiss SEM tag 34118, FEI/Thermo Fisher metadata, DM3/DM4, ... are not ImageJ's), the
     * backend reads the pixel size from this file with EMSeg's own reader.
     */
    public final String sourcePath;

    public ImageData(String title, int width, int height, Object pixels, double pixelWidth,
                     double pixelHeight) {
        this(title, width, height, pixels, pixelWidth, pixelHeight, null);
    }

    public ImageData(String title, int width, int height, Object pixels, double pixelWidth,
                     double pixelHeight, String sourcePath) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("image: size must be at least 1x1, got " + width + "x" + height);
        }
        int n = length(pixels);
        if (n != width * height) {
            throw new IllegalArgumentException("pixels: " + n + " values for a " + width + "x" + height + " image");
        }
        if (!(pixelWidth >= 0) || !(pixelHeight >= 0) || Double.isInfinite(pixelWidth)
                || Double.isInfinite(pixelHeight) || (pixelWidth == 0) != (pixelHeight == 0)) {
            throw new IllegalArgumentException("pixel size: width and height must both be > 0 nm (or both 0), got "
                    + pixelWidth + " x " + pixelHeight);
        }
        this.title = title == null ? "image" : title;
        this.width = width;
        this.height = height;
        this.pixels = pixels;
        this.pixelWidth = pixelWidth;
        this.pixelHeight = pixelHeight;
        this.sourcePath = sourcePath;
    }

    private static int length(Object pixels) {
        if (pixels instanceof byte[]) {
            return ((byte[]) pixels).length;
        }
        if (pixels instanceof short[]) {
            return ((short[]) pixels).length;
        }
        if (pixels instanceof float[]) {
            return ((float[]) pixels).length;
        }
        throw new IllegalArgumentException("pixels must be byte[], short[] or float[], got "
                + (pixels == null ? "null" : pixels.getClass().getSimpleName()));
    }

    /** NumPy's name of the pixel type: "uint8", "uint16" or "float32". */
    public String pixelType() {
        return pixelType(pixels);
    }

    /** NumPy's name of an ImageJ pixel array's type (byte[], short[] or float[]). */
    static String pixelType(Object pixels) {
        return pixels instanceof byte[] ? "uint8" : pixels instanceof short[] ? "uint16" : "float32";
    }

    /** Refuses RGB images: the backend needs grey levels. */
    static void requireGrey(ImagePlus imp) {
        if (imp.getType() == ImagePlus.COLOR_RGB || imp.getType() == ImagePlus.COLOR_256) {
            throw new IllegalArgumentException(imp.getTitle() + ": RGB image; convert it to grey levels first "
                    + "(Image > Type > 8-bit)");
        }
    }

    /** Whether the pixel size is known. */
    public boolean isCalibrated() {
        return pixelWidth > 0;
    }

    /** This plane with another pixel size (nm; 0 = unknown). */
    public ImageData withPixelSize(double pw, double ph) {
        return new ImageData(title, width, height, pixels, pw, ph, sourcePath);
    }

    /** This plane remembering the file it came from (null: none). */
    public ImageData withSourcePath(String path) {
        return new ImageData(title, width, height, pixels, pixelWidth, pixelHeight, path);
    }

    /** The file an image was opened from, when it still exists there; else null. */
    static String sourcePathOf(ImagePlus imp) {
        ij.io.FileInfo fi = imp.getOriginalFileInfo();
        if (fi == null || fi.fileName == null || fi.directory == null || fi.directory.isEmpty()) {
            return null;
        }
        java.io.File f = new java.io.File(fi.directory, fi.fileName);
        return f.isFile() ? f.getAbsolutePath() : null;
    }

    /**
     * The current plane of an image, with its calibration converted to nm.
     *
     * @throws IllegalArgumentException for RGB images (the backend needs grey levels)
     */
    public static ImageData of(ImagePlus imp) {
        if (imp == null) {
            throw new IllegalArgumentException("image: no image");
        }
        requireGrey(imp);
        ImageProcessor ip = imp.getProcessor();
        Calibration cal = imp.getCalibration();
        String unit = cal.getUnit();
        double pw = Units.toNm(cal.pixelWidth, unit);
        double ph = Units.toNm(cal.pixelHeight, cal.getYUnit());
        if (pw == 0 || ph == 0) {
            pw = 0;
            ph = 0;
        }
        return new ImageData(imp.getTitle(), ip.getWidth(), ip.getHeight(), ip.getPixels(), pw, ph,
                sourcePathOf(imp));
    }

    /** An ImagePlus sharing these pixels, calibrated in nm when the pixel size is known. */
    public ImagePlus toImagePlus() {
        ImageProcessor ip;
        if (pixels instanceof byte[]) {
            ip = new ByteProcessor(width, height, (byte[]) pixels, null);
        } else if (pixels instanceof short[]) {
            ip = new ShortProcessor(width, height, (short[]) pixels, null);
        } else {
            ip = new FloatProcessor(width, height, (float[]) pixels, null);
        }
        ImagePlus imp = new ImagePlus(title, ip);
        if (isCalibrated()) {
            imp.setCalibration(nmCalibration(pixelWidth, pixelHeight));
        }
        return imp;
    }

    /** A calibration in nm. */
    public static Calibration nmCalibration(double pw, double ph) {
        Calibration cal = new Calibration();
        cal.pixelWidth = pw;
        cal.pixelHeight = ph;
        cal.setUnit("nm");
        return cal;
    }
}
