package org.emseg.fiji;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;

/**
 * A grey-level volume (a tomogram, or any stack of equal planes) with its voxel size in nm, as it
 * crosses to the backend: one ImageJ pixel array per slice ({@code byte[]}, {@code short[]} or
 * {@code float[]}, all of one type), so neither side copies more than a plane at a time.
 */
public final class VolumeData {
    public final String title;
    public final int width;
    public final int height;
    public final int depth;
    /** One pixel array per slice, z order. */
    public final Object[] planes;
    /** Voxel width, height and depth in nm; all 0 when unknown. */
    public final double pixelWidth;
    public final double pixelHeight;
    public final double pixelDepth;
    /** The file the volume was opened from, or null. */
    public final String sourcePath;

    public VolumeData(String title, int width, int height, Object[] planes, double pixelWidth,
                      double pixelHeight, double pixelDepth, String sourcePath) {
        if (planes == null || planes.length < 1) {
            throw new IllegalArgumentException("planes: a volume needs at least one slice");
        }
        Class<?> type = null;
        for (int z = 0; z < planes.length; z++) {
            // ImageData checks each plane's type and length
            new ImageData(title, width, height, planes[z], 0, 0);
            if (type != null && planes[z].getClass() != type) {
                throw new IllegalArgumentException("planes: slice " + (z + 1) + " is "
                        + planes[z].getClass().getSimpleName() + ", slice 1 " + type.getSimpleName());
            }
            type = planes[z].getClass();
        }
        boolean none = pixelWidth == 0 && pixelHeight == 0 && pixelDepth == 0;
        if (!none && !(pixelWidth > 0 && pixelHeight > 0 && pixelDepth > 0 && !Double.isInfinite(pixelWidth)
                && !Double.isInfinite(pixelHeight) && !Double.isInfinite(pixelDepth))) {
            throw new IllegalArgumentException("voxel size: width, height and depth must all be > 0 nm (or all 0),"
                    + " got " + pixelWidth + " x " + pixelHeight + " x " + pixelDepth);
        }
        this.title = title == null ? "volume" : title;
        this.width = width;
        this.height = height;
        this.depth = planes.length;
        this.planes = planes;
        this.pixelWidth = pixelWidth;
        this.pixelHeight = pixelHeight;
        this.pixelDepth = pixelDepth;
        this.sourcePath = sourcePath;
    }

    /** NumPy's name of the voxel type: "uint8", "uint16" or "float32". */
    public String pixelType() {
        return ImageData.pixelType(planes[0]);
    }

    /** Whether the voxel size is known. */
    public boolean isCalibrated() {
        return pixelWidth > 0;
    }

    /** This volume with another voxel size (nm; all 0 = unknown). */
    public VolumeData withVoxelSize(double pw, double ph, double pd) {
        return new VolumeData(title, width, height, planes, pw, ph, pd, sourcePath);
    }

    /**
     * The stack of an image (every slice of its one channel and one time point), with its
     * calibration converted to nm.
     *
     * @throws IllegalArgumentException for RGB images and hyperstacks with several channels or frames
     */
    public static VolumeData of(ImagePlus imp) {
        if (imp == null) {
            throw new IllegalArgumentException("image: no image");
        }
        ImageData.requireGrey(imp);
        if (imp.getNChannels() > 1 || (imp.getNFrames() > 1 && imp.getNSlices() > 1)) {
            throw new IllegalArgumentException(imp.getTitle() + ": hyperstack with " + imp.getNChannels()
                    + " channel(s), " + imp.getNSlices() + " slices and " + imp.getNFrames()
                    + " frame(s); EMSeg needs one channel of a volume (Image > Duplicate... one of them)");
        }
        if (imp.getNFrames() > 1 && imp.getNSlices() == 1) {
            throw new IllegalArgumentException(imp.getTitle() + ": a time series of " + imp.getNFrames()
                    + " frames, not a volume (Image > Hyperstacks > Re-order Hyperstack... makes the frames "
                    + "slices if they are z)");
        }
        ImageStack stack = imp.getStack();
        Object[] planes = new Object[stack.getSize()];
        for (int z = 0; z < planes.length; z++) {
            planes[z] = stack.getPixels(z + 1);
        }
        Calibration cal = imp.getCalibration();
        double pw = Units.toNm(cal.pixelWidth, cal.getUnit());
        double ph = Units.toNm(cal.pixelHeight, cal.getYUnit());
        double pd = Units.toNm(cal.pixelDepth, cal.getZUnit());
        if (pw == 0 || ph == 0 || pd == 0) {
            pw = 0;
            ph = 0;
            pd = 0;
        }
        return new VolumeData(imp.getTitle(), imp.getWidth(), imp.getHeight(), planes, pw, ph, pd,
                ImageData.sourcePathOf(imp));
    }

    /** An ImagePlus stack sharing these planes, calibrated in nm when the voxel size is known. */
    public ImagePlus toImagePlus() {
        ImageStack stack = new ImageStack(width, height);
        for (Object p : planes) {
            stack.addSlice(null, p);
        }
        ImagePlus imp = new ImagePlus(title, stack);
        if (depth > 1) {
            imp.setDimensions(1, depth, 1);
        }
        if (isCalibrated()) {
            Calibration cal = ImageData.nmCalibration(pixelWidth, pixelHeight);
            cal.pixelDepth = pixelDepth;
            imp.setCalibration(cal);
        }
        if (!pixelType().equals("uint8")) {
            imp.resetDisplayRange();
        }
        return imp;
    }
}
