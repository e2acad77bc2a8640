"""Shared fixtures. Nothing here reaches the network: the real model loads from its package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
for _name in list(os.environ):
    if _name.startswith("IPCHAT_"):
        del os.environ[_name]
# Text a developer fetched locally must not change what the tests see.
os.environ["IPCHAT_FETCHED_DIR"] = str(Path(__file__).resolve().parent / ".no-fetched-text")
# Nor may documents a developer added with `ipchat add`.
os.environ["IPCHAT_ADDED_DIR"] = str(Path(__file__).resolve().parent / ".no-added-documents")

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "documents" / "interventional-psychiatry-guide.md"

SMALL_DOC = """# Pet care

## Cats

Cats sleep for about sixteen hours a day. They groom themselves often! Kittens need four meals daily.

## Dogs

Dogs need a walk twice a day. Common problems include:

- Fleas and ticks
- Ear infections
- Joint pain in older dogs

A vet visit once a year is usual.
"""


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A corpus directory with a manifest and one Markdown document."""
    corpus = tmp_path / "corpus"
    (corpus / "documents").mkdir(parents=True)
    (corpus / "documents" / "pets.md").write_text(SMALL_DOC, encoding="utf-8")
    (corpus / "sources.toml").write_text(
        '[[source]]\nid = "pets"\ntitle = "Pet care"\nurl = "https://example.org/pets"\nkind = "web-page"\n'
        'licence = "CC0"\nredistributable = true\nstatus = "bundled"\nfile = "documents/pets.md"\n',
        encoding="utf-8",
    )
    return corpus


@pytest.fixture
def hashing_settings(small_corpus: Path, tmp_path: Path):
    from ipchat.settings import load_settings

    return load_settings(environ={}, corpus=small_corpus, index=tmp_path / "index", model="hashing-64")


@pytest.fixture
def hashing_index(hashing_settings):
    """The small corpus built with the deterministic hashing embedder."""
    from ipchat.embedding import HashingEmbedder
    from ipchat.index import build_index

    build_index(hashing_settings, HashingEmbedder(64))
    return hashing_settings


@pytest.fixture(scope="session")
def real_embedder():
    """all-MiniLM-L6-v2 from its package, loaded once for the session."""
    from ipchat.embedding import load_embedder
    from ipchat.settings import DEFAULT_MODEL

    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def safety_embedder():
    """The safety backstop's model (all-mpnet-base-v2 from its packages), loaded once for the session."""
    from ipchat.safety import load_safety_embedder
    from ipchat.settings import SAFETY_MODEL, Settings

    return load_safety_embedder(Settings(safety_model=SAFETY_MODEL))


@pytest.fixture(scope="session")
def real_retriever(real_embedder):
    """The committed index of the bundled corpus with the real model."""
    from ipchat.retrieval import Retriever
    from ipchat.settings import load_settings

    environ = {name: os.environ[name] for name in ("IPCHAT_FETCHED_DIR", "IPCHAT_ADDED_DIR")}
    return Retriever.from_settings(load_settings(environ=environ), real_embedder)


# The retrieval and answer tests run against each store: the default FAISS + bm25s folder, and a
# Milvus Lite file built from the same corpus (marked `milvus`: `pytest -m milvus` runs them alone,
# `-m "not milvus"` leaves them out).
STORES = ["faiss", pytest.param("milvus", marks=pytest.mark.milvus)]


@pytest.fixture(scope="session")
def milvus_settings(real_embedder, tmp_path_factory):
    """Settings naming a Milvus Lite file that holds the bundled corpus, built as `ipchat build --store`
    builds it (chunked and embedded with the real model), once per session."""
    from ipchat.settings import load_settings
    from ipchat.stores import build_store

    environ = {name: os.environ[name] for name in ("IPCHAT_FETCHED_DIR", "IPCHAT_ADDED_DIR")}
    folder = tmp_path_factory.mktemp("milvus")
    settings = load_settings(environ=environ, store=f"milvus-lite://{folder}/bundled.db/ipchat")
    build_store(settings, real_embedder)
    return settings


@pytest.fixture(scope="session", params=STORES)
def store_retriever(request, real_embedder, real_retriever):
    """A retriever over the bundled corpus with the real model, in each store."""
    if request.param == "faiss":
        return real_retriever
    from ipchat.retrieval import Retriever

    return Retriever.from_settings(request.getfixturevalue("milvus_settings"), real_embedder)
