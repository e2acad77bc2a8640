"""The safety layer's knowledge, read from reviewed TOML files in ipchat/data/safety/.

- lexicon.toml   word lists ([list.NAME]) and context cues ([cue.NAME]: negation, tense, ...);
- patterns.toml  risk patterns ([[rule]]), each naming its screening item;
- idioms.toml    figures of speech neutralised before the risk patterns run ([[idiom]]);
- languages.toml first-person risk statements in other languages ([[phrase]]);
- exemplars.toml the reviewed messages the semantic backstop compares with ([[exemplar]]).

A pattern is a list of regular-expression alternatives over the normalised message; ``{name}``
stands for the word list of that name. Every entry carries messages it must and must not match,
which the tests run. This module only reads and checks the files; rules.py, languages.py and
backstop.py are the engines.
"""

from __future__ import annotations

import re
import re._constants as _sre
import re._parser as _sre_parse
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from ipchat.errors import IpchatError
from ipchat.lexicon import expand_names

__all__ = ["SafetyDataError", "Entry", "Lexicon", "load_lexicon", "load_entries", "expand", "data_file"]

#: Screening items a finding may name (the level table is in ipchat/safety/__init__.py).
ITEMS = frozenset({
    "cssrs.wish_dead", "cssrs.active_thoughts", "cssrs.method", "cssrs.intent", "cssrs.plan", "cssrs.preparation",
    "cssrs.attempt", "nssi.current", "starvation.to_die", "means.seeking", "bereavement",
})


class SafetyDataError(IpchatError):
    """A safety data file is missing, malformed, or has an entry that does not compile."""


@dataclass(frozen=True)
class Entry:
    """One entry of a data file: its id, compiled pattern, the other fields as read, and its examples."""

    id: str
    pattern: re.Pattern
    fields: dict = field(default_factory=dict, compare=False)
    must_match: tuple[str, ...] = ()
    must_not_match: tuple[str, ...] = ()

    def get(self, key: str, default=None):
        return self.fields.get(key, default)


@dataclass(frozen=True)
class Lexicon:
    """Word lists as regex alternations (``lists[name]`` is ``(?:a|b|...)``), compiled cues, and the
    words whose misspellings are tolerated."""

    lists: dict[str, str]
    cues: dict[str, re.Pattern]
    entries: tuple[Entry, ...]  # the lists and cues with their examples, for the tests
    spelling: tuple[str, ...] = ()
    spelling_examples: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


#: How many first letters of a word `literal_heads` compares.
HEAD = 3


def _literal_starts(nodes, limit: int = 200) -> set[str] | None:
    """The literal strings one of which every match of the parsed `nodes` starts with, or None."""
    out = {""}
    for op, av in nodes:
        if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue  # anchors and lookarounds consume nothing
        if op is _sre.LITERAL:
            out = {prefix + chr(av) for prefix in out}
            continue
        if op is _sre.SUBPATTERN:
            inner = _literal_starts(av[3], limit)
        elif op is _sre.BRANCH:
            inner = set()
            for branch in av[1]:
                starts = _literal_starts(branch, limit)
                if starts is None:
                    inner = None
                    break
                inner |= starts
        else:
            inner = {""}
        if inner is None:
            return out if out != {""} else None
        out = {prefix + start for prefix in out for start in inner}
        return out if len(out) <= limit else None
    return out


def _over_alternatives(pattern: re.Pattern, read: Callable[[list], frozenset[str] | None]) -> frozenset[str] | None:
    """The heads `read` finds in each parsed alternative of `pattern` ("a|b"; one when it has none), together;
    None when it finds none for one of them, or when the pattern can't be parsed."""
    try:
        nodes = list(_sre_parse.parse(pattern.pattern))
    except Exception:  # a private parser: if it ever changes, the pattern is simply never skipped
        return None
    heads: set[str] = set()
    for branch in (nodes[0][1][1] if len(nodes) == 1 and nodes[0][0] is _sre.BRANCH else [nodes]):
        found = read(list(branch))
        if found is None:
            return None
        heads |= found
    return frozenset(heads)


