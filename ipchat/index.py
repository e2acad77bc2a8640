"""The index directory: FAISS dense vectors, a bm25s keyword index, the chunk store and meta.json.

No pickle anywhere: FAISS's own format, .npy arrays, JSON and JSON lines. Written to a temporary
directory and renamed into place, so a crash never leaves half an index.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .chunking import Chunker, chunk_documents
from .corpus import corpus_digest, load_corpus, load_manifest
from .embedding import Embedder
from .errors import IndexMismatchError, IndexMissingError, IpchatError
from .keywords import SpellingMap, keyword_tokens
from .settings import COMMITTED_INDEX, LOCAL_INDEX, PROJECT_ROOT, ChunkerSettings, Settings
from .types import Chunk, Document, Section

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
META = "meta.json"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CHUNKS = "chunks.jsonl"
SENTENCES = "sentences.npy"
DOCUMENTS = "documents.jsonl"


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import; keep it as quiet as the rest.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"ipchat": __version__, "python": platform.python_version()}
    for name in ("faiss-cpu", "bm25s", "sentence-transformers", "numpy", "tiktoken", "torch"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _portable_path(path: Path) -> str:
    """`path` relative to the project when inside it, so a committed index works in any clone."""
    path = Path(path).resolve()
    return path.relative_to(PROJECT_ROOT).as_posix() if path.is_relative_to(PROJECT_ROOT) else str(path)


def _resolve_path(stored: str) -> Path:
    path = Path(stored)
    return path if path.is_absolute() else PROJECT_ROOT / path


def passage_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed for a chunk: its section heading, then its text.

    The heading carries the topic ("Transcranial Magnetic Stimulation (TMS)") that a chunk's own
    sentences often leave implicit; on the seed questions it raised dense hit@1 by about 0.06.
    """
    if chunk.text.startswith(chunk.section):
        return chunk.text
    return f"{chunk.section}\n{chunk.text}"


def sentence_text(chunk: Chunk, i: int) -> str:
    """What is embedded for sentence `i` of a chunk: the sentence after its section heading, as for passages."""
    start, end = chunk.sentences[i]
    sentence = chunk.text[start - chunk.start:end - chunk.start]
    return f"{chunk.section}\n{sentence}"


def build_dense_index(vectors: np.ndarray, hnsw_threshold: int):
    """Exact inner-product FAISS index, or HNSW when there are more than `hnsw_threshold` vectors."""
    import faiss

    dimension = vectors.shape[1]
    if len(vectors) > hnsw_threshold:
        index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexFlatIP(dimension)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


