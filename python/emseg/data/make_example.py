"""Regenerate the bundled example (run: python -m emseg.data.make_example)."""

from pathlib import Path

from emseg.io import write_image, write_labels
from emseg.synthetic import particle_labels, render_micrograph

PIXEL_SIZE_NM = 2.5


def make(folder=Path(__file__).parent):
    labels = particle_labels((512, 512), 160, radius=(7, 16), seed=2021)
    image = render_micrograph(labels, seed=2021)
    write_labels(folder / "example_labels.tif", labels, PIXEL_SIZE_NM)
    write_image(folder / "example_image.tif", image, PIXEL_SIZE_NM)
    return labels, image


if __name__ == "__main__":
    make()
