"""Where an index lives: the embedded default (FAISS + bm25s files in a folder) or Milvus.

Retrieval and answers talk to a store through one interface (`Store` below); which one they get is
decided here, from `Settings.store` (`IPCHAT_STORE`, `--store`):

- unset, or `faiss`: the index folder `Settings.index` (ipchat/index.py);
- `milvus://HOST[:PORT][/COLLECTION]`: a Milvus server or cluster (port 19530 by default);
  `milvus+https://…` for one behind TLS; `user:password@` before the host when it asks for a login;
- `milvus-lite://PATH.db[/COLLECTION]`: a Milvus Lite file on this machine (PATH absolute with
  three slashes, `milvus-lite:///srv/ipchat.db/ipchat`, or relative to the current folder,
  `milvus-lite:data/ipchat.db`).

COLLECTION defaults to `ipchat`: letters, digits and underscores, starting with a letter or underscore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence
from urllib.parse import unquote, urlsplit

import numpy as np

from .errors import IpchatError
from .types import Chunk, Document

DEFAULT_COLLECTION = "ipchat"
DEFAULT_PORT = 19530
_COLLECTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
FORMS = ("milvus://HOST[:PORT][/COLLECTION], milvus+https://HOST[:PORT][/COLLECTION], "
         "milvus-lite:///ABSOLUTE/PATH.db[/COLLECTION] or milvus-lite:RELATIVE/PATH.db[/COLLECTION]")


class StoreAddressError(IpchatError):
    """IPCHAT_STORE / --store is not a store address ipchat understands."""


class Store(Protocol):
    """What retrieval (retrieval.Retriever) and answers (answer.Answerer) need from a store.

    Chunks are addressed by an integer key the store gives them; keys follow the order chunks were
    stored in, so ties rank alike in every store.
    """

    meta: dict  # what built it: format, model, dimension, chunker, corpus digest, counts

    @property
    def location(self) -> str: ...  # for messages: a folder or a store address

    @property
    def model(self) -> str: ...

    @property
    def chunks(self) -> Sequence[Chunk]: ...  # every chunk, in key order (corpus-wide checks read them)

    @property
    def documents(self) -> Mapping[str, Document]: ...

    @property
    def vocabulary(self) -> Mapping[str, int]: ...  # the keyword tokens of the indexed passages

    @property
    def spelling(self): ...  # keywords.SpellingMap over the vocabulary

    def chunk(self, key: int) -> Chunk: ...

    def dense_search(self, vector: np.ndarray, n: int) -> dict[int, float]: ...

    def dense_scores(self, vector: np.ndarray, keys: Sequence[int]) -> dict[int, float]: ...

    def keyword_search(self, terms: Sequence[str], n: int) -> tuple[list[int], Mapping[int, float]]: ...

    def sentence_vectors_of(self, chunk_ids: Sequence[str]) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class StoreAddress:
    """A parsed store address. `kind` is "faiss", "milvus" (a server) or "milvus-lite" (a local file)."""

    kind: str
    uri: str = ""  # what pymilvus connects to: http(s)://host:port, or the .db path
    collection: str = DEFAULT_COLLECTION
    user: str = ""
    password: str = ""
    text: str = ""  # as given, with any password hidden

    @property
    def is_milvus(self) -> bool:
        return self.kind in ("milvus", "milvus-lite")

    def __str__(self) -> str:
        return self.text


def parse_store(text: str | None) -> StoreAddress:
    """The store `text` names (None, "" and "faiss" are the default FAISS index folder).

    Raises StoreAddressError, saying which forms are understood, for anything else."""
    raw = (text or "").strip()
    if raw.lower() in ("", "faiss"):
        return StoreAddress("faiss", text="faiss")
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme == "milvus-lite":
        return _parse_lite(raw)
    if scheme in ("milvus", "milvus+http", "milvus+https"):
        return _parse_server(raw, scheme)
    raise StoreAddressError(f"Unknown store {raw!r}. Use faiss (the default) or one of: {FORMS}.")


def _collection(name: str, raw: str) -> str:
    name = unquote(name.strip("/")) or DEFAULT_COLLECTION
    if not _COLLECTION.fullmatch(name):
        raise StoreAddressError(f"Store {raw!r}: collection name {name!r} must be letters, digits and underscores, "
                                "starting with a letter or underscore (at most 200 characters).")
    return name


def _parse_server(raw: str, scheme: str) -> StoreAddress:
    parts = urlsplit(raw)
    if parts.query or parts.fragment:
        raise StoreAddressError(f"Store {raw!r}: no query or fragment is understood. Use {FORMS}.")
    if not parts.hostname:
        raise StoreAddressError(f"Store {raw!r} names no host. Use {FORMS}.")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise StoreAddressError(f"Store {raw!r}: the port must be a number from 1 to 65535.") from None
    path = parts.path.strip("/")
    if "/" in path:
        raise StoreAddressError(f"Store {raw!r}: after the host comes one collection name, not a path. Use {FORMS}.")
    collection = _collection(path, raw)
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    protocol = "https" if scheme == "milvus+https" else "http"
    shown = f"{scheme}://{parts.username + '@' if parts.username else ''}{host}:{port}/{collection}"
    return StoreAddress("milvus", f"{protocol}://{host}:{port}", collection, unquote(parts.username or ""),
                        unquote(parts.password or ""), shown)


def _parse_lite(raw: str) -> StoreAddress:
    rest = raw[len("milvus-lite:"):]
    if rest.startswith("//"):
        if not rest.startswith("///"):
            raise StoreAddressError(f"Store {raw!r}: a Milvus Lite file has no host; write milvus-lite:///ABSOLUTE/PATH.db "
                                    "(three slashes) or milvus-lite:RELATIVE/PATH.db.")
        rest = rest[2:]
    match = re.fullmatch(r"(.*?\.db)(/[^/]*)?/?", rest)
    if not match or not match.group(1).strip("/"):
        raise StoreAddressError(f"Store {raw!r}: a Milvus Lite store is a file ending in .db, then optionally "
                                f"/COLLECTION. Use {FORMS}.")
    path = Path(unquote(match.group(1))).expanduser().resolve()
    collection = _collection(match.group(2) or "", raw)
    return StoreAddress("milvus-lite", str(path), collection, text=f"milvus-lite://{path}/{collection}")


def store_address(settings) -> StoreAddress:
    """The store the settings name (validated when the settings were made)."""
    return parse_store(getattr(settings, "store", None))


def open_store(settings, check_corpus: bool = True) -> Store:
    """The store `settings` name, opened and checked against them.

    Raises IndexMissingError when there is none, IndexMismatchError when it was built with another
    format, model, chunker or corpus (with the command that rebuilds it), StoreUnavailableError when a
    Milvus server cannot be reached."""
    address = store_address(settings)
    if address.is_milvus:
        from .milvus import MilvusStore

        return MilvusStore.open(address, settings, check_corpus=check_corpus)
    from .index import load_index

    return load_index(settings, check_corpus=check_corpus)


def read_store_meta(settings) -> dict:
    """What built the store `settings` name (meta.json of an index folder, or the record of a Milvus
    collection). Raises IndexMissingError when there is none."""
    address = store_address(settings)
    if address.is_milvus:
        from .milvus import read_meta

        return read_meta(address)
    from .index import read_meta

    return read_meta(settings.index)


def store_location(settings) -> str:
    """How messages name the store of `settings`: its index folder, or its address."""
    address = store_address(settings)
    return str(address) if address.is_milvus else str(settings.index)


def store_status(settings) -> str | None:
    """None when the store `settings` name is ready to answer from, else why it must be (re)built."""
    from .errors import IndexMismatchError, IndexMissingError

    address = store_address(settings)
    try:
        if address.is_milvus:
            from .milvus import check_store

            check_store(address, settings)
        else:
            from .index import check_index, read_meta

            check_index(read_meta(settings.index), settings, settings.index)
    except (IndexMissingError, IndexMismatchError) as exc:
        return str(exc)
    return None


def build_store(settings, embedder, progress: Callable[[int, int], None] | None = None, *,
                added_dir: Path | None = None) -> dict:
    """Build the corpus of `settings` into the store they name, embedding every chunk once; returns
    what built it (meta). On failure the store is left as it was."""
    address = store_address(settings)
    if address.is_milvus:
        from .milvus import build_milvus

        return build_milvus(address, settings, embedder, progress, added_dir=added_dir)
    from .index import build_index

    return build_index(settings, embedder, progress, added_dir=added_dir)


def update_store(settings, embedder, progress: Callable[[int, int], None] | None = None, documents=None, *,
                 reuse_from=None, added_dir: Path | None = None):
    """Bring the store `settings` name to the corpus (or `documents`), embedding only what is new or
    changed: the FAISS folder is rebuilt from the vectors it holds (index.update_index), a Milvus store
    is changed by document id (milvus.update_milvus). Returns an index.BuildReport."""
    address = store_address(settings)
    if address.is_milvus:
        from .milvus import update_milvus

        return update_milvus(address, settings, embedder, progress, documents, added_dir=added_dir)
    from .index import update_index

    return update_index(settings, embedder, progress, documents, reuse_from=reuse_from, added_dir=added_dir)
