"""The int8 encoder: the setting, the export made once and cached, its digest check, the index's record
of its encoder, and vectors close to fp32. The export runs once per session (the `int8_export` fixture)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from ipchat import int8 as int8_module
from ipchat.cli import main
from ipchat.embedding import HashingEmbedder, load_embedder
from ipchat.errors import IndexMismatchError, IpchatError, ModelError
from ipchat.index import META, build_index, load_index, update_index
from ipchat.int8 import CACHE_NAME, MODEL_FILE, Int8Embedder, check_export, ensure_export
from ipchat.runtime import RECORD_FILE
from ipchat.settings import Settings, load_settings

SHA_A, SHA_B = "a" * 64, "b" * 64


class LabelledHashing(HashingEmbedder):
    """The hashing embedder wearing an encoder label, to test what an index records without a model."""

    def __init__(self, encoder: str = "int8", sha256: str | None = SHA_A):
        super().__init__(64)
        self.name = "hashing-64"
        self.encoder, self.encoder_sha256 = encoder, sha256


# -- the setting ------------------------------------------------------------------------------------

def test_encoder_defaults_to_fp32_and_the_bundled_index(tmp_path):
    settings = load_settings(environ={"IPCHAT_HOME": str(tmp_path)})
    assert settings.encoder == "fp32"
    assert Settings().digest() == Settings(encoder="fp32").digest() != Settings(encoder="int8").digest()


@pytest.mark.parametrize("environ, flag", [({"IPCHAT_ENCODER": "int8"}, None), ({"IPCHAT_ENCODER": " INT8 "}, None),
                                           ({}, "int8"), ({"IPCHAT_ENCODER": "fp32"}, "int8")])
def test_int8_from_the_environment_or_the_flag_uses_its_own_index(tmp_path, environ, flag):
    settings = load_settings(environ={"IPCHAT_HOME": str(tmp_path), **environ}, encoder=flag)
    assert settings.encoder == "int8"
    assert settings.index == tmp_path.resolve() / "data" / "index-int8"  # never the bundled fp32 index


@pytest.mark.parametrize("environ, flag, named", [({"IPCHAT_ENCODER": "int4"}, None, "IPCHAT_ENCODER='int4'"),
                                                  ({}, "fp16", "--encoder='fp16'")])
def test_an_unknown_encoder_is_refused_by_name(tmp_path, environ, flag, named):
    with pytest.raises(IpchatError, match=f"{named}.*fp32, int8"):
        load_settings(environ={"IPCHAT_HOME": str(tmp_path), **environ}, encoder=flag)
    with pytest.raises(IpchatError, match="Unknown encoder 'int4'"):
        Settings(encoder="int4")


def test_the_cli_refuses_an_unknown_encoder(capsys, monkeypatch):
    with pytest.raises(SystemExit):
        main(["search", "x", "--encoder", "int4"])
    assert "int4" in capsys.readouterr().err  # argparse names the refused value (its wording varies)
    monkeypatch.setenv("IPCHAT_ENCODER", "int4")
    assert main(["search", "x"]) == 1
    assert "IPCHAT_ENCODER='int4' is not an encoder" in capsys.readouterr().err


def test_missing_onnxruntime_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(ModelError, match=r"needs the package onnxruntime.*pip install 'ipchat\[int8\]'"):
        load_embedder("sentence-transformers/all-MiniLM-L6-v2", encoder="int8")


def test_int8_is_refused_for_other_models():
    with pytest.raises(ModelError, match="all-MiniLM-L6-v2"):
        load_embedder("hashing-64", encoder="int8")
    with pytest.raises(ModelError, match="bundled all-MiniLM-L6-v2 only"):
        Int8Embedder("some/other-model")


# -- the index records its encoder -------------------------------------------------------------------

def test_the_index_records_the_encoder_and_its_digest(hashing_settings):
    meta = build_index(hashing_settings.replace(encoder="int8"), LabelledHashing())
    assert (meta["encoder"], meta["encoder_sha256"]) == ("int8", SHA_A)
    assert build_index(hashing_settings, HashingEmbedder(64))["encoder"] == "fp32"


def test_a_query_with_another_encoder_gets_the_rebuild_message(hashing_settings):
    build_index(hashing_settings.replace(encoder="int8"), LabelledHashing())
    directory = hashing_settings.index
    with pytest.raises(IndexMismatchError, match=rf"built with the int8 encoder, not fp32\. Rebuild it with: "
                                                 rf"ipchat build --index {directory} .*--encoder int8"):
        load_index(hashing_settings)
    assert load_index(hashing_settings.replace(encoder="int8")).meta["encoder"] == "int8"


def test_an_index_without_the_field_is_fp32(hashing_index):
    path = hashing_index.index / META
    meta = json.loads(path.read_text())
    del meta["encoder"]  # as every index built before encoders could be chosen
    path.write_text(json.dumps(meta))
    assert load_index(hashing_index).meta["model"] == "hashing-64"
    with pytest.raises(IndexMismatchError, match="fp32 encoder, not int8.*--encoder int8"):
        load_index(hashing_index.replace(encoder="int8"))


def test_another_int8_export_gets_the_rebuild_message(hashing_settings):
    from ipchat.retrieval import Retriever

    settings = hashing_settings.replace(encoder="int8")
    build_index(settings, LabelledHashing(sha256=SHA_A))
    with pytest.raises(IndexMismatchError, match=f"another int8 export \\({SHA_A[:12]}, this one is {SHA_B[:12]}\\)"):
        Retriever.from_settings(settings, LabelledHashing(sha256=SHA_B))
    with pytest.raises(IndexMismatchError, match="int8 encoder, not fp32"):
        Retriever.from_settings(settings, HashingEmbedder(64))  # an fp32 embedder handed over directly
    assert Retriever.from_settings(settings, LabelledHashing(sha256=SHA_A)).search("cats", 1)


def test_the_cli_says_to_rebuild(hashing_index, capsys):
    assert main(["search", "cats", "--index", str(hashing_index.index), "--encoder", "int8"]) == 1
    err = capsys.readouterr().err
    assert "built with the fp32 encoder, not int8" in err and f"ipchat build --index {hashing_index.index} --encoder int8" in err


def test_add_with_another_encoder_gets_the_rebuild_message(hashing_index, tmp_path):
    from ipchat.ingest import add_documents

    added = tmp_path / "added"
    added.mkdir()
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nHamsters store food in their cheeks.\n", encoding="utf-8")
    before = (hashing_index.index / META).read_text()
    with pytest.raises(IndexMismatchError, match="fp32 encoder, not int8.*--encoder int8"):
        add_documents([note], hashing_index.replace(encoder="int8"), LabelledHashing(), added_dir=added)
    assert (hashing_index.index / META).read_text() == before
    assert not any(added.iterdir())  # nothing copied in


def test_vectors_of_one_encoder_are_not_reused_by_the_other(hashing_index):
    report = update_index(hashing_index.replace(encoder="int8"), LabelledHashing(), reuse_from=(hashing_index.index,))
    assert "reused_chunks" not in report.meta and report.meta["encoder"] == "int8"
    again = update_index(hashing_index.replace(encoder="int8"), LabelledHashing(), reuse_from=(hashing_index.index,))
    assert again.meta["reused_chunks"] == again.meta["chunks"]  # same encoder, same export: all reused


# -- the export: made once, cached, checked -----------------------------------------------------------

@pytest.fixture(scope="session")
def int8_export(tmp_path_factory):
    """The int8 encoder made once for the session into a temporary cache (not beside the installed model)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    places = [tmp_path_factory.mktemp("int8-cache") / CACHE_NAME]
    embedder = Int8Embedder(places=places)
    return embedder, places


