"""Build hook: ship the repository's default models (``../models``) inside the wheel.

``pip install ./python`` builds the wheel in this folder, where ``../models``
is the repository's model folder; each model in it (a folder with
``model.yaml``) is copied into ``emseg/bundled_models/`` of the wheel, so that
``emseg demo`` and the defaults work without the source checkout. Editable
installs read ``../models`` in place and copy nothing.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODELS = Path(__file__).resolve().parent.parent / "models"


class BuildWithModels(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "emseg" / "bundled_models"
        for yaml in sorted(MODELS.glob("*/model.yaml")):
            shutil.copytree(yaml.parent, target / yaml.parent.name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithModels})
