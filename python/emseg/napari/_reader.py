"""napari reader: MRC/REC tomograms (image layer at their voxel size in nm), EMSeg's
``<stem>_labels.mrc`` (labels layer, with the ``<stem>_vesicles.csv`` beside it as its table)
and ``<stem>_vesicles.csv`` alone (a points layer of the vesicle centres)."""

from pathlib import Path

import numpy as np

__all__ = ["get_reader", "read"]

_VOLUMES = (".mrc", ".rec", ".map")


def get_reader(path):
    """The reader function for ``path``, or None when EMSeg does not read it (napari then
    asks another plugin)."""
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    name = str(path).lower()
    if name.endswith(_VOLUMES) or name.endswith("_vesicles.csv"):
        return read
    return None


def _stem(path, suffix):
    name = Path(path).name
    return name[:-len(suffix)] if name.lower().endswith(suffix) else None


def read(path):
    """Layer data tuples of one file (see :func:`get_reader`)."""
    from .. import io

    path = Path(path[0] if isinstance(path, (list, tuple)) else path)
    if path.name.lower().endswith("_vesicles.csv"):
        return [_points(path)]
    volume, size, meta = io.read_volume(path)
    scale = tuple(float(s) for s in size) if size is not None else (1.0, 1.0, 1.0)
    stem = next((s for s in (_stem(path, f"_labels{e}") for e in _VOLUMES) if s), None)
    if stem is not None:
        table_path = path.with_name(f"{stem}_vesicles.csv")
        table = io.read_table(table_path) if table_path.is_file() else None
        labels = np.asarray(volume).astype(np.int32)
        return [(labels, {"name": f"{stem} vesicles", "scale": scale,
                          "metadata": {"emseg_table": table, "emseg_voxel_size": size,
                                       "emseg_path": str(path)}}, "labels")]
    return [(volume, {"name": path.name, "scale": scale, "colormap": "gray",
                      "metadata": {"emseg_voxel_size": size, "emseg_path": str(path)}},
             "image")]


def _points(path):
    """Vesicle centres of a vesicle table as points (world nm), sized by their diameter. The
    voxel grid (voxel ``i`` spans ``[i, i + 1) x size``) comes from the labels beside it."""
    from .. import io

    table = io.read_table(path)
    missing = {"X", "Y", "Z"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: no column {sorted(missing)[0]}: not an EMSeg vesicle table")
    stem = _stem(path, "_vesicles.csv")
    size = None
    for ext in _VOLUMES + (".tif",):
        sibling = path.with_name(f"{stem}_labels{ext}")
        if sibling.is_file():
            size = io.read_volume(sibling)[1]
            break
    half = np.zeros(3) if size is None else 0.5 * np.asarray(size, float)
    centres = table[["Z", "Y", "X"]].to_numpy(float) - half
    column = "Diameter" if "Diameter" in table.columns else "EqDiameter"
    sizes = table[column].to_numpy(float) if column in table.columns else 10.0
    return (centres, {"name": f"{stem} centres", "size": sizes, "features": table,
                      "face_color": "transparent", "border_color": "yellow",
                      "projection_mode": "all", "metadata": {"emseg_table": table}},
            "points")
