"""Regenerate the bundled examples (run: python -m emseg.data.make_example)."""

from pathlib import Path

import numpy as np

from emseg.io import write_image, write_labels
from emseg.synthetic import particle_labels, render_micrograph, sem_agglomerates

PIXEL_SIZE_NM = 2.5
SAMPLE_PIXEL_SIZE_NM = 7.5
SAMPLE_BAR_ROWS = 48


def make(folder=Path(__file__).parent):
    """The measurement example: ``example_labels.tif`` and ``example_image.tif``."""
    labels = particle_labels((512, 512), 160, radius=(7, 16), seed=2021)
    image = render_micrograph(labels, seed=2021)
    write_labels(folder / "example_labels.tif", labels, PIXEL_SIZE_NM)
    write_image(folder / "example_image.tif", image, PIXEL_SIZE_NM)
    return labels, image


def _data_bar(cols, rows, pixel_size):
    """A microscope-style info panel: black, white text-like marks, a 500 nm scale bar."""
    bar = np.zeros((rows, cols), np.uint8)
    rng = np.random.default_rng(7)
    for r0 in (10, 28):                      # two lines of "text"
        c = 12
        while c < cols - 200:
            w = int(rng.integers(3, 9))
            bar[r0:r0 + 10, c:c + w] = 255 if rng.random() < 0.7 else 0
            c += w + int(rng.integers(2, 12))
    length = int(round(500 / pixel_size))   # scale bar
    bar[20:24, cols - 40 - length:cols - 40] = 255
    return bar


def make_sample(folder=Path(__file__).parent):
    """The segmentation sample: ``sample_sem.tif`` (with a data bar) and its labels."""
    s = sem_agglomerates((640 - SAMPLE_BAR_ROWS, 768), pixel_size=SAMPLE_PIXEL_SIZE_NM,
                         diameter_nm=(170, 380), coverage=0.3, clustering=0.8, seed=31)
    image = np.vstack([s.image, _data_bar(768, SAMPLE_BAR_ROWS, SAMPLE_PIXEL_SIZE_NM)])
    labels = np.vstack([s.labels, np.zeros((SAMPLE_BAR_ROWS, 768), s.labels.dtype)])
    write_image(folder / "sample_sem.tif", image, SAMPLE_PIXEL_SIZE_NM)
    write_labels(folder / "sample_sem_labels.tif", labels.astype(np.uint16), SAMPLE_PIXEL_SIZE_NM)
    return image, labels


if __name__ == "__main__":
    make()
    make_sample()