@dataclass
class Index:
    """A loaded index: chunks, documents, the FAISS and BM25 indexes, and what built them."""

    directory: Path
    meta: dict
    chunks: list[Chunk]
    documents: dict[str, Document]
    dense: object
    bm25: object
    sentence_vectors: np.ndarray
    _spelling: SpellingMap | None = None
    _sentence_offsets: np.ndarray | None = None

    @property
    def model(self) -> str:
        return self.meta["model"]

    @property
    def spelling(self) -> SpellingMap:
        if self._spelling is None:  # built on first need: most queries are spelt like the corpus
            self._spelling = SpellingMap(self.bm25.vocab_dict)
        return self._spelling

    def document_of(self, chunk: Chunk) -> Document:
        return self.documents[chunk.doc_id]

    def sentence_rows(self, chunk_index: int) -> range:
        """Rows of `sentence_vectors` holding the sentences of chunk number `chunk_index`, in order."""
        if self._sentence_offsets is None:
            self._sentence_offsets = np.cumsum([0] + [len(c.sentences) for c in self.chunks])
        return range(int(self._sentence_offsets[chunk_index]), int(self._sentence_offsets[chunk_index + 1]))


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build_index(settings: Settings, embedder: Embedder, progress: Callable[[int, int], None] | None = None,
                documents: list[Document] | None = None) -> dict:
    """Build the index of `settings.corpus` into `settings.index`; returns its meta.json content.

    Raises CorpusError / ManifestError for a bad corpus, ModelError for a bad model. On any failure the
    existing index is left as it was.
    """
    import faiss

    bm25s = _bm25s()
    started = time.perf_counter()
    if documents is None:
        documents = load_corpus(settings.corpus)
    _refuse_unshippable_text(settings, documents)
    chunker = Chunker(settings.chunker, embedder.count_tokens, embedder.max_tokens)
    chunks = chunk_documents(documents, chunker)
    if not chunks:
        raise IpchatError(f"Corpus {settings.corpus} produced no text to index.")
    # Passages for retrieval and single sentences for quoting, embedded in one pass.
    texts = [passage_text(c) for c in chunks] + [sentence_text(c, i) for c in chunks for i in range(len(c.sentences))]
    all_vectors = embedder.embed(texts, progress=progress)
    if all_vectors.shape != (len(texts), embedder.dimension):
        raise IpchatError(f"Embedder returned shape {all_vectors.shape}, expected ({len(texts)}, {embedder.dimension}).")
    vectors, sentence_vectors = all_vectors[:len(chunks)], all_vectors[len(chunks):]
    dense = build_dense_index(vectors, settings.hnsw_threshold)
    bm25 = bm25s.BM25()
    bm25.index([keyword_tokens(passage_text(c)) for c in chunks], show_progress=False)

    meta = {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "model_max_tokens": embedder.max_tokens,
        "chunker": settings.chunker.as_dict(),
        "corpus_path": _portable_path(settings.corpus),
        "corpus_digest": corpus_digest(documents),
        "documents": len(documents),
        "chunks": len(chunks),
        "dense_index": "hnsw" if len(chunks) > settings.hnsw_threshold else "flat",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": _versions(),
    }
    target = Path(settings.index)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; an index is shared like any other build output
    try:
        faiss.write_index(dense, str(staging / DENSE))
        bm25.save(str(staging / BM25_DIR))
        np.save(staging / SENTENCES, sentence_vectors.astype(np.float32), allow_pickle=False)
        _write_jsonl(staging / CHUNKS, (dataclasses.asdict(c) for c in chunks))
        _write_jsonl(staging / DOCUMENTS, (_document_row(d) for d in documents))
        meta["build_seconds"] = round(time.perf_counter() - started, 2)
        (staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta


def _refuse_unshippable_text(settings: Settings, documents: list[Document]) -> None:
    """The committed index/ may hold only the bundled corpus: fetched text is not ours to redistribute."""
    if Path(settings.index).resolve() != COMMITTED_INDEX.resolve():
        return
    try:
        bundled = {e.id for e in load_manifest(PROJECT_ROOT / "corpus") if e.file}
    except IpchatError:
        return
    extra = sorted(d.doc_id for d in documents if d.doc_id not in bundled)
    if Path(settings.corpus).resolve() == (PROJECT_ROOT / "corpus").resolve() and extra:
        raise IpchatError(
            f"index/ is committed and may hold only bundled text, but {len(extra)} fetched source(s) "
            f"({', '.join(extra[:3])}{'…' if len(extra) > 3 else ''}) are in the corpus. "
            f"Build into the git-ignored data/index instead: ipchat build --index {LOCAL_INDEX}"
        )


def _document_row(doc: Document) -> dict:
    row = dataclasses.asdict(doc)
    row["sections"] = [[s.heading, s.start, s.end] for s in doc.sections]
    return row


def _swap_into_place(staging: Path, target: Path) -> None:
    """Replace `target` by `staging` with renames; the old index is removed only once the new one is in place."""
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


def read_meta(directory: Path) -> dict:
    """meta.json of the index at `directory`. Raises IndexMissingError when there is none."""
    path = Path(directory) / META
    if not path.is_file():
        raise IndexMissingError(f"No index at {directory}. Build it with: ipchat build --index {directory}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise IndexMismatchError(f"{path} is corrupt. Rebuild with: ipchat build --index {directory}") from None


def check_index(meta: dict, settings: Settings, directory: Path, check_corpus: bool = True) -> None:
    """Raise IndexMismatchError when the index doesn't fit the settings or its corpus has changed."""
    rebuild = f"Rebuild it with: ipchat build --index {directory}"
    if meta.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(f"Index at {directory} has format {meta.get('format_version')}, this ipchat reads {FORMAT_VERSION}. {rebuild}")
    if settings.model and settings.model != meta["model"]:
        raise IndexMismatchError(f"Index at {directory} was built with model {meta['model']!r}, not {settings.model!r}. {rebuild} --model {settings.model}")
    if ChunkerSettings(**meta["chunker"]) != settings.chunker:
        raise IndexMismatchError(f"Index at {directory} was built with chunker {meta['chunker']}, not {settings.chunker.as_dict()}. {rebuild}")
    if check_corpus:
        corpus = _resolve_path(meta["corpus_path"])
        if not corpus.exists():
            log.warning("corpus %s of index %s not found; cannot check it is current", corpus, directory)
            return
        if corpus_digest(load_corpus(corpus)) != meta["corpus_digest"]:
            raise IndexMismatchError(f"The corpus at {corpus} changed since the index at {directory} was built. {rebuild} --corpus {corpus}")


def load_index(settings: Settings, check_corpus: bool = True) -> Index:
    """Load and check the index at `settings.index`.

    Raises IndexMissingError when absent, IndexMismatchError when built with another model, chunker or corpus.
    """
    import faiss

    bm25s = _bm25s()
    directory = Path(settings.index)
    meta = read_meta(directory)
    check_index(meta, settings, directory, check_corpus)
    try:
        dense = faiss.read_index(str(directory / DENSE))
        if meta["dense_index"] == "hnsw":
            dense.hnsw.efSearch = max(64, settings.candidates)
        bm25 = bm25s.BM25.load(str(directory / BM25_DIR), allow_pickle=False)
        sentence_vectors = np.load(directory / SENTENCES, allow_pickle=False)
        chunks = [Chunk(**{**row, "sentences": tuple(tuple(s) for s in row["sentences"])}) for row in _read_jsonl(directory / CHUNKS)]
        documents = {}
        for row in _read_jsonl(directory / DOCUMENTS):
            row["sections"] = tuple(Section(*s) for s in row["sections"])
            documents[row["doc_id"]] = Document(**row)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise IndexMismatchError(f"Index at {directory} is incomplete or corrupt ({exc}). Rebuild it with: ipchat build --index {directory}") from None
    if dense.ntotal != len(chunks) or dense.d != meta["dimension"] or len(sentence_vectors) != sum(len(c.sentences) for c in chunks):
        raise IndexMismatchError(f"Index at {directory} is inconsistent ({dense.ntotal} vectors, {len(chunks)} chunks). Rebuild it with: ipchat build --index {directory}")
    return Index(directory, meta, chunks, documents, dense, bm25, sentence_vectors)
