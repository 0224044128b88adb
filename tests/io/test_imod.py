"""IMOD models of vesicles: read back with imodmodel and parsed by hand from the IMOD binary
model-file specification (https://bio3d.colorado.edu/imod/doc/binspec.html)."""

import struct

import imodmodel
import numpy as np
import pytest

from emseg import io


def parse_by_spec(data):
    """A minimal reader of the IMOD binary layout, independent of imodmodel: big-endian ID
    'IMOD' 'V1.2', the 232-byte model header, then OBJT (176 bytes), CONT (16-byte header and
    3 floats per point), SIZE (a byte count, one float per point) chunks, ending with IEOF."""
    assert data[:8] == b"IMODV1.2"
    name = data[8:136].rstrip(b"\0").decode()
    xmax, ymax, zmax, objsize = struct.unpack(">4i", data[136:152])
    flags, drawmode, mousemode, black, white = struct.unpack(">I4i", data[152:172])
    offsets = struct.unpack(">3f", data[172:184])
    scales = struct.unpack(">3f", data[184:196])
    obj, cont, point, res, thresh = struct.unpack(">5i", data[196:216])
    pixsize, units, csum = struct.unpack(">fii", data[216:228])
    pos = 240
    objects = []
    while True:
        tag = data[pos:pos + 4]
        pos += 4
        if tag == b"IEOF":
            break
        if tag == b"OBJT":
            oname = data[pos:pos + 64].rstrip(b"\0").decode()
            contsize, oflags = struct.unpack(">iI", data[pos + 128:pos + 136])
            red, green, blue = struct.unpack(">3f", data[pos + 144:pos + 156])
            objects.append({"name": oname, "contsize": contsize, "flags": oflags,
                            "colour": (red, green, blue), "points": [], "sizes": []})
            pos += 176
        elif tag == b"CONT":
            psize, cflags, time, surf = struct.unpack(">iIii", data[pos:pos + 16])
            pos += 16
            pts = struct.unpack(f">{3 * psize}f", data[pos:pos + 12 * psize])
            objects[-1]["points"].append(np.reshape(pts, (psize, 3)))
            pos += 12 * psize
        elif tag == b"SIZE":
            (nbytes,) = struct.unpack(">i", data[pos:pos + 4])
            objects[-1]["sizes"].append(np.array(struct.unpack(f">{nbytes // 4}f",
                                                                 data[pos + 4:pos + 4 + nbytes])))
            pos += 4 + nbytes
        else:                      # any other chunk: its size, then its bytes
            (nbytes,) = struct.unpack(">i", data[pos:pos + 4])
            pos += 4 + nbytes
    return {"name": name, "max": (xmax, ymax, zmax), "objsize": objsize, "scales": scales,
            "offsets": offsets,
            "pixsize": pixsize, "units": units, "objects": objects}


def test_vesicles_as_scattered_points_with_sizes(tmp_path):
    centres = np.array([[10.2, 20.5, 30.7], [5.0, 6.0, 7.25], [40.0, 1.0, 99.5]])   # z, y, x
    radii = np.array([22.0, 15.5, 30.0])                                            # nm
    path = io.write_imod_points(tmp_path / "t_vesicles.mod", centres, radii, (64, 128, 256),
                                (3.3, 2.2, 2.2), name="t vesicles")
    spec = parse_by_spec(path.read_bytes())
    assert spec["max"] == (256, 128, 64) and spec["objsize"] == 1
    assert spec["pixsize"] == pytest.approx(2.2) and spec["units"] == -9          # nm
    assert spec["scales"] == pytest.approx((1.0, 1.0, 1.5))                      # z scale 3.3/2.2
    assert spec["offsets"] == (0.0, 0.0, 0.0)
    (obj,) = spec["objects"]
    assert obj["name"] == "t vesicles" and obj["contsize"] == 1
    assert obj["flags"] & (1 << 9)                   # IMOD's scattered-points flag (bit 9)
    pts = obj["points"][0]
    # voxel (k, j, i) is the point (i + 0.5, j + 0.5, k)
    assert np.allclose(pts, np.column_stack([centres[:, 2] + 0.5, centres[:, 1] + 0.5,
                                             centres[:, 0]]), atol=1e-5)
    assert np.allclose(obj["sizes"][0], radii / 2.2, atol=1e-5)                  # pixels of x
    # imodmodel reads the same
    df = imodmodel.read(path)
    assert np.allclose(df[["x", "y", "z"]].to_numpy(), pts, atol=1e-5)
    back, sizes, shape, pixel = io.read_imod_points(path)
    assert np.allclose(back, centres, atol=1e-5) and np.allclose(sizes, radii / 2.2, atol=1e-5)
    assert shape == (64, 128, 256) and pixel == pytest.approx(2.2)


def test_no_vesicles_and_bad_input(tmp_path):
    path = io.write_imod_points(tmp_path / "none.mod", np.zeros((0, 3)), [], (8, 8, 8), (1,) * 3)
    spec = parse_by_spec(path.read_bytes())
    assert spec["objects"][0]["contsize"] == 0
    assert len(io.read_imod_points(path)[0]) == 0
    with pytest.raises(ValueError, match=r"\.mod"):
        io.write_imod_points(tmp_path / "x.txt", np.zeros((1, 3)), [1.0], (8, 8, 8), (1,) * 3)
    with pytest.raises(ValueError, match="radii_nm"):
        io.write_imod_points(tmp_path / "x.mod", np.zeros((2, 3)), [1.0], (8, 8, 8), (1,) * 3)
    with pytest.raises(ValueError, match="finite"):
        io.write_imod_points(tmp_path / "x.mod", np.full((1, 3), np.nan), [1.0], (8, 8, 8),
                             (1,) * 3)
    assert not (tmp_path / "x.mod").exists()
    (tmp_path / "junk.mod").write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a readable IMOD model"):
        io.read_imod_points(tmp_path / "junk.mod")
