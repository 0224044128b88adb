package org.emseg.fiji;

/** Options of one segmentation call (a plain value object, checked on construction). */
public final class SegmentOptions {
    /** Installed model name or model folder. */
    public final String model;
    /** Probability threshold in (0, 1), or NaN for the model's tuned value. */
    public final double threshold;
    /** Keep the microscope's data bar instead of detecting and excluding it. */
    public final boolean keepDatabar;
    /** Extra folder searched for models (EMSeg Options...), or null. */
    public final String modelsDir;
    /** Volumes: refine every vesicle to a sphere (CryoVesNet's radial profiles); false keeps the segments. */
    public final boolean refine;

    public SegmentOptions(String model, double threshold, boolean keepDatabar, String modelsDir) {
        this(model, threshold, keepDatabar, modelsDir, true);
    }

    public SegmentOptions(String model, double threshold, boolean keepDatabar, String modelsDir,
                          boolean refine) {
        if (model == null || model.trim().isEmpty()) {
            throw new IllegalArgumentException("model: give an installed model name or a model folder");
        }
        if (!Double.isNaN(threshold) && !(threshold > 0 && threshold < 1)) {
            throw new IllegalArgumentException("threshold must be in (0, 1) (or 0 for the model's value), got "
                    + threshold);
        }
        this.model = model.trim();
        this.threshold = threshold;
        this.keepDatabar = keepDatabar;
        this.modelsDir = modelsDir == null || modelsDir.trim().isEmpty() ? null : modelsDir.trim();
        this.refine = refine;
    }
}
