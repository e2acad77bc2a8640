"""The Milvus store against the default one. Everything runs on Milvus Lite files in tmp_path and,
for the unreachable-server check, a closed port on 127.0.0.1: nothing leaves this machine.

The retrieval and answer suites run on both stores through conftest's `store_retriever`; this file
checks what is particular to the Milvus store: addresses, the same passages and answers as FAISS on
the seed questions, add and remove by document id without a rebuild, failed builds and updates, and
the rebuild messages.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from ipchat.embedding import HashingEmbedder
from ipchat.errors import IndexMismatchError, IndexMissingError, IpchatError
from ipchat.index import Index
from ipchat.retrieval import Retriever
from ipchat.settings import load_settings
from ipchat.stores import StoreAddressError, open_store, parse_store

SEED = [json.loads(l) for l in (ROOT / "eval" / "questions" / "seed.jsonl").read_text().splitlines() if l.strip()]


# -- addresses (no Milvus needed) -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind", "uri", "collection"), [
    ("milvus://db.example.org:19530/ipchat_prod", "milvus", "http://db.example.org:19530", "ipchat_prod"),
    ("milvus://db.example.org", "milvus", "http://db.example.org:19530", "ipchat"),
    ("milvus+https://db.example.org:443/c1/", "milvus", "https://db.example.org:443", "c1"),
    ("milvus://10.0.0.5:2000/_x", "milvus", "http://10.0.0.5:2000", "_x"),
    ("milvus-lite:///srv/ipchat/ipchat.db/docs", "milvus-lite", "/srv/ipchat/ipchat.db", "docs"),
    ("milvus-lite:///srv/ipchat/ipchat.db", "milvus-lite", "/srv/ipchat/ipchat.db", "ipchat"),
])
def test_store_addresses_parse(text, kind, uri, collection):
    address = parse_store(text)
    assert (address.kind, address.uri, address.collection) == (kind, uri, collection)
    assert address.is_milvus


def test_a_relative_lite_path_is_taken_from_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    address = parse_store("milvus-lite:data/ipchat.db/c")
    assert address.uri == str(tmp_path / "data" / "ipchat.db") and address.collection == "c"


def test_a_password_never_shows(tmp_path):
    address = parse_store("milvus://reader:s3cret@db.example.org/ipchat")
    assert (address.user, address.password) == ("reader", "s3cret")
    assert "s3cret" not in str(address) and "reader@db.example.org" in str(address)


@pytest.mark.parametrize(("text", "message"), [
    ("mongodb://localhost/x", "Unknown store"),
    ("milvus://", "names no host"),
    ("milvus://host:notaport/x", "port must be a number"),
    ("milvus://host/a/b", "one collection name"),
    ("milvus://host/bad-name", "letters, digits and underscores"),
    ("milvus://host/9lives", "letters, digits and underscores"),
    ("milvus://host/x?timeout=3", "no query"),
    ("milvus-lite:///tmp/store.sqlite/x", "ending in .db"),
    ("milvus-lite://host/tmp/x.db", "has no host"),
    ("milvus-lite:", "ending in .db"),
])
def test_malformed_store_addresses_say_what_is_accepted(text, message):
    with pytest.raises(StoreAddressError, match=message):
        parse_store(text)


def test_a_malformed_store_fails_when_settings_are_made_and_the_cli_says_so(capsys):
    from ipchat.cli import main

    with pytest.raises(StoreAddressError, match="milvus-lite:///ABSOLUTE"):
        load_settings(environ={"IPCHAT_STORE": "milvus:/nohost"})
    assert main(["search", "--store", "milvus://host/a/b", "ect"]) == 1
    assert "one collection name" in capsys.readouterr().err


def test_the_default_store_is_the_faiss_folder(hashing_index):
    assert load_settings(environ={}).store is None
    for settings in (hashing_index, hashing_index.replace(store="faiss")):
        index = open_store(settings)
        assert isinstance(index, Index) and index.directory == Path(settings.index)


# -- the Milvus store on a small corpus (hashing embedder) ------------------------------------------


def lite(settings, tmp_path, name="pets"):
    return settings.replace(store=f"milvus-lite://{tmp_path}/store.db/{name}")


@pytest.fixture
def milvus_small(hashing_index, tmp_path):
    from ipchat.stores import build_store

    settings = lite(hashing_index, tmp_path)
    build_store(settings, HashingEmbedder(64))
    return settings


@pytest.mark.milvus
@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_small_corpus_ranks_and_scores_as_faiss(hashing_index, milvus_small, mode):
    faiss = Retriever(open_store(hashing_index), HashingEmbedder(64), hashing_index.replace(mode=mode))
    milvus = Retriever(open_store(milvus_small), HashingEmbedder(64), milvus_small.replace(mode=mode))
    for query in ["fleas and ticks", "how long do cats sleep", "vet", "dgos walk"]:
        a, b = faiss.search(query, 5), milvus.search(query, 5)
        assert [h.chunk for h in a] == [h.chunk for h in b]
        for x, y in zip(a, b):
            assert x.score == pytest.approx(y.score, abs=1e-4)
            assert x.bm25_score == pytest.approx(y.bm25_score, abs=1e-4)
            assert (x.dense_score is None) == (y.dense_score is None)


@pytest.mark.milvus
def test_the_store_records_what_built_it(milvus_small):
    from ipchat.stores import read_store_meta

    meta = read_store_meta(milvus_small)
    assert (meta["model"], meta["dimension"], meta["state"], meta["store"]) == ("hashing-64", 64, "ready", "milvus-lite")
    assert meta["chunker"] == milvus_small.chunker.as_dict() and meta["documents"] == 1
    assert {"pymilvus", "milvus-lite"} <= set(meta["versions"])
    store = open_store(milvus_small)
    assert len(store.chunks) == meta["chunks"]
    doc = store.documents["pets"]
    for chunk in store.chunks:
        assert chunk.text == doc.text[chunk.start:chunk.end]
        assert len(store.sentence_vectors_of([chunk.chunk_id])[0]) == len(chunk.sentences)


@pytest.mark.milvus
def test_model_and_chunker_mismatches_give_the_rebuild_message(milvus_small):
    from ipchat.settings import ChunkerSettings

    address = parse_store(milvus_small.store)
    with pytest.raises(IndexMismatchError, match=rf"hashing-64.*other-model.*ipchat build --store {address}"):
        open_store(milvus_small.replace(model="other-model"))
    with pytest.raises(IndexMismatchError, match="chunker.*ipchat build --store"):
        open_store(milvus_small.replace(chunker=ChunkerSettings(max_tokens=40)))


@pytest.mark.milvus
def test_a_changed_corpus_is_detected(milvus_small):
    doc = Path(milvus_small.corpus) / "documents" / "pets.md"
    doc.write_text(doc.read_text() + "\nBirds sing.\n", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="changed since.*ipchat build --store"):
        open_store(milvus_small)


@pytest.mark.milvus
def test_a_missing_store_says_how_to_build_it(hashing_settings, tmp_path):
    settings = lite(hashing_settings, tmp_path)
    with pytest.raises(IndexMissingError, match="ipchat build --store milvus-lite://"):
        open_store(settings)
    assert not (tmp_path / "store.db").exists()  # looking for a store does not make one
    from ipchat.stores import build_store

    build_store(settings, HashingEmbedder(64))
    with pytest.raises(IndexMissingError, match="ipchat build --store"):
        open_store(lite(hashing_settings, tmp_path, "another"))  # same file, another collection


@pytest.mark.milvus
def test_an_unreachable_server_is_named(hashing_settings):
    from ipchat.milvus import StoreUnavailableError

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = hashing_settings.replace(store=f"milvus://127.0.0.1:{port}/ipchat")
    with pytest.raises(StoreUnavailableError, match=f"Cannot reach the Milvus server.*127.0.0.1:{port}"):
        open_store(settings)
    from ipchat.stores import build_store

    with pytest.raises(StoreUnavailableError):  # before any embedding: this embedder would raise RuntimeError
        build_store(settings, ExplodingEmbedder(64))


class ExplodingEmbedder(HashingEmbedder):
    def embed(self, texts, progress=None):
        raise RuntimeError("disk full")


@pytest.mark.milvus
@pytest.mark.parametrize("where", ["embedding", "inserting", "counting"])
def test_a_failed_build_leaves_the_store_as_it_was(milvus_small, monkeypatch, where):
    from ipchat import milvus
    from ipchat.stores import build_store, read_store_meta

    before = read_store_meta(milvus_small)
    client = milvus.connect(parse_store(milvus_small.store))
    collections = set(client.list_collections())
    embedder = ExplodingEmbedder(64) if where == "embedding" else HashingEmbedder(64)
    if where == "inserting":
        real_insert = milvus._insert

        def half(client, address, names, parts, counters):
            real_insert(client, address, names, parts[:0], counters)
            client.insert(names.chunks, [milvus._chunk_row(0, parts[0].chunks[0], parts[0].vectors[0])])
            raise RuntimeError("connection lost")

        monkeypatch.setattr(milvus, "_insert", half)
    elif where == "counting":
        monkeypatch.setattr(milvus, "_count", lambda *a, **k: 0)
    with pytest.raises((RuntimeError, IpchatError)):
        build_store(milvus_small, embedder)
    monkeypatch.undo()
    assert read_store_meta(milvus_small) == before
    assert set(client.list_collections()) == collections  # the half-written generation is gone
    hits = Retriever(open_store(milvus_small), HashingEmbedder(64), milvus_small).search("fleas", 1)
    assert "Fleas and ticks" in hits[0].chunk.text


@pytest.mark.milvus
def test_a_build_that_fails_after_switching_keeps_the_generation_it_switched_to(milvus_small, monkeypatch):
    from ipchat import milvus
    from ipchat.stores import build_store, read_store_meta

    real_write = milvus._write_meta

    def write_then_fail(client, address, meta):
        real_write(client, address, meta)
        raise RuntimeError("flush timed out")

    monkeypatch.setattr(milvus, "_write_meta", write_then_fail)
    with pytest.raises(RuntimeError):
        build_store(milvus_small, HashingEmbedder(64))
    monkeypatch.undo()
    hits = Retriever(open_store(milvus_small), HashingEmbedder(64), milvus_small).search("fleas", 1)
    assert "Fleas and ticks" in hits[0].chunk.text and read_store_meta(milvus_small)["state"] == "ready"


@pytest.mark.milvus
def test_a_rebuild_replaces_the_generation_and_drops_the_old_one(milvus_small):
    from ipchat import milvus
    from ipchat.stores import build_store, read_store_meta

    old = read_store_meta(milvus_small)["generation"]
    build_store(milvus_small, HashingEmbedder(64))
    new = read_store_meta(milvus_small)["generation"]
    names = milvus.connect(parse_store(milvus_small.store)).list_collections()
    assert new != old and not any(old in name for name in names)
    assert sum(new in name for name in names) == 3


# -- add and remove by document id ------------------------------------------------------------------

NOTE = "# Rabbit care\n\nRabbits need hay every day. Their teeth never stop growing, so chewing matters.\n"


@pytest.mark.milvus
def test_add_then_remove_a_document_by_id_without_a_rebuild(milvus_small, tmp_path):
    from ipchat import milvus
    from ipchat.ingest import add_documents, remove_document
    from ipchat.stores import read_store_meta

    address = parse_store(milvus_small.store)
    client = milvus.connect(address)
    before = read_store_meta(milvus_small)
    names = milvus.Names.of(address.collection, before["generation"])
    old_rows = sorted(r["pk"] for r in client.query(names.chunks, filter="pk >= 0", output_fields=["pk"]))

    note = tmp_path / "rabbits.md"
    note.write_text(NOTE, encoding="utf-8")
    added = tmp_path / "added"
    [result] = add_documents([note], milvus_small, HashingEmbedder(64), added_dir=added)
    assert result.status == "added" and result.chunks >= 1
    after_add = read_store_meta(milvus_small)
    assert after_add["generation"] == before["generation"]  # the same collections: no rebuild
    rows = sorted(r["pk"] for r in client.query(names.chunks, filter="pk >= 0", output_fields=["pk"]))
    assert rows[:len(old_rows)] == old_rows and len(rows) == len(old_rows) + result.chunks  # the old rows untouched
    store = open_store(milvus_small)
    hits = Retriever(store, HashingEmbedder(64), milvus_small).search("rabbit teeth hay", 1)
    assert hits[0].chunk.doc_id == result.doc_id
    doc = store.documents[result.doc_id]
    assert hits[0].chunk.text == doc.text[hits[0].chunk.start:hits[0].chunk.end]

    removed = remove_document(result.doc_id, milvus_small, HashingEmbedder(64), added_dir=added)
    assert removed.chunks == result.chunks and removed.index == str(address)
    after = read_store_meta(milvus_small)
    assert after["generation"] == before["generation"] and after["chunks"] == before["chunks"]
    assert after["corpus_digest"] == before["corpus_digest"]
    store = open_store(milvus_small)
    assert result.doc_id not in store.documents
    hits = Retriever(store, HashingEmbedder(64), milvus_small).search("rabbit teeth hay", 5)
    assert all(h.chunk.doc_id != result.doc_id for h in hits)
    assert client.query(names.sentences, filter=f'doc_id == "{result.doc_id}"', output_fields=["pk"]) == []


@pytest.mark.milvus
def test_an_interrupted_update_is_refused_then_repaired_by_running_it_again(milvus_small, tmp_path, monkeypatch):
    from ipchat import milvus
    from ipchat.ingest import add_documents
    from ipchat.stores import read_store_meta

    note = tmp_path / "rabbits.md"
    note.write_text(NOTE, encoding="utf-8")
    added = tmp_path / "added"
    real_flush = milvus._flush

    def crash_after_deleting(client, address, names):  # the old rows are gone; the record not yet written
        raise KeyboardInterrupt

    monkeypatch.setattr(milvus, "_flush", crash_after_deleting)
    with pytest.raises(KeyboardInterrupt):
        add_documents([note], milvus_small, HashingEmbedder(64), added_dir=added)
    assert read_store_meta(milvus_small)["state"] == "updating"
    with pytest.raises(IndexMismatchError, match="interrupted.*ipchat build --store"):
        open_store(milvus_small, check_corpus=False)
    monkeypatch.setattr(milvus, "_flush", real_flush)
    [result] = add_documents([note], milvus_small, HashingEmbedder(64), added_dir=added)
    assert result.status == "added"
    store = open_store(milvus_small)
    assert len(store.chunks) == store.meta["chunks"] and store.meta["state"] == "ready"
    assert sum(c.doc_id == result.doc_id for c in store.chunks) == result.chunks  # no duplicates left over


@pytest.mark.milvus
def test_a_failed_insert_is_undone(milvus_small, tmp_path, monkeypatch):
    from ipchat import milvus
    from ipchat.ingest import add_documents
    from ipchat.stores import read_store_meta

    before = read_store_meta(milvus_small)
    note = tmp_path / "rabbits.md"
    note.write_text(NOTE, encoding="utf-8")
    real_insert = milvus._insert

    def insert_then_fail(client, address, names, parts, counters):
        real_insert(client, address, names, parts, counters)
        raise IpchatError("Milvus went away")

    monkeypatch.setattr(milvus, "_insert", insert_then_fail)
    [result] = add_documents([note], milvus_small, HashingEmbedder(64), added_dir=tmp_path / "added")
    assert result.status == "failed" and "Milvus went away" in result.reason
    assert read_store_meta(milvus_small) == before
    store = open_store(milvus_small)
    assert [c.doc_id for c in store.chunks] == ["pets"] * before["chunks"]


@pytest.mark.milvus
def test_cli_builds_asks_and_reports_on_a_lite_store(small_corpus, tmp_path, capsys, monkeypatch):
    from ipchat import cli

    store = f"milvus-lite://{tmp_path}/cli.db/pets"
    assert cli.main(["build", "--corpus", str(small_corpus), "--store", store, "--model", "hashing-64"]) == 0
    assert f"into {store}" in capsys.readouterr().out
    monkeypatch.setenv("IPCHAT_CORPUS", str(small_corpus))
    monkeypatch.setenv("IPCHAT_STORE", store)
    assert cli.main(["search", "--json", "fleas and ticks", "-k", "1"]) == 0
    [hit] = json.loads(capsys.readouterr().out)["hits"]
    assert "Fleas and ticks" in hit["text"] and hit["doc_id"] == "pets"
    assert cli.main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["index"], info["index_kind"], info["index_status"], info["passages"]) == (store, "milvus-lite", "ready", 2)


# -- the bundled corpus with the real model ---------------------------------------------------------

@pytest.fixture(scope="module")
def two_stores(real_retriever, real_embedder, milvus_settings):
    from ipchat.answer import Answerer

    milvus = Retriever.from_settings(milvus_settings, real_embedder)
    return Answerer(real_retriever), Answerer(milvus)


def first_citation(reply):
    return (reply.citations[0].chunk_id, reply.citations[0].start, reply.citations[0].end) if reply.citations else None


@pytest.mark.milvus
@pytest.mark.model
def test_seed_questions_get_the_same_passages_and_answers_from_both_stores(two_stores):
    """Both stores score the same tokens and vectors by the same formulas: on the bundled corpus every
    seed question got the same five passages and the same answer when this was written (overlap@5
    1.000). The floor below allows for float noise in near-ties, not for a different ranking."""
    faiss, milvus = two_stores
    overlap, same_first = [], 0
    for row in SEED:
        a = [h.chunk.chunk_id for h in faiss.retriever.search(row["question"], 5)]
        b = [h.chunk.chunk_id for h in milvus.retriever.search(row["question"], 5)]
        overlap.append(len(set(a) & set(b)) / 5)
        assert a[0] == b[0], row["id"]
        ra, rb = faiss.ask(row["question"]), milvus.ask(row["question"])
        same_first += first_citation(ra) == first_citation(rb)
        assert ra.abstained == rb.abstained, row["id"]
        for c in rb.citations:
            assert milvus.index.documents[c.doc_id].text[c.start:c.end] == c.quote
            assert c.chunk_id in {h.chunk.chunk_id for h in rb.hits}
    assert np.mean(overlap) >= 0.98
    assert same_first >= 0.97 * len(SEED)


@pytest.mark.milvus
@pytest.mark.model
def test_the_milvus_store_holds_the_corpus_as_the_index_does(two_stores):
    faiss, milvus = two_stores
    assert [c for c in milvus.index.chunks] == list(faiss.index.chunks)
    assert dict(milvus.index.documents) == faiss.index.documents
    assert set(milvus.index.vocabulary) == set(faiss.index.vocabulary) - {""}  # bm25s keeps an empty token
    ids = [c.chunk_id for c in faiss.index.chunks]
    for a, b in zip(faiss.index.sentence_vectors_of(ids), milvus.index.sentence_vectors_of(ids)):
        assert np.allclose(a, b, atol=1e-5)


@pytest.mark.milvus
@pytest.mark.model
def test_the_app_answers_from_a_milvus_store(milvus_settings, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("IPCHAT_STORE", milvus_settings.store)
    monkeypatch.setenv("IPCHAT_FEEDBACK", str(tmp_path / "feedback.jsonl"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    at.chat_input[0].set_value("How many ECT treatments are usually given?").run()
    assert not at.exception
    assert "six to twelve treatments" in "\n".join(e.value for e in at.markdown)
    _settings, answerer = at.session_state["_ipchat"]
    assert answerer.index.location == str(parse_store(milvus_settings.store))
