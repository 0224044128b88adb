"""Small DM3/DM4 and SER files built to the formats' published descriptions (no vendor software
or sample files here; RosettaSciIO cannot write either). Used by the reader tests.

DM3/DM4 (Gatan DigitalMicrograph; C. Boothroyd's and the DM4 notes of the Gatan format
description): big-endian header (version, file size, byte order), then a tree of tag groups
and data tags; data tags hold ``%%%%``, an info array (the type encoding) and the value in the
file's byte order. DM4 widens lengths to 8 bytes and adds an 8-byte size to every tag.

SER (FEI/Thermo Fisher TIA; the "TIA Series Data File" description): a little-endian header
(byte order 0x4949, series id 0x0197, version 0x0210), one dimension array, the data and tag
offset arrays, then per element a 2D calibration, data type, size and the pixels (bottom row
first: TIA stores y upwards).
"""

import struct

import numpy as np

#: NumPy dtype -> (DM image DataType, DM tag encoding of the Data array).
_DM_TYPES = {np.dtype(np.int16): (1, 2), np.dtype(np.float32): (2, 6), np.dtype(np.uint8): (6, 10),
             np.dtype(np.int32): (7, 3), np.dtype(np.uint16): (10, 4), np.dtype(np.uint32): (11, 5)}


class _DM:
    def __init__(self, version, little):
        self.v, self.e = version, "<" if little else ">"
        self.n = ">q" if version == 4 else ">l"      # lengths and info entries: big-endian

    def length(self, n):
        return struct.pack(self.n, n)

    def group(self, entries):
        body = bytes([0, 1]) + self.length(len(entries))        # sorted, open, tag count
        for name, value in entries:
            body += self.tag(name, value)
        return body

    def data(self, value):
        """``%%%%``, the info array and the payload of one value."""
        if isinstance(value, float):
            info, payload = [7], struct.pack(self.e + "d", value)
        elif isinstance(value, int):
            info, payload = [3], struct.pack(self.e + "l", value)
        elif isinstance(value, str):            # DM writes strings as arrays of UTF-16 units
            info, payload = [20, 4, len(value)], struct.pack(self.e + f"{len(value)}H",
                                                              *map(ord, value))
        else:                                   # image data: array of the pixel type
            arr = np.ascontiguousarray(value)
            info = [20, _DM_TYPES[arr.dtype][1], arr.size]
            payload = arr.astype(arr.dtype.newbyteorder(self.e)).tobytes()
        return b"%%%%" + self.length(len(info)) + b"".join(map(self.length, info)) + payload

    def tag(self, name, value):
        raw = name.encode("latin-1")
        if isinstance(value, list):
            kind, inner = 20, self.group(value)
        else:
            kind, inner = 21, self.data(value)
        head = bytes([kind]) + struct.pack(">h", len(raw)) + raw
        if self.v == 4:
            head += struct.pack(">q", len(inner))
        return head + inner


def write_dm(path, image, scale, units="nm", *, version=3, little=True, name="test image"):
    """Write a 2D ``image`` as a DM3 (``version=3``) or DM4 file with pixel size ``scale`` in
    ``units`` (x and y)."""
    image = np.asarray(image)
    h, w = image.shape
    dm = _DM(version, little)
    calibration = [("Origin", 0.0), ("Scale", float(scale)), ("Units", units)]
    image_data = [
        ("Calibrations", [("Brightness", [("Origin", 0.0), ("Scale", 1.0), ("Units", "")]),
                          ("Dimension", [("", list(calibration)), ("", list(calibration))])]),
        ("Data", image),
        ("DataType", _DM_TYPES[image.dtype][0]),
        ("Dimensions", [("", w), ("", h)]),
        ("PixelDepth", int(image.dtype.itemsize)),
    ]
    root = [("ImageList", [("", [("ImageData", image_data), ("ImageTags", [("Note", "emseg test")]),
                                 ("Name", name)])])]
    body = dm.group(root)
    header = struct.pack(">l", version) + dm.length(len(body) + 16) + struct.pack(">l", int(little))
    with open(path, "wb") as f:
        f.write(header + body + bytes(8 if version == 4 else 4) * 2)
    return path


