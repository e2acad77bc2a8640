"""Sentence models run by onnxruntime: an export made once from hash-checked weights, cached, checked
before every load, and an Embedder over it.

Two exports use it: the int8 encoder of the answer model (ipchat.int8, opt-in) and the safety model
all-mpnet-base-v2 in fp32 (ipchat.mpnet, the default runtime of the safety backstop when onnxruntime is
installed: a follow-up's three texts in 86 ms against torch's 109 ms on one thread, the same vectors to 1e-6).

An export lives in a folder of its own (the model file and export.json). The folder is written under a
temporary name and renamed into place, so a crash leaves no half-made model. export.json records the
recipe's version, the sha256 of the weights it was made from and of the model file; all three are
checked before every load, and an export that fails the check is made again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .embedding import QUERY_TEXTS, Progress, query_threads
from .errors import ModelError
from .files import Unwritable, make_folder, sha256_file

log = logging.getLogger(__name__)

RECORD_FILE = "export.json"

# onnxruntime's telemetry writes a device id under ~/.cache/Microsoft on import, outside the workspace, unless told
# not to before it is first imported (int8.py and mpnet.py import this module before onnxruntime).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def check_export(folder: Path, version: int, source_sha256: str, model_file: str) -> dict:
    """The record (export.json) of the export in `folder` once `model_file` matches the sha256 it records.

    Raises FileNotFoundError when there is no export there, ModelError when it is incomplete, made by
    another recipe (`version`) or from other weights (`source_sha256`), or its model file fails the check."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / RECORD_FILE} is missing or unreadable ({type(exc).__name__})") from None
    if not isinstance(record, dict) or record.get("export_version") != version or \
            record.get("source_sha256") != source_sha256:
        raise ModelError(f"{folder} was made by another recipe or from other weights")
    path = folder / model_file
    if not path.is_file() or sha256_file(path) != record.get("sha256"):
        raise ModelError(f"{path} does not match the sha256 recorded in {RECORD_FILE}")
    return record


def ensure_export(places: Sequence[Path], make: Callable[[Path], dict], check: Callable[[Path], dict],
                  what: str, fallback: str) -> tuple[Path, dict]:
    """The first folder of `places` holding an export that passes `check`, with its record; else one made
    now by `make(staging)` into the first of `places` that can be written.

    `what` names the export in messages ("the int8 encoder"); `fallback` says what to do instead when
    no place can be written. Raises ModelError then, or when `make` does."""
    for folder in places:
        try:
            return Path(folder), check(folder)
        except FileNotFoundError:
            continue
        except ModelError as exc:
            log.warning("%s: %s; making it again", what, exc)
    try:
        folder, record = make_folder(list(places), make, check)
    except Unwritable as exc:
        raise ModelError(f"Cannot write {what} anywhere (" + "; ".join(exc.problems) + "). "
                         f"Set IPCHAT_HOME to a writable folder, or {fallback}.") from None
    log.info("%s made in %s (sha256 %s)", what, folder, record["sha256"][:12])
    return folder, check(folder)


def export_pooled(model, tokenizer, path: Path, inputs: Sequence[str]) -> None:
    """torch.onnx export of `model` (a transformers encoder loaded with the plain "eager" attention) with
    sentence-transformers' mean pooling over the tokens and L2 normalisation, into `path`. Its inputs are
    `inputs` (the tokenizer's names, batch × tokens), its output `embedding` (batch × dimension)."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = model

        def forward(self, *tensors):
            hidden = self.transformer(**dict(zip(inputs, tensors))).last_hidden_state
            mask = tensors[list(inputs).index("attention_mask")].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = tokenizer(["a short text", "a somewhat longer text for the export"], padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in inputs} | {"embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes and the exporter's deprecation
        torch.onnx.export(Pooled().eval(), tuple(sample[n] for n in inputs), str(path), input_names=list(inputs),
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)


def export_fp32(model_dir: Path, staging: Path, *, model_name: str, source_sha256: str, version: int,
                inputs: Sequence[str], model_file: str = "model.onnx") -> dict:
    """`model_file` (fp32, pooled and normalised: export_pooled) and export.json in `staging`, from the
    sentence-transformers model in `model_dir` (its weights already checked against `source_sha256`);
    returns the record check_export reads."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    export_pooled(model, tokenizer, staging / model_file, inputs)
    return write_record(staging, model_file, version=version, encoder="fp32", model_name=model_name,
                        source_sha256=source_sha256, dimension=int(model.config.hidden_size),
                        max_tokens=max_seq_length(model_dir, tokenizer),
                        recipe="torch.onnx (eager attention) + mean pooling + L2, fp32",
                        made_with={"torch": torch.__version__}, started=started)


def write_record(folder: Path, model_file: str, *, version: int, encoder: str, model_name: str, source_sha256: str,
                 dimension: int, max_tokens: int, recipe: str, made_with: dict, started: float) -> dict:
    """Write export.json for the export `model_file` in `folder` (its sha256 taken now) and return it: what
    check_export reads back. `started` is the perf_counter() time the export began."""
    record = {
        "export_version": version,
        "encoder": encoder,
        "model": model_name,
        "source_sha256": source_sha256,
        "sha256": sha256_file(folder / model_file),
        "dimension": dimension,
        "max_tokens": max_tokens,
        "recipe": recipe,
        "made_with": made_with,
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def max_seq_length(model_dir: Path, tokenizer) -> int:
    """The sequence length sentence-transformers uses for the model in `model_dir` (sentence_bert_config.json)."""
    try:
        value = json.loads((Path(model_dir) / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
        return int(value)
    except (OSError, ValueError, KeyError, TypeError):
        return int(min(tokenizer.model_max_length, 512))


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class OnnxEmbedder:
    """The Embedder protocol over an export: the model's own tokenizer, pooling and normalisation.

    A query (at most QUERY_TEXTS texts) runs on IPCHAT_QUERY_THREADS threads (default 1), a build on
    every core, in batches of similar length. Each thread count has its own onnxruntime session, made
    when first needed."""

    def __init__(self, ort, model_path: Path, tokenizer_dir: Path, record: dict, *, name: str, encoder: str,
                 batch_size: int = 32, threads: int | None = None):
        from transformers import AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self._ort = ort
        self.model_path = Path(model_path)
        self.tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
        self.name = name
        self.encoder = encoder
        self.encoder_sha256 = record["sha256"]
        self.semantic = True
        self.dimension = int(record["dimension"])
        self.max_tokens = int(record["max_tokens"])
        self.batch_size = batch_size
        self.build_threads = threads or cpu_count()
        self.query_threads = query_threads()
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()

    def _session(self, threads: int):
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                options = self._ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                session = self._ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
                self._sessions[threads] = session
            return session

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        session = self._session(self.query_threads if len(texts) <= QUERY_TEXTS else self.build_threads)
        names = [i.name for i in session.get_inputs()]
        # As for fp32: batches of similar length pad less. A query's few texts go in one batch: for the safety
        # model a follow-up's three texts took 86 ms so against 116 ms one at a time, unpadded.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for begin in range(0, len(texts), self.batch_size):
            rows = order[begin:begin + self.batch_size]
            encoded = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                     max_length=self.max_tokens, return_tensors="np")
            out[rows] = session.run(None, {n: np.asarray(encoded[n], dtype=np.int64) for n in names})[0]
            if progress:
                progress(begin + len(rows), len(texts))
        return out
