"""ipchat add / remove: extraction, the added folder, incremental index updates, refusals."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from ipchat.answer import Answerer, citation, reply_to_dict
from ipchat.cli import add_ingest_arguments, cmd_add, cmd_remove
from ipchat.corpus import added_documents, corpus_digest, load_corpus, read_added_manifest
from ipchat.embedding import HashingEmbedder
from ipchat.errors import IpchatError, ManifestError
from ipchat.index import build_index, load_index, read_meta
from ipchat.ingest import (
    IngestError, UnknownDocumentError, add_documents, extract, remove_document, target_index,
)
from ipchat.retrieval import Retriever
from ipchat.settings import committed_index, default_index, load_settings, local_index

PAGE_1 = ["The Riverside clinic gives ketamine infusions over forty minutes.",
          "Blood pressure is checked before every infusion."]
PAGE_2 = ["Parking at the Riverside clinic is free for patients having ECT.",
          "Memory problems after ECT usually fade within weeks."]

CHROME_HTML = """<!doctype html><html><head><title>TMS after-care | Example Clinic</title>
<link rel="canonical" href="https://clinic.example.org/tms-aftercare"></head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/services">Our services</a></li><li><a href="/contact">Contact us</a></li></ul></nav>
<main><article><h1>After your TMS session</h1>
<p>Most people can drive home straight after a session of transcranial magnetic stimulation. A mild headache on the
day of treatment is common and usually settles with simple pain relief.</p>
<h2>When to call us</h2>
<p>Call the clinic if a twitching of the face lasts longer than a day. Seizures are rare, affecting fewer than one in
a thousand patients.</p>
</article></main>
<footer><p>Copyright 2024 Example Clinic. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def make_pdf(pages: list[list[str] | None]) -> bytes:
    """A minimal PDF: each page one Helvetica text object with a line per string; a page given as
    None carries only a 1x1 grey image and no text at all, as a scanned page does."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 "
               b"/Length 1 >>\nstream\n\x80\nendstream"]
    kids = []
    for lines in pages:
        if lines is None:
            content = b"q 200 0 0 200 100 500 cm /Im1 Do Q"
        else:
            escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
            content = ("BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({line}) Tj T*" for line in escaped) + " ET").encode("latin-1")
        page_number = len(objects) + 1
        kids.append(f"{page_number} 0 R")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
                       f"/XObject << /Im1 4 0 R >> >> /Contents {page_number + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_docx(paragraphs: list[tuple[str, str]]) -> bytes:
    """A minimal .docx: (style, text) paragraphs in word/document.xml, which is all ipchat reads."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>' if style
        else f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for style, text in paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>')
    return out.getvalue()


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, recording how many texts it was asked to embed."""

    def __init__(self, dimension: int = 64):
        super().__init__(dimension)
        self.embedded = 0

    def embed(self, texts, progress=None):
        self.embedded += len(texts)
        return super().embed(texts, progress)


class ExplodingEmbedder(HashingEmbedder):
    def __init__(self, error: Exception):
        super().__init__(64)
        self.error = error

    def embed(self, texts, progress=None):
        raise self.error


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A folder of files to add, good and bad."""
    from pypdf import PdfReader, PdfWriter

    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "clinic.pdf").write_bytes(make_pdf([PAGE_1, PAGE_2]))
    (folder / "aftercare.html").write_text(CHROME_HTML, encoding="utf-8")
    (folder / "notes.md").write_text("# Ward notes\n\nPatients fast for six hours before ECT.\n", encoding="utf-8")
    (folder / "plain.txt").write_text("Lithium levels are checked weekly at first.\n", encoding="utf-8")
    (folder / "memo.docx").write_bytes(make_docx([("Title", "Clinic memo"), ("Heading1", "Rota"),
                                                  ("", "The TMS room opens at eight."), ("ListParagraph", "Bring a snack.")]))
    writer = PdfWriter(clone_from=PdfReader(folder / "clinic.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with open(folder / "locked.pdf", "wb") as handle:
        writer.write(handle)
    (folder / "scan.pdf").write_bytes(make_pdf([None, None]))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04 not read")
    return folder


@pytest.fixture
def added_dir(tmp_path: Path) -> Path:
    return tmp_path / "added"


def index_state(directory: Path) -> dict[str, str]:
    """Every file of an index with its sha256: equal states mean the index was not touched."""
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(directory).rglob("*")) if p.is_file()}


