"""File-level workflows behind the command line: read, check, measure.

Each function takes paths, calls :mod:`emseg.io` to read and the pure
algorithms to compute, and returns results; the caller decides what to write.
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import io as _io

__all__ = ["load_labels", "load_image", "measure_file", "combine_tables", "example_files",
           "MeasureResult", "pair_key", "pair_files", "evaluate_files", "evaluation_table",
           "pooled_scores", "EvaluateResult", "sample_files", "SegmentResult", "segment_file",
           "segment_array", "filter_array", "filter_file", "FilterResult", "training_pairs",
           "classifier_triples"]


@dataclass
class MeasureResult:
    """Outcome of measuring one file."""

    labels_path: Path
    image_path: Path = None
    table: object = None
    pixel_size: tuple = None
    pixel_size_source: str = None


def _squeeze_2d(array, path, what):
    """Drop singleton axes; refuse RGB and genuinely 3D data."""
    data = np.squeeze(array)
    if data.ndim == 3 and data.shape[-1] in (3, 4):
        fix = (" where a label image or mask is expected" if what == "labels"
               else "; convert it to grey levels first")
        raise ValueError(f"{path}: RGB image{fix}")
    if data.ndim != 2:
        raise ValueError(f"{path}: {data.ndim}D {what} of shape {array.shape} where a 2D image is expected")
    return data


def load_labels(path, *, allow_empty=False):
    """Read a 2D label image or binary mask and check it.

    Returns ``(labels, pixel_size_nm, metadata)``; raises ValueError/TypeError
    with the file name for RGB, 3D, floating-point or negative labels, and
    for empty ones unless ``allow_empty`` (a segmentation may find nothing).
    """
    from ._validate import check_labels

    array, size, meta = _io.read_image(path)
    labels = _squeeze_2d(array, path, "labels")
    if labels.dtype.kind == "f":
        raise TypeError(f"{path}: floating-point pixels ({labels.dtype}) where integer labels are expected")
    try:
        labels = check_labels(labels)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path}: {exc}") from None
    if not allow_empty and not labels.any():
        raise ValueError(f"{path}: label image is empty (no particle pixels)")
    return labels, size, meta


def load_image(path):
    """Read a 2D grey-level intensity image; returns ``(image, pixel_size_nm, metadata)``."""
    array, size, meta = _io.read_image(path)
    return _squeeze_2d(array, path, "image"), size, meta


def _pixel_size_and_source(given, *read):
    """``given`` (an explicit pixel size) wins; else the first calibrated
    ``(size, metadata)`` read from a file. Returns ``(size, source)``."""
    if given is not None:
        return given, "--pixel-size"
    for size, meta in read:
        if size is not None:
            return size, meta.get("pixel_size_source")
    return None, None


def measure_file(labels_path, image_path=None, *, pixel_size=None, connectivity=8):
    """Measure the particles of one label file.

    The pixel size is ``pixel_size`` when given (it always wins), else the
    label file's calibration, else the intensity image's, else none (pixels).

    Returns
    -------
    MeasureResult
        With ``table`` set; errors propagate as exceptions.
    """
    from .measure import measure

    labels, size, meta = load_labels(labels_path)
    res = MeasureResult(Path(labels_path), Path(image_path) if image_path else None)
    image = isize = imeta = None
    if image_path is not None:
        image, isize, imeta = load_image(image_path)
        if image.shape != labels.shape:
            raise ValueError(f"{image_path}: shape {image.shape} differs from "
                             f"{labels_path} {labels.shape}")
    size, source = _pixel_size_and_source(pixel_size, (size, meta), (isize, imeta))
    res.table = measure(labels, image, pixel_size=size, connectivity=connectivity)
    res.pixel_size = res.table.attrs["pixel_size"] if size is not None else None
    res.pixel_size_source = source
    return res


def combine_tables(results, *, file_column=True):
    """Stack the tables of several :class:`MeasureResult` into one.

    With ``file_column`` a first column ``File`` names each row's label file.
    ``attrs["unit"]`` is the common unit, or "mixed" when calibrated and
    uncalibrated files are combined.
    """
    import pandas as pd

    if not results:
        raise ValueError("results is empty: nothing to combine")
    tables = []
    for r in results:
        t = r.table.copy()
        if file_column:
            t.insert(0, "File", r.labels_path.name)
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    units = {r.table.attrs.get("unit") for r in results}
    table.attrs["unit"] = units.pop() if len(units) == 1 else "mixed"
    return table


def example_files():
    """Paths of the bundled example: ``(labels.tif, image.tif)``.

    A synthetic 512x512 SEM-like scene of touching, non-convex particles at
    2.5 nm per pixel, made by ``emseg.synthetic`` (see ``data/README.md``).
    """
    base = resources.files("emseg") / "data"
    return Path(str(base / "example_labels.tif")), Path(str(base / "example_image.tif"))


def sample_files():
    """Paths of the bundled SEM sample: ``(image.tif, labels.tif)``.

    A synthetic 768x640 secondary-electron SEM image of agglomerated
    particles at 7.5 nm per pixel with a microscope data bar at the bottom,
    and its exact particle labels (``emseg.synthetic.sem_agglomerates``).
    """
    base = resources.files("emseg") / "data"
    return Path(str(base / "sample_sem.tif")), Path(str(base / "sample_sem_labels.tif"))


# --------------------------------------------------------------------------- segmentation

@dataclass
class SegmentResult:
    """Outcome of segmenting one file."""

    path: Path
    image: np.ndarray
    segmentation: object
    table: object
    pixel_size_source: str


def segment_array(image, predictor, *, pixel_size, threshold=None, keep_databar=False,
                  postprocess=None, batch_size=4, progress=None):
    """Segment an image held in memory with a loaded model and measure its particles.

    The one segmentation path behind ``emseg segment``, :func:`segment_file`
    and the Fiji plugin's in-process backend, so all give the same result.

    Parameters
    ----------
    image : (M, N) ndarray
        Grey-level image.
    predictor : callable with a ``meta`` attribute
        An :class:`emseg.models.saved.SavedModelPredictor`.
    pixel_size : float or (float, float)
        Pixel size in nm (required: a network only works at its training scale).

    Returns
    -------
    (Segmentation, pandas.DataFrame)
        The segmentation and the ImageJ measurements of its particles.
    """
    from .measure import measure
    from .predict import segment

    if pixel_size is None:
        raise ValueError("pixel_size: the pixel size in nm is required")
    seg = segment(image, predictor, predictor.meta, pixel_size=pixel_size, threshold=threshold,
                  postprocess=postprocess, keep_databar=keep_databar, batch_size=batch_size,
                  progress=progress)
    return seg, measure(seg.labels, image, pixel_size=pixel_size)


def segment_file(path, predictor, *, pixel_size=None, threshold=None, keep_databar=False,
                 postprocess=None, batch_size=4, progress=None):
    """Segment one image file with a loaded model and measure its particles.

    The pixel size is ``pixel_size`` when given, else the file's calibration;
    an uncalibrated file without ``pixel_size`` is an error (a network only
    works at the scale it was trained for, so EMSeg never guesses it).

    Parameters
    ----------
    path : path-like
    predictor : callable with a ``meta`` attribute
        An :class:`emseg.models.saved.SavedModelPredictor`.

    Returns
    -------
    SegmentResult
    """
    image, size, meta = load_image(path)
    size, source = _pixel_size_and_source(pixel_size, (size, meta))
    if size is None:
        raise ValueError(f"{path}: no pixel size in the file; give it with --pixel-size (nm)")
    seg, table = segment_array(image, predictor, pixel_size=size, threshold=threshold,
                               keep_databar=keep_databar, postprocess=postprocess,
                               batch_size=batch_size, progress=progress)
    return SegmentResult(Path(path), image, seg, table, source)


def filter_array(image, labels, classifier=None, *, pixel_size, min_score=None, ranges=(),
                 exclude_border=False, connectivity=8, batch_size=4, progress=None, table=None):
    """Measure a segmentation held in memory and keep the particles fit for statistics.

    The one filtering path behind ``emseg filter``, ``emseg segment
    --classifier`` and the Fiji plugin's backends.

    Parameters
    ----------
    image : (M, N) ndarray
        The grey-level image (the classifier's input, and Mean/Min/Max).
    labels : (M, N) ndarray of int
        Instances (0 = background), or a binary mask whose connected
        components (``connectivity`` 4 or 8) are the particles.
    classifier : SavedModelPredictor, optional
        A loaded classifier filter (``predictor.meta["task"] == "classifier"``);
        None applies only the rule filters.
    pixel_size : float or (float, float)
        Pixel size in nm.
    min_score : float, optional
        Minimum classifier score (default: the classifier's tuned threshold).
    ranges : iterable of "COL=LO:HI" or (col, lo, hi), optional
    exclude_border : bool, optional
    connectivity : {4, 8}, optional
        For binary masks.
    table : pandas.DataFrame, optional
        The measurements of ``labels`` (instance labels) with ``image``
        already made (e.g. by :func:`segment_array`), so they are not
        computed again.

    Returns
    -------
    FilterResult
        All particles' measurements with ``Score`` and ``Kept`` columns, the
        particles and the label image holding only the kept ones (numbers
        unchanged).
    """
    from .classify import apply_filters, classify, filter_labels, parse_range
    from .measure import measure

    if pixel_size is None:
        raise ValueError("pixel_size: the pixel size in nm is required")
    ranges = [parse_range(r) if isinstance(r, str) else r for r in ranges]
    if min_score is not None and not 0 <= min_score <= 1:
        raise ValueError(f"min_score must be in [0, 1], got {min_score!r}")
    from ._validate import check_labels, is_binary_mask

    labels = check_labels(labels, "labels")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    if table is None:
        if is_binary_mask(labels):
            from skimage.measure import label as sk_label
            labels = sk_label(labels != 0, connectivity=1 if connectivity == 4 else 2).astype(np.int32)
        table = measure(labels, image, pixel_size=pixel_size)
    scores = None
    if classifier is not None:
        result = classify(image, labels, classifier, classifier.meta, pixel_size=pixel_size,
                          batch_size=batch_size, progress=progress)
        scores = result.scores
        min_score = result.threshold if min_score is None else min_score
    table = apply_filters(table, scores=scores, min_score=0.5 if min_score is None else min_score,
                          ranges=ranges, exclude_border=exclude_border)
    return FilterResult(table, labels, filter_labels(labels, table.loc[table["Kept"], "Label"]),
                        image, pixel_size)


@dataclass
class FilterResult:
    """Outcome of :func:`filter_array` / :func:`filter_file`.

    Attributes
    ----------
    table : pandas.DataFrame
        Every particle's measurements with ``Score`` and ``Kept``.
    labels : ndarray of int
        All particles (a binary mask's components numbered as in ``table``).
    filtered : ndarray of int
        Only the kept particles, numbers unchanged.
    image : ndarray, optional
    pixel_size : (float, float), optional
    pixel_size_source : str, optional
    path, labels_path : Path, optional
        The files read (:func:`filter_file`).
    """

    table: object
    labels: np.ndarray
    filtered: np.ndarray
    image: np.ndarray = None
    pixel_size: tuple = None
    pixel_size_source: str = None
    path: Path = None
    labels_path: Path = None


def filter_file(image_path, labels_path, classifier=None, *, pixel_size=None, min_score=None,
                ranges=(), exclude_border=False, connectivity=8, batch_size=4, progress=None):
    """Filter the particles of a label image file (see :func:`filter_array`).

    The pixel size is ``pixel_size`` when given, else the image's (or the
    label image's) calibration; without any it is an error.

    Returns
    -------
    FilterResult
    """
    image, image_size, image_meta = load_image(image_path)
    labels, label_size, label_meta = load_labels(labels_path, allow_empty=True)
    if image.shape != labels.shape:
        raise ValueError(f"{labels_path}: labels {labels.shape} and image {image.shape} "
                         "differ in shape")
    size, source = _pixel_size_and_source(pixel_size, (image_size, image_meta),
                                          (label_size, label_meta))
    if size is None:
        raise ValueError(f"{image_path}: no pixel size in the files; give it with --pixel-size (nm)")
    res = filter_array(image, labels, classifier, pixel_size=size, min_score=min_score,
                       ranges=ranges, exclude_border=exclude_border, connectivity=connectivity,
                       batch_size=batch_size, progress=progress)
    res.pixel_size_source, res.path, res.labels_path = source, Path(image_path), Path(labels_path)
    return res


_IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


def _expand_folders(paths):
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES
                              and not f.name.startswith(".")))
        else:
            out.append(p)
    return out


def training_pairs(images, masks, *, pixel_size=None):
    """Read training pairs from files, matched by name (``a.tif`` ~ ``a_m.tif``).

    Parameters
    ----------
    images, masks : sequences of path-like
        Files, or folders whose image files (TIFF, PNG, JPEG) are all used.
    pixel_size : float, optional
        For images without calibration (an explicit value always wins).

    Yields
    ------
    (image, mask, pixel_size_nm)
    """
    pairs = pair_files(_expand_folders(masks), _expand_folders(images), roles=("mask", "image"))
    for name, mask_path, image_path, _ in pairs:
        image, isize, imeta = load_image(image_path)
        mask, msize, mmeta = load_labels(mask_path, allow_empty=True)
        if image.shape != mask.shape:
            raise ValueError(f"{mask_path}: shape {mask.shape} differs from {image_path} {image.shape}")
        size, _ = _pixel_size_and_source(pixel_size, (isize, imeta), (msize, mmeta))
        if size is None:
            raise ValueError(f"{image_path}: no pixel size in the file; give --pixel-size")
        yield image, mask, float(size[0])


def classifier_triples(images, labels, keeps, *, pixel_size=None, connectivity=8):
    """Read classifier training data from files matched by name.

    ``a.tif`` ~ ``a_m.tif`` / ``a_labels.tif`` ~ ``a_cm.tif`` / ``a_keep.tif``
    (see :func:`pair_key`). Keep masks annotated on the specimen area only
    (fewer rows than the image, the data bar cut off, as the BAM data has)
    limit the image and labels to those rows.

    Parameters
    ----------
    images, labels, keeps : sequences of path-like
        Files or folders: micrographs, instances (label images or binary
        masks) and keep masks (non-zero = fit for statistics; or class
        numbers 1..K for a multi-class classifier).
    pixel_size : float, optional
        For images without calibration (an explicit value always wins).
    connectivity : {4, 8}, optional
        Connectivity of particles in binary instance masks.

    Yields
    ------
    (image, labels, keep, pixel_size_nm)
    """
    from skimage.measure import label as sk_label

    from ._validate import is_binary_mask

    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    images = _expand_folders(images)
    # keyed by image file, so single files pair whatever their names
    by_labels = {b: a for _, a, b, _ in
                 pair_files(_expand_folders(labels), images, roles=("labels", "image"))}
    by_keep = {b: a for _, a, b, _ in
               pair_files(_expand_folders(keeps), images, roles=("keep mask", "image"))}
    for image_path, label_path in by_labels.items():
        keep_path = by_keep[image_path]
        image, isize, imeta = load_image(image_path)
        lab, lsize, lmeta = load_labels(label_path, allow_empty=True)
        keep, _, _ = load_labels(keep_path, allow_empty=True)
        if lab.shape != image.shape:
            raise ValueError(f"{label_path}: shape {lab.shape} differs from {image_path} {image.shape}")
        if keep.shape != image.shape:
            if keep.shape[1] != image.shape[1] or keep.shape[0] > image.shape[0]:
                raise ValueError(f"{keep_path}: shape {keep.shape} differs from {image_path} "
                                 f"{image.shape}")
            image, lab = image[:keep.shape[0]], lab[:keep.shape[0]]
        if is_binary_mask(lab):
            lab = sk_label(lab != 0, connectivity=1 if connectivity == 4 else 2)
        size, _ = _pixel_size_and_source(pixel_size, (isize, imeta), (lsize, lmeta))
        if size is None:
            raise ValueError(f"{image_path}: no pixel size in the file; give --pixel-size")
        yield image, lab, keep, float(size[0])


# --------------------------------------------------------------------------- evaluation

#: Name endings that mark a file's role, dropped when pairing files by name.
ROLE_SUFFIXES = ("m", "mask", "masks", "gt", "truth", "groundtruth", "label", "labels",
                 "instances", "pred", "prediction", "seg", "segmentation", "prob",
                 "probability", "probabilities", "cm")


def pair_key(path):
    """Name shared by the files of one image: the file name without folder,
    extension(s) and one trailing role word (``_m``, ``_mask``, ``_labels``,
    ``_pred``, ``_prob``, ... see :data:`ROLE_SUFFIXES`), lower-cased.

    >>> pair_key("sem/1908248_m.tif"), pair_key("out/1908248_labels.ome.tif")
    ('1908248', '1908248')
    """
    name = Path(path).name.lower()
    for ext in (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".png", ".jpg", ".jpeg"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    for sep in ("_", "-", "."):
        head, found, tail = name.rpartition(sep)
        if found and head and tail in ROLE_SUFFIXES:
            return head
    return name


def _by_key(paths, what):
    keyed = {}
    for p in paths:
        k = pair_key(p)
        if k in keyed:
            raise ValueError(f"{what} files {keyed[k]} and {p} both pair as {k!r}; rename one")
        keyed[k] = Path(p)
    return keyed


def pair_files(preds, truths, probs=None, *, roles=("prediction", "ground truth")):
    """Pair segmentation, ground-truth (and probability) files by name.

    Files pair when their :func:`pair_key` is equal (``a.tif`` with
    ``a_m.tif``); a single prediction and a single ground truth pair whatever
    their names.

    Returns
    -------
    list of (name, pred_path, truth_path, prob_path or None)
        In the order of ``preds``.
    roles : (str, str), optional
        What ``preds`` and ``truths`` are, for the error messages.

    Raises
    ------
    ValueError
        For empty inputs, names that collide, or any file left without a partner.
    """
    preds = [Path(p) for p in preds or ()]
    truths = [Path(p) for p in truths or ()]
    probs = [Path(p) for p in probs or ()]
    if not preds:
        raise ValueError(f"no {roles[0]} files given")
    if not truths:
        raise ValueError(f"no {roles[1]} files given")
    if len(preds) == 1 and len(truths) == 1:
        if len(probs) > 1:
            raise ValueError(f"{len(probs)} probability maps for one {roles[0]}")
        return [(pair_key(preds[0]), preds[0], truths[0], probs[0] if probs else None)]
    p, t, q = _by_key(preds, roles[0]), _by_key(truths, roles[1].replace(" ", "-")), _by_key(probs, "probability")
    problems = []
    for keys, what in ((set(p) - set(t), f"{roles[0]}(s) without {roles[1]}"),
                       (set(t) - set(p), f"{roles[1]} without {roles[0]}"),
                       (set(q) - set(p), f"probability map(s) without {roles[0]}")):
        if keys:
            files = [str(d[k]) for d in (p, t, q) for k in sorted(keys) if k in d]
            problems.append(f"{what}: {', '.join(dict.fromkeys(files))}")
    if problems:
        raise ValueError("unpaired files: " + "; ".join(problems))
    return [(k, p[k], t[k], q.get(k)) for k in p]


@dataclass
class EvaluateResult:
    """Outcome of scoring one segmentation file against its ground truth."""

    name: str
    pred_path: Path
    truth_path: Path
    prob_path: Path = None
    evaluation: object = None
    pixel_size: tuple = None
    pixel_size_source: str = None


def evaluate_files(name, pred_path, truth_path, prob_path=None, *, pixel_size=None,
                   connectivity=8, iou_threshold=0.5, column="MinFeret"):
    """Score one segmentation file (label image or mask) against its ground truth.

    The pixel size is ``pixel_size`` when given, else the ground truth's
    calibration, else the prediction's, else none (pixels).

    Returns
    -------
    EvaluateResult
        Errors (unreadable files, shapes that differ) propagate as exceptions
        naming the file.
    """
    from .metrics import evaluate

    truth, size, meta = load_labels(truth_path, allow_empty=True)
    pred, psize, pmeta = load_labels(pred_path, allow_empty=True)
    if pred.shape != truth.shape:
        raise ValueError(f"{pred_path}: shape {pred.shape} differs from ground truth "
                         f"{truth_path} {truth.shape}")
    prob = None
    if prob_path is not None:
        prob = load_image(prob_path)[0]
        if prob.shape != truth.shape:
            raise ValueError(f"{prob_path}: shape {prob.shape} differs from ground truth "
                             f"{truth_path} {truth.shape}")
    size, source = _pixel_size_and_source(pixel_size, (size, meta), (psize, pmeta))
    ev = evaluate(pred, truth, prob, pixel_size=size, connectivity=connectivity,
                  iou_threshold=iou_threshold, column=column)
    return EvaluateResult(name, Path(pred_path), Path(truth_path),
                          Path(prob_path) if prob_path else None, ev, size, source)


def evaluation_table(results, *, mean_row=True):
    """One row of scores per image (column ``Image`` first), and a ``mean`` row.

    The mean skips NaN (scores undefined for an image); for the object counts
    it is the mean count per image.
    """
    import pandas as pd

    if not results:
        raise ValueError("results is empty: nothing to tabulate")
    table = pd.DataFrame([{"Image": r.name, **r.evaluation.scores} for r in results])
    if mean_row:
        means = table.drop(columns="Image").mean(skipna=True)
        table = pd.concat([table, pd.DataFrame([{"Image": "mean", **means}])], ignore_index=True)
    return table


def pooled_scores(results, column="MinFeret"):
    """Scores over all objects of all images together.

    Returns
    -------
    dict
        Total ``TP``, ``FP``, ``FN``; ``Precision``, ``Recall``, ``F1`` from
        those totals (the way the CryoVesNet and StarDist papers pool), and the
        distribution errors of ``column`` for all predicted versus all true
        particles (the size distribution a study would report).
    """
    from .metrics import distribution_errors

    if not results:
        raise ValueError("results is empty: nothing to pool")
    tp = sum(r.evaluation.matching.tp for r in results)
    fp = sum(r.evaluation.matching.fp for r in results)
    fn = sum(r.evaluation.matching.fn for r in results)
    out = {"TP": tp, "FP": fp, "FN": fn,
           "Precision": tp / (tp + fp) if tp + fp else float("nan"),
           "Recall": tp / (tp + fn) if tp + fn else float("nan"),
           "F1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")}
    pred = np.concatenate([r.evaluation.pred_table[column].to_numpy(float) for r in results])
    truth = np.concatenate([r.evaluation.truth_table[column].to_numpy(float) for r in results])
    for k, v in distribution_errors(pred, truth).items():
        out[f"{column} {k}" + ("" if k == "KS" else " err")] = v
    return out
