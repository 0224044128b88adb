"""What every workflow shares: loading checked images and labels, the bundled
sample files, folders of images, and pairing files by name. (Which pixel size
wins is :func:`emseg.io.resolve_pixel_size`.)
"""

from importlib import resources
from pathlib import Path

import numpy as np

from .. import io as _io

__all__ = ["load_labels", "load_image", "file_calibration", "example_files", "sample_files",
           "expand_folders", "ROLE_SUFFIXES", "pair_key", "pair_files", "file_part",
           "file_stem"]


def _squeeze_2d(array, path, what, axes=""):
    """Drop singleton axes; refuse RGB and genuinely 3D data (``axes``: the
    reader's axis letters; S marks colour samples)."""
    data = np.squeeze(array)
    rgb = ("S" in axes and array.shape[axes.index("S")] in (3, 4)) if len(axes) == array.ndim \
        else data.ndim == 3 and data.shape[-1] in (3, 4)
    if rgb and data.ndim == 3:
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
    from .._validate import check_labels

    array, size, meta = _io.read_image(path)
    labels = _squeeze_2d(array, path, "labels", meta.get("axes", ""))
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
    return _squeeze_2d(array, path, "image", meta.get("axes", "")), size, meta


def file_calibration(path, *, with_meta=False):
    """The pixel size EMSeg's reader finds in a file, and where: ``((w, h) or None, source)``.

    The source names the file (``"Zeiss SEM tag 34118 of 1908298.tif"``): the
    caller uses it for another image (Fiji's copy of that file, which ImageJ
    opened without the vendor's calibration). An implausible size is an
    error. With ``with_meta``, ``(size, metadata)`` for
    :func:`emseg.io.resolve_pixel_size` instead.
    """
    path = Path(path)
    _, size, meta = _io.read_image(path)
    source = meta.get("pixel_size_source")
    meta = {**meta, "pixel_size_source": f"{source} of {path.name}" if source else None}
    return (size, meta) if with_meta else _io.resolve_pixel_size(None, (size, meta))


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


def expand_folders(paths):
    """Files as given, folders replaced by their image files (sorted, hidden ones skipped)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in _io.IMAGE_SUFFIXES
                              and not f.name.startswith(".")))
        else:
            out.append(p)
    return out


#: Name endings that mark a file's role, dropped when pairing files by name.
ROLE_SUFFIXES = ("m", "mask", "masks", "gt", "truth", "groundtruth", "label", "labels",
                 "instances", "pred", "prediction", "seg", "segmentation", "prob",
                 "probability", "probabilities", "cm")


def file_stem(path):
    """File name without its image extension (``a.ome.tif`` -> ``a``, ``a.b.tif`` -> ``a.b``)."""
    path = Path(path)
    name = path.name
    for ext in (".ome.tiff", ".ome.tif", ".ome.zarr"):
        if name.lower().endswith(ext):
            return name[:-len(ext)]
    return path.stem


def file_part(name):
    """The part of an output file name made of a measurement's name (``Circ.`` -> ``Circ``):
    letters and digits kept, anything else an underscore, none at either end (Fiji's
    ``Segmentation.fileName`` follows the same rule to find the files)."""
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def pair_key(path):
    """Name shared by the files of one image: the file name without folder,
    extension(s) and one trailing role word (``_m``, ``_mask``, ``_labels``,
    ``_pred``, ``_prob``, ... see :data:`ROLE_SUFFIXES`), lower-cased.

    >>> pair_key("sem/1908248_m.tif"), pair_key("out/1908248_labels.ome.tif")
    ('1908248', '1908248')
    """
    name = Path(path).name.lower()
    for ext in (".ome.tiff", ".ome.tif", *_io.IMAGE_SUFFIXES):
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


