"""Reading training data from files matched by name (``emseg train``, ``train-classifier``)."""

import numpy as np

from ..io import resolve_pixel_size
from .files import expand_folders, load_image, load_labels, pair_files

__all__ = ["training_pairs", "classifier_triples"]


def training_pairs(images, masks, *, pixel_size=None):
    """Read training pairs from files, matched by name (``a.tif`` ~ ``a_m.tif``).

    Parameters
    ----------
    images, masks : sequences of path-like
        Files, or folders whose image files (TIFF, PNG, JPEG, MRC, ...) are all used.
        Volumes (tomograms: MRC, TIFF stacks) pair with label volumes.
    pixel_size : float, optional
        For images without calibration (an explicit value always wins; volumes: the
        voxel size).

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
