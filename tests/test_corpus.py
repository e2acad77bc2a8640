import json
import tomllib
from pathlib import Path

import pytest

from conftest import ARTICLE, ROOT
from ipchat.corpus import corpus_digest, load_beir, load_corpus, load_manifest, markdown_sections
from ipchat.errors import CorpusError, ManifestError

MANIFEST_OK = '[[source]]\nid = "a"\nkind = "web-page"\nlicence = "CC0"\nredistributable = true\nstatus = "bundled"\nfile = "a.md"\n'


def write_manifest(tmp_path: Path, body: str) -> Path:
    (tmp_path / "a.md").write_text("# A\n\nSome text here.\n", encoding="utf-8")
    (tmp_path / "sources.toml").write_text(body, encoding="utf-8")
    return tmp_path


def test_manifest_accepts_valid_entry(tmp_path):
    entries = load_manifest(write_manifest(tmp_path, MANIFEST_OK))
    assert [e.id for e in entries] == ["a"]


@pytest.mark.parametrize("body, message", [
    (MANIFEST_OK.replace('status = "bundled"', 'status = "bundled"\ncolour = "red"'), "unknown keys ['colour']"),
    (MANIFEST_OK + MANIFEST_OK, "duplicate id"),
    (MANIFEST_OK.replace("a.md", "missing.md"), "does not exist"),
    (MANIFEST_OK.replace("a.md", "../outside.md"), "outside"),
    (MANIFEST_OK.replace('status = "bundled"', 'status = "lost"'), "status 'lost'"),
    (MANIFEST_OK.replace("redistributable = true", "redistributable = 3"), "redistributable"),
    (MANIFEST_OK.replace('licence = "CC0"\n', ""), "missing licence"),
    ("[[source]\nid=", "not valid TOML"),
])
def test_manifest_errors_name_the_entry(tmp_path, body, message):
    (tmp_path.parent / "outside.md").write_text("x", encoding="utf-8")
    with pytest.raises(ManifestError) as err:
        load_manifest(write_manifest(tmp_path, body))
    assert message in str(err.value)
    if "TOML" not in message:
        assert "'a'" in str(err.value)


def test_bundled_manifest_lists_article_and_every_reference():
    entries = load_manifest(ROOT / "corpus")
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids)) == 18
    article = entries[0]
    assert article.status == "bundled" and article.file.endswith("interventional-psychiatry-guide.md")
    assert all(e.status == "metadata-only" for e in entries[1:])
    raw = tomllib.loads((ROOT / "corpus" / "sources.toml").read_text())
    positions = sorted(p for s in raw["source"] for p in s.get("reference_positions", []))
    assert positions == list(range(1, 19))  # the article's 18 reference lines, one duplicated URL


def test_article_markdown_keeps_the_source_wording():
    text = ARTICLE.read_text(encoding="utf-8")
    assert "block the NDMA receptors" in text  # the source's typo stays
    assert "Try Osmosis today" not in text and "Leave a Reply" not in text
    for heading in ("Understanding Mental Health Treatments", "Electroconvulsive Therapy (ECT)",
                    "Transcranial Magnetic Stimulation (TMS)", "Ketamine Infusions", "References"):
        assert f"\n## {heading}\n" in text
    assert "\n- Nausea and vomiting\n- High blood pressure\n" in text
    assert "\n- https://pmc.ncbi.nlm.nih.gov/articles/PMC4221242/\n" in text


def test_markdown_sections_cover_bodies_not_headings():
    text = "# T\n\nIntro.\n\n## One\n\nBody one.\n\n## Two\nBody two.\n"
    sections = markdown_sections(text, "T")
    assert [s.heading for s in sections] == ["T", "One", "Two"]
    assert [text[s.start:s.end].strip() for s in sections] == ["Intro.", "Body one.", "Body two."]


def test_load_corpus_reads_the_article_with_its_sections():
    [doc] = load_corpus(ROOT / "corpus")
    assert doc.doc_id == "osmosis-interventional-guide"
    assert doc.url.startswith("https://www.osmosis.org/")
    assert "Ketamine Infusions" in [s.heading for s in doc.sections]


def test_directory_corpus_without_manifest(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("Plain text. Two sentences.", encoding="utf-8")
    (tmp_path / "a.md").write_text("# Alpha\n\nBody.", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert [(d.doc_id, d.title) for d in docs] == [("a", "Alpha"), ("sub--b", "b")]


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\x00\x01binary", "binary"), (b"\xff\xfe\xfa", "not UTF-8")])
def test_unreadable_documents_name_the_file(tmp_path, content, message):
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert message in str(err.value) and "bad.txt" in str(err.value)


def test_empty_or_missing_corpus(tmp_path):
    with pytest.raises(CorpusError, match="no documents"):
        load_corpus(tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_beir_corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps({"_id": "d1", "title": "Q?", "text": "Answer.", "metadata": {"url": "u"}}) + "\n")
    [doc] = load_beir(path)
    assert (doc.doc_id, doc.title, doc.url, doc.text) == ("d1", "Q?", "u", "Q?\n\nAnswer.")
    path.write_text('{"title": "no id"}\n')
    with pytest.raises(CorpusError, match=r"corpus.jsonl:1"):
        load_beir(path)


def test_digest_changes_with_text_and_not_with_order(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\nOne.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n\nTwo.", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert corpus_digest(docs) == corpus_digest(list(reversed(docs)))
    (tmp_path / "b.md").write_text("# B\n\nTwo!", encoding="utf-8")
    assert corpus_digest(load_corpus(tmp_path)) != corpus_digest(docs)
