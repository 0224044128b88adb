"""emseg.synthetic and the bundled example built from it."""

import numpy as np
import pytest
from skimage.measure import label

from emseg.batch import example_files
from emseg.io import read_image
from emseg.synthetic import particle_labels, render_micrograph


def test_particles_are_single_consecutive_pieces():
    lab = particle_labels((200, 200), 120, radius=(4, 12), seed=5)
    values = np.unique(lab[lab > 0])
    np.testing.assert_array_equal(values, np.arange(1, values.size + 1))
    assert 80 < values.size <= 120
    pieces = label(lab, connectivity=2, background=0)
    assert pieces.max() == values.size
    # Touching particles exist (agglomerates), so a binary mask merges some.
    assert label(lab > 0, connectivity=2).max() < values.size


def test_deterministic_and_validated():
    a = particle_labels((50, 60), 10, seed=1)
    np.testing.assert_array_equal(a, particle_labels((50, 60), 10, seed=1))
    assert a.shape == (50, 60)
    with pytest.raises(ValueError, match="radius"):
        particle_labels((10, 10), 3, radius=(5, 2))
    with pytest.raises(ValueError, match="shape"):
        particle_labels((10,), 3)
    with pytest.raises(ValueError, match="n_particles"):
        particle_labels((10, 10), -1)


def test_micrograph_is_brighter_on_particles():
    lab = particle_labels((80, 80), 20, seed=2)
    img = render_micrograph(lab, seed=2)
    assert img.dtype == np.uint8 and img.shape == lab.shape
    assert img[lab > 0].mean() > img[lab == 0].mean() + 50


def test_bundled_example_is_what_the_generator_makes(tmp_path):
    from emseg.data.make_example import PIXEL_SIZE_NM, make
    labels, image = make(tmp_path)
    lab_path, img_path = example_files()
    got_lab, size, _ = read_image(lab_path)
    got_img, isize, _ = read_image(img_path)
    np.testing.assert_array_equal(got_lab, labels)
    np.testing.assert_array_equal(got_img, image)
    assert size == isize == (PIXEL_SIZE_NM, PIXEL_SIZE_NM)
