"""One frozen settings object: defaults, then `IPCHAT_*` environment variables, then CLI flags."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import IpchatError
from .workspace import SOURCE_ROOT, bundled_root, workspace

#: The repository root when running from a checkout (eval scripts find their question sets here).
PROJECT_ROOT = SOURCE_ROOT

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: The safety backstop's own model when its packages are installed (ipchat.mpnet); else it reads the
#: answer model's vectors. Larger than the answers' model: on labelled sets each held out in turn, its
#: classifier head found far more of the crises the rules missed at the same over-block (README, safety).
SAFETY_MODEL = "sentence-transformers/all-mpnet-base-v2"
#: How the safety model runs (IPCHAT_SAFETY_RUNTIME): onnxruntime when installed, else torch; onnxruntime (an
#: error when it can't); torch (sentence-transformers). See ipchat.mpnet.onnx_embedder.
SAFETY_RUNTIMES = ("auto", "onnx", "torch")
#: The safety screen (IPCHAT_SAFETY_SCREEN): a message whose every text the answers' model's safety head gives a
#: risk probability below this is not read by the safety model (ipchat.safety.screen); 0 turns the screen off.
SAFETY_SCREEN = 5e-5
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
FUSION_METHODS = ("weighted", "rrf")
#: How the model runs: fp32 on torch (the default), or int8 weights on onnxruntime (ipchat.int8, opt-in).
ENCODERS = ("fp32", "int8")


def committed_index(environ=None) -> Path:
    """The index of the bundled text alone (index/ of the workspace project, else the package's copy)."""
    return workspace(environ).committed_index


def local_index(environ=None) -> Path:
    """The workspace's own index (data/index/), once documents are added or fetched."""
    return workspace(environ).local_index


def project_corpus(environ=None) -> Path:
    """The corpus ipchat answers from by default: the workspace project's corpus/, else the bundled one."""
    return workspace(environ).corpus


ADDED_ENV = "IPCHAT_ADDED_DIR"
FETCHED_ENV = "IPCHAT_FETCHED_DIR"
ADDED_MANIFEST = "manifest.json"


def default_added_dir(environ=None) -> Path:
    """Where `ipchat add` keeps copies of the user's documents: $IPCHAT_ADDED_DIR, else data/added/
    in the workspace (git-ignored: a user's documents never enter the repository)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(ADDED_ENV) or workspace(environ).added_dir)


def default_fetched_dir(environ=None) -> Path:
    """Where `ipchat fetch` keeps downloaded text: $IPCHAT_FETCHED_DIR, else data/fetched/ in the
    workspace (git-ignored, so text that may not be redistributed never enters the repository)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(FETCHED_ENV) or workspace(environ).fetched_dir)


def _has_added_documents(added: Path) -> bool:
    path = added / ADDED_MANIFEST
    if not path.is_file():
        return False
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("documents"))
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: stay off the committed index; loading the corpus will say what is wrong


def encoder_index(encoder: str, environ=None) -> Path:
    """The workspace's index for an encoder other than fp32 (data/index-int8/): the bundled index is
    fp32, and stays so."""
    return workspace(environ).home / "data" / f"index-{encoder}"


def default_index(environ=None, encoder: str = "fp32") -> Path:
    """The bundled index (index/, bundled text only) — or the workspace's data/index/ (git-ignored) once
    `ipchat fetch` has brought text, or `ipchat add` documents, that must not enter the repository.
    With the int8 encoder, the workspace's data/index-int8/ (the bundled index is fp32)."""
    environ = os.environ if environ is None else environ
    if encoder != "fp32":
        return encoder_index(encoder, environ)
    fetched = default_fetched_dir(environ)
    has_fetched = fetched.is_dir() and any(p.suffix == ".md" for p in fetched.iterdir())
    return local_index(environ) if has_fetched or _has_added_documents(default_added_dir(environ)) \
        else committed_index(environ)