def literal_heads(pattern: re.Pattern) -> frozenset[str] | None:
    """The first HEAD (or two) letters of every word a match of `pattern` can start with, or None when that can't
    be known (the pattern does not start at a word boundary with literal words). A text none of whose
    words begins so cannot match, which lets a caller skip the pattern cheaply."""
    return _over_alternatives(pattern, _opening_heads)


def _opening_heads(branch: list) -> frozenset[str] | None:
    while branch and branch[0][0] in (_sre.ASSERT, _sre.ASSERT_NOT):
        branch = branch[1:]  # a lookbehind before the word boundary ("(?<!non )\bsuicidal")
    if not branch or branch[0][0] is not _sre.AT or branch[0][1] not in (_sre.AT_BOUNDARY, _sre.AT_BEGINNING):
        return None
    starts = _literal_starts(branch)
    if not starts or any(not re.match(r"[a-z0-9']{2,}", start) for start in starts):
        return None
    return frozenset(re.match(r"[a-z0-9']+", start).group(0)[:HEAD] for start in starts)


def _word_start(node) -> bool:
    """Whether what follows the parsed `node` starts a word: a word boundary, or one or more spaces."""
    op, av = node
    if op is _sre.AT:
        return av in (_sre.AT_BOUNDARY, _sre.AT_BEGINNING)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        inner = list(av[2])
        return len(inner) == 1 and _is_space(inner[0])
    return _is_space(node)


def _is_space(node) -> bool:
    op, av = node
    return op is _sre.IN and list(av) == [(_sre.CATEGORY, _sre.CATEGORY_SPACE)]


def _required_in(nodes) -> frozenset[str] | None:
    """Heads one of which every match of the parsed sequence `nodes` holds as a word: the most selective
    set among the word-initial literals (after a word boundary or spaces) the sequence cannot skip."""
    best: frozenset[str] | None = None
    nodes = list(nodes)

    def keep(heads: frozenset[str] | None) -> None:
        nonlocal best
        if heads and (best is None or len(heads) < len(best)):
            best = heads

    for i, (op, av) in enumerate(nodes):
        if op is _sre.BRANCH or (op is _sre.SUBPATTERN and len(av[3]) == 1 and av[3][0][0] is _sre.BRANCH):
            # One of the alternatives must match: each read with the node before it, which says whether it
            # starts a word ("\b(?:took|swallowed ...)|\b(?:...)" is parsed as a boundary, then the
            # alternatives). What follows is left out: a word cut short there still begins the same way,
            # and reading it again for every alternative would multiply.
            alternatives = av[1] if op is _sre.BRANCH else av[3][0][1][1]
            found: set[str] = set()
            for alternative in alternatives:
                inner = _required_in(nodes[max(i - 1, 0):i] + list(alternative))
                if inner is None:
                    break
                found |= inner
            else:
                keep(frozenset(found))
        if op not in (_sre.LITERAL, _sre.SUBPATTERN, _sre.BRANCH) or i == 0 or not _word_start(nodes[i - 1]):
            continue
        starts = _literal_starts(nodes[i:])
        if not starts or any(not re.match(r"[a-z0-9][a-z0-9']", start) for start in starts):
            continue
        keep(frozenset(re.match(r"[a-z0-9']+", start).group(0)[:HEAD] for start in starts))
    return best


def required_heads(pattern: re.Pattern) -> frozenset[str] | None:
    """The beginnings of words one of which every match of `pattern` holds somewhere (not only at its
    start, as `literal_heads`), or None when that can't be known: a text with none of them among its
    words cannot match, which lets a caller skip the pattern cheaply."""
    return _over_alternatives(pattern, _required_in)