#: NumPy dtype -> SER data type code.
_SER_TYPES = {np.dtype(np.uint8): 1, np.dtype(np.uint16): 2, np.dtype(np.uint32): 3,
              np.dtype(np.int8): 4, np.dtype(np.int16): 5, np.dtype(np.int32): 6,
              np.dtype(np.float32): 7, np.dtype(np.float64): 8}


def write_ser(path, image, pixel_m):
    """Write a 2D ``image`` as a one-element TIA SER file, pixel size ``pixel_m`` in metres."""
    image = np.asarray(image)
    h, w = image.shape
    header = struct.pack("<HHHIIII", 0x4949, 0x0197, 0x0210, 0x4122, 0x4152, 1, 1)
    dims = struct.pack("<IddII", 1, 0.0, 1.0, 0, 0) + struct.pack("<I", 0)   # one element
    offset_array = 30 + len(dims)
    data_at = offset_array + 8
    element = (struct.pack("<ddI", 0.0, pixel_m, 0) + struct.pack("<ddI", 0.0, pixel_m, 0)
               + struct.pack("<HII", _SER_TYPES[image.dtype], w, h)
               + np.ascontiguousarray(image[::-1]).astype(image.dtype.newbyteorder("<")).tobytes())
    tag_at = data_at + len(element)
    head = header + struct.pack("<II", offset_array, 1)
    assert len(head) == 30
    with open(path, "wb") as f:
        f.write(head + dims + struct.pack("<II", data_at, tag_at) + element
                + struct.pack("<HHI", 0x4152, 0, 0))
    return path


def write_velox_emd(path, image, pixel_m):
    """Write a 2D ``image`` as a Velox EMD file (HDF5: ``/Version``, the image under
    ``/Data/Image/<id>/Data`` as (y, x, frame), its metadata as UTF-8 JSON bytes in
    ``Metadata``, the pixel size in ``BinaryResult.PixelSize`` with ``PixelUnitX``)."""
    import json

    import h5py

    meta = {"BinaryResult": {"PixelSize": {"width": repr(pixel_m), "height": repr(pixel_m)},
                             "PixelUnitX": "m", "PixelUnitY": "m", "DetectorIndex": "0",
                             "Offset": {"x": "0", "y": "0"}},
            "Detectors": {"Detector-0": {"DetectorName": "HAADF"}},
            "Core": {"MetadataDefinitionVersion": "7.9", "MetadataSchemaVersion": "v1/2013/07"},
            "Optics": {}, "Instrument": {}, "Scan": {}, "Acquisition": {}, "Sample": {},
            "CustomProperties": {}}
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with h5py.File(path, "w") as f:
        f.create_dataset("Version", data=np.array([json.dumps({"format": "Velox",
                                                                "version": 11}).encode()]))
        group = f.create_group("Data/Image/0123456789abcdef0123456789abcdef")
        group.create_dataset("Data", data=np.asarray(image)[:, :, None])
        column = np.zeros((len(raw) + 16, 1), np.uint8)
        column[:len(raw), 0] = raw
        group.create_dataset("Metadata", data=column)
    return path


def write_ncem_emd(path, image, scale, units="nm"):
    """Write a 2D ``image`` as a Berkeley (NCEM) EMD file with RosettaSciIO's own writer."""
    from rsciio.emd import file_writer

    h, w = np.shape(image)
    axes = [{"name": n, "scale": float(scale), "units": units, "size": s, "offset": 0.0,
             "navigate": False} for n, s in (("y", h), ("x", w))]
    file_writer(str(path), {"data": np.asarray(image), "axes": axes,
                            "metadata": {"General": {"title": "test"}, "Signal": {}},
                            "original_metadata": {}})
    return path
