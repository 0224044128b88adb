"""Reading training data from files matched by name (``emseg train``, ``train-classifier``)."""

import numpy as np

from ..io import resolve_pixel_size
from .files import expand_folders, load_image, load_labels, pair_files

__all__ = ["training_pairs", "classifier_triples", "parse_class_map", "apply_class_map"]


def parse_class_map(text):
    """Class names and the mask values of each from a mapping such as
    ``0,32,64,96,128=membrane;159=extracellular;191=mitochondria``.

    Items are separated by ``;`` or new lines; each is ``VALUES=NAME`` with comma-separated
    integer values 0-65535. Class ``i`` is the ``i``-th item.

    Returns
    -------
    (list of str, dict of int to int)
        The class names, and the class index of every mask value.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("class map is empty: give VALUES=NAME;VALUES=NAME...")
    names, lut = [], {}
    for item in filter(None, (t.strip() for t in text.replace("\n", ";").split(";"))):
        values, sep, name = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"class map item {item!r}: give VALUES=NAME")
        if name in names:
            raise ValueError(f"class map: class {name!r} named twice")
        try:
            ints = [int(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"class map item {item!r}: values must be integers") from None
        for v in ints:
            if not 0 <= v <= 65535:
                raise ValueError(f"class map item {item!r}: value {v} outside 0-65535")
            if v in lut:
                raise ValueError(f"class map: value {v} belongs to two classes")
            lut[v] = len(names)
        names.append(name)
    if len(names) < 2:
        raise ValueError("class map: give at least two classes")
    return names, lut


def apply_class_map(mask, lut, *, what="mask"):
    """A mask's values replaced by their class indices (``lut`` from :func:`parse_class_map`);
    a value the map lacks is an error naming ``what``."""
    mask = np.asarray(mask)
    values = np.unique(mask)
    missing = [int(v) for v in values if int(v) not in lut]
    if missing:
        raise ValueError(f"{what}: value(s) {', '.join(map(str, missing[:8]))} are in no class "
                         f"of the class map")
    table = np.zeros(int(values.max()) + 1, np.uint8)
    for v in values:
        table[int(v)] = lut[int(v)]
    return table[mask]


def training_pairs(images, masks, *, pixel_size=None, class_map=None):
    """Read training pairs from files, matched by name (``a.tif`` ~ ``a_m.tif``).

    Parameters
    ----------
    images, masks : sequences of path-like
        Files, or folders whose image files (TIFF, PNG, JPEG, MRC, ...) are all used.
        Volumes (tomograms: MRC, TIFF stacks) pair with label volumes.
    pixel_size : float, optional
        For images without calibration (an explicit value always wins; volumes: the
        voxel size).
    class_map : dict of int to int, optional
        Mask value to class index (:func:`parse_class_map`), for a semantic model's coded
        masks.

    Yields
    ------
    (image, mask, pixel_size_nm)
        For volumes ``(volume, labels, (z, y, x) voxel size)``.
    """
    from .segment import volume_input

    pairs = pair_files(expand_folders(masks), expand_folders(images), roles=("mask", "image"))
    for name, mask_path, image_path, _ in pairs:
        if volume_input(image_path):
            yield _volume_pair(image_path, mask_path, pixel_size)
            continue
        image, isize, imeta = load_image(image_path)
        mask, msize, mmeta = load_labels(mask_path, allow_empty=True)
        if image.shape != mask.shape:
            raise ValueError(f"{mask_path}: shape {mask.shape} differs from {image_path} {image.shape}")
        size, _ = resolve_pixel_size(pixel_size, (isize, imeta), (msize, mmeta))
        if size is None:
            raise ValueError(f"{image_path}: no pixel size in the file; give --pixel-size")
        if class_map is not None:
            mask = apply_class_map(mask, class_map, what=str(mask_path))
        yield image, mask, float(size[0])


def _volume_pair(image_path, mask_path, voxel_size):
    from .evaluate import _label_volume
    from .segment import load_volume

    volume, vsize, vmeta = load_volume(image_path, what="training volume")
    mask, msize, mmeta = _label_volume(mask_path)
    if volume.shape != mask.shape:
        raise ValueError(f"{mask_path}: shape {mask.shape} differs from {image_path} "
                         f"{volume.shape}")
    given = None if voxel_size is None else (float(voxel_size),) * 3
    size, _ = resolve_pixel_size(given, (vsize, vmeta), (msize, mmeta), what="voxel size")
    if size is None:
        raise ValueError(f"{image_path}: no voxel size in the file; give --pixel-size")
    return np.asarray(volume, np.float32), mask, tuple(float(v) for v in size)


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

    from .._validate import is_binary_mask

    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    images = expand_folders(images)
    # keyed by image file, so single files pair whatever their names
    by_labels = {b: a for _, a, b, _ in
                 pair_files(expand_folders(labels), images, roles=("labels", "image"))}
    by_keep = {b: a for _, a, b, _ in
               pair_files(expand_folders(keeps), images, roles=("keep mask", "image"))}
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
        size, _ = resolve_pixel_size(pixel_size, (isize, imeta), (lsize, lmeta))
        if size is None:
            raise ValueError(f"{image_path}: no pixel size in the file; give --pixel-size")
        yield image, lab, keep, float(size[0])
