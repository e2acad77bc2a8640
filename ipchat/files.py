"""Writing files so that a crash leaves either the old content or the new, never half of it."""

from __future__ import annotations

import contextlib
import hashlib
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


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Unwritable(OSError):
    """No place could hold the folder; `problems` says why for each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def make_folder(places, make: Callable[[Path], object], check: Callable[[Path], object]) -> tuple[Path, object]:
    """Make a folder with `make(staging)` in a staging folder beside the first of `places` that can be
    written, then rename it into place (move_into_place, with `check`); return (folder, what make returned).
    A failure leaves no staging folder behind. Raises Unwritable when no place could be written."""
    problems = []
    for folder in map(Path, places):
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.making-", dir=folder.parent))
        except OSError as exc:
            problems.append(f"{folder.parent}: {exc.strerror or exc}")
            continue
        try:
            made = make(staging)
            staging.chmod(0o755)  # mkdtemp makes it private; the folder is read by whoever runs ipchat
            move_into_place(staging, folder, check)
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror or exc}")
            continue
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return folder, made
    raise Unwritable(problems)
