"""The vesicle table of a segmented tomogram: one row per labelled vesicle.

Coordinates follow ImageJ's convention, as the 2D measurements do: voxel ``i`` spans
``[i, i + 1) x size``, so a voxel's centre is at ``(i + 0.5) x size`` nm; X, Y, Z name the
columns (x fastest), while the arrays are (z, y, x).
"""

import numpy as np

from .._validate import check_label_array, check_spacing

__all__ = ["VESICLE_COLUMNS", "SPHERE_COLUMNS", "vesicle_table", "sphere_table"]

#: Columns of :func:`vesicle_table`.
VESICLE_COLUMNS = ("Label", "X", "Y", "Z", "Voxels", "Volume", "EqDiameter", "Threshold")

#: Columns of :func:`sphere_table` (refined vesicles).
SPHERE_COLUMNS = ("Label", "X", "Y", "Z", "Radius", "Diameter", "Thickness",
                  "MembraneIntensity", "LumenIntensity", "Correlation", "Mahalanobis", "PValue",
                  "Refined", "Border", "Voxels", "Volume", "EqDiameter", "Threshold")


def vesicle_table(labels, voxel_size, *, thresholds=None):
    """Centre, volume and equivalent diameter of every labelled vesicle.

    Parameters
    ----------
    labels : (Z, Y, X) ndarray of int, or an array-like (zarr) larger than memory
        Vesicles numbered 1..n (0 background); missing numbers are skipped.
    voxel_size : float or (float, float, float)
        Voxel size in nm, (z, y, x).
    thresholds : sequence of float, optional
        The local threshold of every label (index = label), e.g. from
        :func:`emseg.segment.segment_volume`; NaN where absent.

    Returns
    -------
    pandas.DataFrame
        :data:`VESICLE_COLUMNS`: X, Y, Z the centroid in nm; Voxels the count; Volume in nm^3;
        EqDiameter the diameter of the ball of that volume, ``(6 V / pi)^(1/3)``, nm;
        Threshold the local threshold.
    """
    import pandas as pd

    lazy = not isinstance(labels, np.ndarray) and hasattr(labels, "shape")
    if lazy:        # a label volume larger than memory (zarr): read plane by plane
        from ..segment.components import largest_label

        n = largest_label(labels, chunk_shape=128) + 1
    else:
        labels = check_label_array(labels, "labels", ndims=(3,))
        n = int(labels.max()) + 1
    dz, dy, dx = check_spacing(voxel_size, 3, "voxel_size")
    counts = np.zeros(n)
    # sums and counts plane by plane: no (3, Z, Y, X) index array or int64 copy of a tomogram
    sums = np.zeros((3, n))
    yy, xx = np.indices(tuple(labels.shape)[1:], sparse=False)
    for z in range(labels.shape[0]):
        p = np.asarray(labels[z]).ravel()
        c = np.bincount(p, minlength=n)
        counts += c
        sums[0] += z * c
        sums[1] += np.bincount(p, weights=yy.ravel(), minlength=n)
        sums[2] += np.bincount(p, weights=xx.ravel(), minlength=n)
    present = np.flatnonzero(counts > 0)
    present = present[present > 0]
    c = counts[present]
    cz, cy, cx = ((sums[i, present] / c + 0.5) * s for i, s in enumerate((dz, dy, dx)))
    volume = c * dz * dy * dx
    th = np.full(len(present), np.nan)
    if thresholds is not None:
        thresholds = np.asarray(thresholds, float)
        if thresholds.ndim != 1:
            raise ValueError("thresholds must be one value per label")
        inside = present < len(thresholds)
        th[inside] = thresholds[present[inside]]
    return pd.DataFrame({"Label": present.astype(int), "X": cx, "Y": cy, "Z": cz,
                         "Voxels": c.astype(int), "Volume": volume,
                         "EqDiameter": np.cbrt(6 * volume / np.pi), "Threshold": th},
                        columns=list(VESICLE_COLUMNS))


def sphere_table(spheres, labels, voxel_size, *, thresholds=None):
    """The vesicle table of refined spheres (:func:`emseg.segment.spheres.refine_spheres`).

    Parameters
    ----------
    spheres : emseg.segment.spheres.Spheres
        The refined vesicles; row ``i`` is label ``i + 1`` of ``labels``.
    labels : (Z, Y, X) ndarray of int, or an array-like (zarr) larger than memory
        The spheres drawn (for the voxel counts).
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    thresholds : sequence of float, optional
        Local threshold per label (index = label).

    Returns
    -------
    pandas.DataFrame
        :data:`SPHERE_COLUMNS`: X, Y, Z the refined centre in nm (voxel ``i`` spans
        ``[i, i + 1) x size``); Radius (outer membrane edge, after overlapping spheres were
        shrunk) and Diameter in nm; Thickness (membrane, nm), MembraneIntensity and
        LumenIntensity (grey values of the radial profile), Correlation (of the profile with
        the mean profile), Mahalanobis (``D^2`` of the features) and PValue; Refined the
        refinement iterations; Border whether the sphere is cut by the tomogram's faces;
        Voxels, Volume (nm^3) and EqDiameter of the drawn sphere; Threshold the local
        threshold of the segment it came from.
    """
    import pandas as pd

    dz, dy, dx = check_spacing(voxel_size, 3, "voxel_size")
    n = len(spheres.radii)
    if isinstance(labels, np.ndarray) or not hasattr(labels, "shape"):
        labels = check_label_array(labels, "labels", ndims=(3,))
        counts = np.zeros(n + 1)
        for plane in labels:
            counts += np.bincount(plane.ravel(), minlength=n + 1)[:n + 1]
    else:
        # a label volume larger than memory (zarr): counted chunk by chunk
        from ..segment.components import label_stats

        counts, _ = label_stats(labels, n, chunk_shape=128)
    counts = counts[1:].astype(float)
    volume = counts * dz * dy * dx
    centres = np.asarray(spheres.centres, float).reshape(-1, 3)
    th = np.full(n, np.nan)
    if thresholds is not None:
        thresholds = np.asarray(thresholds, float)
        th[:] = thresholds[1:n + 1] if len(thresholds) > n else np.nan
    f = np.asarray(spheres.features, float).reshape(-1, 5)
    return pd.DataFrame({
        "Label": np.arange(1, n + 1), "X": (centres[:, 2] + 0.5) * dx,
        "Y": (centres[:, 1] + 0.5) * dy, "Z": (centres[:, 0] + 0.5) * dz,
        "Radius": spheres.radii, "Diameter": 2 * np.asarray(spheres.radii, float),
        "Thickness": f[:, 1], "MembraneIntensity": f[:, 2], "LumenIntensity": f[:, 3],
        "Correlation": f[:, 4], "Mahalanobis": spheres.mahalanobis, "PValue": spheres.pvalue,
        "Refined": np.asarray(spheres.refined, int), "Border": np.asarray(spheres.border, bool),
        "Voxels": counts.astype(int), "Volume": volume, "EqDiameter": np.cbrt(6 * volume / np.pi),
        "Threshold": th}, columns=list(SPHERE_COLUMNS))