@dataclass(frozen=True)
class ChunkerSettings:
    """Settings that change the chunks; recorded in meta.json and checked on load."""

    max_tokens: int = 96  # cl100k tokens per chunk; chosen with eval/quality.py --chunk-tokens
    overlap_sentences: int = 0
    encoding: str = "cl100k_base"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. `model=None` means: the default model, or the one the index was built with."""

    corpus: Path = bundled_root() / "corpus"
    index: Path = bundled_root() / "index"
    model: str | None = None
    encoder: str = "fp32"  # fp32 (torch) or int8 (onnxruntime, ipchat.int8); an index records which built it
    chunker: ChunkerSettings = ChunkerSettings()
    k: int = 5
    mode: str = "hybrid"
    fusion: str = "weighted"
    dense_weight: float = 0.8  # chosen by eval/quality.py on the seed set and medquad-liveqa
    dense_min_spread: float = 0.3  # floor on the dense score range before scaling; see retrieval.weighted_fusion
    rrf_k: int = 60
    candidates: int = 50  # per retriever, before fusion
    hnsw_threshold: int = 50_000  # chunks; above it the dense index is HNSW (flat search passes 5 ms near 46k: eval/scale.py)
    batch_size: int = 32
    max_quotes: int = 5
    pool: int = 40  # passages whose sentences are scored for an answer (the k shown are its best)
    abstain_threshold: float = 0.36  # answerability below it → abstain; calibrated by eval/answers.py --sweep on the seed and held-out sets
    llm_url: str | None = None
    llm_model: str | None = None
    llm_timeout: float = 20.0
    safety_backstop: bool = True  # the semantic safety backstop, when the model's vectors carry meaning
    safety_model: str | None = None  # the backstop's model: None = SAFETY_MODEL when installed, else the answer model
    safety_runtime: str = "auto"  # how SAFETY_MODEL runs: auto (onnxruntime when installed, else torch), onnx, torch
    store: str | None = None  # where the index lives: None/"faiss" = the folder `index`; or a Milvus address (stores.py)
    query_runtime: str = "auto"  # how the bundled answer model embeds queries: auto (onnxruntime when installed), onnx, torch
    safety_screen: float = SAFETY_SCREEN  # the answers' model's screen before the safety model (0: the safety model reads all)

    def __post_init__(self) -> None:
        if self.mode not in RETRIEVAL_MODES:
            raise IpchatError(f"Unknown retrieval mode {self.mode!r}; choose one of {', '.join(RETRIEVAL_MODES)}.")
        if self.encoder not in ENCODERS:
            raise IpchatError(f"Unknown encoder {self.encoder!r}; choose one of {', '.join(ENCODERS)} (IPCHAT_ENCODER, --encoder).")
        if self.fusion not in FUSION_METHODS:
            raise IpchatError(f"Unknown fusion {self.fusion!r}; choose one of {', '.join(FUSION_METHODS)}.")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise IpchatError(f"IPCHAT_DENSE_WEIGHT must be between 0 and 1, got {self.dense_weight}.")
        if self.k < 1:
            raise IpchatError(f"k must be at least 1, got {self.k}.")
        if self.pool < 1:
            raise IpchatError(f"IPCHAT_POOL must be at least 1, got {self.pool}.")
        if self.query_runtime not in SAFETY_RUNTIMES:
            raise IpchatError(f"Unknown query runtime {self.query_runtime!r}; choose one of "
                              f"{', '.join(SAFETY_RUNTIMES)} (IPCHAT_QUERY_RUNTIME).")
        if not 0.0 <= self.safety_screen < 1.0:
            raise IpchatError(f"IPCHAT_SAFETY_SCREEN must be at least 0 and below 1, got {self.safety_screen}.")
        if self.safety_runtime not in SAFETY_RUNTIMES:
            raise IpchatError(f"Unknown safety runtime {self.safety_runtime!r}; choose one of "
                              f"{', '.join(SAFETY_RUNTIMES)} (IPCHAT_SAFETY_RUNTIME).")
        if self.llm_url and not self.llm_model:
            raise IpchatError("IPCHAT_LLM_URL is set but IPCHAT_LLM_MODEL is not; set both to use generated phrasing.")
        if self.store is not None:
            from .stores import parse_store

            parse_store(self.store)  # a malformed address fails here, before any work
        if self.chunker.max_tokens < 16:
            raise IpchatError(f"Chunk size must be at least 16 tokens, got {self.chunker.max_tokens}.")

    @property
    def model_name(self) -> str:
        """The model to build with when none is recorded yet."""
        return self.model or DEFAULT_MODEL

    def replace(self, **changes) -> "Settings":
        """A copy with `changes` applied; None values are ignored so unset CLI flags keep defaults."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **changes)

    def digest(self) -> str:
        """A short hash of every setting that shapes an answer, for meta.json and exports."""
        data = dataclasses.asdict(self)
        data["corpus"] = str(self.corpus)
        data["index"] = str(self.index)
        data.pop("llm_url")  # where the endpoint lives does not change what an answer may say
        if self.encoder == "fp32":
            data.pop("encoder")  # the default encoder: digests stay as they were before encoders could be chosen
        if self.safety_model is None:
            data.pop("safety_model")  # the default: digests stay as they were before it could be chosen
        data.pop("safety_runtime")  # the same model and vectors either way (to about 1e-6; README, safety)
        data.pop("query_runtime")  # the same vectors either way (to about 2e-7; queries.py)
        if self.safety_screen == SAFETY_SCREEN:
            data.pop("safety_screen")  # the default: digests stay as they were before the screen
        if self.store is None:
            data.pop("store")  # the default store: digests stay as they were before stores could be chosen
        else:
            from .stores import parse_store

            data["store"] = str(parse_store(self.store))  # never a password
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _env(name: str, cast, environ):
    raw = environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return cast(raw)
    except ValueError:
        raise IpchatError(f"{name}={raw!r} is not a valid {cast.__name__}.") from None


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_flag.__name__ = "on/off value"


