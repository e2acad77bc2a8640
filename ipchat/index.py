"""The index directory: FAISS dense vectors, a bm25s keyword index, the chunk store and meta.json.

No pickle anywhere: FAISS's own format, .npy arrays, JSON and JSON lines. Written to a temporary
directory and renamed into place, so a crash never leaves half an index.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import __version__
from .chunking import Chunker
from .corpus import corpus_digest, load_corpus, load_manifest
from .embedding import Embedder, encoder_of
from .errors import IndexMismatchError, IndexMissingError, IpchatError
from .files import swap_folder
from .keywords import SpellingMap, keyword_tokens
from .settings import ChunkerSettings, Settings, committed_index, local_index, project_corpus
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


def _portable_path(path: Path, index_dir: Path) -> str:
    """`path` relative to the index folder when both live in one project or workspace (the index in
    index/ or data/index/ beside it), so a committed or packaged index works wherever it is copied."""
    path, index_dir = Path(path).resolve(), Path(index_dir).resolve()
    for root in (index_dir.parent, index_dir.parent.parent):
        if path.is_relative_to(root):
            return Path(os.path.relpath(path, index_dir)).as_posix()
    return str(path)


def _resolve_path(stored: str, index_dir: Path) -> Path:
    """A path `_portable_path` stored, made absolute again. Indexes written before paths were kept
    relative to the index folder hold them relative to the project: those are found beside it."""
    path = Path(stored)
    if path.is_absolute():
        return path
    candidates = [Path(index_dir) / path, Path(index_dir).parent / path, Path(index_dir).parent.parent / path]
    return next((c.resolve() for c in candidates if c.exists()), candidates[0].resolve())


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


#: HNSW search breadth: recall@10 0.978 against exact search at 1M chunks (64 gave 0.933; eval/scale.py).
HNSW_EF_SEARCH = 128


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
    _sentence_offsets: dict[str, range] | None = None

    @property
    def model(self) -> str:
        return self.meta["model"]

    @property
    def spelling(self) -> SpellingMap:
        if self._spelling is None:  # built on first need: most queries are spelt like the corpus
            self._spelling = SpellingMap(self.bm25.vocab_dict)
        return self._spelling

    def sentence_rows(self, chunk_id: str) -> range:
        """Rows of `sentence_vectors` holding the sentences of chunk `chunk_id`, in order.

        Raises KeyError for a chunk not in this index."""
        if self._sentence_offsets is None:  # built once: the index never changes after loading
            self._sentence_offsets = {c.chunk_id: span for c, span in zip(self.chunks, _sentence_spans(self.chunks))}
        return self._sentence_offsets[chunk_id]

    # -- the store interface (ipchat.stores.Store): what retrieval and answers call -----------------

    @property
    def location(self) -> str:
        """Where the index lives, as messages name it."""
        return str(self.directory)

    @property
    def vocabulary(self) -> Mapping[str, int]:
        """Every keyword token of the indexed passages (keywords.keyword_tokens), with an id."""
        return self.bm25.vocab_dict

    def chunk(self, key: int) -> Chunk:
        """The chunk stored under `key` (its row)."""
        return self.chunks[key]

    def dense_search(self, vector: np.ndarray, n: int) -> dict[int, float]:
        """The n chunks nearest `vector` by inner product: {key: score}."""
        scores, ids = self.dense.search(np.asarray(vector, dtype=np.float32)[None, :], min(n, self.dense.ntotal))
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def dense_scores(self, vector: np.ndarray, keys: Sequence[int]) -> dict[int, float]:
        """Inner product of `vector` with the given chunks."""
        stored = np.vstack([self.dense.reconstruct(int(i)) for i in keys]) if keys else np.zeros((0, len(vector)))
        return {int(i): float(s) for i, s in zip(keys, stored @ vector)}

    def keyword_search(self, terms: Sequence[str], n: int) -> tuple[list[int], Mapping[int, float]]:
        """BM25 over `terms` (index words, as keywords.query_terms gives them): the n best chunks with a
        positive score, best first (ties by key), and the score of every chunk (0 for none)."""
        vocabulary = self.vocabulary
        ids = [vocabulary[t] for t in terms if t in vocabulary]
        if not ids:
            return [], _ArrayScores(np.zeros(len(self.chunks), dtype=np.float32))
        scores = np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)
        top = [int(i) for i in np.argsort(-scores, kind="stable")[:n] if scores[i] > 0]
        return top, _ArrayScores(scores)

    def sentence_vectors_of(self, chunk_ids: Sequence[str]) -> list[np.ndarray]:
        """For each chunk id, the vectors of its sentences in order (one row per sentence)."""
        out = []
        for chunk_id in chunk_ids:
            rows = self.sentence_rows(chunk_id)
            out.append(self.sentence_vectors[rows.start:rows.stop])
        return out


class _ArrayScores(Mapping):
    """A score per chunk row, read from an array: the Mapping keyword_search returns."""

    def __init__(self, scores: np.ndarray):
        self._scores = scores

    def __getitem__(self, key: int) -> float:
        return float(self._scores[key])

    def get(self, key, default=0.0):
        return float(self._scores[key]) if 0 <= key < len(self._scores) else default

    def __iter__(self):
        return iter(range(len(self._scores)))

    def __len__(self) -> int:
        return len(self._scores)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass(frozen=True)
class BuildReport:
    """What a build did: the meta.json it wrote; per document whose chunks were embedded, (chunks,
    seconds) — the seconds are that document's share of the embedding pass, by number of texts; and
    the number of chunks of every document (meta["reused_chunks"] says how many were taken over)."""

    meta: dict
    embedded: dict[str, tuple[int, float]]
    chunk_counts: dict[str, int]


@dataclass(frozen=True)
class _Stored:
    """A document with its chunks and their vectors; the vectors are None until embedded."""

    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray | None
    sentence_vectors: np.ndarray | None


def build_index(settings: Settings, embedder: Embedder, progress: Callable[[int, int], None] | None = None,
                documents: list[Document] | None = None, *, added_dir: Path | None = None) -> dict:
    """Build the index of `settings.corpus` (or of `documents`) into `settings.index`, embedding every
    chunk; returns its meta.json content. `added_dir` is the folder of added documents to include
    (default: data/added/ for the project corpus, none for another).

    Raises CorpusError / ManifestError for a bad corpus, ModelError for a bad model. On any failure the
    existing index is left as it was.
    """
    return update_index(settings, embedder, progress, documents, reuse_from=(), added_dir=added_dir).meta


def update_index(settings: Settings, embedder: Embedder, progress: Callable[[int, int], None] | None = None,
                 documents: list[Document] | None = None, *, reuse_from: tuple[Path, ...] | list[Path] | None = None,
                 added_dir: Path | None = None) -> BuildReport:
    """Build the index of `settings.corpus` (or of `documents`) into `settings.index`, embedding only
    the documents that no index in `reuse_from` (default: `settings.index` itself) already holds with
    the same text and sections, built with the same model and chunker. The dense and keyword indexes
    are rebuilt from the stored vectors and the chunk texts, which costs no embedding.

    Returns a BuildReport. Raises CorpusError / ManifestError for a bad corpus, ModelError for a bad
    model, IpchatError when nothing is left to index. On any failure the existing index is left as it was.
    """
    import faiss

    bm25s = _bm25s()
    started = time.perf_counter()
    if documents is None:
        documents = load_corpus(settings.corpus, added_dir=added_dir)
    _refuse_unshippable_text(settings, documents)
    stored: dict[str, _Stored] = {}
    for directory in ((settings.index,) if reuse_from is None else reuse_from):
        for doc_id, item in _stored_documents(Path(directory), settings, embedder).items():
            stored.setdefault(doc_id, item)

    parts, embedded = chunk_and_embed(settings, embedder, documents, stored, progress)
    chunks = [c for part in parts for c in part.chunks]
    if not chunks:
        raise IpchatError(f"Corpus {settings.corpus} produced no text to index.")
    dimension = embedder.dimension
    vectors = np.vstack([np.asarray(part.vectors, dtype=np.float32).reshape(-1, dimension) for part in parts])
    sentence_vectors = np.vstack([np.asarray(part.sentence_vectors, dtype=np.float32).reshape(-1, dimension)
                                  for part in parts])
    dense = build_dense_index(vectors, settings.hnsw_threshold)
    bm25 = bm25s.BM25()
    bm25.index([keyword_tokens(passage_text(c)) for c in chunks], show_progress=False)
    embedded_chunks = sum(n for n, _ in embedded.values())

    meta = {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        **encoder_meta(embedder),
        "dimension": dimension,
        "model_max_tokens": embedder.max_tokens,
        "chunker": settings.chunker.as_dict(),
        "corpus_path": _portable_path(settings.corpus, settings.index),
        "corpus_digest": corpus_digest(documents),
        "documents": len(documents),
        "chunks": len(chunks),
        "dense_index": "hnsw" if hasattr(dense, "hnsw") else "flat",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": _versions(),
    }
    if added_dir is not None:
        meta["added_dir"] = _portable_path(added_dir, settings.index)
    if embedded_chunks < len(chunks):
        meta["reused_chunks"] = len(chunks) - embedded_chunks
    target = Path(settings.index)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; an index is shared like any other build output
    try:
        faiss.write_index(dense, str(staging / DENSE))
        bm25.save(str(staging / BM25_DIR))
        np.save(staging / SENTENCES, sentence_vectors, allow_pickle=False)
        _write_jsonl(staging / CHUNKS, (dataclasses.asdict(c) for c in chunks))
        _write_jsonl(staging / DOCUMENTS, (_document_row(d) for d in documents))
        meta["build_seconds"] = round(time.perf_counter() - started, 2)
        (staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        swap_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildReport(meta, embedded, {part.document.doc_id: len(part.chunks) for part in parts})


def encoder_meta(embedder: Embedder) -> dict:
    """What meta.json records of the encoder: {"encoder": "fp32"}, or the int8 one with its export's sha256.
    An index without "encoder" (built before encoders could be chosen) is fp32."""
    encoder, sha256 = encoder_of(embedder)
    return {"encoder": encoder} | ({"encoder_sha256": sha256} if sha256 else {})


def built_encoder(meta: Mapping) -> tuple[str, str | None]:
    """(encoder, sha256 of its export or None) that built the index whose meta this is."""
    return meta.get("encoder", "fp32"), meta.get("encoder_sha256")


def check_encoder(meta: Mapping, encoder: str, directory: Path | str, *, rebuild: str | None = None,
                  sha256: str | None = None) -> None:
    """Raise IndexMismatchError when the index was built by another encoder than `encoder` (or, given
    `sha256`, by another int8 export): its vectors are not comparable with this encoder's."""
    flag = "" if encoder == "fp32" else f" --encoder {encoder}"
    rebuild = f"Rebuild it with: {rebuild or f'ipchat build --index {directory}'}{flag}"
    built, built_sha = built_encoder(meta)
    if built != encoder:
        raise IndexMismatchError(f"Index at {directory} was built with the {built} encoder, not {encoder}. {rebuild} "
                                 f"(or keep using it with --encoder {built} / IPCHAT_ENCODER={built})")
    if sha256 is not None and built_sha is not None and sha256 != built_sha:
        raise IndexMismatchError(f"Index at {directory} was built with another {built} export ({built_sha[:12]}, this one is "
                                 f"{sha256[:12]}). {rebuild}")