def folder_state(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


# -- extraction ------------------------------------------------------------------------------------


def test_pdf_text_is_kept_per_page(files):
    extracted = extract(files / "clinic.pdf")
    assert extracted.kind == "pdf" and len(extracted.pages) == 2
    first, second = (extracted.text[s:e] for s, e in extracted.pages)
    assert first == "\n".join(PAGE_1) and second == "\n".join(PAGE_2)


def test_html_chrome_is_stripped(files):
    extracted = extract(files / "aftercare.html")
    assert extracted.title == "After your TMS session"
    assert extracted.url == "https://clinic.example.org/tms-aftercare"
    assert "simple pain relief" in extracted.text and "## When to call us" in extracted.text
    for chrome in ("cookies", "Accept all", "Our services", "Contact us", "Copyright", "Privacy policy"):
        assert chrome not in extracted.text


def test_docx_paragraphs_become_markdown(files):
    extracted = extract(files / "memo.docx")
    assert extracted.title == "Clinic memo"
    assert extracted.text == "# Clinic memo\n\n# Rota\n\nThe TMS room opens at eight.\n\nBring a snack.\n"


@pytest.mark.parametrize("name, reason", [
    ("locked.pdf", "encrypted"),
    ("scan.pdf", "no extractable text"),
    ("empty.txt", "empty"),
    ("photo.txt", "binary"),
    ("sheet.xlsx", "unsupported file type"),
    ("missing.md", "no such file"),
])
def test_bad_files_are_refused_by_name(files, name, reason):
    with pytest.raises(IngestError) as err:
        extract(files / name)
    assert isinstance(err.value, IpchatError)
    assert str(err.value).startswith(f"{files / name}: ") and reason in err.value.reason


def test_page_of_an_offset_and_how_a_citation_shows_it():
    from ipchat.types import Citation, Document

    doc = Document("d", "T", "", "pdf", "", "x" * 30, (), ((0, 10), (12, 20), (20, 20), (22, 30)))
    assert [doc.page_at(i) for i in (0, 9, 10, 12, 19, 20, 22, 29, 30)] == [1, 1, None, 2, 2, None, 4, 4, None]
    assert Document("e", "T", "", "text", "", "x").page_at(0) is None
    cite = Citation(1, "d:0", "d", "T", "", "Page 4", "q", 22, 23, page=4)
    assert cite.locator == "Page 4"
    assert dataclasses.replace(cite, section="Methods").locator == "Methods, p. 4"
    assert dataclasses.replace(cite, page=None).locator == "Page 4"


# -- add ---------------------------------------------------------------------------------------------


def test_pdf_citation_carries_its_page(hashing_index, files, added_dir):
    [result] = add_documents([files / "clinic.pdf"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert (result.status, result.doc_id) == ("added", "clinic") and result.chunks == 2
    index = load_index(hashing_index)
    doc = index.documents["clinic"]
    chunks = [c for c in index.chunks if c.doc_id == "clinic"]
    assert [c.section for c in chunks] == ["Page 1", "Page 2"]
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start:chunk.end]
        assert doc.page_at(chunk.start) == doc.page_at(chunk.end - 1)  # no chunk runs across a page break

    settings = hashing_index.replace(abstain_threshold=0.0)
    answerer = Answerer(Retriever(index, HashingEmbedder(64), settings), settings)
    reply = answerer.ask("Is parking free at the Riverside clinic for ECT patients?")
    cited = [c for c in reply.citations if c.doc_id == "clinic"]
    assert cited and all(c.page == (2 if "Parking" in c.quote or "Memory" in c.quote else 1) for c in cited)
    assert any(c.page == 2 and "Parking" in c.quote for c in cited)
    assert any(c.locator == "Page 2" for c in cited)
    data = reply_to_dict(reply, index)
    assert {c["page"] for c in data["citations"] if c["doc_id"] == "clinic"} <= {1, 2}
    assert all(c["page"] is None for c in data["citations"] if c["doc_id"] == "pets")
    page_1 = citation(answerer.index, 1, chunks[0], chunks[0].start, chunks[0].end)
    assert page_1.page == 1 and page_1.quote.startswith("The Riverside clinic")


def test_every_kind_is_added_and_the_index_rebuilds_from_the_stored_text(hashing_index, files, added_dir):
    names = ["clinic.pdf", "aftercare.html", "notes.md", "plain.txt", "memo.docx"]
    results = add_documents([files / n for n in names], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert [(r.status, r.doc_id) for r in results] == [
        ("added", "clinic"), ("added", "aftercare"), ("added", "notes"), ("added", "plain"), ("added", "memo")]
    entries = read_added_manifest(added_dir)
    assert [(e.kind, e.original_name) for e in entries] == [
        ("pdf", "clinic.pdf"), ("html", "aftercare.html"), ("markdown", "notes.md"), ("text", "plain.txt"), ("docx", "memo.docx")]
    for entry, name in zip(entries, names):
        assert (added_dir / entry.original).read_bytes() == (files / name).read_bytes()  # a copy, not a reference
        assert entry.sha256 == hashlib.sha256((files / name).read_bytes()).hexdigest()
    assert entries[0].pages and not any(e.pages for e in entries[1:])
    assert (added_dir / ".gitignore").read_text() == "*\n"

    index = load_index(hashing_index)  # checks the corpus, added documents included, is what was indexed
    assert index.meta["documents"] == 6
    assert {c.section for c in index.chunks if c.doc_id == "aftercare"} == {"After your TMS session", "When to call us"}
    for chunk in index.chunks:
        assert chunk.text == index.documents[chunk.doc_id].text[chunk.start:chunk.end]
    # A full rebuild from the folder gives the same index.
    rebuilt = hashing_index.replace(index=Path(hashing_index.index).with_name("rebuilt"))
    meta = build_index(rebuilt, HashingEmbedder(64), added_dir=added_dir)
    again = load_index(rebuilt)
    assert meta["corpus_digest"] == index.meta["corpus_digest"]
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in index.chunks]
    assert np.allclose(again.dense.reconstruct_n(0, again.dense.ntotal), index.dense.reconstruct_n(0, index.dense.ntotal))
    assert np.allclose(again.sentence_vectors, index.sentence_vectors)
    assert again.documents["clinic"].pages == index.documents["clinic"].pages


def test_add_embeds_only_the_new_chunks(hashing_index, files, added_dir):
    before = load_index(hashing_index)
    embedder = CountingEmbedder()
    [result] = add_documents([files / "clinic.pdf"], hashing_index, embedder, added_dir=added_dir)
    after = load_index(hashing_index)
    new = [c for c in after.chunks if c.doc_id == "clinic"]
    assert embedder.embedded == len(new) + sum(len(c.sentences) for c in new)
    assert after.meta["reused_chunks"] == len(before.chunks)
    old_rows = [i for i, c in enumerate(after.chunks) if c.doc_id == "pets"]
    assert np.array_equal(after.dense.reconstruct_n(0, after.dense.ntotal)[old_rows],
                          before.dense.reconstruct_n(0, before.dense.ntotal))


def test_a_bad_file_does_not_stop_the_others(hashing_index, files, added_dir):
    paths = [files / "locked.pdf", files / "notes.md", files / "photo.txt"]
    results = add_documents(paths, hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert [r.status for r in results] == ["failed", "added", "failed"]
    assert results[0].line() == f"error: {paths[0]}: {results[0].reason}"
    assert [e.id for e in read_added_manifest(added_dir)] == ["notes"]
    assert "notes" in load_index(hashing_index).documents


@pytest.mark.parametrize("name", ["locked.pdf", "scan.pdf", "empty.txt", "photo.txt", "sheet.xlsx", "missing.md"])
def test_a_bad_file_leaves_index_and_folder_untouched(hashing_index, files, added_dir, name):
    add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    index, folder = index_state(hashing_index.index), folder_state(added_dir)
    [result] = add_documents([files / name], hashing_index, CountingEmbedder(), added_dir=added_dir)
    assert result.status == "failed" and result.line().startswith(f"error: {files / name}: ")
    assert index_state(hashing_index.index) == index and folder_state(added_dir) == folder


def test_adding_an_unchanged_file_again_does_nothing(hashing_index, files, added_dir):
    add_documents([files / "clinic.pdf"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    index, folder = index_state(hashing_index.index), folder_state(added_dir)
    copy = files / "copy-of-clinic.pdf"
    copy.write_bytes((files / "clinic.pdf").read_bytes())
    embedder = CountingEmbedder()
    results = add_documents([files / "clinic.pdf", copy], hashing_index, embedder, added_dir=added_dir)
    assert [r.line() for r in results] == ["unchanged clinic", "unchanged clinic"]
    assert embedder.embedded == 0
    assert index_state(hashing_index.index) == index and folder_state(added_dir) == folder


def test_a_changed_file_replaces_its_earlier_version(hashing_index, files, added_dir):
    path = files / "notes.md"
    add_documents([path], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    [old] = read_added_manifest(added_dir)
    path.write_text("# Ward notes\n\nPatients fast for eight hours before ECT.\n", encoding="utf-8")
    [result] = add_documents([path], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert (result.status, result.doc_id) == ("updated", "notes")
    [new] = read_added_manifest(added_dir)
    assert new.sha256 != old.sha256 and not (added_dir / old.text).exists()
    assert "eight hours" in load_index(hashing_index).documents["notes"].text
    # Another file of the same name from elsewhere is a new document.
    other = files / "elsewhere"
    other.mkdir()
    (other / "notes.md").write_text("# Other notes\n\nA different ward.\n", encoding="utf-8")
    [result] = add_documents([other / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert (result.status, result.doc_id) == ("added", "notes-2")


def test_an_upload_of_the_same_name_replaces_its_earlier_version(hashing_index, tmp_path, added_dir):
    # The app writes each upload to a fresh temporary folder; the name it was uploaded under is its place.
    first, second = tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md"
    for path, hours in ((first, "six"), (second, "eight")):
        path.parent.mkdir()
        path.write_text(f"# Ward notes\n\nPatients fast for {hours} hours before ECT.\n", encoding="utf-8")
    [added] = add_documents([first], hashing_index, HashingEmbedder(64), added_dir=added_dir, sources=["upload:notes.md"])
    [updated] = add_documents([second], hashing_index, HashingEmbedder(64), added_dir=added_dir, sources=["upload:notes.md"])
    assert (added.status, updated.status, updated.doc_id) == ("added", "updated", added.doc_id)
    [entry] = read_added_manifest(added_dir)
    assert entry.added_from == "upload:notes.md"
    assert "eight hours" in load_index(hashing_index).documents[added.doc_id].text
    with pytest.raises(IpchatError, match="2 sources given for 1 files"):
        add_documents([first], hashing_index, HashingEmbedder(64), added_dir=added_dir, sources=["x", "y"])


def test_ids_never_clash_with_the_corpus(hashing_index, tmp_path, added_dir):
    path = tmp_path / "Pets.txt"
    path.write_text("Rabbits need hay.\n", encoding="utf-8")
    [result] = add_documents([path], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert result.doc_id == "pets-2"


def test_a_failed_update_changes_nothing(hashing_index, files, added_dir):
    add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    index, folder = index_state(hashing_index.index), folder_state(added_dir)
    with pytest.raises(RuntimeError, match="disk full"):
        add_documents([files / "clinic.pdf"], hashing_index, ExplodingEmbedder(RuntimeError("disk full")), added_dir=added_dir)
    assert index_state(hashing_index.index) == index and folder_state(added_dir) == folder
    results = add_documents([files / "clinic.pdf", files / "empty.txt"], hashing_index,
                            ExplodingEmbedder(IpchatError("model gone")), added_dir=added_dir)
    assert [r.status for r in results] == ["failed", "failed"] and "model gone" in results[0].reason
    assert index_state(hashing_index.index) == index and folder_state(added_dir) == folder
    leftovers = [p.name for p in Path(hashing_index.index).parent.iterdir() if p.name.startswith(".index")]
    assert leftovers == []


# -- the added folder refuses what lies outside it ------------------------------------------------------


def test_manifest_may_not_reference_files_outside_its_folder(hashing_index, files, added_dir, tmp_path):
    add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    index = index_state(hashing_index.index)
    outside = tmp_path / "secret.txt"
    outside.write_text("Not part of any corpus.\n", encoding="utf-8")
    manifest = added_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    data["documents"][0]["text"] = "../secret.txt"
    manifest.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=r"'notes'.*outside"):
        added_documents(added_dir)
    with pytest.raises(ManifestError, match="outside"):
        add_documents([files / "plain.txt"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    with pytest.raises(ManifestError, match="outside"):
        load_index(hashing_index)
    assert index_state(hashing_index.index) == index

    # A symlink out of the folder is refused too.
    data["documents"][0]["text"] = "link.txt"
    manifest.write_text(json.dumps(data))
    (added_dir / "link.txt").symlink_to(outside)
    with pytest.raises(ManifestError, match="outside"):
        added_documents(added_dir)


def test_committed_index_never_receives_added_documents(tmp_path):
    from ipchat import index as index_module
    from ipchat.types import Document, Section

    settings = load_settings(environ={}, index=committed_index({}))
    assert target_index(settings) == local_index({})
    assert target_index(settings.replace(index=tmp_path / "mine")) == tmp_path / "mine"
    [article] = load_corpus(ROOT / "corpus")
    mine = Document("clinic", "Clinic", "", "pdf", "added", "Text.", (Section("Page 1", 0, 5),), ((0, 5),))
    with pytest.raises(IpchatError, match="data/index"):
        index_module._refuse_unshippable_text(settings, [article, mine])


def test_default_index_moves_out_of_the_repository_once_a_document_is_added(tmp_path, hashing_index, files):
    environ = {"IPCHAT_FETCHED_DIR": str(tmp_path / "fetched"), "IPCHAT_ADDED_DIR": str(tmp_path / "added")}
    assert default_index(environ) == committed_index(environ)
    add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=tmp_path / "added")
    assert default_index(environ) == local_index(environ)
    remove_document("notes", hashing_index, HashingEmbedder(64), added_dir=tmp_path / "added")
    assert default_index(environ) == committed_index(environ)


# -- remove ------------------------------------------------------------------------------------------


def test_remove_drops_the_document_without_embedding(hashing_index, files, added_dir):
    add_documents([files / "clinic.pdf", files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    before = load_index(hashing_index)
    embedder = CountingEmbedder()
    result = remove_document("clinic", hashing_index, embedder, added_dir=added_dir)
    assert (result.doc_id, result.chunks) == ("clinic", 2)
    assert result.line().startswith("removed clinic (2 chunks")
    assert embedder.embedded == 0
    after = load_index(hashing_index)
    assert "clinic" not in after.documents and all(c.doc_id != "clinic" for c in after.chunks)
    kept = [i for i, c in enumerate(before.chunks) if c.doc_id != "clinic"]
    assert np.array_equal(after.dense.reconstruct_n(0, after.dense.ntotal), before.dense.reconstruct_n(0, before.dense.ntotal)[kept])
    assert [e.id for e in read_added_manifest(added_dir)] == ["notes"]
    assert not (added_dir / "clinic").exists()
    assert corpus_digest(load_corpus(hashing_index.corpus, added_dir=added_dir)) == after.meta["corpus_digest"]


def test_remove_without_an_embedder_does_not_need_the_model(hashing_index, files, added_dir, monkeypatch):
    from ipchat import ingest

    add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    monkeypatch.setattr(ingest, "load_embedder", lambda *a, **k: pytest.fail("the model was loaded"))
    remove_document("notes", hashing_index, added_dir=added_dir)
    assert "notes" not in load_index(hashing_index).documents


def test_remove_refuses_unknown_and_corpus_ids(hashing_index, files, added_dir):
    add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64), added_dir=added_dir)
    index = index_state(hashing_index.index)
    with pytest.raises(UnknownDocumentError, match=r"No added document 'nope' \(added: notes\)"):
        remove_document("nope", hashing_index, HashingEmbedder(64), added_dir=added_dir)
    with pytest.raises(UnknownDocumentError, match="'pets' is part of the corpus"):
        remove_document("pets", hashing_index, HashingEmbedder(64), added_dir=added_dir)
    assert index_state(hashing_index.index) == index


def test_another_corpus_needs_an_added_folder(hashing_index, files):
    with pytest.raises(IpchatError, match="--added-dir"):
        add_documents([files / "notes.md"], hashing_index, HashingEmbedder(64))


# -- command line ------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ipchat")
    sub = parser.add_subparsers(dest="command", required=True)
    add_ingest_arguments(sub.add_parser("add"), "add").set_defaults(func=cmd_add)
    add_ingest_arguments(sub.add_parser("remove"), "remove").set_defaults(func=cmd_remove)
    return parser.parse_args(argv)


def test_cli_add_and_remove(hashing_index, files, added_dir, capsys):
    common = ["--corpus", str(hashing_index.corpus), "--index", str(hashing_index.index), "--model", "hashing-64",
              "--added-dir", str(added_dir)]
    args = parse(["add", str(files / "clinic.pdf"), str(files / "scan.pdf"), *common])
    assert args.func(args) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("added clinic (2 chunks, embedded in ") and lines[0].endswith(" s)")
    assert lines[1].startswith(f"error: {files / 'scan.pdf'}: no extractable text")
    assert lines[2].startswith("2 file(s): 1 added, 1 failed; index ")

    args = parse(["add", str(files / "clinic.pdf"), *common])
    assert args.func(args) == 0
    assert capsys.readouterr().out.splitlines() == ["unchanged clinic", "1 file(s): 1 unchanged."]

    args = parse(["remove", "clinic", *common])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("removed clinic (2 chunks; index ")
    assert read_meta(hashing_index.index)["documents"] == 1


# -- the real model ------------------------------------------------------------------------------------


@pytest.mark.model
def test_adding_to_the_project_corpus_reuses_the_committed_vectors(real_embedder, files, tmp_path):
    settings = load_settings(environ={}, index=tmp_path / "index")

    class Counting:
        """The real model, recording how many texts it was asked to embed."""

        name, dimension, max_tokens = real_embedder.name, real_embedder.dimension, real_embedder.max_tokens
        embedded = 0

        def embed(self, texts, progress=None):
            Counting.embedded += len(texts)
            return real_embedder.embed(texts, progress)

        def count_tokens(self, text):
            return real_embedder.count_tokens(text)

    [result] = add_documents([files / "clinic.pdf"], settings, Counting(), added_dir=tmp_path / "added")
    assert result.status == "added"
    index = load_index(settings)
    clinic = [c for c in index.chunks if c.doc_id == "clinic"]
    assert Counting.embedded == len(clinic) + sum(len(c.sentences) for c in clinic)
    assert index.meta["reused_chunks"] == read_meta(committed_index({}))["chunks"]
    answerer = Answerer(Retriever(index, real_embedder, settings), settings)
    reply = answerer.ask("Is parking free at the Riverside clinic?")
    assert not reply.abstained
    assert reply.citations[0].doc_id == "clinic" and reply.citations[0].page == 2
