"""The Milvus store: the same index as the FAISS + bm25s folder, held by a Milvus server or cluster, or
by a Milvus Lite file on this machine (the same pymilvus calls either way).

Layout, for a store named COLLECTION (see stores.py for the addresses):

- `COLLECTION`: one record, "meta": what built the store (format, model, dimension, chunker, corpus
  digest, counts) and which generation of the collections below is in use.
- `COLLECTION__<generation>_chunks`: a row per chunk — its key (`pk`, in corpus order), id, document,
  section, text, offsets, sentence offsets, its dense vector (HNSW, inner product, as FAISS) and its
  keyword tokens (`keywords`), from which Milvus's own BM25 function makes the sparse vector that
  keyword search runs on.
- `COLLECTION__<generation>_sentences`: a row per sentence with its vector, fetched by chunk id for
  the answer module.
- `COLLECTION__<generation>_documents`: each document's text in parts of at most 16,000 characters
  (Milvus strings hold 65,535 bytes), with its title, URL, licence, sections and pages.

A build writes a new generation and switches the meta record to it only once every row is in and
counted, then drops the old generation: a failed build leaves the store as it was. `add` and `remove`
change the generation in use by document id (delete by filter, insert new rows); the meta record says
"updating" while they run, and a store left so by a crash is refused until the same command or a build
is run again.

Keyword search reads the tokens ipchat makes (keywords.keyword_tokens: lower case, stop words out,
Snowball-stemmed), written space-separated into `keywords` and split by Milvus's standard analyzer, with
BM25 k1 1.5 and b 0.75 as bm25s uses: both stores score the same terms by the same formula.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .corpus import corpus_digest, load_corpus
from .embedding import encoder_of
from .errors import IndexMismatchError, IndexMissingError, IpchatError
from .index import (BuildReport, _Stored, _versions, built_encoder, check_index, chunk_and_embed, encoder_meta,
                    passage_text)
from .keywords import SpellingMap, keyword_tokens
from .stores import StoreAddress
from .types import Chunk, Document, Section

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128  # as index.py builds and searches FAISS HNSW
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults, so both stores score alike
# How deep the keyword side looks: the fusion reads the BM25 score of every dense candidate, which the
# default store has for all chunks; here a candidate ranked below this depth counts as 0.
KEYWORD_DEPTH = 1000
MAX_LIMIT = 16384  # Milvus's largest top-k and query window
TEXT_PART = 16_000  # characters per stored part of a document: at most 64,000 UTF-8 bytes
MAX_VARCHAR = 65_535
INSERT_BATCH = 512
SENTENCE_CACHE = 4096  # chunks whose sentence vectors are kept in memory
META_KEY = "meta"
_PLACEHOLDER = [1.0, 0.0]  # Milvus wants a vector field in every collection; these two hold none
_CHUNK_FIELDS = ["pk", "chunk_id", "doc_id", "section", "text", "start", "end", "sentences", "keywords"]


class StoreUnavailableError(IpchatError):
    """The Milvus server cannot be reached, or the Milvus Lite file cannot be opened."""


def _pymilvus():
    try:
        import pymilvus
    except ImportError:
        raise IpchatError("The Milvus store needs pymilvus and milvus-lite: pip install 'ipchat[milvus]'") from None
    # pymilvus logs every failed call at ERROR before raising it; ipchat says what went wrong itself.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    # Milvus Lite serves pymilvus from a thread of this process and logs a traceback for each call it
    # does not implement (AllocTimestamp, which pymilvus asks for and then does without).
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    return pymilvus


@dataclass(frozen=True)
class Names:
    """The collections of one generation of a store."""

    chunks: str
    sentences: str
    documents: str

    @classmethod
    def of(cls, collection: str, generation: str) -> "Names":
        base = f"{collection}__{generation}"
        return cls(f"{base}_chunks", f"{base}_sentences", f"{base}_documents")

    def all(self) -> tuple[str, str, str]:
        return self.chunks, self.sentences, self.documents


def _rebuild(address: StoreAddress) -> str:
    return f"ipchat build --store {address}"


# -- connecting -------------------------------------------------------------------------------------

_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()


def connect(address: StoreAddress, *, create: bool = False):
    """A pymilvus MilvusClient for `address`, one per process and address.

    A Milvus Lite file that does not exist is made only when `create`; otherwise IndexMissingError.
    Raises StoreUnavailableError when the server cannot be reached or the file cannot be opened."""
    pymilvus = _pymilvus()
    if address.kind == "milvus-lite":
        path = Path(address.uri)
        if not path.exists():
            if not create:
                raise IndexMissingError(f"No index at {address}: {path} does not exist. Build it with: {_rebuild(address)}")
            path.parent.mkdir(parents=True, exist_ok=True)
    key = (address.uri, address.user)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        try:
            client = pymilvus.MilvusClient(uri=address.uri, user=address.user, password=address.password, timeout=30)
        except pymilvus.MilvusException as exc:
            if address.kind == "milvus-lite":
                raise StoreUnavailableError(
                    f"Cannot open the Milvus Lite file {address.uri}: another process has it open (Milvus Lite "
                    f"serves one process at a time), or it is not a Milvus Lite folder or not writable ({exc.message})."
                ) from None
            raise StoreUnavailableError(
                f"Cannot reach the Milvus server for {address}: {exc.message}. Is it running and reachable "
                "(see the README, 'Milvus store')?") from None
        _clients[key] = client
        return client


def _call(address: StoreAddress, what: str, function, *args, **kwargs):
    """`function(*args, **kwargs)`, with a Milvus failure turned into a StoreUnavailableError naming `what`."""
    pymilvus = _pymilvus()
    try:
        return function(*args, **kwargs)
    except pymilvus.MilvusException as exc:
        raise StoreUnavailableError(f"Milvus failed to {what} at {address}: {exc.message}") from exc


# -- the meta record --------------------------------------------------------------------------------

def _meta_schema(pymilvus):
    schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", pymilvus.DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("value", pymilvus.DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("placeholder", pymilvus.DataType.FLOAT_VECTOR, dim=2)
    return schema


def _flat_index(client, field: str):
    params = client.prepare_index_params()
    params.add_index(field_name=field, index_type="FLAT", metric_type="IP")
    return params


def _read_meta(client, address: StoreAddress) -> dict:
    if not _call(address, "list collections", client.has_collection, address.collection):
        raise IndexMissingError(f"No index at {address}. Build it with: {_rebuild(address)}")
    _call(address, "load the meta record", client.load_collection, address.collection)
    rows = _call(address, "read the meta record", client.query, address.collection, ids=[META_KEY],
                 output_fields=["value"])
    if not rows:
        raise IndexMissingError(f"No index at {address} (no meta record). Build it with: {_rebuild(address)}")
    try:
        meta = json.loads(rows[0]["value"])
    except (ValueError, KeyError, TypeError):
        raise IndexMismatchError(f"The meta record of {address} is corrupt. Rebuild it with: {_rebuild(address)}") from None
    if not isinstance(meta, dict):
        raise IndexMismatchError(f"The meta record of {address} is corrupt. Rebuild it with: {_rebuild(address)}")
    return meta


def _write_meta(client, address: StoreAddress, meta: dict) -> None:
    pymilvus = _pymilvus()
    if not _call(address, "list collections", client.has_collection, address.collection):
        _call(address, "create the meta record", client.create_collection, address.collection,
              schema=_meta_schema(pymilvus), index_params=_flat_index(client, "placeholder"), consistency_level="Strong")
    value = json.dumps(meta, sort_keys=True)
    if len(value.encode("utf-8")) > MAX_VARCHAR:
        raise IpchatError(f"The meta record of {address} would be {len(value)} characters, more than Milvus holds.")
    _call(address, "write the meta record", client.upsert, address.collection,
          [{"key": META_KEY, "value": value, "placeholder": _PLACEHOLDER}])
    _call(address, "flush the meta record", client.flush, address.collection)


def read_meta(address: StoreAddress) -> dict:
    """What built the store at `address`. Raises IndexMissingError when there is none."""
    return _read_meta(connect(address), address)


def _check_meta(meta: dict, address: StoreAddress, settings, check_corpus: bool) -> None:
    if meta.get("state") == "updating":
        pending = ", ".join(meta.get("pending", [])) or "documents"
        raise IndexMismatchError(
            f"An update of {pending} in {address} was interrupted. Run the same ipchat add or remove again, "
            f"or rebuild it with: {_rebuild(address)}")
    check_index(meta, settings, str(address), check_corpus, rebuild=_rebuild(address), format_version=FORMAT_VERSION)


def check_store(address: StoreAddress, settings, check_corpus: bool = True) -> dict:
    """The meta record of the store at `address`, once it is known to fit `settings`.

    Raises IndexMissingError / IndexMismatchError (with the command that rebuilds it)."""
    meta = read_meta(address)
    _check_meta(meta, address, settings, check_corpus)
    return meta


# -- rows -------------------------------------------------------------------------------------------

def _content_digest(doc: Document) -> str:
    """What chunks and vectors depend on: the text and its sections."""
    blob = json.dumps([doc.text, [[s.heading, s.start, s.end] for s in doc.sections]], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _record_digest(doc: Document) -> str:
    blob = json.dumps([doc.doc_id, doc.title, doc.url, doc.kind, doc.licence, doc.text,
                       [[s.heading, s.start, s.end] for s in doc.sections], [list(p) for p in doc.pages]],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _check_length(value: str, what: str) -> str:
    if len(value.encode("utf-8")) > MAX_VARCHAR:
        raise IpchatError(f"{what} is {len(value.encode('utf-8'))} bytes long; a Milvus string holds {MAX_VARCHAR}. "
                          "Use a smaller chunk size (--chunk-tokens) or the default store.")
    return value


def _document_rows(doc: Document, first_pk: int) -> list[dict]:
    parts = [doc.text[i:i + TEXT_PART] for i in range(0, len(doc.text), TEXT_PART)] or [""]
    record = {"title": doc.title, "url": doc.url, "kind": doc.kind, "licence": doc.licence,
              "sections": [[s.heading, s.start, s.end] for s in doc.sections], "pages": [list(p) for p in doc.pages],
              "parts": len(parts), "content_digest": _content_digest(doc), "digest": _record_digest(doc)}
    _check_length(doc.doc_id, f"Document id {doc.doc_id[:40]!r}…")
    return [{"pk": first_pk + i, "doc_id": doc.doc_id, "part": i, "text": part, "record": record if i == 0 else {},
             "placeholder": _PLACEHOLDER} for i, part in enumerate(parts)]


def _chunk_row(pk: int, chunk: Chunk, vector: np.ndarray) -> dict:
    return {"pk": pk, "chunk_id": _check_length(chunk.chunk_id, f"Chunk id {chunk.chunk_id[:40]!r}"),
            "doc_id": chunk.doc_id, "section": _check_length(chunk.section, f"The heading of {chunk.chunk_id}"),
            "text": _check_length(chunk.text, f"Chunk {chunk.chunk_id}"), "start": chunk.start, "end": chunk.end,
            "sentences": [list(s) for s in chunk.sentences],
            "keywords": _check_length(" ".join(keyword_tokens(passage_text(chunk))), f"The keywords of {chunk.chunk_id}"),
            "vector": np.asarray(vector, dtype=np.float32).tolist()}


def _chunk_from_row(row: Mapping) -> Chunk:
    return Chunk(chunk_id=row["chunk_id"], doc_id=row["doc_id"], section=row["section"], text=row["text"],
                 start=int(row["start"]), end=int(row["end"]), sentences=tuple(tuple(s) for s in row["sentences"]))


def _document_from_rows(doc_id: str, rows: Sequence[Mapping]) -> Document:
    rows = sorted(rows, key=lambda r: r["part"])
    record = rows[0]["record"]
    if rows[0]["part"] != 0 or len(rows) != record.get("parts", len(rows)):
        raise IndexMismatchError(f"Document {doc_id!r} is stored incompletely ({len(rows)} of {record.get('parts')} parts).")
    return Document(doc_id=doc_id, title=record["title"], url=record["url"], kind=record["kind"],
                    licence=record["licence"], text="".join(r["text"] for r in rows),
                    sections=tuple(Section(*s) for s in record["sections"]),
                    pages=tuple(tuple(p) for p in record.get("pages", ())))


def _filter_in(field: str, values: Iterable) -> str:
    return f"{field} in {json.dumps(list(values), ensure_ascii=False)}"


def _scan(client, address: StoreAddress, collection: str, fields: list[str], filter: str = "",
          batch: int = 2000) -> Iterator[dict]:
    """Every row of `collection` matching `filter`, with `fields` (a query iterator: no window limit)."""
    iterator = _call(address, f"read {collection}", client.query_iterator, collection, batch_size=batch,
                     filter=filter, output_fields=fields)
    try:
        while True:
            rows = _call(address, f"read {collection}", iterator.next)
            if not rows:
                return
            yield from rows
    finally:
        iterator.close()


def _count(client, address: StoreAddress, collection: str, filter: str = "") -> int:
    rows = _call(address, f"count the rows of {collection}", client.query, collection, filter=filter,
                 output_fields=["count(*)"])
    return int(rows[0]["count(*)"]) if rows else 0


# -- collections ------------------------------------------------------------------------------------

def _create_collections(client, address: StoreAddress, names: Names, dimension: int) -> None:
    pymilvus = _pymilvus()
    DataType, Function, FunctionType = pymilvus.DataType, pymilvus.Function, pymilvus.FunctionType

    chunks = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    chunks.add_field("pk", DataType.INT64, is_primary=True)
    chunks.add_field("chunk_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    chunks.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    chunks.add_field("section", DataType.VARCHAR, max_length=MAX_VARCHAR)
    chunks.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    chunks.add_field("start", DataType.INT64)
    chunks.add_field("end", DataType.INT64)
    chunks.add_field("sentences", DataType.JSON)
    chunks.add_field("keywords", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    chunks.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    chunks.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    chunks.add_function(Function(name="keywords_bm25", function_type=FunctionType.BM25,
                                 input_field_names=["keywords"], output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                     params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
    _call(address, "create the chunk collection", client.create_collection, names.chunks, schema=chunks,
          index_params=params, consistency_level="Strong")

    sentences = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    sentences.add_field("pk", DataType.INT64, is_primary=True)
    sentences.add_field("chunk_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    sentences.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    sentences.add_field("ordinal", DataType.INT64)
    sentences.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    _call(address, "create the sentence collection", client.create_collection, names.sentences, schema=sentences,
          index_params=_flat_index(client, "vector"), consistency_level="Strong")

    documents = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    documents.add_field("pk", DataType.INT64, is_primary=True)
    documents.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    documents.add_field("part", DataType.INT64)
    documents.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    documents.add_field("record", DataType.JSON)
    documents.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    _call(address, "create the document collection", client.create_collection, names.documents, schema=documents,
          index_params=_flat_index(client, "placeholder"), consistency_level="Strong")


def _drop(client, names: Iterable[str]) -> None:
    for name in names:
        try:
            if client.has_collection(name):
                client.drop_collection(name)
        except Exception as exc:  # clean-up is best effort: the meta record never points at these
            log.warning("could not drop Milvus collection %s: %s", name, exc)


@dataclass
class _Counters:
    """The next free key of each collection."""

    chunk: int = 0
    sentence: int = 0
    document: int = 0


def _insert(client, address: StoreAddress, names: Names, parts: Sequence[_Stored], counters: _Counters) -> dict[str, int]:
    """Insert the documents with their chunks and vectors under fresh keys; returns {doc_id: chunks}."""
    def flush(collection: str, rows: list[dict]) -> None:
        if rows:
            _call(address, f"insert into {collection}", client.insert, collection, rows)
            rows.clear()

    chunk_rows: list[dict] = []
    sentence_rows: list[dict] = []
    document_rows: list[dict] = []
    counts: dict[str, int] = {}
    for part in parts:
        rows = _document_rows(part.document, counters.document)
        counters.document += len(rows)
        document_rows.extend(rows)
        offset = 0
        for chunk, vector in zip(part.chunks, part.vectors):
            chunk_rows.append(_chunk_row(counters.chunk, chunk, vector))
            counters.chunk += 1
            for ordinal in range(len(chunk.sentences)):
                sentence_rows.append({"pk": counters.sentence, "chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id,
                                      "ordinal": ordinal,
                                      "vector": np.asarray(part.sentence_vectors[offset + ordinal], dtype=np.float32).tolist()})
                counters.sentence += 1
            offset += len(chunk.sentences)
        counts[part.document.doc_id] = len(part.chunks)
        for collection, rows in ((names.chunks, chunk_rows), (names.sentences, sentence_rows),
                                 (names.documents, document_rows)):
            if len(rows) >= INSERT_BATCH:
                flush(collection, rows)
    flush(names.chunks, chunk_rows)
    flush(names.sentences, sentence_rows)
    flush(names.documents, document_rows)
    return counts


def _flush(client, address: StoreAddress, names: Names) -> None:
    for name in names.all():
        _call(address, f"flush {name}", client.flush, name)


def _base_meta(settings, embedder, documents: Sequence[Document], address: StoreAddress, added_dir: Path | None) -> dict:
    meta = {
        "format_version": FORMAT_VERSION,
        "store": address.kind,
        "collection": address.collection,
        "model": embedder.name,
        **encoder_meta(embedder),
        "dimension": embedder.dimension,
        "model_max_tokens": embedder.max_tokens,
        "chunker": settings.chunker.as_dict(),
        "corpus_path": str(Path(settings.corpus).resolve()),
        "corpus_digest": corpus_digest(list(documents)),
        "documents": len(documents),
        "dense_index": "hnsw",
        "keyword_index": {"function": "BM25", "bm25_k1": BM25_K1, "bm25_b": BM25_B,
                          "tokens": "ipchat keyword_tokens, standard analyzer"},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": _versions_with_milvus(),
    }
    if added_dir is not None:
        meta["added_dir"] = str(Path(added_dir).resolve())
    return meta


def _versions_with_milvus() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = _versions()
    for name in ("pymilvus", "milvus-lite"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _generations(client, address: StoreAddress) -> set[str]:
    prefix = f"{address.collection}__"
    out = set()
    for name in _call(address, "list collections", client.list_collections):
        if name.startswith(prefix):
            for suffix in ("_chunks", "_sentences", "_documents"):
                if name.endswith(suffix):
                    out.add(name[len(prefix):-len(suffix)])
    return out


# -- build and update -------------------------------------------------------------------------------

def build_milvus(address: StoreAddress, settings, embedder, progress: Callable[[int, int], None] | None = None,
                 documents: list[Document] | None = None, *, added_dir: Path | None = None,
                 reuse_from: Sequence[Path] = ()) -> dict:
    """Build the corpus of `settings` (or `documents`) into the store at `address`, embedding every
    chunk once — or taking the vectors of a document from an index folder in `reuse_from` that holds
    it unchanged, built with the same model and chunker; returns the meta record. The new collections are switched to only when complete: on
    any failure the store is left as it was and the new collections are dropped.

    Raises CorpusError / ManifestError for a bad corpus, ModelError for a bad model, IpchatError when
    there is nothing to index, StoreUnavailableError when Milvus fails."""
    return _build(address, settings, embedder, progress, documents, added_dir=added_dir, reuse_from=reuse_from).meta


def _build(address: StoreAddress, settings, embedder, progress, documents, *, added_dir,
           reuse_from: Sequence[Path] = ()) -> BuildReport:
    from .index import _stored_documents

    started = time.perf_counter()
    if documents is None:
        documents = load_corpus(settings.corpus, added_dir=added_dir)
    client = connect(address, create=True)  # an unreachable server fails now, not after the embedding
    stored: dict[str, _Stored] = {}
    for directory in reuse_from:
        for doc_id, item in _stored_documents(Path(directory), settings, embedder).items():
            stored.setdefault(doc_id, item)
    parts, embedded = chunk_and_embed(settings, embedder, documents, stored, progress)
    chunks = sum(len(p.chunks) for p in parts)
    if not chunks:
        raise IpchatError(f"Corpus {settings.corpus} produced no text to index.")
    generation = f"g{time.strftime('%Y%m%d%H%M%S', time.gmtime())}_{secrets.token_hex(3)}"
    names = Names.of(address.collection, generation)
    try:
        old_generation = _read_meta(client, address).get("generation")
    except (IndexMissingError, IndexMismatchError):
        old_generation = None
    try:
        _create_collections(client, address, names, embedder.dimension)
        counters = _Counters()
        counts = _insert(client, address, names, parts, counters)
        _flush(client, address, names)
        sentences = sum(len(c.sentences) for p in parts for c in p.chunks)
        found = (_count(client, address, names.chunks), _count(client, address, names.sentences))
        if found != (chunks, sentences):
            raise StoreUnavailableError(f"Milvus holds {found[0]} chunks and {found[1]} sentences of the "
                                        f"{chunks} and {sentences} written to {address}; the build is abandoned.")
        meta = _base_meta(settings, embedder, documents, address, added_dir)
        meta.update({"chunks": chunks, "sentences": sentences, "generation": generation, "state": "ready",
                     "next_keys": [counters.chunk, counters.sentence, counters.document],
                     "build_seconds": round(time.perf_counter() - started, 2)})
        _write_meta(client, address, meta)  # the switch: readers see the old generation or the new one
    except BaseException:
        if not _is_live(client, address, generation):  # a record written before its flush failed is in use
            _drop(client, names.all())
        raise
    stale = _generations(client, address) - {generation}
    if old_generation:
        stale.add(old_generation)
    for old in stale:  # the old generation, and any left by a build that was killed
        _drop(client, Names.of(address.collection, old).all())
    return BuildReport(meta, embedded, counts)


def _is_live(client, address: StoreAddress, generation: str) -> bool:
    """True when the meta record points at `generation` (or cannot be read: then keep it, to be safe)."""
    try:
        return _read_meta(client, address).get("generation") == generation
    except (IndexMissingError, IndexMismatchError):
        return False
    except Exception:
        return True


def update_milvus(address: StoreAddress, settings, embedder, progress: Callable[[int, int], None] | None = None,
                  documents: list[Document] | None = None, *, added_dir: Path | None = None) -> BuildReport:
    """Bring the store at `address` to the corpus of `settings` (or `documents`) by document id: the rows
    of documents gone or changed are deleted (by filter on their id), new and changed documents are
    chunked, embedded and inserted; nothing else is touched or embedded. A store that is missing, or
    built with another format, model or chunker, is built afresh instead.

    Returns a BuildReport (chunk counts of the inserted documents only). Raises as build_milvus; when
    inserting fails, the rows inserted are deleted again and the store is as it was."""
    if documents is None:
        documents = load_corpus(settings.corpus, added_dir=added_dir)
    client = connect(address, create=True)
    try:
        meta = _read_meta(client, address)
    except (IndexMissingError, IndexMismatchError):
        return _build(address, settings, embedder, progress, documents, added_dir=added_dir)
    if (meta.get("format_version"), meta.get("model"), built_encoder(meta), meta.get("dimension"),
            meta.get("model_max_tokens"), meta.get("chunker")) != (
            FORMAT_VERSION, embedder.name, encoder_of(embedder), embedder.dimension, embedder.max_tokens,
            settings.chunker.as_dict()):
        log.info("rebuilding %s: built with other settings", address)
        return _build(address, settings, embedder, progress, documents, added_dir=added_dir)
    started = time.perf_counter()
    names = Names.of(address.collection, meta["generation"])
    for name in names.all():
        _call(address, f"load {name}", client.load_collection, name)
    stored = {row["doc_id"]: row["record"] for row in _scan(client, address, names.documents, ["doc_id", "record"],
                                                             filter="part == 0")}
    pending = set(meta.get("pending", []))
    by_id = {d.doc_id: d for d in documents}
    gone = [doc_id for doc_id in stored if doc_id not in by_id]
    fresh, relabelled = [], []
    for doc in documents:
        record = stored.get(doc.doc_id)
        if record is None or doc.doc_id in pending or record.get("content_digest") != _content_digest(doc):
            fresh.append(doc)
        elif record.get("digest") != _record_digest(doc):
            relabelled.append(doc)  # a new title or URL: its document rows change, its chunks stay
    gone += [doc_id for doc_id in pending if doc_id not in by_id and doc_id not in gone]
    replaced = [d.doc_id for d in fresh if d.doc_id in stored or d.doc_id in pending]
    if not (fresh or relabelled or gone):
        return BuildReport(meta, {}, {})

    parts, embedded = chunk_and_embed(settings, embedder, fresh, None, progress) if fresh else ([], {})
    relabel_parts = [_Stored(d, [], np.zeros((0, embedder.dimension)), np.zeros((0, embedder.dimension)))
                     for d in relabelled]
    keys = meta.get("next_keys") or [0, 0, 0]
    counters = _Counters(*keys)
    first = _Counters(*keys)
    changed = sorted({*gone, *replaced, *(d.doc_id for d in relabelled), *(d.doc_id for d in fresh)})
    _write_meta(client, address, {**meta, "state": "updating", "pending": changed,
                                  "next_keys": [counters.chunk + sum(len(p.chunks) for p in parts),
                                                counters.sentence + sum(len(c.sentences) for p in parts for c in p.chunks),
                                                counters.document + sum(len(_document_rows(p.document, 0))
                                                                        for p in [*parts, *relabel_parts])]})
    try:
        counts = _insert(client, address, names, [*parts, *relabel_parts], counters)
    except BaseException:
        _undo_insert(client, address, names, first)
        _write_meta(client, address, meta)
        raise
    # From here the old rows go: a failure leaves the record "updating", which the same command repairs.
    old_chunks = sorted({*gone, *replaced})
    old_documents = sorted({*gone, *replaced, *(d.doc_id for d in relabelled)})
    if old_chunks:
        _call(address, "delete chunks", client.delete, names.chunks,
              filter=f"{_filter_in('doc_id', old_chunks)} and pk < {first.chunk}")
        _call(address, "delete sentences", client.delete, names.sentences,
              filter=f"{_filter_in('doc_id', old_chunks)} and pk < {first.sentence}")
    if old_documents:
        _call(address, "delete documents", client.delete, names.documents,
              filter=f"{_filter_in('doc_id', old_documents)} and pk < {first.document}")
    _flush(client, address, names)
    new_meta = {key: value for key, value in meta.items() if key != "pending"}
    new_meta.update(_base_meta(settings, embedder, documents, address,
                               added_dir if added_dir is not None else _stored_added_dir(meta)))
    new_meta.update({"chunks": _count(client, address, names.chunks), "sentences": _count(client, address, names.sentences),
                     "generation": meta["generation"], "state": "ready",
                     "next_keys": [counters.chunk, counters.sentence, counters.document],
                     "updated_seconds": round(time.perf_counter() - started, 2)})
    _write_meta(client, address, new_meta)
    return BuildReport(new_meta, embedded, {doc_id: n for doc_id, n in counts.items() if doc_id in by_id and
                                            doc_id not in {d.doc_id for d in relabelled}})


def _stored_added_dir(meta: dict) -> Path | None:
    return Path(meta["added_dir"]) if meta.get("added_dir") else None


def _undo_insert(client, address: StoreAddress, names: Names, first: _Counters) -> None:
    for collection, key in ((names.chunks, first.chunk), (names.sentences, first.sentence),
                            (names.documents, first.document)):
        try:
            client.delete(collection, filter=f"pk >= {key}")
        except Exception as exc:  # the record still says "updating" if this fails: the next run repairs it
            log.warning("could not undo the insert into %s: %s", collection, exc)


def count_chunks(address: StoreAddress, doc_id: str) -> int:
    """How many chunks of `doc_id` the store at `address` holds (0 when there is no store)."""
    try:
        client = connect(address)
        meta = _read_meta(client, address)
    except (IndexMissingError, IndexMismatchError):
        return 0
    names = Names.of(address.collection, meta["generation"])
    _call(address, "load chunks", client.load_collection, names.chunks)
    return _count(client, address, names.chunks, filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}")


# -- the opened store -------------------------------------------------------------------------------

class MilvusStore:
    """A Milvus collection set opened for searching: the store interface of stores.Store.

    Dense and keyword search run in Milvus; the chunk texts and the words they use (which the query
    rewriting and coverage checks read for the whole corpus) are read once, on first need, and kept.
    """

    def __init__(self, address: StoreAddress, client, meta: dict, names: Names, settings):
        self.address = address
        self.client = client
        self.meta = meta
        self.names = names
        self.ef_search = max(HNSW_EF_SEARCH, settings.candidates)
        self._lock = threading.Lock()
        self._chunks: list[Chunk] | None = None
        self._by_key: dict[int, Chunk] = {}
        self._by_id: dict[str, Chunk] = {}
        self._vocabulary: dict[str, int] | None = None
        self._spelling: SpellingMap | None = None
        self._sentences: OrderedDict[str, np.ndarray] = OrderedDict()
        self.documents = _Documents(self)

    @classmethod
    def open(cls, address: StoreAddress, settings, check_corpus: bool = True) -> "MilvusStore":
        """Open and check the store at `address`.

        Raises IndexMissingError when there is none, IndexMismatchError when it was built with another
        format, model, chunker or corpus, is incomplete, or an update of it was interrupted;
        StoreUnavailableError when Milvus cannot be reached."""
        client = connect(address)
        meta = _read_meta(client, address)
        _check_meta(meta, address, settings, check_corpus)
        names = Names.of(address.collection, meta.get("generation", ""))
        for name in names.all():
            if not _call(address, "list collections", client.has_collection, name):
                raise IndexMismatchError(f"Index at {address} is incomplete (no collection {name}). "
                                         f"Rebuild it with: {_rebuild(address)}")
            _call(address, f"load {name}", client.load_collection, name)
        found = (_count(client, address, names.chunks), _count(client, address, names.sentences))
        if found != (meta.get("chunks"), meta.get("sentences")):
            raise IndexMismatchError(f"Index at {address} is inconsistent ({found[0]} chunks and {found[1]} sentences "
                                     f"stored, {meta.get('chunks')} and {meta.get('sentences')} recorded). "
                                     f"Rebuild it with: {_rebuild(address)}")
        return cls(address, client, meta, names, settings)

    @property
    def location(self) -> str:
        return str(self.address)

    @property
    def model(self) -> str:
        return self.meta["model"]

    # -- corpus-wide reads, once --

    def _load(self) -> None:
        with self._lock:
            if self._chunks is not None:
                return
            rows = sorted(_scan(self.client, self.address, self.names.chunks, _CHUNK_FIELDS), key=lambda r: r["pk"])
            vocabulary: dict[str, int] = {}
            chunks = []
            for row in rows:
                chunk = _chunk_from_row(row)
                chunks.append(chunk)
                self._by_key[int(row["pk"])] = chunk
                self._by_id[chunk.chunk_id] = chunk
                for token in row["keywords"].split():
                    vocabulary.setdefault(token, len(vocabulary))
            self._vocabulary = vocabulary
            self._chunks = chunks

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk, in key (corpus) order."""
        self._load()
        return self._chunks

    @property
    def vocabulary(self) -> Mapping[str, int]:
        self._load()
        return self._vocabulary

    @property
    def spelling(self) -> SpellingMap:
        if self._spelling is None:
            self._spelling = SpellingMap(self.vocabulary)
        return self._spelling

    def chunk(self, key: int) -> Chunk:
        """The chunk stored under `key`. Raises KeyError when there is none."""
        self._load()
        found = self._by_key.get(key)
        if found is None:  # added since this store was opened
            rows = _call(self.address, "read a chunk", self.client.query, self.names.chunks, ids=[int(key)],
                         output_fields=_CHUNK_FIELDS)
            if not rows:
                raise KeyError(key)
            found = _chunk_from_row(rows[0])
            with self._lock:
                self._by_key[key] = found
                self._by_id[found.chunk_id] = found
        return found

    # -- searching --

    def dense_search(self, vector: np.ndarray, n: int) -> dict[int, float]:
        """The n chunks nearest `vector` by inner product (HNSW): {key: score}."""
        limit = min(n, MAX_LIMIT)
        results = _call(self.address, "search", self.client.search, self.names.chunks,
                        data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="vector", limit=limit,
                        search_params={"metric_type": "IP", "params": {"ef": max(self.ef_search, limit)}},
                        output_fields=["pk"])
        return {int(hit["pk"] if "pk" in hit else hit["id"]): float(hit["distance"]) for hit in results[0]}

    def dense_scores(self, vector: np.ndarray, keys: Sequence[int]) -> dict[int, float]:
        """Inner product of `vector` with the given chunks (their stored vectors)."""
        if not keys:
            return {}
        rows = _call(self.address, "read vectors", self.client.query, self.names.chunks, ids=[int(k) for k in keys],
                     output_fields=["pk", "vector"])
        vectors = {int(r["pk"]): np.asarray(r["vector"], dtype=np.float32) for r in rows}
        return {int(k): float(vectors[int(k)] @ vector) for k in keys if int(k) in vectors}

    def keyword_search(self, terms: Sequence[str], n: int) -> tuple[list[int], Mapping[int, float]]:
        """BM25 (Milvus's function) over `terms`: the n best chunks with a positive score, best first
        (ties by key), and the scores of the best KEYWORD_DEPTH (others count as 0)."""
        if not terms:
            return [], {}
        limit = min(max(n, KEYWORD_DEPTH), MAX_LIMIT)
        results = _call(self.address, "search", self.client.search, self.names.chunks, data=[" ".join(terms)],
                        anns_field="sparse", limit=limit, search_params={"metric_type": "BM25", "params": {}},
                        output_fields=["pk"])
        # Milvus Lite reports a BM25 score as a negative distance, a server as the score itself; both
        # keep the (k1 + 1) factor that bm25s (as Lucene now does) leaves out: divided out, the scores
        # read as the default store's.
        scores = {int(hit["pk"] if "pk" in hit else hit["id"]): abs(float(hit["distance"])) / (BM25_K1 + 1)
                  for hit in results[0]}
        top = sorted((k for k, s in scores.items() if s > 0), key=lambda k: (-scores[k], k))[:n]
        return top, scores

    def sentence_vectors_of(self, chunk_ids: Sequence[str]) -> list[np.ndarray]:
        """For each chunk id, its sentences' vectors in order, fetched from Milvus by chunk id.

        Raises IndexMismatchError when a chunk's sentences are not all stored."""
        wanted = [c for c in dict.fromkeys(chunk_ids) if c not in self._sentences]
        for start in range(0, len(wanted), 500):
            batch = wanted[start:start + 500]
            rows = _call(self.address, "read sentence vectors", self.client.query, self.names.sentences,
                         filter=_filter_in("chunk_id", batch), output_fields=["chunk_id", "ordinal", "vector"],
                         limit=MAX_LIMIT)
            grouped: dict[str, list] = {c: [] for c in batch}
            for row in rows:
                grouped[row["chunk_id"]].append((int(row["ordinal"]), row["vector"]))
            with self._lock:
                for chunk_id, items in grouped.items():
                    items.sort(key=lambda item: item[0])
                    dimension = self.meta["dimension"]
                    block = np.asarray([v for _, v in items], dtype=np.float32).reshape(-1, dimension)
                    self._sentences[chunk_id] = block
                    while len(self._sentences) > SENTENCE_CACHE:
                        self._sentences.popitem(last=False)
        out = []
        for chunk_id in chunk_ids:
            block = self._sentences.get(chunk_id)
            if block is None:  # evicted by another thread since: read it again
                block = self.sentence_vectors_of([chunk_id])[0]
            expected = len(self._chunk_by_id(chunk_id).sentences)
            if len(block) != expected:
                raise IndexMismatchError(f"Index at {self.address} holds {len(block)} sentence vectors for {chunk_id}, "
                                         f"not {expected}. Rebuild it with: {_rebuild(self.address)}")
            out.append(block)
        return out

    def _chunk_by_id(self, chunk_id: str) -> Chunk:
        self._load()
        found = self._by_id.get(chunk_id)
        if found is None:
            rows = _call(self.address, "read a chunk", self.client.query, self.names.chunks,
                         filter=f"chunk_id == {json.dumps(chunk_id, ensure_ascii=False)}", output_fields=_CHUNK_FIELDS)
            if not rows:
                raise KeyError(chunk_id)
            found = _chunk_from_row(rows[0])
        return found

    def count_chunks(self, doc_id: str) -> int:
        return _count(self.client, self.address, self.names.chunks,
                      filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}")


