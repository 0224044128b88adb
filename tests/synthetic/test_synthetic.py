"""emseg.synthetic and the bundled example built from it."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.measure import label

from emseg.workflows import example_files
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


# ------------------------------------------------------------ SEM / TEM generators

from emseg.synthetic import perlin_noise, sem_agglomerates, tem_vesicles  # noqa: E402


def test_perlin_noise_is_smooth_bounded_and_seeded():
    n = perlin_noise((128, 160), 32, octaves=2, seed=3)
    assert n.shape == (128, 160) and n.dtype == np.float32
    assert -1.01 <= n.min() < 0 < n.max() <= 1.01
    assert np.abs(np.diff(n, axis=1)).max() < 0.2          # smooth at the 32-px scale
    np.testing.assert_array_equal(n, perlin_noise((128, 160), 32, octaves=2, seed=3))
    assert not np.array_equal(n, perlin_noise((128, 160), 32, octaves=2, seed=4))
    with pytest.raises(ValueError, match="octaves"):
        perlin_noise((8, 8), 4, octaves=0)


def test_sem_agglomerates_exact_labels():
    s = sem_agglomerates((256, 300), pixel_size=8.0, coverage=0.3, clustering=0.9, seed=5)
    assert s.image.shape == s.labels.shape == (256, 300) and s.image.dtype == np.uint8
    assert s.pixel_size == 8.0
    values = np.unique(s.labels[s.labels > 0])
    np.testing.assert_array_equal(values, np.arange(1, values.size + 1))
    assert label(s.labels, connectivity=2, background=0).max() >= values.size   # one piece each
    assert 0.1 < (s.labels > 0).mean() < 0.6
    # particles are brighter than the background, their rims brighter still
    assert s.image[s.labels > 0].mean() > s.image[s.labels == 0].mean() + 50
    # agglomerates: many particles touch another one
    from scipy import ndimage as ndi
    grown = ndi.grey_dilation(s.labels, size=3)
    touching = np.unique(s.labels[(grown != s.labels) & (s.labels > 0) & (grown > 0)])
    assert touching.size > 0.3 * values.size
    # diameters follow diameter_nm
    from emseg.measure import measure
    t = measure(s.labels, pixel_size=8.0)
    assert 60 < t["Feret"].median() < 400
    np.testing.assert_array_equal(s.image, sem_agglomerates((256, 300), pixel_size=8.0, coverage=0.3,
                                                            clustering=0.9, seed=5).image)
    with pytest.raises(ValueError, match="coverage"):
        sem_agglomerates((64, 64), coverage=1.5)
    with pytest.raises(ValueError, match="pixel_size"):
        sem_agglomerates((64, 64), pixel_size=0)
    with pytest.raises(ValueError, match="diameter_nm"):
        sem_agglomerates((64, 64), diameter_nm=(50, 10))


def test_tem_vesicles_16_bit_with_exact_labels_and_both_contrasts():
    from skimage.segmentation import find_boundaries
    kw = dict(pixel_size=1.5, n_vesicles=14, cluster_fraction=0.0, debris=0.0, seed=2)
    dark = tem_vesicles((320, 320), contrast="dark", background="smooth", **kw)
    light = tem_vesicles((320, 320), contrast="light", background="smooth", **kw)
    assert dark.image.dtype == np.uint16 and dark.image.max() > 1000
    # the contrast changes the looks, not the layout
    np.testing.assert_array_equal(dark.labels, light.labels)
    values = np.unique(dark.labels[dark.labels > 0])
    assert values.size >= 5
    np.testing.assert_array_equal(values, np.arange(1, values.size + 1))
    lab = dark.labels
    far = ~ndi.binary_dilation(lab > 0, iterations=25)         # the stain, away from halos
    depth = ndi.distance_transform_edt(lab > 0)
    deepest = ndi.maximum(depth, lab, index=np.arange(lab.max() + 1))
    core = (lab > 0) & (depth > 0.6 * deepest[lab])             # the middle of each vesicle
    bg = np.median(dark.image[far]), np.median(light.image[far])
    # stain pooled in the cups: interiors darker than the surroundings; or lighter
    assert np.median(dark.image[core]) < bg[0] and np.median(light.image[core]) > 1.3 * bg[1]
    # the membrane: a bright line just inside the outline
    edge = find_boundaries(lab, mode="inner") & (lab > 0)
    assert np.median(light.image[edge]) > bg[1]
    # every vesicle is a round blob of about the drawn size, in nm at any magnification
    from emseg.measure import measure
    table = measure(lab, pixel_size=1.5)
    inner = ~table.Border.to_numpy(bool)
    assert table.loc[inner, "Circ."].min() > 0.8
    assert table.loc[inner, "ECD"].between(25, 210).all()


def test_tem_vesicles_clusters_touch_and_debris_stays_unlabelled():
    clustered = tem_vesicles((400, 400), pixel_size=1.2, n_vesicles=25, cluster_fraction=0.8,
                             debris=0.0, seed=4)
    lab = clustered.labels
    # touching vesicles: neighbouring labels share an edge
    right = (lab[:, 1:] != lab[:, :-1]) & (lab[:, 1:] > 0) & (lab[:, :-1] > 0)
    down = (lab[1:] != lab[:-1]) & (lab[1:] > 0) & (lab[:-1] > 0)
    assert right.sum() + down.sum() > 20
    messy = tem_vesicles((400, 400), pixel_size=1.2, n_vesicles=25, cluster_fraction=0.8,
                         debris=5.0, seed=4)
    np.testing.assert_array_equal(messy.labels, lab)           # debris is never labelled ...
    # ... and there is debris: dense precipitate grains, far darker than the stain around
    outside = ~ndi.binary_dilation(lab > 0, iterations=10)

    def dark_fraction(img):
        img = img.astype(float) / np.median(img[outside])
        return (img[outside] < 0.4).mean()
    assert dark_fraction(messy.image) > 0.002 and dark_fraction(clustered.image) < 0.0005


def test_tem_vesicles_check_their_arguments():
    for kw, name in [({"contrast": "grey"}, "contrast"), ({"background": "noisy"}, "background"),
                     ({"cluster_fraction": 2}, "cluster_fraction"), ({"debris": -1}, "debris"),
                     ({"pixel_size": 100}, "pixel_size"), ({"counts": 0}, "counts"),
                     ({"illumination": 1.5}, "illumination"), ({"n_vesicles": -2}, "n_vesicles"),
                     ({"diameter_nm": (50, 10)}, "diameter_nm")]:
        with pytest.raises(ValueError, match=name):
            tem_vesicles((64, 64), **kw)


def test_bundled_sem_sample_is_what_the_generator_makes(tmp_path):
    from emseg.workflows import sample_files
    from emseg.data.make_example import SAMPLE_PIXEL_SIZE_NM, make_sample
    image, labels = make_sample(tmp_path)
    img_path, lab_path = sample_files()
    got, size, _ = read_image(img_path)
    np.testing.assert_array_equal(got, image)
    np.testing.assert_array_equal(read_image(lab_path)[0], labels)
    assert size == (SAMPLE_PIXEL_SIZE_NM, SAMPLE_PIXEL_SIZE_NM)


def test_sem_agglomerates_knows_which_particles_are_whole():
    from emseg.synthetic import sem_agglomerates
    s = sem_agglomerates((160, 160), pixel_size=8.0, diameter_nm=(120.0, 240.0), coverage=0.4, seed=5)
    n = s.labels.max()
    assert s.visible_fraction.shape == (n + 1,) and s.cut_by_border.shape == (n + 1,)
    assert np.all((s.visible_fraction[1:] > 0) & (s.visible_fraction[1:] <= 1))
    edge = np.unique(np.concatenate([s.labels[0], s.labels[-1], s.labels[:, 0], s.labels[:, -1]]))
    edge = edge[edge > 0]
    # cut particles reach the image edge and are not wholly visible (a particle may also
    # just end on the edge pixel and be whole)
    cut = np.flatnonzero(s.cut_by_border)
    assert cut.size and set(cut) <= set(edge) and (s.visible_fraction[cut] < 1).all()
    assert s.cut_by_border[edge].mean() > 0.5
    whole = np.flatnonzero(s.visible_fraction == 1)
    assert whole.size and not s.cut_by_border[whole].any()
    assert (s.visible_fraction[1:] < 0.9).any()          # agglomerates hide some particles


def test_segmentation_errors_merge_split_and_shift():
    from emseg.synthetic import segmentation_errors
    lab = np.zeros((30, 40), np.int32)
    lab[5:15, 5:15] = 1
    lab[5:15, 15:25] = 2         # touches 1
    lab[20:28, 28:38] = 3
    merged, origin, wrong = segmentation_errors(lab, merge=1.0, split=0.0, outline=(0,), seed=0)
    assert merged.max() == 2 and wrong.tolist() == [False, True, False]
    assert origin.tolist() == [0, 1, 3] and (merged[lab == 2] == 1).all()
    split, origin, wrong = segmentation_errors(lab, merge=0.0, split=1.0, outline=(0,), seed=0)
    assert split.max() == 6 and wrong[1:].all()
    assert sorted(origin[1:].tolist()) == [1, 1, 2, 2, 3, 3]
    grown, _, wrong = segmentation_errors(lab, merge=0.0, split=0.0, outline=(1,), seed=0)
    assert not wrong.any() and (grown > 0).sum() > (lab > 0).sum()
    peeled, _, _ = segmentation_errors(lab, merge=0.0, split=0.0, outline=(-1,), seed=0)
    assert (peeled > 0).sum() < (lab > 0).sum() and peeled.max() == 3
    for bad in ({"merge": 2.0}, {"split": -0.1}, {"outline": (3,)}, {"outline": ()}):
        with pytest.raises(ValueError):
            segmentation_errors(lab, **bad)


def test_sem_classifier_example_classes_follow_instances():
    from emseg.synthetic import FITNESS_CLASSES, sem_classifier_example
    ex = sem_classifier_example((192, 192), pixel_size=8.0, diameter_nm=(120.0, 260.0),
                                coverage=0.4, merge=0.3, split=0.2, seed=3)
    assert ex.classes.shape == ex.labels.shape == ex.image.shape
    assert ((ex.classes > 0) == (ex.labels > 0)).all()
    found = set()
    for k in range(1, ex.labels.max() + 1):
        values = np.unique(ex.classes[ex.labels == k])
        assert values.size == 1                 # one verdict per instance
        found.add(int(values[0]))
    assert found == set(range(1, len(FITNESS_CLASSES) + 1))
    assert (ex.keep == (ex.classes == 1)).all()
    again = sem_classifier_example((192, 192), pixel_size=8.0, diameter_nm=(120.0, 260.0),
                                   coverage=0.4, merge=0.3, split=0.2, seed=3)
    assert (again.labels == ex.labels).all() and (again.image == ex.image).all()
    with pytest.raises(ValueError, match="min_visible"):
        sem_classifier_example((64, 64), min_visible=0)


def test_organelle_classes_are_exact_rings_and_cores():
    from emseg.synthetic import ORGANELLE_CLASSES, organelle_classes

    image, classes = organelle_classes((96, 80), n=4, membrane=3, noise=0.0, seed=5)
    assert image.shape == classes.shape == (96, 80) and classes.dtype == np.uint8
    assert set(np.unique(classes)) == {0, 1, 2} and len(ORGANELLE_CLASSES) == 3
    # every class has its own grey value (no noise), and every organelle lies in a membrane
    for c, grey in enumerate((0.5, 0.1, 0.8)):
        assert np.allclose(image[classes == c], grey)
    from scipy import ndimage as ndi
    core = classes == 2
    assert not (ndi.binary_dilation(core) & (classes == 0)).any()
    with pytest.raises(ValueError, match="membrane < radius"):
        organelle_classes(membrane=8)
