"""The files of a vesicle segmentation (``emseg segment`` on a tomogram, the napari editor's
Save): label volume, probability map, vesicle table, IMOD model and pictures, always written
from the same table so that they agree."""

from pathlib import Path

import numpy as np

from .. import io as _io

__all__ = ["volume_output_paths", "write_volume_outputs", "table_centres"]


def volume_output_paths(folder, stem, *, refined=True, fmt="mrc"):
    """The output files of one tomogram, by role: labels, prob, table, model, picture,
    histogram, and profiles (refined spheres only)."""
    if fmt not in ("mrc", "tif"):
        raise ValueError(f"fmt must be 'mrc' or 'tif', got {fmt!r}")
    out = Path(folder)
    paths = {"labels": out / f"{stem}_labels.{fmt}", "prob": out / f"{stem}_prob.{fmt}",
             "table": out / f"{stem}_vesicles.csv", "model": out / f"{stem}_vesicles.mod",
             "picture": out / f"{stem}_vesicles.png", "histogram": out / f"{stem}_diameters.png"}
    if refined:
        paths["profiles"] = out / f"{stem}_profiles.png"
    return paths


def table_centres(table, voxel_size):
    """Vesicle centres in voxels (z, y, x; voxel ``i``'s centre at ``i``) from a vesicle
    table's X, Y, Z in nm (voxel ``i`` spans ``[i, i + 1) x size``)."""
    size = np.asarray(voxel_size, float).reshape(3)
    return np.column_stack([table[c].to_numpy(float) / s - 0.5
                            for c, s in zip(("Z", "Y", "X"), size)]).reshape(-1, 3)


def write_volume_outputs(paths, table, labels, voxel_size, *, name, volume=None,
                         probability=None, spheres=None, header=None):
    """Write the files of ``paths`` (any subset of :func:`volume_output_paths`) that the
    arguments allow: labels, table, IMOD model and diameter histogram from ``labels`` and
    ``table``; the probability map with ``probability``; the picture with ``volume``; the
    radial profiles with ``spheres``.

    Parameters
    ----------
    paths : dict
        Role -> path.
    table : pandas.DataFrame
        :func:`emseg.measure.sphere_table` (refined; Diameter) or
        :func:`emseg.measure.vesicle_table` (EqDiameter).
    labels : (Z, Y, X) ndarray of int
    voxel_size : (float, float, float)
        nm, (z, y, x).
    name : str
        The tomogram's name, for titles.
    header : dict, optional
        MRC ``origin`` and ``nstart`` to carry over from the tomogram.
    """
    from ..plot import radial_profiles, size_histogram, volume_slices

    header = {k: v for k, v in (header or {}).items() if k in ("origin", "nstart")}
    if "labels" in paths:
        _io.write_volume(paths["labels"], labels, voxel_size, labels=True, **header)
    if probability is not None and "prob" in paths:
        _io.write_volume(paths["prob"], probability, voxel_size, **header)
    if "table" in paths:
        _io.write_table(paths["table"], table)
    column = "Diameter" if "Diameter" in table.columns else "EqDiameter"
    if "model" in paths:
        _io.write_imod_points(paths["model"], table_centres(table, voxel_size),
                              table[column].to_numpy(float) / 2, labels.shape,
                              np.asarray(voxel_size, float), name=f"{name} vesicles")
    if volume is not None and "picture" in paths:
        _io.write_png(paths["picture"], volume_slices(
            volume, labels, title=f"{name}: {len(table)} vesicles"))
    if "histogram" in paths:
        table.attrs["unit"] = "nm"
        _io.write_png(paths["histogram"], size_histogram(table, column, unit="nm"))
    if spheres is not None and "profiles" in paths:
        _io.write_png(paths["profiles"], radial_profiles(spheres,
                                                         title=f"{name}: radial profiles"))