def word_heads(text: str) -> set[str]:
    """The beginnings of the words of `text` that `literal_heads` sets are compared with."""
    words = _HEAD_WORD.findall(text)
    return {word[:HEAD] for word in words} | {word[:2] for word in words}


def head_index(items: Iterable[tuple[int, frozenset[str] | None]]) -> tuple[list[int], dict[str, list[int]]]:
    """For (position, heads) pairs of rules or phrases: the positions whose heads can't be known (always
    read), and the positions by word beginning (read only when a text has that beginning, `word_heads`)."""
    always: list[int] = []
    by_head: dict[str, list[int]] = {}
    for position, heads in items:
        if heads is None:
            always.append(position)
        else:
            for head in heads:
                by_head.setdefault(head, []).append(position)
    return always, by_head


# A word may hold an apostrophe ("i'll") but not start with one: "'i'll" opens a quotation.
_HEAD_WORD = re.compile(r"[a-z0-9][a-z0-9']*")


def data_file(name: str) -> Path:
    """The path of ipchat/data/safety/`name` (inside the installed package)."""
    return Path(str(resources.files("ipchat.data").joinpath("safety", name)))


def model_folder(model: str) -> Path:
    """ipchat/data/safety/models/<the model's last name part>: the bank's vectors and the head made with
    `model` ("sentence-transformers/all-mpnet-base-v2" -> models/all-mpnet-base-v2)."""
    return data_file("models") / (model.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or "model")


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SafetyDataError(f"safety data file {path} is missing; reinstall ipchat") from None
    except tomllib.TOMLDecodeError as exc:
        raise SafetyDataError(f"{path} is not valid TOML: {exc}") from None


def expand(pattern: str, lists: dict[str, str], where: str) -> str:
    """`pattern` with each ``{name}`` replaced by the word list `name`. Raises SafetyDataError for an unknown name."""
    def unknown(name: str) -> SafetyDataError:
        return SafetyDataError(f"{where}: unknown word list {{{name}}}; known: {', '.join(sorted(lists))}")

    return expand_names(pattern, lists, unknown)


def _alternatives(value, where: str) -> str:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise SafetyDataError(f"{where}: 'pattern' must be a non-empty list of strings")
    return "|".join(value)


def spaced_hyphens(pattern: str) -> str:
    """`pattern` with each literal hyphen between two literal letters written as a space.

    The normaliser writes "self-harm" as "self harm" (a hyphen or underscore between letters becomes a
    space), so a pattern's "co-workers" or "week-end" could never match a normalised message. Hyphens
    inside a character class ("[a-z-]"), escaped ones ("\\-") and ones beside an escape ("\\w-") are kept."""
    out: list[str] = []
    in_class = False
    i = 0
    literal_letter_before = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            literal_letter_before = False
            continue
        if in_class:
            in_class = char != "]" or out[-1] == "["
        elif char == "[":
            in_class = True
        elif (char == "-" and literal_letter_before and i + 1 < len(pattern)
              and "a" <= pattern[i + 1] <= "z"):
            out.append(" ")
            i += 1
            literal_letter_before = False
            continue
        literal_letter_before = not in_class and "a" <= char <= "z"
        out.append(char)
        i += 1
    return "".join(out)


def _compile(pattern: str, where: str, normalised: bool = True) -> re.Pattern:
    """`pattern` compiled; for text the normaliser has read (`normalised`), its hyphens between letters as spaces."""
    try:
        return re.compile(spaced_hyphens(pattern) if normalised else pattern)
    except re.error as exc:
        raise SafetyDataError(f"{where}: pattern does not compile: {exc}") from None


