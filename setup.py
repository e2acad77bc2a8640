"""Packaging hook: the wheel carries copies of the bundled corpus/ and index/ (ipchat/bundled/), so an
installed ipchat answers from any folder. The repository's top-level corpus/ and index/ stay the source
of truth; tests/test_packaging.py checks the copies in a built wheel match them byte for byte."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("corpus", "index")


class BuildWithBundledData(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads corpus/ and index/ from the checkout itself
        target = Path(self.build_lib) / "ipchat" / "bundled"
        for name in BUNDLED:
            if target.joinpath(name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(ROOT / name, target / name)


setup(cmdclass={"build_py": BuildWithBundledData})
