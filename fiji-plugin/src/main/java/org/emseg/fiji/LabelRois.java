package org.emseg.fiji;

import ij.gui.Roi;
import ij.plugin.filter.ThresholdToSelection;
import ij.process.ByteProcessor;
import ij.process.ImageProcessor;

import java.awt.Rectangle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Label images to ImageJ selections, and binary masks to labels, without a display. */
public final class LabelRois {

    private LabelRois() {
    }

    /**
     * One traced selection per label (ImageJ's exact pixel outline, holes included), named by
     * its label and ordered by label. Each label is traced in its bounding box only.
     */
    public static Map<Integer, Roi> fromLabels(int[] labels, int width, int height) {
        if (labels == null || labels.length != width * height) {
            throw new IllegalArgumentException("labels: need " + width + "x" + height + " values");
        }
        TreeMap<Integer, int[]> boxes = new TreeMap<>();  // label -> x0, y0, x1, y1
        for (int y = 0, i = 0; y < height; y++) {
            for (int x = 0; x < width; x++, i++) {
                int v = labels[i];
                if (v < 0) {
                    throw new IllegalArgumentException("labels: negative value " + v + " at (" + x + ", " + y + ")");
                }
                if (v == 0) {
                    continue;
                }
                int[] b = boxes.get(v);
                if (b == null) {
                    boxes.put(v, new int[]{x, y, x, y});
                } else {
                    b[0] = Math.min(b[0], x);
                    b[1] = Math.min(b[1], y);
                    b[2] = Math.max(b[2], x);
                    b[3] = Math.max(b[3], y);
                }
            }
        }
        Map<Integer, Roi> out = new LinkedHashMap<>();
        ThresholdToSelection tts = new ThresholdToSelection();
        for (Map.Entry<Integer, int[]> e : boxes.entrySet()) {
            int v = e.getKey();
            int[] b = e.getValue();
            int w = b[2] - b[0] + 1;
            int h = b[3] - b[1] + 1;
            byte[] mask = new byte[w * h];
            for (int y = 0; y < h; y++) {
                int row = (y + b[1]) * width + b[0];
                for (int x = 0; x < w; x++) {
                    if (labels[row + x] == v) {
                        mask[y * w + x] = (byte) 255;
                    }
                }
            }
            ByteProcessor bp = new ByteProcessor(w, h, mask, null);
            bp.setThreshold(255, 255, ImageProcessor.NO_LUT_UPDATE);
            Roi roi = tts.convert(bp);
            Rectangle r = roi.getBounds();
            roi.setLocation(r.x + b[0], r.y + b[1]);
            roi.setName(Integer.toString(v));
            out.put(v, roi);
        }
        return out;
    }

    /**
     * True for a binary mask rather than labels: the only non-zero value is 1, 255 or 65535
     * (emseg's rule for 16-bit data, so both sides split the same images into components).
     */
    public static boolean isBinary(int[] values) {
        int fg = 0;
        for (int v : values) {
            if (v != 0) {
                if (fg != 0 && v != fg) {
                    return false;
                }
                fg = v;
            }
        }
        return fg == 1 || fg == 255 || fg == 65535;
    }

    /**
     * Connected components of the non-zero pixels, numbered 1, 2, ... in raster order of their
     * first pixel (as scipy.ndimage.label and skimage.measure.label number them).
     *
     * @param connectivity 4 or 8
     */
    public static int[] components(int[] mask, int width, int height, int connectivity) {
        if (connectivity != 4 && connectivity != 8) {
            throw new IllegalArgumentException("connectivity must be 4 or 8, got " + connectivity);
        }
        if (mask == null || mask.length != width * height) {
            throw new IllegalArgumentException("mask: need " + width + "x" + height + " values");
        }
        int[] out = new int[mask.length];
        int[] stack = new int[mask.length];
        int next = 0;
        for (int start = 0; start < mask.length; start++) {
            if (mask[start] == 0 || out[start] != 0) {
                continue;
            }
            out[start] = ++next;
            int top = 0;
            stack[top++] = start;
            while (top > 0) {
                int p = stack[--top];
                int px = p % width;
                int py = p / width;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        if ((dx == 0 && dy == 0) || (connectivity == 4 && dx != 0 && dy != 0)) {
                            continue;
                        }
                        int x = px + dx;
                        int y = py + dy;
                        if (x < 0 || y < 0 || x >= width || y >= height) {
                            continue;
                        }
                        int q = y * width + x;
                        if (mask[q] != 0 && out[q] == 0) {
                            out[q] = next;
                            stack[top++] = q;
                        }
                    }
                }
            }
        }
        return out;
    }
}
