"""``emseg info``: what an image or volume file holds, and its pixel/voxel size."""

import sys

from .common import finish


def add_parsers(sub):
    """Add the ``info`` command to the subparsers ``sub``."""
    i = sub.add_parser("info", help="show shape, type, value range and pixel size of files",
                       description=(
                           "For each file (TIFF, MRC/REC/MAP, PNG, JPEG): the axes and shape, the "
                           "data type, the value range, and the pixel or voxel size in nm with "
                           "where it came from (e.g. '7.344 nm from Zeiss SEM tag 34118', "
                           "'2.2 nm from MRC header'). Reads headers and pixels only: instant."))
    i.add_argument("files", nargs="+", metavar="FILE", help="image or volume file(s)")
    i.set_defaults(func=cmd_info)


def cmd_info(args):
    from ..workflows.info import file_info

    failures = []
    for path in args.files:
        try:
            info = file_info(path)
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
            continue
        for line in info.describe():
            print(line)
        sys.stdout.flush()
    return finish("info", failures, len(args.files), "file(s)")
