"""``emseg info`` (what an image or volume file holds, and its pixel/voxel size) and
``emseg convert`` (any readable image to a calibrated ImageJ TIFF)."""

import sys

from .common import UsageError, finish


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

    c = sub.add_parser("convert",
                       help="write images as calibrated ImageJ TIFFs (DM3/DM4, SER, EMD, ...)",
                       description=(
                           "Write each 2D image (any format EMSeg reads: DM3/DM4, SER, EMD, MRC, "
                           "TIFF with vendor metadata, ...) as <stem>.tif in --output: 8-bit, "
                           "16-bit or 32-bit as ImageJ holds it, with the file's pixel size as "
                           "ImageJ calibration, so that Fiji and any TIFF reader see the scale. "
                           "A volume (MRC/REC tomogram) becomes an ImageJ stack with its voxel "
                           "size (plain ImageJ reads no MRC). The Fiji plugin's Open Microscope "
                           "File... uses it."))
    c.add_argument("files", nargs="+", metavar="FILE", help="image or volume file(s)")
    c.add_argument("--output", "-o", metavar="DIR", required=True, help="output folder (created)")
    c.set_defaults(func=cmd_convert)


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


def cmd_convert(args):
    from pathlib import Path

    from .. import io
    from ..workflows.convert import imagej_image, imagej_volume
    from ..workflows.files import file_stem
    from ..workflows.segment import volume_input

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} exists and is not a folder")
    paths = [Path(p) for p in args.files]
    stems = [file_stem(p) for p in paths]
    if len(set(stems)) < len(stems):
        raise UsageError("several inputs have the same name: their outputs would collide")
    failures = []
    for path, stem in zip(paths, stems):
        target = out / f"{stem}.tif"
        try:
            if target.exists() and target.resolve() == path.resolve():
                raise ValueError(f"{path}: converting would overwrite the input")
            volume = volume_input(path)
            image, size, source = imagej_volume(path) if volume else imagej_image(path)
        except (ValueError, TypeError, OSError) as exc:
            failures.append(f"{exc}")
            continue
        out.mkdir(parents=True, exist_ok=True)
        if volume:
            io.write_image(target, image, voxel_size=size)
            print(f"{path} -> {target} ({image.dtype}, {image.shape[2]}x{image.shape[1]}x"
                  f"{image.shape[0]}, voxel size {io.describe_size(size, source)})")
            continue
        io.write_image(target, image, size)
        print(f"{path} -> {target} ({image.dtype}, {image.shape[1]}x{image.shape[0]}, pixel size "
              f"{io.describe_size(size, source)})")
    return finish("convert", failures, len(paths), "file(s)")