class _Documents(Mapping):
    """The store's documents by id: one is read from Milvus when first asked for; all of them when the
    whole mapping is walked (the coverage checks search every document's text)."""

    def __init__(self, store: MilvusStore):
        self._store = store
        self._cache: dict[str, Document] = {}
        self._complete = False
        self._lock = threading.Lock()

    def __getitem__(self, doc_id: str) -> Document:
        found = self._cache.get(doc_id)
        if found is not None:
            return found
        store = self._store
        rows = _call(store.address, "read a document", store.client.query, store.names.documents,
                     filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}",
                     output_fields=["doc_id", "part", "text", "record"], limit=MAX_LIMIT)
        if not rows:
            raise KeyError(doc_id)
        document = _document_from_rows(doc_id, rows)
        with self._lock:
            self._cache[doc_id] = document
        return document

    def _all(self) -> dict[str, Document]:
        with self._lock:
            if not self._complete:
                store = self._store
                grouped: dict[str, list] = {}
                for row in _scan(store.client, store.address, store.names.documents,
                                 ["pk", "doc_id", "part", "text", "record"]):
                    grouped.setdefault(row["doc_id"], []).append(row)
                order = sorted(grouped, key=lambda d: min(r["pk"] for r in grouped[d]))
                self._cache = {doc_id: _document_from_rows(doc_id, grouped[doc_id]) for doc_id in order}
                self._complete = True
            return self._cache

    def __iter__(self):
        return iter(list(self._all()))

    def __len__(self) -> int:
        return len(self._all())

    def values(self):
        return list(self._all().values())

    def items(self):
        return list(self._all().items())
