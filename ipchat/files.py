"""Writing files so that a crash leaves either the old content or the new, never half of it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def stage_file(path: Path, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path`, flushed to disk; returns the temporary path.

    The caller renames it over `path` (os.replace) when everything it belongs with is ready.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these files are read like the rest of data/
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename."""
    tmp = stage_file(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def swap_folder(staging: Path, target: Path) -> None:
    """Replace the folder `target` (if any) by `staging` with renames; the old one is removed only once the new
    one is in place, and put back if the rename fails."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def move_into_place(staging: Path, folder: Path, check: Callable[[Path], object]) -> None:
    """Rename the finished folder `staging` to `folder`. When another process put one there first and
    `check(folder)` passes, that one is kept; one that fails it (FileNotFoundError, or the ModelError
    of a bad hash) is replaced."""
    from .errors import ModelError

    try:
        os.rename(staging, folder)
        return
    except OSError:
        if not folder.exists():
            raise
    with contextlib.suppress(FileNotFoundError, ModelError):
        check(folder)
        return
    swap_folder(staging, folder)
