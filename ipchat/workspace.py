"""Where ipchat reads its bundled corpus and index, and where it writes: the workspace.

Everything ipchat writes (added and fetched documents, the local index, feedback) goes under one
folder, the workspace home:

1. `$IPCHAT_HOME` (the CLI's `--home`), when set;
2. else the current directory, when it is an ipchat project (it has `corpus/sources.toml`), as a
   clone of the repository is;
3. else the user data directory (`platformdirs.user_data_dir("ipchat")`, for example
   `~/.local/share/ipchat`).

The bundled corpus and index are read from the workspace when it is a project, else from the copies
shipped inside the package (`ipchat/bundled/`, made from the repository's `corpus/` and `index/` when
the wheel is built). Nothing is ever written into the installed package, nor into a project folder
that is not the workspace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "IPCHAT_HOME"
PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root when the package runs from a checkout (editable install or clone).
SOURCE_ROOT = PACKAGE_DIR.parent
#: Where a built wheel keeps its copies of corpus/ and index/.
BUNDLED_DIR = PACKAGE_DIR / "bundled"


def is_project(folder: Path) -> bool:
    """True when `folder` is an ipchat project: it has a corpus manifest at corpus/sources.toml."""
    return (Path(folder) / "corpus" / "sources.toml").is_file()


def bundled_root() -> Path:
    """The folder holding the bundled corpus/ and index/: the checkout this package runs from, else
    the copies inside the installed package."""
    return SOURCE_ROOT if is_project(SOURCE_ROOT) else BUNDLED_DIR


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("ipchat", appauthor=False))


@dataclass(frozen=True)
class Workspace:
    """The resolved workspace: `home` holds everything written; `project` says whether it is a project
    folder (with its own corpus/ and index/) or a plain data folder using the bundled ones."""

    home: Path
    project: bool
    reason: str  # how `home` was chosen, for `ipchat info`

    @property
    def corpus(self) -> Path:
        return (self.home if self.project else bundled_root()) / "corpus"

    @property
    def committed_index(self) -> Path:
        """The index of the bundled text alone: never written by add, remove or fetch."""
        return (self.home if self.project else bundled_root()) / "index"

    @property
    def local_index(self) -> Path:
        """The index once documents are added or fetched."""
        return self.home / "data" / "index"

    @property
    def added_dir(self) -> Path:
        return self.home / "data" / "added"

    @property
    def fetched_dir(self) -> Path:
        return self.home / "data" / "fetched"

    @property
    def feedback_file(self) -> Path:
        return self.home / "feedback" / "feedback.jsonl"


def workspace(environ=None, cwd: Path | None = None) -> Workspace:
    """The workspace for this environment and working directory (see the module docstring)."""
    environ = os.environ if environ is None else environ
    given = environ.get(HOME_ENV)
    if given:
        home = Path(given).expanduser().resolve()
        return Workspace(home, is_project(home), f"${HOME_ENV}")
    cwd = Path.cwd() if cwd is None else Path(cwd)
    if is_project(cwd):
        return Workspace(cwd.resolve(), True, "the current directory is an ipchat project")
    return Workspace(user_data_dir(), False, "the user data directory")
