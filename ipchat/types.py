"""Typed records handed from one stage to the next. All frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A heading and the character span of its body in the document text."""

    heading: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A source document; `text` is exactly as extracted, `sections` index into it."""

    doc_id: str
    title: str
    url: str
    kind: str
    licence: str
    text: str
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage. Invariant: `text == document.text[start:end]`.

    `sentences` holds (start, end) offsets of each sentence, absolute in the document.
    """

    chunk_id: str
    doc_id: str
    section: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = ()

    def sentence_texts(self) -> list[str]:
        """The chunk's sentences as strings, in order."""
        return [self.text[s - self.start : e - self.start] for s, e in self.sentences]


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the scores of each retriever.

    `dense_score` / `bm25_score` are None when that retriever did not return the chunk.
    """

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered quote; `quote` is verbatim source text at [start, end)."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    url: str
    section: str
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Reply:
    """What `ask` returns."""

    question: str
    answer: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    safety: Any = None
    rewritten_query: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    path: str = "extractive"
