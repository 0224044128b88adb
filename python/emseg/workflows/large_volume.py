"""Segmenting the vesicles of a tomogram larger than memory (:mod:`emseg.segment.large_volume`),
with the in-memory result. The tomogram is memory-mapped (MRC) or read in parts; the
probability map and the labels live in a hidden zarr folder beside the outputs while the run
works on them, and are written from there slab by slab (MRC) at the end.
"""

import shutil
import tempfile
from pathlib import Path

import numpy as np

from .. import io as _io

__all__ = ["segment_large_volume_file", "LARGE_VOXELS", "DEFAULT_VOLUME_CHUNK"]

#: Tomograms with more voxels than this are segmented in parts by default (1024^3).
LARGE_VOXELS = 1024 ** 3
#: The default chunk edge (voxels) of the chunked label passes.
DEFAULT_VOLUME_CHUNK = 128


def segment_large_volume_file(path, predictor, output, *, stem=None, voxel_size=None,
                              mask=None, threshold=None, postprocess=None, batch_size=1,
                              volume_format="mrc", chunk_size=DEFAULT_VOLUME_CHUNK,
                              progress=None):
    """Segment the vesicles of one tomogram in parts and write its files into ``output``
    (:func:`emseg.workflows.vesicles.volume_output_paths`: labels, probability, table, IMOD
    model, pictures).

    Parameters
    ----------
    path : path-like
        The tomogram (MRC/REC memory-mapped, OME-Zarr read in parts; a TIFF stack is read
        whole).
    predictor : SavedModelPredictor
        A volume model.
    output : path-like
        The folder (created).
    stem : str, optional
        The outputs' name stem (default: the file name without its extension).
    voxel_size, mask, threshold, postprocess, batch_size
        As :func:`emseg.workflows.segment_volume_file`.
    volume_format : {"mrc", "tif"}
        The label and probability volumes' format (TIFF stacks are written whole).
    chunk_size : int
        Edge of the chunks the labels are counted and rewritten in, voxels.
    progress : callable(done, total), optional

    Returns
    -------
    dict
        ``paths`` (role -> file), ``table``, ``segmentation`` and ``voxel_size_source``.
    """
    import zarr

    from .._validate import check_spacing
    from ..io import resolve_pixel_size
    from ..measure import sphere_table, vesicle_table
    from ..segment.large_volume import segment_volume_large
    from ..segment.volume import volume_model_settings
    from .files import file_stem
    from .segment import load_volume
    from .vesicles import volume_output_paths, write_volume_outputs

    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 8:
        raise ValueError(f"chunk_size must be at least 8 voxels, got {chunk_size!r}")
    volume_model_settings(predictor.meta)   # a 2D model is refused before reading anything
    path = Path(path)
    volume, size, meta = load_volume(path, what="tomogram", lazy=True)
    if voxel_size is not None:
        voxel_size = check_spacing(voxel_size, 3, "voxel_size")
    size, source = resolve_pixel_size(voxel_size, (size, meta), what="voxel size")
    if size is None:
        raise ValueError(f"{path}: no voxel size in the file; give it with --pixel-size (nm)")
    region = None
    if mask is not None:
        region, _, _ = _io.read_volume(mask)
        if tuple(region.shape) != tuple(volume.shape):
            raise ValueError(f"{mask}: mask shape {region.shape} differs from {path} "
                             f"{volume.shape}")
    output = Path(output)
    stem = stem if stem is not None else file_stem(path)
    output.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{stem}-", suffix=".emseg", dir=output))
    # small, uncompressed zarr chunks: every vesicle's box is read and written on its own
    chunks = (32, 64, 64)

    def stores(name, shape, dtype):
        return zarr.create_array(str(scratch / f"{name}.zarr"), shape=shape,
                                 chunks=tuple(min(c, n) for c, n in zip(chunks, shape)),
                                 dtype=dtype, compressors=None, overwrite=True)
    try:
        seg = segment_volume_large(volume, predictor, predictor.meta, voxel_size=size,
                                   stores=stores, mask=region, threshold=threshold,
                                   postprocess=postprocess, batch_size=batch_size,
                                   chunk_shape=chunk_size, progress=progress)
        if seg.spheres is not None:
            table = sphere_table(seg.spheres, seg.labels, seg.voxel_size,
                                 thresholds=seg.thresholds)
        else:
            table = vesicle_table(seg.labels, seg.voxel_size, thresholds=seg.thresholds)
        paths = volume_output_paths(output, stem, refined=seg.spheres is not None,
                                    fmt=volume_format)
        write_volume_outputs(paths, table, seg.labels, seg.voxel_size, name=path.name,
                             volume=volume, probability=seg.probability, spheres=seg.spheres,
                             header=meta)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"paths": paths, "table": table, "segmentation": seg, "voxel_size_source": source}
