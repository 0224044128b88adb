"""Correcting a vesicle segmentation by hand, as CryoVesNet's napari tool does: add a vesicle
where the user clicks (refined as a sphere around the click), remove one, undo, and keep the
vesicle table and the label volume in step. No napari here: the widget drives this class.
"""

import numpy as np

from .._validate import check_label_array, check_nd_array, check_spacing

__all__ = ["VesicleEditor"]


class VesicleEditor:
    """The vesicles of one tomogram under correction.

    Parameters
    ----------
    volume : (Z, Y, X) ndarray
        The tomogram (membranes dark).
    labels : (Z, Y, X) ndarray of int32
        The vesicles, numbered as the table's ``Label`` column. Edited in place (a napari
        Labels layer sharing it shows the edits after ``refresh()``).
    table : pandas.DataFrame
        The vesicle table: :func:`emseg.measure.sphere_table` (refined spheres) or
        :func:`emseg.measure.vesicle_table` (segments).
    voxel_size : float or (float, float, float)
        nm, (z, y, x).
    settings : dict, optional
        The model's "vesicles" settings (:data:`emseg.models.VESICLE_DEFAULTS`): how added
        vesicles are refined.
    """

    def __init__(self, volume, labels, table, voxel_size, *, settings=None):
        import pandas as pd

        from ..models.config import check_vesicle_options

        self.volume = check_nd_array(volume, "volume", ndims=(3,), allow_bool=False)
        labels = check_label_array(labels, "labels", ndims=(3,))
        if labels.shape != self.volume.shape:
            raise ValueError(f"labels shape {labels.shape} differs from the volume's "
                             f"{self.volume.shape}")
        if labels.dtype != np.int32 or not labels.flags.c_contiguous or not labels.flags.writeable:
            raise ValueError(f"labels must be a writeable C-contiguous int32 array (edited in "
                             f"place), got {labels.dtype}")
        self.labels = labels
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
        missing = {"Label", "X", "Y", "Z"} - set(table.columns)
        if missing:
            raise ValueError(f"table: no column {sorted(missing)[0]} (a vesicle table is needed)")
        self.table = table.reset_index(drop=True).copy()
        self.voxel_size = tuple(check_spacing(voxel_size, 3, "voxel_size"))
        self.settings = check_vesicle_options(dict(settings or {}))
        self._undo = []
        self._mean_profile = None

    # ------------------------------------------------------------------ queries

    @property
    def refined(self):
        """Whether the table holds refined spheres (a Radius per vesicle)."""
        return "Radius" in self.table.columns

    def __len__(self):
        return len(self.table)

    def label_at(self, point):
        """The vesicle label at ``point`` (voxels, z y x; rounded), 0 for none or outside."""
        idx = np.round(np.asarray(point, float)).astype(int)
        if idx.shape != (3,) or np.any(idx < 0) or np.any(idx >= self.labels.shape):
            return 0
        return int(self.labels[tuple(idx)])

    def can_undo(self):
        return bool(self._undo)

    def radii(self):
        """Every vesicle's radius in nm, in table order: the refined sphere's, or the segment's
        equivalent one (NaN where the table has neither)."""
        if self.refined:
            return self.table["Radius"].to_numpy(float)
        if "EqDiameter" in self.table.columns:
            return self.table["EqDiameter"].to_numpy(float) / 2
        return np.full(len(self.table), np.nan)

    def radius_guess(self):
        """Starting radius (nm) of an added vesicle: the median vesicle's, else 20 nm."""
        r = self.radii()
        r = r[np.isfinite(r) & (r > 0)]
        return float(np.median(r)) if len(r) else 20.0

    # ------------------------------------------------------------------ edits

    def add(self, point, *, radius_nm=None):
        """Add a vesicle around ``point`` (voxels, z y x; e.g. a click): its sphere is refined
        against the tomogram from there (as the pipeline refines a segment), shrunk where it
        would overlap a neighbour, drawn where no vesicle is, and tabulated.

        Returns
        -------
        int
            The new vesicle's label.

        Raises
        ------
        ValueError
            When the point is outside the tomogram or on a vesicle, when the profile there
            shows no membrane, or when no room is left between the neighbours.
        """
        from ..models.config import SPHERE_KEYWORDS, refine_keywords
        from ..segment.spheres import refine_sphere

        p = np.asarray(point, float)
        if p.shape != (3,) or not np.all(np.isfinite(p)):
            raise ValueError(f"point must be three finite numbers (z, y, x), got {point!r}")
        if np.any(p < -0.5) or np.any(p > np.asarray(self.labels.shape) - 0.5):
            raise ValueError(f"point {tuple(np.round(p, 1))} is outside the tomogram "
                             f"{self.labels.shape}")
        there = self.label_at(p)
        if there:
            raise ValueError(f"vesicle {there} is already there")
        r0 = self.radius_guess() if radius_nm is None else float(radius_nm)
        if not (np.isfinite(r0) and r0 > 0):
            raise ValueError(f"radius_nm must be a positive number, got {radius_nm!r}")
        s = self.settings
        keywords = refine_keywords(s)
        centre, fit, profile, moves = refine_sphere(
            self.volume, p, r0, voxel_size=self.voxel_size,
            **{k: keywords[k] for k in SPHERE_KEYWORDS})
        if not fit.valid:
            raise ValueError(f"no vesicle membrane around {tuple(np.round(p, 1))}: the radial "
                             "profile there has no minimum darker than both lumen and outside")
        radius = min(float(fit.radius), self._room(centre))
        if radius < 0.25 * float(fit.radius):
            raise ValueError(f"no room for a vesicle of radius {fit.radius:.1f} nm there: the "
                             "neighbouring vesicles overlap it")
        label = int(self.table["Label"].max()) + 1 if len(self.table) else 1
        voxels = self._draw(centre, radius, label)
        if len(voxels) == 0:
            raise ValueError("the refined sphere covers no free voxel")
        before = self.table
        row = self._row(label, centre, radius, fit, profile, moves, len(voxels))
        import pandas as pd
        table = pd.concat([before, pd.DataFrame([row])[before.columns]], ignore_index=True)
        self.table = self._rescore(table)
        self._undo.append(("add", label, voxels, before))
        return label

    def remove(self, label):
        """Remove vesicle ``label`` (its row and its voxels)."""
        label = int(label)
        rows = np.flatnonzero(self.table["Label"].to_numpy(int) == label)
        if label <= 0 or len(rows) == 0:
            raise ValueError(f"there is no vesicle {label}")
        voxels = np.flatnonzero(self.labels.ravel() == label)
        self.labels.ravel()[voxels] = 0
        before = self.table
        self.table = self._rescore(before.drop(index=rows).reset_index(drop=True))
        self._undo.append(("remove", label, voxels, before))

    def undo(self):
        """Take the last edit back; returns what it was ("add" or "remove") or None."""
        if not self._undo:
            return None
        kind, label, voxels, table = self._undo.pop()
        self.labels.ravel()[voxels] = 0 if kind == "add" else label
        self.table = table
        return kind

    def result(self):
        """``(labels, table)`` numbered 1..n in table order (copies), as saved."""
        ids = self.table["Label"].to_numpy(int)
        lut = np.zeros(int(max(ids.max(initial=0), self.labels.max(initial=0))) + 1, np.int32)
        lut[ids] = np.arange(1, len(ids) + 1, dtype=np.int32)
        labels = lut[self.labels]
        table = self.table.copy()
        table["Label"] = np.arange(1, len(ids) + 1)
        return labels, table

    # ------------------------------------------------------------------ helpers

    def _room(self, centre):
        """The largest radius (nm) a sphere at ``centre`` may have without overlapping the
        table's spheres."""
        if len(self.table) == 0:
            return np.inf
        size = np.asarray(self.voxel_size)
        pos = np.column_stack([self.table[c].to_numpy(float) for c in ("Z", "Y", "X")])
        c_nm = (np.asarray(centre, float) + 0.5) * size
        d = np.linalg.norm(pos - c_nm, axis=1)
        room = d - np.nan_to_num(self.radii())
        return float(max(room.min(), 0.0))

    def _draw(self, centre, radius, label):
        """Draw the sphere where no vesicle is; returns the flat indices it took."""
        from ..measure.radial import distance_grid, profile_box

        size = np.asarray(self.voxel_size)
        box = profile_box(self.labels.shape, centre, radius, size)
        if any(b.stop <= b.start for b in box):
            return np.zeros(0, np.int64)
        local = [c - b.start for c, b in zip(centre, box)]
        inside = distance_grid([b.stop - b.start for b in box], local, size) <= radius
        view = self.labels[box]
        take = inside & (view == 0)
        view[take] = label
        grid = np.ix_(*[np.arange(b.start, b.stop) for b in box])
        flat = np.ravel_multi_index(tuple(np.broadcast_arrays(*grid)), self.labels.shape)
        return flat[take]

    def _row(self, label, centre, radius, fit, profile, moves, voxels):
        """The new vesicle's table row (every column a sphere table has)."""
        dz, dy, dx = self.voxel_size
        volume = voxels * dz * dy * dx
        border = bool(np.any(np.asarray(centre) - radius / np.asarray(self.voxel_size) < -0.5)
                      or np.any(np.asarray(centre) + radius / np.asarray(self.voxel_size)
                                > np.asarray(self.labels.shape) - 0.5))
        return {"Label": label, "X": (centre[2] + 0.5) * dx, "Y": (centre[1] + 0.5) * dy,
                "Z": (centre[0] + 0.5) * dz, "Radius": radius, "Diameter": 2 * radius,
                "Thickness": fit.thickness, "MembraneIntensity": fit.membrane_intensity,
                "LumenIntensity": fit.lumen_intensity,
                "Correlation": self._correlation(profile, fit),
                "Mahalanobis": np.nan, "PValue": np.nan, "Refined": int(moves),
                "Border": border, "Voxels": int(voxels), "Volume": volume,
                "EqDiameter": float(np.cbrt(6 * volume / np.pi)), "Threshold": np.nan}

    def _correlation(self, profile, fit):
        """Correlation of an added vesicle's profile with the mean profile of the table's
        vesicles (measured once, at their refined centres and radii)."""
        from ..measure.radial import fit_membrane, radial_profile
        from ..segment.outliers import profile_correlations
        from ..workflows.vesicles import table_centres

        if not self.refined or len(self.table) == 0:
            return np.nan
        if self._mean_profile is None:
            size = np.asarray(self.voxel_size)
            profiles, fits = [], []
            centres = table_centres(self.table, size)
            for c, row in zip(centres, self.table.itertuples()):
                if getattr(row, "Border", False):
                    continue
                try:
                    p = radial_profile(self.volume, c, voxel_size=size,
                                       max_radius_nm=1.5 * row.Radius
                                       + self.settings["refine_margin_nm"])
                except ValueError:
                    continue
                profiles.append(p)
                fits.append(fit_membrane(p, row.Radius, edge=self.settings["refine_edge"],
                                         offset_nm=self.settings["refine_offset_nm"]))
            self._mean_profile = (profiles, fits)
        profiles, fits = self._mean_profile
        if not profiles:
            return np.nan
        return float(profile_correlations(profiles + [profile], fits + [fit])[-1])

    def _rescore(self, table):
        """Mahalanobis distances and p-values of the vesicles as they now are (vesicles cut by
        the faces are scored but not part of the reference, as in the pipeline)."""
        from ..segment.outliers import mahalanobis_pvalues
        from ..segment.spheres import FEATURES

        if not set(FEATURES) <= set(table.columns) or len(table) == 0:
            return table
        feats = table[list(FEATURES)].to_numpy(float)
        reference = ~table["Border"].to_numpy(bool) if "Border" in table.columns else None
        d2, p = mahalanobis_pvalues(feats, reference=reference)
        table = table.copy()
        table["Mahalanobis"], table["PValue"] = d2, p
        return table
