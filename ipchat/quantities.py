"""Numbers in text: quantities with their kind and interval, read from sentences and compared.

"six to twelve treatments" is treatments in [6, 12]; "less than ninety seconds" a duration in
[0, 90] s; "About 83%" a percentage of about 83; "three times a week" a frequency. Used by `verify`
to compare a claim's figures with a source's, and by `coverage` to tell whether a sentence states
the kind of figure a question asks for. Pure string work.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .keywords import keyword_tokens

# -- tokens ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*s?|[A-Za-z]+(?:[’'][A-Za-z]+)?|%|~|[^\sA-Za-z\d]")
_CLAUSE_PUNCT = set(",;:()[].!?—–")
_CLAUSE_WORDS = {"but", "while", "whereas", "although", "though", "however", "because", "whilst"}


@dataclass(frozen=True)
class Token:
    text: str  # lower case
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def clause_ids(tokens: Sequence[Token]) -> list[int]:
    """A clause number for each token; clauses break at punctuation and at contrastive conjunctions.

    A hyphen between two words ("six-to-twelve", "rapid-acting") is not a break; a dash with spaces is.
    """
    ids, clause = [], 0
    for t in tokens:
        if t.text in _CLAUSE_PUNCT or t.text in _CLAUSE_WORDS:
            clause += 1
        ids.append(clause)
    return ids


def stems(words: Iterable[str]) -> set[str]:
    return set(keyword_tokens(" ".join(words)))


# -- numbers and quantities --------------------------------------------------------------------------

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
# Vague amounts students write instead of a number: read as the range a reader would take them to mean.
_VAGUE = {"several": (3.0, 9.0), "few": (2.0, 5.0), "couple": (2.0, 2.0), "dozen": (12.0, 12.0), "once": (1.0, 1.0),
          "twice": (2.0, 2.0), "dozens": (24.0, 144.0), "hundreds": (200.0, 999.0), "thousands": (2_000.0, 9_999.0)}

# Unit word → (kind, factor to the kind's base unit). Durations are in seconds; a month is 1/12 year,
# so "twelve months" and "a year" compare equal.
_DAY = 86_400.0
UNIT_TABLE: dict[str, tuple[str, float]] = {
    "%": ("percent", 1.0), "percent": ("percent", 1.0), "percentage": ("percent", 1.0),
    **{w: ("duration", 1.0) for w in ("second", "seconds", "sec", "secs")},
    **{w: ("duration", 60.0) for w in ("minute", "minutes", "min", "mins")},
    **{w: ("duration", 3600.0) for w in ("hour", "hours", "hr", "hrs")},
    **{w: ("duration", _DAY) for w in ("day", "days")},
    **{w: ("duration", 7 * _DAY) for w in ("week", "weeks")},
    **{w: ("duration", 365.25 / 12 * _DAY) for w in ("month", "months")},
    **{w: ("duration", 365.25 * _DAY) for w in ("year", "years")},
    # A count of treatments, whatever the student calls one.
    **{w: ("treatments", 1.0) for w in ("session", "sessions", "treatment", "treatments", "infusion", "infusions",
                                         "course", "courses", "time", "times", "dose", "doses", "visit", "visits")},
}
_PERIODS = {"day", "week", "month", "year", "daily", "weekly", "monthly"}
_FREQUENCY_JOINERS = {"a", "an", "per", "each", "every", "/"}
# Qualifiers before a number: "less than ninety seconds" is [0, 90], "at least 6" is [6, ∞), "about 83%" ±6%.
_UPPER = (("less", "than"), ("fewer", "than"), ("under",), ("below",), ("up", "to"), ("at", "most"),
          ("no", "more", "than"), ("within",), ("max",), ("maximum",))
_LOWER = (("more", "than"), ("over",), ("at", "least"), ("above",), ("greater", "than"), ("minimum",), ("min",))
_APPROX = (("about",), ("around",), ("approximately",), ("roughly",), ("nearly",), ("almost",), ("~",),
           ("circa",), ("some",), ("approx",))
APPROX_TOLERANCE = 0.06  # relative, when either side says "about"
EXACT_TOLERANCE = 0.01
# Words that may stand between a number and its unit: "twelve ECT sessions", "three more infusions".
_SKIPPABLE = {"ect", "tms", "rtms", "ketamine", "iv", "total", "separate", "individual", "more", "additional",
              "further", "full", "brief", "short", "long"}


@dataclass(frozen=True)
class Quantity:
    """A number with its unit, read as the interval [low, high] in the kind's base unit.

    `kind` is "percent", "duration" (seconds), "treatments" (a count of sessions / treatments /
    infusions), "frequency/<period>", "year", or "count:<stem of the noun counted>".
    `context` holds the keyword stems of the clause the number sits in, to tell which of several
    numbers of one kind a claim is about.
    """

    kind: str
    low: float
    high: float
    approx: bool
    text: str
    start: int
    end: int
    context: frozenset[str] = frozenset()


def _word_value(tokens: Sequence[Token], i: int) -> tuple[float, int] | None:
    """The value of the number starting at token i and the index after it; None when it isn't one.

    Handles digits ("83", "1,000", "2.5"), words ("twelve"), compounds ("twenty-five", "twenty five")
    and "N hundred".
    """
    t = tokens[i].text
    value: float | None = None
    j = i + 1
    if re.fullmatch(r"\d+(?:[.,]\d+)*", t):
        value = float(t.replace(",", "")) if not re.fullmatch(r"\d+\.\d+", t) else float(t)
    elif t in _UNITS:
        value = float(_UNITS[t])
    elif t in _TENS:
        value = float(_TENS[t])
        if j < len(tokens) and tokens[j].text == "-" and j + 1 < len(tokens) and tokens[j + 1].text in _UNITS \
                and 0 < _UNITS[tokens[j + 1].text] < 10:
            value += _UNITS[tokens[j + 1].text]
            j += 2
        elif j < len(tokens) and tokens[j].text in _UNITS and 0 < _UNITS[tokens[j].text] < 10:
            value += _UNITS[tokens[j].text]
            j += 1
    if value is None:
        return None
    if j < len(tokens) and tokens[j].text in ("hundred", "thousand"):
        value *= 100 if tokens[j].text == "hundred" else 1000
        j += 1
    return value, j


def matches(tokens: Sequence[Token], i: int, phrase: tuple[str, ...]) -> bool:
    return i >= 0 and i + len(phrase) <= len(tokens) and all(tokens[i + k].text == w for k, w in enumerate(phrase))


def _qualifier(tokens: Sequence[Token], i: int) -> tuple[str | None, int]:
    """The qualifier ending just before token i ("less than", "about", ...) and where it starts."""
    for kind, table in (("upper", _UPPER), ("lower", _LOWER), ("approx", _APPROX)):
        for phrase in table:
            if matches(tokens, i - len(phrase), phrase):
                return kind, i - len(phrase)
    return None, i


def extract_quantities(text: str) -> list[Quantity]:
    """The quantities in `text`, in order, each with its kind, interval, qualifier and clause context.

    Reads digits and number words ("8" and "eight" are the same), ranges ("six to twelve", "6-12",
    "between 6 and 12", "one or two"), qualifiers ("less than", "at least", "about"), vague amounts
    ("several minutes", "a few weeks"), "a"/"an" before a time unit ("a year later"), percentages
    ("83%", "83 percent", "half of"), frequencies ("three times a week") and years ("2008", "1930s").
    Bare "one" and ordinals are not read as quantities: "one of the options" counts nothing.
    """
    tokens = tokenize(text)
    clauses = clause_ids(tokens)
    out: list[Quantity] = []
    i = 0
    while i < len(tokens):
        t = tokens[i].text
        if re.fullmatch(r"(?:1[5-9]|20)\d\ds?", t) and not (i + 1 < len(tokens) and tokens[i + 1].text in UNIT_TABLE):
            # Four-digit years and decades stand alone: "in 2008", "the 1930s".
            year = float(t.rstrip("s"))
            out.append(Quantity("year", year, year + 9 if t.endswith("s") else year, False, text[tokens[i].start:tokens[i].end],
                                tokens[i].start, tokens[i].end, _clause_context(tokens, clauses, i)))
            i += 1
            continue
        parsed = _word_value(tokens, i)
        start_i = i
        low = high = None
        j = i + 1
        explicit_number = parsed is not None
        if parsed is not None:
            low = high = parsed[0]
            j = parsed[1]
            # Ranges: "six to twelve", "6-12", "6–12", "one or two", "between 6 and 12".
            if j + 1 < len(tokens) and tokens[j].text in ("to", "-", "–", "—", "or", "and") and \
                    (tokens[j].text != "and" or (i > 0 and tokens[i - 1].text == "between")):
                second = _word_value(tokens, j + 1)
                if second is not None:
                    low, high = min(low, second[0]), max(low, second[0])
                    j = second[1]
        elif t in _VAGUE:
            low, high = _VAGUE[t]
            if t in ("few", "couple") and not (i > 0 and tokens[i - 1].text in ("a", "few")):
                i += 1  # "few patients" is not an amount of anything
                continue
            if t in ("few", "couple", "dozen") and i > 0 and tokens[i - 1].text == "a":
                start_i = i - 1
            if j < len(tokens) and tokens[j].text == "of":
                j += 1
        elif t in ("a", "an") and i + 1 < len(tokens) and UNIT_TABLE.get(tokens[i + 1].text, ("",))[0] == "duration":
            low = high = 1.0  # "a year later", "an hour"
        elif t == "half" and i + 1 < len(tokens) and tokens[i + 1].text == "of":
            start = tokens[i - 1].start if i > 0 and tokens[i - 1].text in ("a", "one") else tokens[i].start
            out.append(Quantity("percent", 50.0, 50.0, True, text[start:tokens[i].end], start, tokens[i].end,
                                _clause_context(tokens, clauses, i)))
            i += 1
            continue
        if low is None:
            i += 1
            continue

        # The unit: right after the number, or after up to two words such as "ECT" in "twelve ECT sessions".
        kind, factor, unit_i = None, 1.0, None
        for skip in range(0, 3):
            k = j + skip
            if k >= len(tokens):
                break
            word = tokens[k].text
            if word == "per" and k + 1 < len(tokens) and tokens[k + 1].text == "cent":
                kind, factor, unit_i = "percent", 1.0, k + 1
                break
            if word in UNIT_TABLE:
                kind, factor = UNIT_TABLE[word]
                unit_i = k
                break
            if word not in _SKIPPABLE:
                break
        end_i = unit_i + 1 if unit_i is not None else j
        if kind is None and t in ("once", "twice"):
            kind = "treatments"
        if kind is None:
            # Without a unit, vague words ("several") and a lone "one" ("one of the", "no one") are no amount.
            if not explicit_number or (t == "one" and high == low):
                i = j
                continue
            noun = next((tokens[k].text for k in range(j, min(j + 3, len(tokens)))
                         if tokens[k].text.isalpha() and keyword_tokens(tokens[k].text)), None)
            kind = f"count:{keyword_tokens(noun)[0]}" if noun else "number"
        elif kind == "treatments":
            # "three times a week", "two sessions per week", "twice weekly" are frequencies.
            k = end_i
            if k < len(tokens) and tokens[k].text in ("weekly", "daily", "monthly"):
                kind, end_i = f"frequency/{tokens[k].text[:-2] if tokens[k].text != 'daily' else 'day'}", k + 1
            elif k + 1 < len(tokens) and tokens[k].text in _FREQUENCY_JOINERS and tokens[k + 1].text.rstrip("s") in _PERIODS:
                kind, end_i = f"frequency/{tokens[k + 1].text.rstrip('s')}", k + 2
        low, high = low * factor, high * factor

        if start_i > 0 and tokens[start_i - 1].text == "between":
            start_i -= 1
        qualifier, q_start = _qualifier(tokens, start_i)
        approx = qualifier == "approx"
        if qualifier == "upper":
            low = 0.0
        elif qualifier == "lower":
            high = math.inf
        first = q_start if qualifier else start_i
        start, end = tokens[first].start, tokens[end_i - 1].end
        out.append(Quantity(kind, low, high, approx, text[start:end], start, end, _clause_context(tokens, clauses, i)))
        i = end_i
    return out


NUMBERISH = set(_UNITS) | set(_TENS) | set(_VAGUE) | set(UNIT_TABLE) | {"hundred", "thousand", "half", "cent"} | \
    {w for table in (_UPPER, _LOWER, _APPROX) for phrase in table for w in phrase}


def _clause_context(tokens: Sequence[Token], clauses: Sequence[int], i: int) -> frozenset[str]:
    """Keyword stems of the clause around token i, leaving out numbers and units."""
    words = [t.text for t, c in zip(tokens, clauses) if c == clauses[i] and t.text.isalpha() and t.text not in NUMBERISH]
    return frozenset(stems(words))


def _widen(q: Quantity) -> tuple[float, float]:
    tolerance = APPROX_TOLERANCE if q.approx else EXACT_TOLERANCE
    return q.low * (1 - tolerance), q.high * (1 + tolerance) if math.isfinite(q.high) else math.inf


def quantities_agree(claim: Quantity, source: Quantity) -> bool:
    """True when two quantities of one kind can both be true: one interval lies within the other.

    "8 treatments" agrees with "six to twelve treatments", and so does "between 5 and 15"; "twenty"
    and "10-15" do not. "About" on either side allows a 6% difference, otherwise 1%. Quantities of
    different kinds never agree.
    """
    if claim.kind != source.kind:
        return False
    c_low, c_high = _widen(claim)
    s_low, s_high = _widen(source)
    inside = s_low <= claim.low and claim.high <= s_high
    around = c_low <= source.low and source.high <= c_high
    return inside or around


@dataclass(frozen=True)
class QuantityCheck:
    """How the claim's quantities relate to a source sentence's.

    `conflicts` pairs a claim quantity with the source quantity on the same point that disagrees;
    `agreements` pairs those that match; `unaddressed` are claim quantities the source has no
    quantity of that kind for (the source doesn't state them).
    """

    conflicts: tuple[tuple[Quantity, tuple[Quantity, ...]], ...] = ()
    agreements: tuple[tuple[Quantity, Quantity], ...] = ()
    unaddressed: tuple[Quantity, ...] = ()


# Kinds for which two numbers in sentences on the same topic are about the same thing without further
# evidence: a claim's "twenty sessions" of ECT is about the same as the source's "six to twelve treatments".
_SELF_ALIGNING = ("treatments", "percent")


def compare_quantities(claim: str | Sequence[Quantity], source: str | Sequence[Quantity]) -> QuantityCheck:
    """Pair each quantity of the claim with the source's quantities of the same kind.

    A claim quantity is matched to the source quantity whose clause shares the most keywords with its
    own clause (so "83% ... relief after twelve months" is compared with the 62% that the source ties
    to relief, not the 83% it ties to symptom reduction). For durations and other kinds, the clauses
    must share at least one keyword to count as the same point; percentages and treatment counts only
    need the same kind. Returns a QuantityCheck.
    """
    claim_qs = extract_quantities(claim) if isinstance(claim, str) else list(claim)
    source_qs = extract_quantities(source) if isinstance(source, str) else list(source)
    conflicts, agreements, unaddressed = [], [], []
    for q in claim_qs:
        same_kind = [s for s in source_qs if s.kind == q.kind]
        overlap = {id(s): len(q.context & s.context) for s in same_kind}
        on_point = [s for s in same_kind if overlap[id(s)] > 0 or q.kind in _SELF_ALIGNING]
        if not on_point:
            unaddressed.append(q)
            continue
        best = max(overlap[id(s)] for s in on_point)
        aligned = [s for s in on_point if overlap[id(s)] == best]
        agreeing = [s for s in aligned if quantities_agree(q, s)]
        if agreeing:
            agreements.append((q, agreeing[0]))
        else:
            conflicts.append((q, tuple(aligned)))
    return QuantityCheck(tuple(conflicts), tuple(agreements), tuple(unaddressed))
