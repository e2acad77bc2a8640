"""Clinical shorthand in questions: "ketamine for TRD?", "is rTMS invasive", "criteria for referring a pt".

Clinicians type abbreviations that a source may only ever spell out. Before retrieval, each known
abbreviation that the index has never seen gets its long form added after it in parentheses, so
both the keyword and the dense side can match the source's wording ("TRD" → "TRD
(treatment-resistant depression)"). An abbreviation the index already knows is left alone: the
sources use it, so it matches as it is. Pure string work; the question shown to the user is unchanged.
"""

from __future__ import annotations

import re
from typing import Callable

from .lexicon import load_lexicon

# (abbreviation, long form, case-sensitive), from ipchat/data/lexicon.toml. Two-letter forms that are
# also ordinary words or numerals in lower case ("iv", "si") only count in capitals.
_TABLE: tuple[tuple[str, str, bool], ...] = tuple(
    (s.short, s.long, s.case_sensitive) for s in load_lexicon().shorthand)

_PATTERNS = [(short, long_, re.compile(r"(?<![\w-])" + re.escape(short) + r"(?![\w-])", 0 if sensitive else re.I))
             for short, long_, sensitive in _TABLE]

# Initials written with full stops ("E.C.T.", "T.M.S", "I.V."): capitals only, so "e.g." and "i.e." stay as they are.
_DOTTED = re.compile(r"(?<![\w.])([A-Z](?:\.[A-Z])+)(\.?)(?![\w])")


# Letters spelt out one by one, as dictation writes them ("e c t", "T M S"): the known abbreviations of three or
# more letters, longest first, so "e c t a good idea" joins "e c t" and "a b c" stays as it is.
_SPACED = re.compile(r"(?<![\w.])(" + "|".join(
    " ".join(re.escape(letter) for letter in short) for short in sorted(
        {s.lower() for s, _long, _sensitive in _TABLE if s.isalpha() and len(s) >= 3}, key=len, reverse=True))
    + r")(?![\w])", re.I)


def join_initialisms(text: str) -> str:
    """`text` with initials written with full stops, or spelt out with spaces as dictation writes them, joined
    up ("E.C.T. - how long" → "ECT - how long", "what is e c t for" → "what is ect for"), so that
    they name what the plain abbreviation names and a clause after them starts as it would after "ECT". A
    stop that also ends a sentence (followed by a capital, or ending the text) is kept: "... had E.C.T. How
    long ..." → "... had ECT. How long ..."."""
    def joined(match: re.Match) -> str:
        rest = text[match.end():]
        ends_sentence = match.group(2) and (not rest.strip() or re.match(r"\s+[A-Z]", rest))
        return match.group(1).replace(".", "") + ("." if ends_sentence else "")

    text = _DOTTED.sub(joined, text)
    return _SPACED.sub(lambda m: m.group(1).replace(" ", ""), text)


def expand(query: str, known: Callable[[str], bool] = lambda _word: False) -> str:
    """`query` with the long form added after each abbreviation for which `known(abbreviation)` is false.

    `known` is asked with the lower-cased abbreviation; pass the index's vocabulary test so that only
    shorthand the sources never use is expanded. Idempotent: a long form already in the query is not
    added again.
    """
    lowered = query.lower()
    additions: list[tuple[int, str]] = []
    for short, long_, pattern in _PATTERNS:
        if long_.lower() in lowered or known(short.lower()):
            continue
        for match in pattern.finditer(query):
            additions.append((match.end(), long_))
            break  # one expansion per abbreviation is enough for matching
    for end, long_ in sorted(additions, reverse=True):
        query = f"{query[:end]} ({long_}){query[end:]}"
    return query
