"""``emseg imagej`` and ``install-fiji``: ImageJ/Fiji with the EMSeg plugin."""

import sys

from .common import EXIT_FAILURE, EXIT_OK, UsageError, exit_with_jvm


def add_parsers(sub):
    """Add the ``imagej``, ``install-fiji`` commands to the subparsers ``sub``."""
    ij = sub.add_parser("imagej", help="start ImageJ/Fiji with the EMSeg plugin (optionally run a macro)",
                        description=(
                            "Start Fiji (--fiji-dir, through pyimagej) or ImageJ 1.x (--ij-jar, "
                            "default $EMSEG_IJ_JAR or /usr/share/java/ij.jar) with the EMSeg plugin, "
                            "this Python registered as its in-process backend. With --macro, run "
                            "the macro and exit with its status."))
    where = ij.add_mutually_exclusive_group()
    where.add_argument("--fiji-dir", metavar="DIR", help="Fiji.app folder (needs pyimagej)")
    where.add_argument("--ij-jar", metavar="JAR", help="ImageJ 1.x ij.jar")
    ij.add_argument("--headless", action="store_true", help="no windows (needs --macro)")
    ij.add_argument("--macro", metavar="FILE", help="ImageJ macro (.ijm) to run")
    ij.add_argument("--args", default="", metavar="STR",
                    help="argument string passed to the macro (getArgument())")
    ij.add_argument("--plugin-jar", metavar="JAR", help="EMSeg plugin jar (default: the built one)")
    ij.set_defaults(func=cmd_imagej)

    inst = sub.add_parser("install-fiji", help="install the EMSeg plugin and macros into Fiji",
                          description=(
                              "Copy the EMSeg plugin jar to Fiji.app/plugins, the batch macros to "
                              "Fiji.app/macros/EMSeg, and record this Python (or --python) for the "
                              "plugin's command-line backend."))
    inst.add_argument("--fiji-dir", required=True, metavar="DIR", help="Fiji.app folder")
    inst.add_argument("--python", metavar="EXE", help="Python with emseg installed (default: this one)")
    inst.add_argument("--plugin-jar", metavar="JAR", help="EMSeg plugin jar (default: the built one)")
    inst.set_defaults(func=cmd_install_fiji)


def cmd_imagej(args):
    from pathlib import Path

    from ..imagej.fiji import ImageJUnavailable, MacroFailed, run_macro, start
    if args.headless and not args.macro:
        raise UsageError("--headless needs --macro (there is nothing to show)")
    if args.macro and not Path(args.macro).is_file():
        raise UsageError(f"--macro {args.macro} does not exist")
    if args.args and not args.macro:
        raise UsageError("--args needs --macro")
    try:
        ij = start(fiji_dir=args.fiji_dir, ij_jar=args.ij_jar, headless=args.headless,
                   plugin_jar=args.plugin_jar)
    except ImageJUnavailable as exc:
        raise UsageError(str(exc)) from None
    if args.macro:
        try:
            result = run_macro(args.macro, args.args)
        except MacroFailed as exc:
            print(f"emseg imagej: error: {exc}", file=sys.stderr)
            exit_with_jvm(EXIT_FAILURE)
        if result:
            print(result)
        exit_with_jvm(EXIT_OK)
    import time
    if ij.IJ.getInstance() is None and args.fiji_dir is None:
        ij.ImageJ()
    print("ImageJ is running with the EMSeg plugin (Plugins > EMSeg); quit ImageJ to return.")
    time.sleep(1.0)
    while ij.IJ.getInstance() is not None:
        time.sleep(0.5)
    exit_with_jvm(EXIT_OK)


def cmd_install_fiji(args):
    from ..imagej.fiji import ImageJUnavailable, install_fiji
    try:
        written = install_fiji(args.fiji_dir, python=args.python, plugin_jar=args.plugin_jar)
    except ImageJUnavailable as exc:
        raise UsageError(str(exc)) from None
    for p in written:
        print(f"wrote {p}")
    print("Restart Fiji: the commands are under Plugins > EMSeg.")
    return EXIT_OK
