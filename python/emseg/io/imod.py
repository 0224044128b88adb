"""IMOD model files (``.mod``) of vesicles: one scattered point per vesicle, its radius as the
point size, written with the ``imodmodel`` package (no IMOD installation needed).

IMOD's model coordinates are in pixels of the tomogram, x and y at pixel centres ``i + 0.5``
and z at section ``k`` (the voxel with 0-based index ``(k, j, i)`` is the point
``(i + 0.5, j + 0.5, k)``); point sizes are in pixels of x. The header carries the tomogram's
size, the voxel size in nm (units -9, IMOD's code for nm) and the z scale of anisotropic
voxels, so 3dmod shows the spheres where they are. Layout: the IMOD binary model file
specification (https://bio3d.colorado.edu/imod/doc/binspec.html).
"""

from pathlib import Path

import numpy as np

from .files import atomic_write

__all__ = ["IMOD_SUFFIXES", "write_imod_points", "read_imod_points"]

IMOD_SUFFIXES = (".mod",)
_NM = -9                # IMOD's unit code for nanometres


def write_imod_points(path, centres, radii_nm, shape, voxel_size, *, name="vesicles",
                      colour=(1.0, 0.85, 0.0)):
    """Write spheres as an IMOD model of scattered points.

    Parameters
    ----------
    path : str or Path
        The ``.mod`` file (written atomically).
    centres : (n, 3) array
        Centres in voxels (z, y, x) of the tomogram; voxel ``i``'s centre is at ``i``.
    radii_nm : (n,) array
        Radii in nm (written as point sizes in pixels of x).
    shape : (int, int, int)
        The tomogram's shape (z, y, x), for the header.
    voxel_size : (float, float, float)
        nm, (z, y, x).
    name : str, optional
        The object's name.
    colour : (float, float, float), optional
        The object's colour (red, green, blue in 0-1).
    """
    from imodmodel.models import Contour, ImodModel, ModelHeader, Object, ObjectHeader

    path = Path(path)
    if path.suffix.lower() not in IMOD_SUFFIXES:
        raise ValueError(f"path must end in .mod, got {path.name!r}")
    c = np.asarray(centres, float).reshape(-1, 3)
    r = np.asarray(radii_nm, float).reshape(-1)
    if len(r) != len(c):
        raise ValueError(f"radii_nm has {len(r)} values for {len(c)} centres")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(r)) and np.all(r >= 0)):
        raise ValueError("centres and radii_nm must be finite, radii >= 0")
    dz, dy, dx = (float(v) for v in voxel_size)
    points = np.column_stack([c[:, 2] + 0.5, c[:, 1] + 0.5, c[:, 0]]).astype(np.float32)
    header = ModelHeader(name=str(name)[:128], xmax=int(shape[2]), ymax=int(shape[1]),
                         zmax=int(shape[0]), pixelsize=dx, units=_NM, zscale=dz / dx,
                         yscale=dy / dx)
    obj = Object(header=ObjectHeader(name=str(name)[:64], red=colour[0], green=colour[1],
                                     blue=colour[2], pdrawsize=0))
    obj.header.flags.scattered = True
    obj.header.flags.open = False
    if len(points):
        obj.contours = [Contour(points=points, point_sizes=(r / dx).astype(np.float32))]
    obj.update_sizes()
    model = ImodModel(header=header, objects=[obj])
    model.update_sizes()
    atomic_write(path, lambda tmp: model.to_file(tmp))
    return path


def read_imod_points(path):
    """The scattered points of an IMOD model: ``(centres (n, 3) z/y/x voxels, radii (n,) in
    pixels of x, (zmax, ymax, xmax), pixel size)``, all objects and contours together (for
    reading EMSeg's own models back and users' corrected ones)."""
    from imodmodel.models import ImodModel

    try:
        model = ImodModel.from_file(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # the parser's own errors on a file that is no model
        raise ValueError(f"{path}: not a readable IMOD model ({exc})") from None
    pts, sizes = [], []
    for obj in model.objects:
        for cont in obj.contours:
            p = np.asarray(cont.points, float).reshape(-1, 3)
            pts.append(p)
            s = cont.point_sizes
            sizes.append(np.asarray(s, float).reshape(-1) if s is not None and len(s) == len(p)
                         else np.full(len(p), float(obj.header.pdrawsize)))
    p = np.concatenate(pts) if pts else np.zeros((0, 3))
    centres = np.column_stack([p[:, 2], p[:, 1] - 0.5, p[:, 0] - 0.5])
    h = model.header
    return (centres, np.concatenate(sizes) if sizes else np.zeros(0),
            (h.zmax, h.ymax, h.xmax), float(h.pixelsize))
