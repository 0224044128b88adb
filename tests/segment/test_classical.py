"""emseg.classical: the baseline on a synthetic micrograph and on real SEM images."""

import numpy as np
import pytest

from emseg import metrics as M
from emseg.segment import segment_classical


def test_synthetic_micrograph_is_segmented():
    from emseg.synthetic import particle_labels, render_micrograph

    truth = particle_labels((256, 256), 25, radius=(9.0, 13.0), seed=4)
    image = render_micrograph(truth, seed=4)
    labels, score, thr = segment_classical(image, 2.5, sigma_nm=2.5, neck_nm=2.5)
    assert labels.dtype == np.int32 and score.dtype == np.float32
    assert score.min() == 0 and score.max() == 1 and 0 < thr < 1
    assert M.pixel_scores(labels, truth)["IoU"] > 0.8
    assert M.youden_index(score, truth)[0] > 0.8
    assert M.match_instances(labels, truth).f1 > 0.5


def test_dark_particles_and_fixed_threshold():
    image = np.full((60, 60), 200, np.uint8)
    image[20:40, 20:40] = 40
    labels, score, thr = segment_classical(image, 1.0, sigma_nm=1, bright=False, threshold=0.5,
                                           min_area_nm2=50)
    assert thr == 0.5 and labels.max() == 1
    assert abs(np.count_nonzero(labels) - 400) < 40
    # a flat image has nothing to find
    assert segment_classical(np.zeros((20, 20), np.uint8), 1.0)[0].max() == 0


def test_real_sem_images(bam_dir):
    from emseg.io import read_image

    path = sorted((bam_dir / "sem").glob("*.tif"))[5]
    image, size, _ = read_image(path)
    mask = read_image(bam_dir / "masks" / f"{path.stem}_m.tif")[0]
    truth = M.to_instances(mask[:704], connectivity=4)
    labels, score, _ = segment_classical(image[:704], size)
    # what the benchmark reports for the baseline, as a floor
    assert M.pixel_scores(labels, truth)["IoU"] > 0.7
    assert M.youden_index(score, truth)[0] > 0.8


@pytest.mark.parametrize("kwargs, match", [
    ({"pixel_size": 0}, "pixel_size"),
    ({"pixel_size": (1.0, 2.0)}, "square"),
    ({"pixel_size": 1.0, "sigma_nm": -1}, "sigma_nm"),
    ({"pixel_size": 1.0, "threshold": 2}, "threshold"),
])
def test_errors_name_the_argument(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        segment_classical(np.zeros((8, 8)), **kwargs)


def test_classical_vesicles_find_rings_in_a_synthetic_tomogram():
    from emseg.metrics import vesicle_scores
    from emseg.segment.classical import vesicles_classical
    from emseg.synthetic import synapse_tomogram

    tomo = synapse_tomogram((40, 96, 96), voxel_size=2.2, n_vesicles=20, snr=2.0, seed=5)
    labels = vesicles_classical(tomo.volume, 2.2)
    s = vesicle_scores(labels, tomo.labels, voxel_size=2.2)
    assert s["F1"] > 0.5                 # a baseline: most vesicles, not all
    assert labels.dtype == np.int32 and labels.max() == len(np.unique(labels)) - 1
    with pytest.raises(ValueError, match="diameter_nm"):
        vesicles_classical(tomo.volume, 2.2, diameter_nm=(50, 20))
    with pytest.raises(ValueError, match="volume must be 3D"):
        vesicles_classical(tomo.volume[0], 2.2)


def test_tem_classical_baseline_finds_clean_light_vesicles():
    from emseg.metrics import match_instances
    from emseg.segment import tem_vesicles_classical
    from emseg.synthetic import tem_vesicles
    t = tem_vesicles((600, 600), pixel_size=1.5, n_vesicles=18, contrast="light",
                     background="smooth", cluster_fraction=0.0, debris=0.0, seed=5)
    labels = tem_vesicles_classical(t.image, 1.5)
    m = match_instances(labels, t.labels)
    assert m.recall > 0.6 and m.precision > 0.8, (m.recall, m.precision)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(np.unique(labels[labels > 0]), np.arange(1, labels.max() + 1))
    with pytest.raises(ValueError, match="min_solidity"):
        tem_vesicles_classical(t.image, 1.5, min_solidity=2)
    with pytest.raises(ValueError, match="pixel_size"):
        tem_vesicles_classical(t.image, (1.5, 3.0))
