"""What every command shares: exit codes, the one-line error, the parser
class, option types, batch reporting, progress bars, output names."""

import argparse
import os
import sys

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "UsageError", "Parser", "pixel_size_arg",
           "finish", "tile_bar", "exit_with_jvm", "output_folder", "unique_stems",
           "check_outputs", "dask_option", "run_batch"]

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


def output_folder(text, option="--output"):
    """The output folder ``text`` as a Path (created later, when there is something to write);
    a UsageError when it names an existing file."""
    from pathlib import Path

    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {out} exists and is not a folder")
    return out


def unique_stems(paths):
    """The inputs' output stems; a UsageError when two would write the same files."""
    from ..workflows.files import file_stem

    stems = [file_stem(p) for p in paths]
    dup = {s for s in stems if stems.count(s) > 1}
    if dup:
        raise UsageError(f"several inputs are named {sorted(dup)[0]!r}: their outputs would collide")
    return stems


def check_outputs(paths, inputs):
    """A UsageError when one of ``paths`` is one of the ``inputs`` (resolved paths)."""
    for path in paths:
        if path.resolve() in inputs:
            raise UsageError(f"output {path} would overwrite an input file")


def _dask_address(text):
    import re

    if text == "local" or re.fullmatch(r"[a-z][a-z0-9+]*://\S+|[\w.-]+:\d+", text):
        return text
    raise argparse.ArgumentTypeError(
        f"--dask takes a scheduler address (tcp://HOST:PORT) or 'local', got {text!r} (put "
        "--dask after the files, or write --dask=local)")


def dask_option(p):
    """Add ``--dask [ADDRESS]`` and ``--dask-workers N`` to a batch command's parser."""
    p.add_argument("--dask", nargs="?", const="local", type=_dask_address, metavar="ADDRESS",
                   help="run the files as Dask tasks: without ADDRESS on a local cluster (one "
                        "worker process per core, the model loaded once per worker), with "
                        "ADDRESS (tcp://HOST:PORT) on a running Dask scheduler's workers, "
                        "which must see the files, the output folder and the model at the "
                        "same paths")
    p.add_argument("--dask-workers", type=int, metavar="N",
                   help="with --dask and no ADDRESS: the local cluster's workers (default: one "
                        "per core)")


def run_batch(args, command, job, calls, *, unit="file", tiles=True, here=()):
    """Run a batch command's file jobs (serially, or on Dask with ``--dask``), print each
    file's lines as it finishes under a progress bar over the files.

    ``here``: with ``--dask``, the calls run in this process with the client (see
    :func:`emseg.workflows.run_jobs`).

    Returns
    -------
    (list of FileOutcome, list of str)
        The outcomes in the order of ``calls`` and the failed files' errors.
    """
    from contextlib import nullcontext

    from tqdm import tqdm

    from ..workflows.cluster import dask_client, run_jobs

    address = getattr(args, "dask", None)
    workers = getattr(args, "dask_workers", None)
    if workers is not None and (workers < 1 or address != "local"):
        raise UsageError("--dask-workers needs --dask without an address, and at least 1 worker"
                         if workers >= 1 else f"--dask-workers must be at least 1, got {workers}")
    bar = tqdm(total=len(calls), desc=command, unit=unit, file=sys.stderr,
               disable=len(calls) < 2)

    def done(i, outcome):
        bar.update(1)
        for line in outcome.lines:
            tqdm.write(line, file=sys.stdout)

    def serial(*a, **kw):       # here (not on Dask), each file shows its tiles' progress
        name = getattr(a[0], "name", a[0])
        bar_, progress = tile_bar(f"  {name}")
        try:
            return job(*a, progress=progress, **kw)
        finally:
            bar_.close()

    context = (nullcontext() if address is None
               else dask_client(None if address == "local" else address, workers=workers))
    try:
        with context as client:
            outcomes = run_jobs(job if client is not None or not tiles else serial, calls,
                                client=client, on_done=done, here=here)
    finally:
        bar.close()
    return outcomes, [o.error for o in outcomes if o.error is not None]


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