def load_settings(environ=None, **overrides) -> Settings:
    """Settings from defaults, then environment variables, then `overrides` (CLI flags; None = unset).

    Raises IpchatError for an invalid value.
    """
    environ = os.environ if environ is None else environ
    base = Settings()
    encoder = str(overrides.get("encoder") or _env("IPCHAT_ENCODER", str, environ) or base.encoder).strip().lower()
    if encoder not in ENCODERS:  # before the index is chosen by it
        source = "--encoder" if overrides.get("encoder") else "IPCHAT_ENCODER"
        raise IpchatError(f"{source}={encoder!r} is not an encoder; choose one of {', '.join(ENCODERS)}.")
    overrides["encoder"] = encoder
    chunk_tokens = overrides.pop("chunk_tokens", None) or _env("IPCHAT_CHUNK_TOKENS", int, environ)
    chunker = base.chunker
    if chunk_tokens is not None:
        chunker = dataclasses.replace(chunker, max_tokens=chunk_tokens)
    env_values = {
        "corpus": _env("IPCHAT_CORPUS", Path, environ),
        "index": _env("IPCHAT_INDEX", Path, environ),
        "model": _env("IPCHAT_MODEL", str, environ),
        "k": _env("IPCHAT_K", int, environ),
        "pool": _env("IPCHAT_POOL", int, environ),
        "mode": _env("IPCHAT_MODE", str, environ),
        "fusion": _env("IPCHAT_FUSION", str, environ),
        "dense_weight": _env("IPCHAT_DENSE_WEIGHT", float, environ),
        "abstain_threshold": _env("IPCHAT_ABSTAIN_THRESHOLD", float, environ),
        "llm_url": _env("IPCHAT_LLM_URL", str, environ),
        "llm_model": _env("IPCHAT_LLM_MODEL", str, environ),
        "llm_timeout": _env("IPCHAT_LLM_TIMEOUT", float, environ),
        "safety_backstop": _env("IPCHAT_SAFETY_BACKSTOP", _flag, environ),
        "safety_model": _env("IPCHAT_SAFETY_MODEL", str, environ),
        "safety_runtime": _env("IPCHAT_SAFETY_RUNTIME", lambda raw: raw.strip().lower(), environ),
        "store": _env("IPCHAT_STORE", str, environ),
        "query_runtime": _env("IPCHAT_QUERY_RUNTIME", lambda raw: raw.strip().lower(), environ),
        "safety_screen": _env("IPCHAT_SAFETY_SCREEN", float, environ),
    }
    if env_values["index"] is None and overrides.get("index") is None:
        env_values["index"] = default_index(environ, encoder)
    if env_values["corpus"] is None and overrides.get("corpus") is None:
        env_values["corpus"] = project_corpus(environ)
    settings = base.replace(chunker=chunker, **env_values)
    for key in ("corpus", "index"):
        if overrides.get(key) is not None:
            overrides[key] = Path(overrides[key])
    return settings.replace(**overrides)