def _examples(raw: dict, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    out = []
    for key in ("must_match", "must_not_match"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise SafetyDataError(f"{where}: '{key}' must be a list of messages")
        out.append(tuple(value))
    if not out[0]:
        raise SafetyDataError(f"{where}: give at least one message in 'must_match'")
    return out[0], out[1]


def build_lexicon(raw: dict, where: str = "lexicon.toml") -> Lexicon:
    """A Lexicon from the parsed contents of a lexicon file. Raises SafetyDataError."""
    lists: dict[str, str] = {}
    entries: list[Entry] = []
    for name, spec in raw.get("list", {}).items():
        here = f"{where} [list.{name}]"
        words = spec.get("words")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise SafetyDataError(f"{here}: 'words' must be a non-empty list of strings")
        lists[name] = "(?:" + "|".join(words) + ")"
    # Derived list: a relation noun with its plural ("patient", "patients").
    if "relation" in lists:
        lists["relation_noun"] = "(?:" + lists["relation"] + "(?:s|es)?)"
    for name, spec in raw.get("list", {}).items():
        here = f"{where} [list.{name}]"
        yes, no = _examples(spec, here)
        entries.append(Entry(f"list.{name}", _compile(r"\b" + lists[name] + r"\b", here), dict(spec), yes, no))
    cues: dict[str, re.Pattern] = {}
    for name, spec in raw.get("cue", {}).items():
        here = f"{where} [cue.{name}]"
        cues[name] = _compile(expand(_alternatives(spec.get("pattern"), here), lists, here), here)
        yes, no = _examples(spec, here)
        entries.append(Entry(f"cue.{name}", cues[name], dict(spec), yes, no))
    spelling = raw.get("spelling", {})
    words = spelling.get("words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) and w.isalpha() and w.islower() for w in words):
        raise SafetyDataError(f"{where} [spelling]: 'words' must be a list of lower-case words")
    examples = _examples(spelling, f"{where} [spelling]") if spelling else ((), ())
    return Lexicon(lists=lists, cues=cues, entries=tuple(entries), spelling=tuple(words), spelling_examples=examples)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The bundled lexicon (cached). Raises SafetyDataError when the file is broken."""
    return build_lexicon(_read(data_file("lexicon.toml")))


def build_entries(raw: dict, table: str, lexicon: Lexicon, where: str, required: tuple[str, ...] = (),
                  normalised: bool = True) -> tuple[Entry, ...]:
    """The entries of `table` ([[table]] in the parsed file), patterns expanded and compiled. `normalised`:
    the patterns read normalised text (hyphens between letters become spaces); False for text only folded.

    Raises SafetyDataError for a missing field, a duplicate id, an unknown word list or item, or a pattern
    that does not compile.
    """
    entries: list[Entry] = []
    seen: set[str] = set()
    for n, spec in enumerate(raw.get(table, []), start=1):
        rid = spec.get("id")
        here = f"{where} [[{table}]] #{n}" + (f" ({rid})" if rid else "")
        if not isinstance(rid, str) or not rid:
            raise SafetyDataError(f"{here}: every entry needs an 'id'")
        if rid in seen:
            raise SafetyDataError(f"{here}: duplicate id {rid!r}")
        seen.add(rid)
        for key in required:
            if key not in spec:
                raise SafetyDataError(f"{here}: missing '{key}'")
        item = spec.get("item")
        if item is not None and item not in ITEMS:
            raise SafetyDataError(f"{here}: unknown item {item!r}; known: {', '.join(sorted(ITEMS))}")
        pattern = _compile(expand(_alternatives(spec.get("pattern"), here), lexicon.lists, here), here, normalised)
        yes, no = _examples(spec, here)
        entries.append(Entry(rid, pattern, dict(spec), yes, no))
    return tuple(entries)


def load_entries(name: str, table: str, required: tuple[str, ...] = ()) -> tuple[Entry, ...]:
    """The entries of the bundled file `name` (e.g. "patterns.toml", table "rule"). Raises SafetyDataError."""
    return build_entries(_read(data_file(name)), table, load_lexicon(), name, required)


def read_table(name: str) -> dict:
    """The parsed contents of the bundled data file `name`. Raises SafetyDataError."""
    return _read(data_file(name))
