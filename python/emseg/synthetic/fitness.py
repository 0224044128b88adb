"""Training data for the classifier filter: realistic segmentation errors
(merges, splits, shifted outlines) on synthetic SEM images, with each
instance's fitness class (keep, occluded, cut, missegmented)."""

from dataclasses import dataclass

import numpy as np

from .sem import sem_agglomerates

__all__ = ["FITNESS_CLASSES", "ClassifierExample", "segmentation_errors", "sem_classifier_example"]


#: Fitness classes of a classifier example: index + 1 is the value in
#: :attr:`ClassifierExample.classes` (0 is background).
FITNESS_CLASSES = ("keep", "occluded", "cut", "missegmented")


@dataclass(frozen=True)
class ClassifierExample:
    """Training data for the classifier filter with its exact answer.

    Attributes
    ----------
    image : (M, N) ndarray of uint8
    labels : (M, N) ndarray of int32
        Instances as a segmentation gave them (with deliberate errors).
    classes : (M, N) ndarray of uint8
        Per pixel of every instance, its fitness class: 1 + the index in
        :data:`FITNESS_CLASSES` (1 keep, 2 occluded, 3 cut by the border,
        4 merged or split by the segmentation); 0 background.
    pixel_size : float
    """

    image: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    pixel_size: float

    @property
    def keep(self):
        """Binary keep mask: pixels of the instances fit for statistics."""
        return self.classes == 1


def _touching_pairs(labels):
    """Distinct (a, b) label pairs, a < b, that touch 4-connected."""
    pairs = set()
    for x, y in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        sel = (x != y) & (x > 0) & (y > 0)
        a, b = np.minimum(x[sel], y[sel]), np.maximum(x[sel], y[sel])
        pairs.update(zip(a.tolist(), b.tolist()))
    return sorted(pairs)


def segmentation_errors(labels, *, merge=0.1, split=0.08, outline=(-1, 0, 1), seed=0):
    """Corrupt an exact instance annotation the ways segmentation goes wrong.

    Touching pairs are merged into one instance (probability ``merge`` per
    pair, each instance merged at most once); other instances are cut in two
    by a straight line through their centroid (probability ``split``);
    finally every outline moves by the same number of pixels, drawn from
    ``outline`` (+1 grows into the background, -1 peels the outer pixel
    ring, which also opens 1-pixel gaps between touching instances, as
    manual 4-connected annotations have).

    Parameters
    ----------
    labels : (M, N) ndarray of int
    merge, split : float, optional
        Probabilities in [0, 1].
    outline : sequence of int, optional
        Outline shifts to draw from, pixels in [-2, 2].
    seed : int, optional

    Returns
    -------
    labels : (M, N) ndarray of int32
        Consecutive labels 1..m.
    origin : (m + 1,) ndarray of int64
        The input label each output instance comes from (the first of a
        merged pair); index 0 unused.
    wrong : (m + 1,) ndarray of bool
        Instances that were merged or split.
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import expand_labels, find_boundaries

    from .._validate import check_labels

    labels = np.asarray(check_labels(labels, "labels"), np.int64)
    for value, name in ((merge, "merge"), (split, "split")):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    shifts = [int(v) for v in outline]
    if not shifts or any(not -2 <= v <= 2 for v in shifts):
        raise ValueError(f"outline must be a non-empty sequence of integers in [-2, 2], got {outline!r}")
    rng = np.random.default_rng(seed)
    n = int(labels.max())
    target = np.arange(n + 1)                    # merged instance -> partner
    wrong = np.zeros(n + 1, bool)
    for a, b in _touching_pairs(labels):
        if not (wrong[a] or wrong[b]) and rng.random() < merge:
            target[b] = a
            wrong[a] = wrong[b] = True
    out = target[labels]
    origin = list(range(n + 1))
    flags = list(wrong)
    objects = ndi.find_objects(out)
    for k, box in enumerate(objects, start=1):
        if box is None or wrong[k] or rng.random() >= split:
            continue
        inside = out[box] == k
        rr, cc = np.nonzero(inside)
        if rr.size < 40:
            continue
        angle = rng.uniform(0, np.pi)
        side = (rr - rr.mean()) * np.cos(angle) - (cc - cc.mean()) * np.sin(angle) > 0
        if not 0.25 <= side.mean() <= 0.75:
            continue
        new = len(origin)
        view = out[box]
        view[rr[side], cc[side]] = new
        origin.append(k)
        flags.append(True)
        flags[k] = True
    shift = shifts[int(rng.integers(len(shifts)))]
    if shift > 0:
        out = expand_labels(out, shift)
    for _ in range(-shift):
        out = np.where(find_boundaries(out, mode="inner", connectivity=1), 0, out)
    present = np.unique(out[out > 0])
    lut = np.zeros(len(origin), np.int64)
    lut[present] = np.arange(1, present.size + 1)
    origin = np.asarray(origin, np.int64)[present]
    return (lut[out].astype(np.int32), np.concatenate([[0], origin]),
            np.concatenate([[False], np.asarray(flags, bool)[present]]))


def sem_classifier_example(shape=(512, 512), *, pixel_size=8.0, diameter_nm=(120.0, 400.0),
                           coverage=0.3, clustering=0.7, min_visible=0.9, merge=0.1,
                           split=0.08, outline=(-1, 0, 1), seed=0):
    """A synthetic SEM image, an imperfect segmentation of it and each
    instance's fitness for size statistics, all known exactly.

    The image and the exact visible particles come from
    :func:`sem_agglomerates`; :func:`segmentation_errors` then merges, splits
    and shifts outlines. An instance is "keep" when it is one whole particle
    (at least ``min_visible`` of its area visible: isolated, or touching but
    in front), "occluded" when others hide more, "cut" when it extends
    beyond the image and "missegmented" when merged or split.

    Parameters
    ----------
    shape, pixel_size, diameter_nm, coverage, clustering :
        As :func:`sem_agglomerates`.
    min_visible : float, optional
        Visible fraction (0, 1] a whole particle needs.
    merge, split, outline :
        As :func:`segmentation_errors`.
    seed : int, optional

    Returns
    -------
    ClassifierExample
    """
    if not 0 < min_visible <= 1:
        raise ValueError(f"min_visible must be in (0, 1], got {min_visible!r}")
    rng = np.random.default_rng(seed)
    truth = sem_agglomerates(shape, pixel_size=pixel_size, diameter_nm=diameter_nm,
                             coverage=coverage, clustering=clustering,
                             seed=int(rng.integers(2 ** 31)))
    labels, origin, wrong = segmentation_errors(truth.labels, merge=merge, split=split,
                                                outline=outline, seed=int(rng.integers(2 ** 31)))
    kind = np.ones(origin.size, np.uint8)
    kind[truth.visible_fraction[origin] < min_visible] = 2
    kind[truth.cut_by_border[origin]] = 3
    kind[wrong] = 4
    kind[0] = 0
    return ClassifierExample(truth.image, labels, kind[labels], truth.pixel_size)
