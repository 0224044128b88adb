"""emseg.segment.semantic: every pixel one class, objects of instance classes, area fractions,
with a NumPy stand-in for a softmax network whose answer is known."""

import numpy as np
import pytest

from emseg.segment import class_areas, class_objects, segment_classes
from emseg.segment.semantic import NO_CLASS

NAMES = ["background", "membrane", "organelle"]
META = {"task": "semantic", "output": {"classes": NAMES}, "pixel_size_nm": 4.0,
        "tile_size": 64, "halo": 8, "input": {"divisor": 16},
        "normalization": {"mode": "image", "low": 0, "high": 100},
        "postprocess": {"chain": "classes", "instance_classes": ["organelle"],
                        "min_area_nm2": 200.0}}


def grey_softmax(batch):
    """Stand-in network: dark = membrane, bright = organelle, mid-grey = background."""
    g = batch[..., 0]
    logits = np.stack([-np.abs(g - 0.5) * 20, (0.25 - g) * 20, (g - 0.75) * 20], -1)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def scene():
    """A 160 x 200 micrograph at 2 nm: two organelles (one tiny), a membrane band; then a
    data bar."""
    image = np.full((190, 200), 128, np.uint8)
    image[40:80, 30:90] = 250                   # organelle, 2400 px = 9600 nm^2
    image[120:124, 150:154] = 250               # 16 px = 64 nm^2: under min_area_nm2
    image[100:108, :] = 0                       # membrane band
    noise = np.random.default_rng(0).integers(-12, 13, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)    # a micrograph's rows are noisy
    image[160:, :] = 0                          # data bar ...
    image[170:180, 20:120:6] = 255              # ... with its text
    return image


def test_every_pixel_gets_its_class_at_the_images_pixel_size():
    seg = segment_classes(scene(), grey_softmax, META, pixel_size=2.0)
    assert seg.databar_row == 160 and seg.names == NAMES
    assert np.all(seg.classes[160:] == NO_CLASS) and not seg.probabilities[160:].any()
    assert seg.classes.shape == (190, 200) and seg.probabilities.shape == (190, 200, 3)
    assert np.allclose(seg.probabilities[:160].sum(-1), 1, atol=1e-3)
    truth = np.zeros((160, 200), np.uint8)
    truth[40:80, 30:90] = 2
    truth[120:124, 150:154] = 2
    truth[100:108] = 1
    # the network sees the image at 4 nm: only pixels next to an edge may differ
    assert (seg.classes[:160] == truth).mean() > 0.97
    organelles = seg.objects["organelle"]
    assert organelles.max() == 1                          # the tiny one is under 200 nm^2
    assert abs((organelles == 1).sum() - 2400) < 150


def test_class_areas_and_fractions():
    classes = np.array([[0, 0, 1, 2], [2, 2, 2, NO_CLASS]], np.uint8)
    t = class_areas(classes, NAMES, pixel_size=1000.0)         # 1 µm^2 per pixel
    assert list(t.Class) == NAMES and list(t.Pixels) == [2, 1, 4]
    assert list(t.Area) == [2.0, 1.0, 4.0]
    assert t.Fraction.sum() == pytest.approx(1) and t.Fraction[2] == pytest.approx(4 / 7)
    assert list(class_areas(classes, NAMES).Area) == [2, 1, 4]  # pixels without a scale
    with pytest.raises(ValueError, match="beyond the 3 class names"):
        class_areas(classes + 3 * (classes != NO_CLASS), NAMES)


def test_class_objects_split_regions_and_check_names():
    classes = np.zeros((10, 10), np.uint8)
    classes[1:3, 1:3] = 2
    classes[6:9, 6:9] = 2
    classes[4, 4] = 2
    objects = class_objects(classes, NAMES, ["organelle"], pixel_size=1.0, min_area_nm2=2)
    assert objects["organelle"].max() == 2
    assert objects["organelle"][4, 4] == 0
    with pytest.raises(ValueError, match="nucleus not among"):
        class_objects(classes, NAMES, ["nucleus"], pixel_size=1.0)


def test_a_segmentation_model_is_refused():
    meta = {**META, "task": "segmentation"}
    with pytest.raises(ValueError, match="not a semantic model"):
        segment_classes(scene(), grey_softmax, meta, pixel_size=2.0)
    with pytest.raises(ValueError, match="unknown key"):
        segment_classes(scene(), grey_softmax, META, pixel_size=2.0,
                        postprocess={"neck_nm": 3})