def _no_export(*args, **kwargs):
    raise AssertionError("exported again")


@pytest.mark.model
def test_the_export_is_cached_and_reused(int8_export, monkeypatch):
    embedder, places = int8_export
    record = json.loads((places[0] / RECORD_FILE).read_text())
    assert record["sha256"] == embedder.encoder_sha256 and record["export_version"] == int8_module.EXPORT_VERSION
    assert sorted(p.name for p in places[0].parent.iterdir()) == [CACHE_NAME]  # nothing half-made left beside it
    stamp = (places[0] / MODEL_FILE).stat().st_mtime_ns
    monkeypatch.setattr(int8_module, "_export", _no_export)
    again = Int8Embedder(places=places)
    assert again.encoder_sha256 == embedder.encoder_sha256
    assert (places[0] / MODEL_FILE).stat().st_mtime_ns == stamp


def _copy_export(source: Path):
    """A stand-in for _export that copies a finished export into the staging folder."""
    def export(model_dir, folder, progress):
        for name in (MODEL_FILE, RECORD_FILE):
            shutil.copy(source / name, folder / name)
        return json.loads((source / RECORD_FILE).read_text())
    return export


@pytest.mark.model
def test_a_corrupted_export_fails_its_digest_and_is_made_again(int8_export, tmp_path, monkeypatch):
    _, places = int8_export
    place = tmp_path / CACHE_NAME
    shutil.copytree(places[0], place)
    with open(place / MODEL_FILE, "r+b") as handle:  # one flipped byte in the weights
        handle.seek(-100, 2)
        byte = handle.read(1)
        handle.seek(-100, 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="does not match the sha256"):
        check_export(place)
    monkeypatch.setattr(int8_module, "_export", _no_export)
    with pytest.raises(AssertionError, match="exported again"):
        ensure_export(places=[place])  # the corrupt file is never loaded: it would be made again
    monkeypatch.setattr(int8_module, "_export", _copy_export(places[0]))
    folder, record = ensure_export(places=[place])
    assert folder == place and check_export(place)["sha256"] == record["sha256"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [CACHE_NAME]


@pytest.mark.model
def test_a_failed_export_leaves_nothing_behind_and_an_unwritable_place_is_skipped(int8_export, tmp_path, monkeypatch):
    _, places = int8_export

    def broken(model_dir, folder, progress):
        (folder / MODEL_FILE).write_bytes(b"half a model")
        raise RuntimeError("disk gone")

    monkeypatch.setattr(int8_module, "_export", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        ensure_export(places=[tmp_path / "cache" / CACHE_NAME])
    assert list((tmp_path / "cache").iterdir()) == []
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(int8_module, "_export", _copy_export(places[0]))
    folder, _ = ensure_export(places=[blocked / "sub" / CACHE_NAME, tmp_path / "workspace" / CACHE_NAME])
    assert folder == tmp_path / "workspace" / CACHE_NAME


@pytest.mark.model
def test_int8_vectors_are_close_to_fp32(int8_export, real_embedder):
    embedder, _ = int8_export
    texts = ["What is ECT?", "Electroconvulsive therapy is used for severe depression when other treatments fail.",
             "TMS delivers magnetic pulses to the scalp, usually every weekday for several weeks.",
             "Ketamine can be given by infusion or as a nasal spray (esketamine)."]
    int8, fp32 = embedder.embed(texts), real_embedder.embed(texts)
    assert int8.shape == fp32.shape and np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    assert ((int8 * fp32).sum(1) > 0.98).all()
    assert embedder.count_tokens(texts[1]) == real_embedder.count_tokens(texts[1])
    assert (embedder.dimension, embedder.max_tokens) == (real_embedder.dimension, real_embedder.max_tokens)


@pytest.mark.model
def test_an_int8_index_answers_and_refuses_the_fp32_encoder(int8_export, real_embedder, small_corpus, tmp_path):
    from ipchat.retrieval import Retriever

    embedder, _ = int8_export
    settings = load_settings(environ={}, corpus=small_corpus, index=tmp_path / "index", encoder="int8")
    meta = build_index(settings, embedder)
    assert (meta["encoder"], meta["encoder_sha256"]) == ("int8", embedder.encoder_sha256)
    hits = Retriever.from_settings(settings, embedder).search("how long do cats sleep", 1)
    assert "sixteen hours" in hits[0].chunk.text
    with pytest.raises(IndexMismatchError, match="int8 encoder, not fp32"):
        Retriever.from_settings(settings.replace(encoder="fp32"), real_embedder)
