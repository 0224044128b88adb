"""Atomic writes and the small text formats (CSV tables, PNG figures, text, YAML).

Every writer goes through :func:`atomic_write`: a temporary file in the
target folder, then a rename, so a failure never leaves a half-written file.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "write_table", "write_png", "read_text", "write_text", "read_yaml",
           "write_yaml"]


def atomic_write(path, writer):
    """Write through a temporary file in the target folder, then rename, so that
    a failure never leaves a half-written file behind."""
    path = Path(os.fspath(path))
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=".emseg-", suffix=path.suffix, dir=folder)
    os.close(fd)
    try:
        writer(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def atomic_folder(path):
    """A temporary folder next to ``path`` to fill: when the block succeeds it replaces
    ``path`` (an existing folder there is removed), when it fails it is removed, so a
    half-written folder is never left behind."""
    path = Path(os.fspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700 folders
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_table(path, table):
    """Write a measurement table as CSV (atomically), without the pandas index."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def read_table(path):
    """Read a CSV table EMSeg wrote (a vesicle or measurement table); a missing or unreadable
    file is a ValueError naming it."""
    import pandas as pd

    path = Path(os.fspath(path))
    try:
        return pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path}: cannot read as a CSV table ({exc.__class__.__name__}: "
                         f"{exc})") from None


def write_png(path, figure):
    """Save a matplotlib figure as PNG (atomically)."""
    return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120))


def read_text(path):
    """Read a UTF-8 text file; a missing or unreadable file is a ValueError naming it."""
    path = Path(os.fspath(path))
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None


def write_text(path, text):
    """Write a UTF-8 text file atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_yaml(path):
    """Read a YAML mapping (a model's ``model.yaml``)."""
    import yaml

    try:
        data = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def write_yaml(path, data):
    """Write a mapping as block-style YAML, keys in the given order, atomically."""
    import yaml

    return write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                           default_flow_style=False))
