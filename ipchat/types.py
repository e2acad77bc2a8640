"""Typed records handed from one stage to the next. All frozen."""

from __future__ import annotations

import bisect
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
    """A source document; `text` is exactly as extracted, `sections` index into it.

    `pages` holds the (start, end) character span of each page, in page order, for documents that
    have pages (PDFs); it is empty otherwise.
    """

    doc_id: str
    title: str
    url: str
    kind: str
    licence: str
    text: str
    sections: tuple[Section, ...] = ()
    pages: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based number of the page holding character `offset`, or None when the document has
        no pages or the offset lies on none of them (between pages)."""
        index = bisect.bisect_right(self.pages, (offset, float("inf"))) - 1
        if index >= 0 and self.pages[index][0] <= offset < self.pages[index][1]:
            return index + 1
        return None


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
    page: int | None = None

    @property
    def locator(self) -> str:
        """Where the quote is, for display: its section, with the page when the source has pages
        ("Methods, p. 4"; just "Page 4" when the section is the page)."""
        if self.page is None or self.section == f"Page {self.page}":
            return self.section
        return f"{self.section}, p. {self.page}" if self.section else f"p. {self.page}"


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
    answerability: float | None = None  # how well the passages answer it; None when not assessed (crisis)
    notes: tuple[str, ...] = ()  # what the sources lack for this question ("never mention lithium")
    declined: bool = False  # abstained for what the sources lack (coverage), whatever the answerability
