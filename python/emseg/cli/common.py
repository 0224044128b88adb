"""What every command shares: exit codes, the one-line error, the parser
class, option types, batch reporting, progress bars, output names."""

import argparse
import os
import sys

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "UsageError", "Parser", "pixel_size_arg",
           "finish", "tile_bar", "file_stem", "exit_with_jvm"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, no usage dump; exit 2 as argparse does.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def pixel_size_arg(text):
    """'7.344' or '7.3,7.5' (width,height) in nm."""
    try:
        parts = [float(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid pixel size {text!r}: give NM or W,H in nm") from None
    if len(parts) not in (1, 2) or not all(p > 0 and p < float("inf") for p in parts):
        raise argparse.ArgumentTypeError(f"invalid pixel size {text!r}: give NM or W,H in nm (> 0)")
    # same bounds as emseg.io.PLAUSIBLE_NM (not imported: --help stays instant)
    if not all(0.01 <= p <= 1e4 for p in parts):
        raise argparse.ArgumentTypeError(
            f"invalid pixel size {text!r}: EM pixels are 0.01 nm to 10 µm; give the size in nm")
    return (parts[0], parts[-1])


def finish(command, failures, total, what):
    """List a batch's failures on stderr; exit code 2 if there were any."""
    for f in failures:
        print(f"emseg {command}: error: {f}", file=sys.stderr)
    if failures:
        print(f"emseg {command}: {len(failures)} of {total} {what} failed", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def tile_bar(desc, *, disable=False):
    """A tqdm bar over an image's tiles and the ``progress(done, total)`` callback feeding it."""
    from tqdm import tqdm

    tiles = tqdm(desc=desc, unit="tile", leave=False, file=sys.stderr, disable=disable)

    def progress(done, total):
        tiles.total = total
        tiles.n = done
        tiles.refresh()
    return tiles, progress


def file_stem(path):
    """File name without its image extension (``a.ome.tif`` -> ``a``, ``a.b.tif`` -> ``a.b``)."""
    name = path.name
    for ext in (".ome.tiff", ".ome.tif"):
        if name.lower().endswith(ext):
            return name[:-len(ext)]
    return path.stem


def exit_with_jvm(code):
    """Leave at once: tearing Python down under a running JVM (with ImageJ's and TensorFlow's
    threads) can abort with "FATAL: exception not rethrown" after the work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def class_map_arg(spec, option="--class-map"):
    """``(class names, value map)`` of a class-map option: ``VALUES=NAME;...`` or a file
    holding it (see :func:`emseg.workflows.parse_class_map`)."""
    from pathlib import Path

    from .. import io
    from ..workflows.training import parse_class_map
    if "=" not in spec:
        if not Path(spec).is_file():
            raise UsageError(f"{option} {spec}: neither VALUES=NAME;... nor a file")
        spec = io.read_text(spec)
    try:
        return parse_class_map(spec)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