def chunk_and_embed(settings: Settings, embedder: Embedder, documents: Sequence[Document],
                    stored: Mapping[str, _Stored] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> tuple[list[_Stored], dict[str, tuple[int, float]]]:
    """Each document with its chunks and their vectors, in order: taken from `stored` when it holds the
    document with the same text and sections, else chunked and embedded (passages and sentences in one
    pass). Returns (documents with vectors, {doc_id: (chunks, seconds)} for those embedded).

    Raises IpchatError when the embedder returns vectors of the wrong shape; whatever it raises."""
    stored = stored or {}
    chunker = Chunker(settings.chunker, embedder.count_tokens, embedder.max_tokens)
    parts: list[_Stored] = []
    for doc in documents:
        old = stored.get(doc.doc_id)
        # Chunks and what is embedded depend only on the text and its sections; a new title or URL keeps them.
        if old is not None and old.document.text == doc.text and old.document.sections == doc.sections:
            parts.append(dataclasses.replace(old, document=doc))
        else:
            parts.append(_Stored(doc, chunker.chunk(doc), None, None))

    fresh = [i for i, part in enumerate(parts) if part.vectors is None]
    # Passages for retrieval and single sentences for quoting, embedded in one pass.
    texts_per_doc = [[passage_text(c) for c in parts[i].chunks] +
                     [sentence_text(c, j) for c in parts[i].chunks for j in range(len(c.sentences))] for i in fresh]
    texts = [t for group in texts_per_doc for t in group]
    embedded: dict[str, tuple[int, float]] = {}
    if texts:
        mark = time.perf_counter()
        all_vectors = embedder.embed(texts, progress=progress)
        seconds = time.perf_counter() - mark
        if all_vectors.shape != (len(texts), embedder.dimension):
            raise IpchatError(f"Embedder returned shape {all_vectors.shape}, expected ({len(texts)}, {embedder.dimension}).")
        offset = 0
        for i, group in zip(fresh, texts_per_doc):
            n = len(parts[i].chunks)
            parts[i] = dataclasses.replace(parts[i], vectors=all_vectors[offset:offset + n],
                                           sentence_vectors=all_vectors[offset + n:offset + len(group)])
            offset += len(group)
            embedded[parts[i].document.doc_id] = (n, seconds * len(group) / len(texts))
    for i, part in enumerate(parts):
        if part.vectors is None:  # a document with no chunks: nothing to embed
            parts[i] = dataclasses.replace(part, vectors=np.zeros((0, embedder.dimension), dtype=np.float32),
                                           sentence_vectors=np.zeros((0, embedder.dimension), dtype=np.float32))
    return parts, embedded


def _stored_documents(directory: Path, settings: Settings, embedder: Embedder) -> dict[str, _Stored]:
    """Per document id, the chunks and vectors held by the index at `directory`; {} when there is no
    index there, it is incomplete, or it was built with another format, model, sequence length or
    chunker (its vectors would not match what this build makes)."""
    try:
        meta = json.loads((directory / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or (meta.get("format_version"), meta.get("model"), built_encoder(meta), meta.get("dimension"),
                                      meta.get("model_max_tokens"), meta.get("chunker")) != (
            FORMAT_VERSION, embedder.name, encoder_of(embedder), embedder.dimension, embedder.max_tokens,
            settings.chunker.as_dict()):
        log.info("not reusing vectors from %s: built with other settings", directory)
        return {}
    try:
        chunks, documents, dense, sentence_vectors = _read_stores(directory)
        _check_consistent(directory, chunks, dense, sentence_vectors, embedder.dimension)
        vectors = dense.reconstruct_n(0, dense.ntotal)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexMismatchError) as exc:
        log.info("not reusing vectors from %s: %s", directory, exc)
        return {}
    rows: dict[str, list[int]] = {}
    sentence_rows: dict[str, list[int]] = {}
    for i, (chunk, span) in enumerate(zip(chunks, _sentence_spans(chunks))):
        rows.setdefault(chunk.doc_id, []).append(i)
        sentence_rows.setdefault(chunk.doc_id, []).extend(span)
    return {
        doc_id: _Stored(documents[doc_id], [chunks[i] for i in ids], vectors[ids], sentence_vectors[sentence_rows[doc_id]])
        for doc_id, ids in rows.items() if doc_id in documents
    }


def _refuse_unshippable_text(settings: Settings, documents: list[Document]) -> None:
    """The committed index/ may hold only the bundled corpus: fetched text is not ours to redistribute,
    and documents a user added are theirs."""
    if Path(settings.index).resolve() != committed_index().resolve():
        return
    try:
        bundled = {e.id for e in load_manifest(project_corpus()) if e.file}
    except IpchatError:
        return
    extra = sorted(d.doc_id for d in documents if d.doc_id not in bundled)
    if Path(settings.corpus).resolve() == project_corpus().resolve() and extra:
        raise IpchatError(
            f"index/ is committed and may hold only bundled text, but {len(extra)} fetched or added source(s) "
            f"({', '.join(extra[:3])}{'…' if len(extra) > 3 else ''}) are in the corpus. "
            f"Build into the git-ignored data/index instead: ipchat build --index {local_index()}"
        )


def _document_row(doc: Document) -> dict:
    row = dataclasses.asdict(doc)
    row["sections"] = [[s.heading, s.start, s.end] for s in doc.sections]
    if doc.pages:
        row["pages"] = [list(p) for p in doc.pages]
    else:  # documents without pages are stored exactly as before pages existed
        del row["pages"]
    return row


def _document_from_row(row: dict) -> Document:
    row = dict(row)
    row["sections"] = tuple(Section(*s) for s in row["sections"])
    row["pages"] = tuple(tuple(p) for p in row.get("pages", ()))
    return Document(**row)


def _chunk_from_row(row: dict) -> Chunk:
    return Chunk(**{**row, "sentences": tuple(tuple(s) for s in row["sentences"])})


def index_digest(directory: Path) -> str:
    """A short sha256 over every file of the index at `directory` (names and bytes), to tell copies apart."""
    digest = hashlib.sha256()
    root = Path(directory)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def read_meta(directory: Path) -> dict:
    """meta.json of the index at `directory`. Raises IndexMissingError when there is none."""
    path = Path(directory) / META
    if not path.is_file():
        raise IndexMissingError(f"No index at {directory}. Build it with: ipchat build --index {directory}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise IndexMismatchError(f"{path} is corrupt. Rebuild with: ipchat build --index {directory}") from None


def check_index(meta: dict, settings: Settings, directory: Path | str, check_corpus: bool = True, *,
                rebuild: str | None = None, format_version: int = FORMAT_VERSION) -> None:
    """Raise IndexMismatchError when the index doesn't fit the settings or its corpus has changed.

    `directory` names the index in messages (a folder, or a store's address); `rebuild` is the command
    that rebuilds it (default: ipchat build --index DIRECTORY); `format_version` the format this ipchat
    reads for that kind of store."""
    rebuild = f"Rebuild it with: {rebuild or f'ipchat build --index {directory}'}"
    if meta.get("format_version") != format_version:
        raise IndexMismatchError(f"Index at {directory} has format {meta.get('format_version')}, this ipchat reads {format_version}. {rebuild}")
    if settings.model and settings.model != meta["model"]:
        raise IndexMismatchError(f"Index at {directory} was built with model {meta['model']!r}, not {settings.model!r}. {rebuild} --model {settings.model}")
    check_encoder(meta, settings.encoder, directory, rebuild=rebuild.removeprefix("Rebuild it with: "))
    if ChunkerSettings(**meta["chunker"]) != settings.chunker:
        raise IndexMismatchError(f"Index at {directory} was built with chunker {meta['chunker']}, not {settings.chunker.as_dict()}. {rebuild}")
    if check_corpus:
        corpus = _resolve_path(meta["corpus_path"], directory)
        if not corpus.exists():
            log.warning("corpus %s of index %s not found; cannot check it is current", corpus, directory)
            return
        added_dir = _resolve_path(meta["added_dir"], directory) if meta.get("added_dir") else None
        if corpus_digest(load_corpus(corpus, added_dir=added_dir)) != meta["corpus_digest"]:
            raise IndexMismatchError(f"The corpus at {corpus} changed since the index at {directory} was built. {rebuild} --corpus {corpus}")


def load_index(settings: Settings, check_corpus: bool = True) -> Index:
    """Load and check the index at `settings.index`.

    Raises IndexMissingError when absent, IndexMismatchError when built with another model, chunker or corpus.
    """
    bm25s = _bm25s()
    directory = Path(settings.index)
    meta = read_meta(directory)
    check_index(meta, settings, directory, check_corpus)
    try:
        chunks, documents, dense, sentence_vectors = _read_stores(directory)
        if meta["dense_index"] == "hnsw":
            dense.hnsw.efSearch = max(HNSW_EF_SEARCH, settings.candidates)
        bm25 = bm25s.BM25.load(str(directory / BM25_DIR), allow_pickle=False)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise IndexMismatchError(f"Index at {directory} is incomplete or corrupt ({exc}). Rebuild it with: ipchat build --index {directory}") from None
    _check_consistent(directory, chunks, dense, sentence_vectors, meta["dimension"])
    return Index(directory, meta, chunks, documents, dense, bm25, sentence_vectors)


def _read_stores(directory: Path) -> tuple[list[Chunk], dict[str, Document], Any, np.ndarray]:
    """The chunks, documents, dense index and sentence vectors stored at `directory` (BM25 aside).
    Raises what reading them raises (OSError, ValueError, …); callers decide what that means."""
    import faiss

    chunks = [_chunk_from_row(row) for row in _read_jsonl(directory / CHUNKS)]
    documents = {row["doc_id"]: _document_from_row(row) for row in _read_jsonl(directory / DOCUMENTS)}
    dense = faiss.read_index(str(directory / DENSE))
    sentence_vectors = np.load(directory / SENTENCES, allow_pickle=False)
    return chunks, documents, dense, sentence_vectors


def _check_consistent(directory: Path, chunks: list[Chunk], dense, sentence_vectors: np.ndarray, dimension: int) -> None:
    """Raise IndexMismatchError unless there is one vector per chunk and per sentence, of `dimension`."""
    if dense.ntotal != len(chunks) or dense.d != dimension or len(sentence_vectors) != sum(len(c.sentences) for c in chunks):
        raise IndexMismatchError(f"Index at {directory} is inconsistent ({dense.ntotal} vectors, {len(chunks)} chunks). Rebuild it with: ipchat build --index {directory}")


def _sentence_spans(chunks: Sequence[Chunk]) -> list[range]:
    """For each chunk, the rows of its sentences in the index's sentence vectors (stored in chunk order)."""
    spans, start = [], 0
    for chunk in chunks:
        spans.append(range(start, start + len(chunk.sentences)))
        start += len(chunk.sentences)
    return spans
