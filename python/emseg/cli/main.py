"""The ``emseg`` command line: parses arguments and calls the API.

Only argparse is imported at start-up so that ``--help`` and ``--version``
answer instantly; each command (one module per command family) imports what
it needs when it runs.
"""

import os
import sys

from . import (compare, evaluate, explain, imagej, info, measure, models, segment, synthesize,
               train)
from .common import EXIT_FAILURE, EXIT_USAGE, Parser, UsageError

__all__ = ["build_parser", "main"]

#: Command families, in the order ``emseg --help`` lists them.
_FAMILIES = (info, measure, evaluate, compare, segment, explain, train, models, synthesize,
             imagej)


def build_parser():
    """The ``emseg`` parser with every command's subparser."""
    from .. import __version__

    p = Parser(prog="emseg", description=(
        "Segment and measure particles and vesicles in electron micrographs; "
        "measurements are identical to ImageJ/Fiji's Analyze Particles."))
    p.add_argument("--version", action="version", version=f"emseg {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for family in _FAMILIES:
        family.add_parsers(sub)
    return p


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"emseg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError, OSError) as exc:
        print(f"emseg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("emseg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for users
        if os.environ.get("EMSEG_DEBUG"):
            raise
        print(f"emseg {args.command}: internal error: {exc.__class__.__name__}: {exc} "
              "(set EMSEG_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_FAILURE
