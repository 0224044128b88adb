"""Installed model folders: where they are and what they hold (no TensorFlow).

A model folder holds ``model.yaml`` (everything inference needs: pixel size,
tiles, normalisation, threshold, post-processing, scores), ``config.json``
(the :class:`~emseg.models.ModelConfig`, to rebuild or fine-tune) and
``saved_model/`` (the TensorFlow SavedModel). Folders are searched in the
project's ``models/`` directory (a source checkout), then in the models the
wheel ships (``emseg/bundled_models``, copied from ``models/`` at build time),
then in the user folder (``$EMSEG_MODELS`` or ``~/.local/share/emseg/models``).
"""

import os
from dataclasses import dataclass
from pathlib import Path

from .. import io

__all__ = ["DEFAULT_CLASSIFIER", "DEFAULT_MODEL", "DEFAULT_VOLUME_MODEL", "ModelInfo", "find_model", "list_models",
           "model_dirs"]

#: Segmentation model used when none is named.
DEFAULT_MODEL = "emseg-particles-sem"

#: Segmentation model used for volumes (tomograms) when none is named.
DEFAULT_VOLUME_MODEL = "emseg-vesicles-cryoet"

#: Classifier filter used when none is named.
DEFAULT_CLASSIFIER = "emseg-classifier-sem"

_REQUIRED = ("model.yaml", "saved_model")


@dataclass(frozen=True)
class ModelInfo:
    """An installed model: its folder and the parsed ``model.yaml``."""

    name: str
    path: Path
    meta: dict

    @property
    def description(self):
        return str(self.meta.get("description", ""))

    @property
    def task(self):
        """``"segmentation"`` or ``"classifier"``."""
        return str(self.meta.get("task", "segmentation"))


def model_dirs():
    """Folders searched for models, in order (existing or not)."""
    dirs = []
    repo_models = Path(__file__).resolve().parents[3] / "models"
    if repo_models.is_dir():
        dirs.append(repo_models)
    bundled = Path(__file__).resolve().parents[1] / "bundled_models"
    if bundled.is_dir():
        dirs.append(bundled)
    user = os.environ.get("EMSEG_MODELS")
    dirs.append(Path(user) if user else Path.home() / ".local" / "share" / "emseg" / "models")
    return dirs


def _is_model(folder):
    return folder.is_dir() and all((folder / f).exists() for f in _REQUIRED)


def _info(folder):
    meta = io.read_yaml(folder / "model.yaml")
    return ModelInfo(str(meta.get("name", folder.name)), folder, meta)


def list_models(extra=()):
    """All installed models (first found wins for a repeated name).

    Parameters
    ----------
    extra : sequence of path-like, optional
        Model folders, or folders of model folders, to list as well.
    """
    seen, found = set(), []
    for base in [*model_dirs(), *(Path(p) for p in extra)]:
        candidates = [base] if _is_model(base) else sorted(p for p in base.glob("*") if _is_model(p)) \
            if base.is_dir() else []
        for folder in candidates:
            info = _info(folder)
            if info.name not in seen:
                seen.add(info.name)
                found.append(info)
    return found


def find_model(name_or_path=None, *, task=None):
    """The model folder for a name or a path (the default model when None).

    Parameters
    ----------
    name_or_path : str or path-like, optional
    task : {"segmentation", "classifier"}, optional
        The kind of model required (also picks the default).

    Raises
    ------
    ValueError
        When no such model is installed, naming the places searched, or
        when the model does another task.
    """
    if task not in (None, "segmentation", "classifier"):
        raise ValueError(f"task must be 'segmentation' or 'classifier', got {task!r}")
    info = _find(name_or_path if name_or_path is not None
                 else DEFAULT_CLASSIFIER if task == "classifier" else DEFAULT_MODEL)
    if task is not None and info.task != task:
        raise ValueError(f"model {info.name!r} is a {info.task} model, not a {task} model")
    return info


def _find(name_or_path):
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path):
        raise ValueError(f"model must be a model name or folder, got {name_or_path!r}")
    path = Path(name_or_path)
    if path.exists():
        if not _is_model(path):
            raise ValueError(f"{path} is not a model folder (needs {' and '.join(_REQUIRED)})")
        return _info(path)
    for base in model_dirs():
        if _is_model(base / str(name_or_path)):
            return _info(base / str(name_or_path))
    names = [m.name for m in list_models()]
    raise ValueError(f"unknown model {str(name_or_path)!r}; installed: {', '.join(names) or 'none'} "
                     f"(searched {', '.join(str(d) for d in model_dirs())})")
