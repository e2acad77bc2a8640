import json
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from ipchat.corpus import corpus_digest, load_corpus
from ipchat.embedding import HashingEmbedder
from ipchat.errors import IndexMismatchError, IndexMissingError
from ipchat.index import build_index, load_index, read_meta
from ipchat.settings import ChunkerSettings, load_settings


def test_round_trip(hashing_index):
    index = load_index(hashing_index)
    assert index.meta["model"] == "hashing-64" and index.meta["dimension"] == 64
    assert index.meta["documents"] == 1 and index.meta["chunks"] == len(index.chunks) == index.dense.ntotal
    doc = index.documents["pets"]
    assert doc.title == "Pet care" and doc.url == "https://example.org/pets"
    for chunk in index.chunks:
        assert chunk.text == doc.text[chunk.start:chunk.end]
    # Rebuilding an unchanged corpus gives the same chunk ids and vectors.
    before = [c.chunk_id for c in index.chunks]
    build_index(hashing_index, HashingEmbedder(64))
    again = load_index(hashing_index)
    assert [c.chunk_id for c in again.chunks] == before
    assert np.allclose(again.dense.reconstruct_n(0, again.dense.ntotal), index.dense.reconstruct_n(0, index.dense.ntotal))


def test_meta_records_what_built_it(hashing_index):
    meta = read_meta(hashing_index.index)
    for key in ("format_version", "model", "dimension", "chunker", "corpus_digest", "versions", "built_at"):
        assert key in meta
    assert meta["chunker"]["max_tokens"] == hashing_index.chunker.max_tokens
    assert {"faiss-cpu", "bm25s", "numpy"} <= set(meta["versions"])


def test_index_files_load_without_pickle(hashing_index):
    files = list(Path(hashing_index.index).rglob("*"))
    for path in files:
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix in (".json", ".jsonl"):
            for line in path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]:
                json.loads(line)
    assert {p.name for p in files} >= {"meta.json", "dense.faiss", "chunks.jsonl", "documents.jsonl"}


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError, match="ipchat build"):
        load_index(load_settings(environ={}, index=tmp_path / "none"))


def test_mismatched_model(hashing_index):
    with pytest.raises(IndexMismatchError, match="hashing-64.*other-model.*ipchat build"):
        load_index(hashing_index.replace(model="other-model"))


def test_mismatched_chunker(hashing_index):
    settings = hashing_index.replace(chunker=ChunkerSettings(max_tokens=40))
    with pytest.raises(IndexMismatchError, match="chunker"):
        load_index(settings)


def test_changed_corpus_is_detected(hashing_index):
    doc = Path(hashing_index.corpus) / "documents" / "pets.md"
    doc.write_text(doc.read_text() + "\nBirds sing.\n", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="changed since"):
        load_index(hashing_index)


def test_corrupt_index_says_how_to_rebuild(hashing_index):
    (Path(hashing_index.index) / "chunks.jsonl").write_text("{not json\n")
    with pytest.raises(IndexMismatchError, match="ipchat build"):
        load_index(hashing_index)


class ExplodingEmbedder(HashingEmbedder):
    def embed(self, texts, progress=None):
        raise RuntimeError("disk full")


@pytest.mark.parametrize("where", ["embedding", "writing"])
def test_failed_build_leaves_previous_index(hashing_index, monkeypatch, where):
    # "writing" fails after the staging folder exists: the swap and the clean-up are what keep the index.
    before = read_meta(hashing_index.index)
    embedder = ExplodingEmbedder(64) if where == "embedding" else HashingEmbedder(64)
    if where == "writing":
        import ipchat.index as index_module

        def disk_full(path, rows):
            raise RuntimeError("disk full")

        monkeypatch.setattr(index_module, "_write_jsonl", disk_full)
    with pytest.raises(RuntimeError):
        build_index(hashing_index, embedder)
    monkeypatch.undo()
    assert read_meta(hashing_index.index) == before
    load_index(hashing_index)
    leftovers = [p.name for p in Path(hashing_index.index).parent.iterdir() if p.name.startswith(".index")]
    assert leftovers == []


def test_hnsw_above_threshold_matches_exact_search(hashing_settings):
    exact = hashing_settings.replace(index=Path(hashing_settings.index).with_name("exact"))
    approx = hashing_settings.replace(index=Path(hashing_settings.index).with_name("approx"), hnsw_threshold=1)
    build_index(exact, HashingEmbedder(64))
    build_index(approx, HashingEmbedder(64))
    a, b = load_index(exact), load_index(approx)
    assert a.meta["dense_index"] == "flat" and b.meta["dense_index"] == "hnsw"
    query = HashingEmbedder(64).embed(["dogs walk"])
    assert list(a.dense.search(query, 3)[1][0]) == list(b.dense.search(query, 3)[1][0])


def test_committed_index_matches_corpus():
    meta = read_meta(ROOT / "index")
    assert meta["corpus_digest"] == corpus_digest(load_corpus(ROOT / "corpus")), "rebuild with: ipchat build"
    assert meta["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta["chunker"] == ChunkerSettings().as_dict()
    assert meta["corpus_path"] == "../corpus"  # relative to the index: works wherever both are copied


def test_committed_index_refuses_fetched_text(tmp_path, monkeypatch):
    from ipchat import index as index_module
    from ipchat.errors import IpchatError
    from ipchat.settings import committed_index
    from ipchat.types import Document, Section

    [article] = load_corpus(ROOT / "corpus")
    fetched = Document("nimh-brain-stimulation", "Brain Stimulation Therapies", "https://www.nimh.nih.gov/", "web-page",
                       "public domain", "Fetched text.", (Section("S", 0, 13),))
    settings = load_settings(environ={}, index=committed_index({}))
    with pytest.raises(IpchatError, match="data/index"):
        index_module._refuse_unshippable_text(settings, [article, fetched])
    index_module._refuse_unshippable_text(settings, [article])  # the bundled corpus alone is fine
    index_module._refuse_unshippable_text(settings.replace(index=tmp_path / "elsewhere"), [article, fetched])


def test_default_index_moves_out_of_the_repository_once_text_is_fetched(tmp_path):
    from ipchat.settings import committed_index, default_index, local_index

    environ = {"IPCHAT_FETCHED_DIR": str(tmp_path), "IPCHAT_ADDED_DIR": str(tmp_path / "added")}
    assert default_index(environ) == committed_index(environ)
    (tmp_path / "nimh-brain-stimulation.md").write_text("# T\n\nText.\n")
    assert default_index(environ) == local_index(environ)
