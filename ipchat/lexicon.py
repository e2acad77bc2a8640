"""The domain lexicon (ipchat/data/lexicon.toml): treatments and their aliases, conversation topics,
clinical shorthand, lay words, and the aspects a question can ask about.

One reviewed data file, so a treatment or a lay word is added in one place: coverage reads the
treatments, the conversation its topics, query expansion the shorthand and lay words, and the answer's
coverage check the aspects. Every entry carries examples that tests/test_lexicon.py runs.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable

from .errors import IpchatError


class LexiconError(IpchatError):
    """The lexicon file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Treatment:
    name: str
    aliases: tuple[str, ...]
    topic: str | None  # the conversation topic it opens, if any
    topic_aliases: tuple[str, ...]  # further ways of naming that topic
    broader: str | None = None  # the class it belongs to ("antidepressants" for sertraline)
    medication: bool = False  # a drug, not a procedure
    described_by: tuple[str, ...] = ()  # what it does or uses, which names it in "the shock one" (description_pattern)


@dataclass(frozen=True)
class Topic:
    name: str
    aliases: tuple[str, ...]
    bare: tuple[str, ...] = ()  # a word naming the topic only when nothing qualifies it ("is therapy quicker?")
    pointed: tuple[str, ...] = ()  # words naming it only after "these" or "those" in a conversation ("these procedures")
    unnamed: bool = False  # the sources' own subject: what "these" points to in a question that names nothing


@dataclass(frozen=True)
class Shorthand:
    short: str
    long: str
    case_sensitive: bool


@dataclass(frozen=True)
class Lay:
    source: str  # the word the sources use
    words: tuple[str, ...]  # what people say instead
    pattern: re.Pattern


@dataclass(frozen=True)
class Aspect:
    name: str
    asked: re.Pattern
    answered: re.Pattern
    figures: tuple[str, ...] = ()  # kinds of figure (coverage.expected_types) the aspect's note stands for
    # For a medication, only a sentence naming it answers: what the sources say of procedures in pregnancy
    # ("offered to patients ... who are pregnant, as certain medications can be harmful") is no answer for a drug.
    medication_named: bool = False


@dataclass(frozen=True)
class Condition:
    name: str
    pattern: re.Pattern  # any of its names, as people and the sources write them


@dataclass(frozen=True)
class Lexicon:
    treatments: tuple[Treatment, ...]
    topics: tuple[Topic, ...]
    shorthand: tuple[Shorthand, ...]
    lay: tuple[Lay, ...]
    aspects: tuple[Aspect, ...]
    cues: dict[str, re.Pattern]  # named patterns the answer's coverage check reads ("relation", "picks_among")
    examples: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...]  # (kind, name, must_match, must_not_match)
    conditions: tuple[Condition, ...] = ()


# An adverb people slip into a phrase without changing what it asks: "who is it actually for", "what is it
# really used for"; or a word of how often it happens: "his face keeps twitching" is "face twitching".
_FILLER = (r"(?:(?:actually|really|even|exactly|usually|typically|generally|normally|mostly|ever"
           r"|keeps|keep|kept|still|always|constantly|sometimes|often)[\s-]+)?")


_INFLECTABLE = re.compile(r"[a-z]*[bcdfgklmnprtvwxz]e?")  # a verb's base form: not "goes", "used", "asking"
_UNINFLECTED = frozenset({"how", "one", "per", "few", "more", "that", "first", "second", "third", "next", "last", "under",
                          "for", "and", "not", "all", "what", "when", "can", "will", "would", "could", "should", "had",
                          "her", "our", "their", "your"})  # words of a verb's shape that take no verb endings


_ANYONE = r"(?:you|u|ya|they|we|he|she|i|people|patients|pts|docs|doctors)"


def _inflected(word: str) -> str:
    """`word` (the first of a lay phrase), with its verb endings when it is a verb's base form: "pull together" is
    also "pulling together", "pulled together"; "put under" also "putting under"; "make sense" also "making sense"."""
    if len(word) < 3 or word in _UNINFLECTED or not _INFLECTABLE.fullmatch(word):
        return re.escape(word)
    if word.endswith("e"):
        return re.escape(word[:-1]) + r"(?:e|es|ed|ing)"
    last = re.escape(word[-1])
    return re.escape(word) + rf"(?:s|es|ed|ing|{last}ed|{last}ing)?"


def words_pattern(words, it: str | None = None, articles: bool = False, loose: bool = False) -> re.Pattern:
    """Any of `words` as whole phrases, any case, spaces matching spaces or hyphens, with a filler adverb
    allowed between two words. With `it` (a pattern naming the treatments), the word "it" of a phrase may
    also be a treatment named: "how is it given" is asked by "how is the ketamine given", "keep having it"
    by "keep having ECT sessions". With `articles`, an article inside a phrase may be left out, as ward
    shorthand leaves it ("if pt responds" for "if the patient responds"). With `loose`, the first word of a
    phrase of two or more may take a verb's endings (`_inflected`: "pulling together" for "pull together"), and
    "you" may be anyone ("the first thing they try" for "first thing you try"). An apostrophe may be curly or
    left out.
    """
    def phrase(word: str) -> str:
        parts = word.lower().split(" ")
        gap = r"[\s-]+" + _FILLER
        text = _inflected(parts[0]) if loose and len(parts) > 1 else re.escape(parts[0])
        for n, part in enumerate(parts[1:], start=1):
            # ... in a phrase of four words or more: "to the head" without its article is "head to head".
            if articles and len(parts) >= 4 and part in ("the", "a", "an") and n < len(parts) - 1:
                text += "(?:" + gap + re.escape(part) + ")?"
            else:
                text += gap + re.escape(part)
        if it is not None:
            text = re.sub(r"(?<![\w'])it(?![\w'])", lambda _m: f"(?:it|{it})", text)
        if loose:
            text = re.sub(r"(?<![\w'])you(?![\w'])", lambda _m: _ANYONE, text)
        # An apostrophe may be typed curly or left out: "haven't worked" is also "havent worked".
        return text.replace("'", "['’]?")
    alternatives = sorted({phrase(w) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w])", re.I)


# A treatment described instead of named: what it does or uses, between a determiner and a word for a
# treatment ("the shock one", "the seizure treatment", "the coil-on-the-head treatment", "the IV one",
# "the magnetic pulse treatment"). One further word, or a hyphenated tail, may come between; a function
# word may not ("a seizure with TMS treatment" describes no ECT). Ward shorthand drops the article after a word
# of time ("pt c/o face twitching during coil session", "post shock tx"): those words stand in for it.
_DETERMINERS = ("the", "that", "this", "a", "an", "her", "his", "my", "their", "your", "our",
                "during", "after", "post", "pre", "before", "each", "every")
_TREATMENT_WORDS = ("one", "ones", "treatment", "treatments", "therapy", "therapies", "procedure", "procedures",
                    "thing", "stuff", "option", "method", "approach", "session", "sessions")
_NOT_BETWEEN = ("and", "or", "of", "for", "with", "to", "in", "on", "than", "vs", "versus", "is", "are")


@lru_cache(maxsize=None)
def description_pattern(words: tuple[str, ...]) -> re.Pattern:
    """A treatment described by one of `words` (what it does or uses): "the shock one" for ("shock",). The
    match starts at the word, so that a name holding it ("magnetic seizure therapy") is as long and wins.
    Compiled once per word list (conversation, coverage and query expansion share it)."""
    described = sorted((re.escape(w.lower()).replace(r"\ ", r"[\s-]+") for w in words), key=len, reverse=True)
    after = "(?:" + "|".join(rf"(?<=\b{d} )" for d in _DETERMINERS) + ")"
    between = r"(?:-\w+)*(?:\s+(?!(?:" + "|".join(_NOT_BETWEEN) + r")\b)\w+(?:-\w+)*)?"
    return re.compile(after + "(?:" + "|".join(described) + ")" + between
                      + r"[\s-]+(?:" + "|".join(_TREATMENT_WORDS) + r")\b", re.I)


# Words after which a noun stands bare, with no treatment word before it: "is therapy any quicker?", "and therapy?".
_BARE_AFTER = ("is", "are", "was", "does", "do", "did", "and", "or", "but", "than", "any", "some", "about", "with",
               "of", "in", "for", "try", "trying", "doing", "having", "get", "getting", "start", "starting", "just",
               "from", "into", "to", "on", "vs", "versus", "what", "how", "regular", "normal", "ordinary")


@lru_cache(maxsize=None)
def bare_pattern(words: tuple[str, ...]) -> re.Pattern:
    """One of `words` standing bare: at the start, or after a word of `_BARE_AFTER`, never after another
    qualifying word ("ECT therapy", "magnetic therapy"), and not followed by one ("therapy for TMS")."""
    after = r"(?:^|(?<=[,;:.!?] )|" + "|".join(rf"(?<=\b{w} )" for w in _BARE_AFTER) + ")"
    named = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    return re.compile(after + "(?:" + named + r")(?![\w-])(?!\s+(?:for|with|of)\b)", re.I)


def _strings(entry: dict, key: str, where: str, required: bool = True) -> tuple[str, ...]:
    value = entry.get(key, [] if not required else None)
    if value is None or not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{where}: {key} must be a list of non-empty strings")
    if required and not value:
        raise LexiconError(f"{where}: {key} is empty")
    return tuple(value)


def _name(entry: dict, where: str) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise LexiconError(f"{where}: name is missing")
    return name


def _regex(patterns: tuple[str, ...], where: str) -> re.Pattern:
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    except re.error as exc:
        raise LexiconError(f"{where}: bad pattern ({exc})") from None


# A topic named by its kind with another word for a treatment: "procedural therapy" is also "the procedural
# ones", "procedural options", "procedural tx", "the procedural stuff".
_TOPIC_HEADS = ("therapy", "therapies", "treatment", "treatments", "one", "ones", "option", "options", "tx", "stuff", "approach",
                "approaches")


def _terms(table: object) -> dict[str, str]:
    """The [terms] word lists as regex alternations, by name. Raises LexiconError for a malformed list."""
    if not isinstance(table, dict):
        raise LexiconError("lexicon.toml [terms] must be a table of word lists")
    terms = {}
    for name, words in table.items():
        where = f"lexicon.toml [terms] {name}"
        if not (isinstance(words, list) and words and all(isinstance(w, str) and w for w in words)):
            raise LexiconError(f"{where}: must be a list of non-empty patterns")
        terms[name] = "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"
    return terms


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def expand_names(pattern: str, lists: dict[str, str], unknown: Callable[[str], Exception]) -> str:
    """`pattern` with each {name} replaced by the word list of that name, as both lexicons' patterns write
    them (this file's [terms], the safety layer's [list.NAME]); a regex quantifier ("{2,3}") is not a name.
    Raises `unknown(name)` for a name `lists` lacks."""
    def replace(match: re.Match) -> str:
        if match.group(1) not in lists:
            raise unknown(match.group(1))
        return lists[match.group(1)]
    return _PLACEHOLDER.sub(replace, pattern)


def _with_terms(patterns: tuple[str, ...], terms: dict[str, str], where: str) -> tuple[str, ...]:
    """`patterns` with each {name} of a [terms] list replaced by its alternation. Raises LexiconError for a
    name no list has."""
    def unknown(name: str) -> LexiconError:
        return LexiconError(f"{where}: no [terms] list named {name!r}")
    return tuple(expand_names(p, terms, unknown) for p in patterns)


def _with_heads(aliases: tuple[str, ...]) -> tuple[str, ...]:
    """`aliases`, and for each ending in a word for a treatment, the same kind with each other such word."""
    out = list(aliases)
    for alias in aliases:
        kind, _, head = alias.rpartition(" ")
        if kind and head.lower() in _TOPIC_HEADS:
            out.extend(f"{kind} {other}" for other in _TOPIC_HEADS if other != head.lower())
    return tuple(dict.fromkeys(out))


def build_lexicon(data: dict) -> Lexicon:
    """A Lexicon from parsed TOML. Raises LexiconError naming the entry at fault."""
    treatments, topics, shorthand, lay, aspects, examples = [], [], [], [], [], []
    names: set[str] = set()

    def examples_of(kind: str, name: str, entry: dict, where: str) -> None:
        examples.append((kind, name, _strings(entry, "must_match", where, False),
                         _strings(entry, "must_not_match", where, False)))

    for n, entry in enumerate(data.get("treatment", []), start=1):
        where = f"lexicon.toml [[treatment]] #{n}"
        name = _name(entry, where)
        if name in names:
            raise LexiconError(f"{where}: duplicate name {name!r}")
        names.add(name)
        broader = entry.get("broader")
        if broader is not None and (not isinstance(broader, str) or not broader.strip()):
            raise LexiconError(f"{where}: broader must be a non-empty string")
        medication = entry.get("medication", False)
        if not isinstance(medication, bool):
            raise LexiconError(f"{where}: medication must be true or false")
        treatments.append(Treatment(name, _strings(entry, "aliases", where), entry.get("topic"),
                                    _strings(entry, "topic_aliases", where, False), broader, medication,
                                    _strings(entry, "described_by", where, False)))
        examples_of("treatment", name, entry, where)
    for n, entry in enumerate(data.get("topic", []), start=1):
        where = f"lexicon.toml [[topic]] #{n}"
        name = _name(entry, where)
        unnamed = entry.get("unnamed", False)
        if not isinstance(unnamed, bool):
            raise LexiconError(f"{where}: unnamed must be true or false")
        if unnamed and any(t.unnamed for t in topics):
            raise LexiconError(f"{where}: only one topic can be the unnamed one")
        topics.append(Topic(name, _with_heads(_strings(entry, "aliases", where)), _strings(entry, "bare_aliases", where, False),
                            _strings(entry, "pointed_as", where, False), unnamed))
        examples_of("topic", name, entry, where)
    for n, entry in enumerate(data.get("shorthand", []), start=1):
        where = f"lexicon.toml [[shorthand]] #{n}"
        short, long_ = entry.get("short"), entry.get("long")
        if not (isinstance(short, str) and short and isinstance(long_, str) and long_):
            raise LexiconError(f"{where}: short and long are required")
        shorthand.append(Shorthand(short, long_, bool(entry.get("case_sensitive", False))))
    # A treatment named where a lay phrase says "it" (see words_pattern): "the ketamine", "ECT sessions".
    names = sorted({re.escape(alias.lower()).replace(r"\ ", r"[\s-]+") for t in treatments
                    for alias in (t.name, *t.aliases)}, key=len, reverse=True)
    named = (r"(?:the[\s-]+)?(?:" + "|".join(names) + r")(?:[\s-]+(?:infusions?|treatments?|therapy|sessions?|drips?))?"
             if names else None)
    for n, entry in enumerate(data.get("lay", []), start=1):
        where = f"lexicon.toml [[lay]] #{n}"
        source = entry.get("source")
        if not isinstance(source, str) or not source:
            raise LexiconError(f"{where}: source is missing")
        words = _strings(entry, "words", where)
        lay.append(Lay(source, words, words_pattern(words, named, articles=True, loose=True)))
        examples_of("lay", source, entry, where)
    terms = _terms(data.get("terms", {}))
    for n, entry in enumerate(data.get("aspect", []), start=1):
        where = f"lexicon.toml [[aspect]] #{n}"
        name = _name(entry, where)
        medication_named = entry.get("medication_named", False)
        if not isinstance(medication_named, bool):
            raise LexiconError(f"{where}: medication_named must be true or false")
        aspects.append(Aspect(name, _regex(_with_terms(_strings(entry, "asked", where), terms, where), where),
                              _regex(_strings(entry, "answered", where), where),
                              _strings(entry, "figures", where, False), medication_named))
        examples_of("aspect", name, entry, where)
    conditions = []
    for n, entry in enumerate(data.get("condition", []), start=1):
        where = f"lexicon.toml [[condition]] #{n}"
        name = _name(entry, where)
        conditions.append(Condition(name, words_pattern(_strings(entry, "aliases", where))))
        examples_of("condition", name, entry, where)
    cues: dict[str, re.Pattern] = {}
    for name, entry in data.get("cue", {}).items():
        where = f"lexicon.toml [cue.{name}]"
        cues[name] = _regex(_with_terms(_strings(entry, "pattern", where), terms, where), where)
        examples_of("cue", name, entry, where)
    if not treatments:
        raise LexiconError("lexicon.toml holds no treatments")
    return Lexicon(tuple(treatments), tuple(topics), tuple(shorthand), tuple(lay), tuple(aspects), cues,
                   tuple(examples), tuple(conditions))


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The bundled lexicon. Raises LexiconError when it is missing or malformed."""
    try:
        raw = resources.files("ipchat.data").joinpath("lexicon.toml").read_text(encoding="utf-8")
        return build_lexicon(tomllib.loads(raw))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"cannot read ipchat/data/lexicon.toml: {exc}") from None


def _all_known(phrase: str, known: Callable[[str], bool]) -> bool:
    """Whether `known` says the index uses every word of `phrase` (hyphens read as spaces)."""
    return all(known(w) for w in phrase.lower().replace("-", " ").split())


def expand_lay(query: str, known: Callable[[str], bool] = lambda _word: True) -> str:
    """`query` with the sources' word added after a lay word for it ("put to sleep" → "put to sleep
    (anesthesia)"), when the query does not already hold it and `known` says the index uses its words;
    and a treatment's name after an alias the index never uses ("shock treatment (electroconvulsive
    therapy)")."""
    lowered = query.lower()
    # Shorthand already spelt out ("keeping pts (patients) well", "raise BP (blood pressure)") is read in
    # its long form, so that a lay phrase holding it is found ("keeping patients well", "raise blood pressure").
    plain, position = _read_shorthand(query)

    def after(match: re.Match) -> int:  # where, in `query`, the text matched in `plain` ends
        return position[match.end() - 1] + 1

    additions: list[tuple[int, str]] = []
    for treatment in load_lexicon().treatments:
        # "shock treatment", "special k": a treatment named in words the sources do not use gets its name;
        # so does one described by what it does ("the seizure treatment", "the coil-on-the-head treatment"),
        # whose words the sources use of other things too.
        if treatment.name.lower() in lowered:
            continue
        for alias in treatment.aliases:
            if _all_known(alias, known):
                continue
            match = _alias_pattern(alias).search(plain)
            if match:
                additions.append((after(match), treatment.name))
                break
        else:
            match = description_pattern(treatment.described_by).search(plain) if treatment.described_by else None
            if match and not _names_it(treatment, plain):
                additions.append((after(match), treatment.name))
    # "how long do SSRIs take": the sources may speak of the class ("antidepressants") instead. A treatment
    # the sources cover is read as its class only beside another of it, and not when one is picked among them
    # ("can I suggest ECT/TMS/ketamine as first line?" asks about interventional therapies as a group; "which is
    # gentler, TMS or ECT?" does not); the class is added once, after the last.
    named: dict[str, list[tuple[bool, int]]] = {}
    for treatment in load_lexicon().treatments:
        broader = treatment.broader
        if not broader or broader.lower() in lowered or not all(known(w) for w in broader.lower().split()):
            continue
        match = next((m for m in (_alias_pattern(a).search(plain) for a in (treatment.name, *treatment.aliases)) if m), None)
        if match:
            covered = _all_known(treatment.name, known)
            named.setdefault(broader, []).append((covered, after(match)))
    for broader, members in named.items():
        uncovered = [end for covered, end in members if not covered]
        if uncovered:
            additions.append((max(uncovered), broader))
        elif len(members) >= 2 and not cue("picks_among").search(plain):
            additions.append((max(end for _, end in members), broader))
    for entry in load_lexicon().lay:
        if entry.source.lower() in lowered or not _all_known(entry.source, known):
            continue
        # A lay word denied ("not actively suicidal, no pregnancy") names what the question is not about.
        match = next((m for m in entry.pattern.finditer(plain) if not _DENIED_BEFORE.search(plain[:m.start()])), None)
        if match:
            additions.append((after(match), entry.source))
    for end, source in sorted(additions, reverse=True):
        query = f"{query[:end]} ({source}){query[end:]}"
    return query


def lay_phrases(query: str, known: Callable[[str], bool] = lambda _word: True) -> list[str]:
    """The lay phrases in `query` (as written there) for a word of the sources that `known` says the index uses
    ("nothing shifts it" for "ineffective"), and the other names of a topic whose own name it uses ("talking therapy"
    for psychotherapy): they say what is asked in words the sources put otherwise."""
    plain = _read_shorthand(query)[0]
    found = [m.group(0) for entry in load_lexicon().lay
             if _all_known(entry.source, known)
             for m in entry.pattern.finditer(plain)]
    # ... and a topic's other names ("talking therapy" for psychotherapy).
    for topic in load_lexicon().topics:
        if _all_known(topic.name, known):
            found += [m.group(0) for m in (_alias_pattern(a).search(plain) for a in topic.aliases) if m]
    return found


_DENIED_BEFORE = re.compile(r"\b(?:no|without|nor|denies|denied)\s+$", re.I)
_SPELT_OUT = re.compile(r"(?<![\w-])([\w/.-]+) \(([^()]+)\)")


def _read_shorthand(query: str) -> tuple[str, list[int]]:
    """`query` with each abbreviation that expansion spelt out ("pts (patients)") read as its long form
    ("patients"), and for each character of that text the index of the character of `query` it stands for
    (the characters of a long form stand for its closing parenthesis)."""
    spelt = {(s.short.lower(), s.long.lower()) for s in load_lexicon().shorthand}
    parts: list[str] = []
    position: list[int] = []
    done = 0
    for match in _SPELT_OUT.finditer(query):
        if (match.group(1).lower(), match.group(2).lower()) not in spelt:
            continue
        parts.append(query[done:match.start()])
        position.extend(range(done, match.start()))
        parts.append(match.group(2))
        position.extend([match.end() - 1] * len(match.group(2)))
        done = match.end()
    parts.append(query[done:])
    position.extend(range(done, len(query)))
    return "".join(parts), position


def lay_sources_added(query: str, within: str | None = None) -> list[str]:
    """The sources' words that `expand_lay` added to `query` (each as "(source)" after a lay word for it);
    with `within` (a part of `query`), only those whose lay word is in that part. A lay phrase that holds
    the sources' word itself ("what kind of drug is special K" for "drug") says what is asked of it as
    surely, though nothing was added: its source counts too, as it does when the sources' word stands anywhere
    beside a lay phrase for it. So does the sources' word in the long form of
    shorthand the writer used ("pt w/ hx SUD (substance use disorder)", "GA (general anesthesia)"): it names
    what is asked as a lay word does, though a lay word for it beside it ("put under") then adds nothing."""
    lowered = query.lower()
    plain = _read_shorthand(query if within is None else within)[0]
    spelt = _spelt_out(query if within is None else within)
    found = []
    for entry in load_lexicon().lay:
        if any(_alias_pattern(entry.source).search(long_) for long_ in spelt):
            found.append(entry.source)
        elif f"({entry.source.lower()})" in lowered:
            if entry.pattern.search(plain):
                found.append(entry.source)
        elif _alias_pattern(entry.source).search(plain) and entry.pattern.search(plain):
            # ... and so does the sources' word asked beside a lay phrase for it ("pt in recovery from alcohol/drugs
            # ..., can it be addictive").
            found.append(entry.source)
    return found


def _spelt_out(query: str) -> list[str]:
    """The long forms that expansion spelt out after the writer's shorthand in `query` ("SUD (substance use disorder)")."""
    spelt = {(s.short.lower(), s.long.lower()) for s in load_lexicon().shorthand}
    return [m.group(2) for m in _SPELT_OUT.finditer(query) if (m.group(1).lower(), m.group(2).lower()) in spelt]


@lru_cache(maxsize=None)
def _alias_pattern(alias: str) -> re.Pattern:
    return words_pattern([alias])


def _names_it(treatment: Treatment, text: str) -> bool:
    """True when `text` names `treatment` by one of its aliases ("ECT"), not only by description."""
    return any(_alias_pattern(alias).search(text) for alias in treatment.aliases)


def _names_a_treatment(text: str) -> bool:
    """True when `text` names any of the lexicon's treatments by an alias ("ECT nurse here")."""
    return any(_names_it(treatment, text) for treatment in load_lexicon().treatments)


def broader_class(name: str) -> str | None:
    """The class the treatment `name` belongs to, when the lexicon names one."""
    return next((t.broader for t in load_lexicon().treatments if t.name == name), None)


def is_medication(name: str) -> bool:
    """True when the lexicon marks the treatment `name` as a medication (a drug, not a procedure)."""
    return any(t.medication for t in load_lexicon().treatments if t.name == name)


def topic_of(name: str) -> str | None:
    """The conversation topic the treatment `name` opens, if any ("ketamine" for ketamine)."""
    return next((t.topic for t in load_lexicon().treatments if t.name == name), None)


def cue(name: str) -> re.Pattern:
    """The lexicon's cue `name` ([cue.NAME]). Raises LexiconError when there is none."""
    try:
        return load_lexicon().cues[name]
    except KeyError:
        raise LexiconError(f"lexicon.toml has no [cue.{name}]") from None


def _lead(name: str, question: str) -> re.Match | None:
    """The opening words of `question` that cue `name` matches, or None when there are none or nothing follows them."""
    match = cue(name).match(question)
    return None if match is None or match.end() >= len(question.rstrip()) else match


def without_speaker_role(question: str) -> str:
    """`question` without the words that say who asks ("addictions nurse - list the potential s/e ...":
    cue.speaker_role), unless they name a treatment ("ECT nurse here - ..."), which is then what is asked about, or an
    aspect that is not the role itself ("as a nurse working with pregnant women, is ketamine safe" asks of pregnancy;
    "as a lactation consultant ..." names a role)."""
    match = _lead("speaker_role", question)
    if match is None or _names_a_treatment(match.group(0)):
        return question
    role = match.group(0)
    if any(not cue("role_after").match(role, m.end()) for aspect in aspects_asked(role) for m in aspect.asked.finditer(role)):
        return question
    return question[match.end():]


def without_speaker_aside(question: str) -> str:
    """`question` without the words after it that say who asks ("what fields does it pull together? im a pharmacologist
    so the neuro side is a bit outside my lane": cue.speaker_aside), unless they name a treatment ("im an ECT nurse")
    or fewer than three words of question would be left."""
    match = cue("speaker_aside").search(question)
    if match is None or _names_a_treatment(match.group(0)):
        return question
    rest = question[:match.start()].rstrip()
    return rest if len(rest.split()) >= 3 else question


def without_courtesy_lead(question: str) -> str:
    """`question` without how it is announced ("quick one - ...", "sorry to bother you, but ...": cue.courtesy_lead),
    unless nothing would be left."""
    match = _lead("courtesy_lead", question)
    return question if match is None else question[match.end():]


def without_known_part(question: str) -> str:
    """`question` without what the asker says they already have ("besides combining research w clinical
    knowledge, what else does EBP help w": cue.known_part). A question with fewer than three words left is
    kept whole."""
    match = cue("known_part").search(question)
    if match is None:
        return question
    rest = (question[:match.start()] + question[match.end():]).strip()
    return rest if len(rest.split()) >= 3 else question


# A word or phrase in quotation marks ("what 'alternative' therapies does it list") is read as the words themselves.
_QUOTED = re.compile(r"(?<!\w)['‘’\"“”](\w[\w -]{0,40}?\w|\w)['‘’\"“”](?!\w)")


def aspects_asked(question: str) -> list[Aspect]:
    """The aspects `question` asks about, in lexicon order."""
    question = _QUOTED.sub(r"\1", question)
    return [aspect for aspect in load_lexicon().aspects if aspect.asked.search(question)]


def conditions_named(text: str) -> list[str]:
    """The conditions (lexicon [[condition]]) `text` names, in lexicon order."""
    return [c.name for c in load_lexicon().conditions if c.pattern.search(text)]


def conditions_treated(text: str) -> list[str]:
    """The conditions `text` names other than as someone's history or a caution (`condition_as_history`):
    "Patients with a history of substance use disorder should discuss possible complications" does not say
    what ketamine treats."""
    history = cue("condition_as_history")
    return [c.name for c in load_lexicon().conditions
            if any(not history.search(text, max(0, m.start() - 40), m.start()) for m in c.pattern.finditer(text))]


# The words that may stand between the `treats_condition` cue and the condition it asks about ("does TMS work
# for people with chronic tinnitus"); other conditions named there count as such ("for tinnitus or migraines").
_ASKED_FOR_GAP = re.compile(r"(?:\s*\b(?:chronic|severe|bad|mild|persistent|long-term|long term|treatment-resistant|"
                            r"someone|somebody|people|patients?|pts?|those|a|an|the|my|his|her|their|with|who|have|has|"
                            r"suffering|from|or|and|also|both|even)\b)*\s*", re.I)


# A word with the form of a medical condition's name: "amblyopia", "glaucoma", "psoriasis", "neuropathy"; not the
# everyday words of the same form ("diagnosis", "nostalgia", "empathy").
_CONDITION_FORM = re.compile(r"(?!(?:diagnos|prognos|hypnos|osmos|symbios|metamorphos|apotheos|academi|nostalgi|empath|"
                             r"sympath|telepath|utopi|dystopi|diplom|arom|stom)\w*$)"
                             r"[a-z]{3,}(?:itis|itus|osis|omas?|opathy|pathy|algia|aemia|emia|opia|plegia|iasis|trophy|"
                             r"oedema|edema|rrhoea|rrhea|plasia|penia|uria|ectasis|ectasia|spasm|lepsy)", re.I)
# What may stand between the lead and the condition besides `_ASKED_FOR_GAP`'s words: the condition's other names
# (words the sources never use, as "lazy eye" in "help lazy eye / amblyopia") and the marks joining them.
_NAME_JOIN = re.compile(r"[/,&]|or|and|aka|ie|eg|like", re.I)


def unnamed_conditions_asked(text: str, unknown: Callable[[str], bool]) -> list[tuple[str, int]]:
    """Conditions no lexicon entry names that `text` asks a treatment to be for ("could TMS be used to help lazy eye /
    amblyopia"), each with where it is named: a word of a condition's form (`_CONDITION_FORM`) that `unknown` (the
    index has never seen it) says is not in the sources, within the words after the `treats_condition` cue (which
    "help" leads too) up to the clause's end, with only words saying whose or how bad, or its other names, before it."""
    asked = []
    listed = [c.pattern for c in load_lexicon().conditions]
    for lead in cue("treats_condition").finditer(text):
        clause = re.match(r"[^,.;:?!()]*", text[lead.end():]).group(0)
        for word in re.finditer(r"[A-Za-z]+", clause):
            if word.start() > 60:
                break
            name = word.group(0)
            # A lexicon condition is read by `conditions_asked`, with its own rule for what may stand before it.
            if not _CONDITION_FORM.fullmatch(name) or not unknown(name) or any(p.search(name) for p in listed):
                continue
            # Only words saying whose or how bad, or the condition's other names, stand between: "how do you manage
            # post-ECT headaches in someone with psoriasis" asks about the headaches.
            pieces = [piece for piece in re.findall(r"[A-Za-z]+|[/,&]", clause[:word.start()])
                      if not _ASKED_FOR_GAP.fullmatch(piece)]
            # ... or another name of up to three words given just before it ("lazy eye / amblyopia").
            another = len(pieces) <= 4 and bool(pieces) and pieces[-1].lower() in ("/", "or", "aka", "ie")
            if another or all(_NAME_JOIN.fullmatch(piece) or unknown(piece) for piece in pieces):
                asked.append((name.lower(), lead.end() + word.start()))
        if asked:
            break
    return list(dict.fromkeys(asked))


# Words that only say whose or which, before what a treatment is asked to do something to ("raise the pt's ...").
_EFFECT_GAP = re.compile(r"the|a|an|my|your|ur|his|her|their|our|pts?|patients?|people|someone|somebody|anyone|anybody|"
                         r"everyone|everybody|s|any|some|its|them|"
                         r"(?:father|mother|dad|mum|mom|son|daughter|husband|wife|partner|child|kid|brother|sister|"
                         r"client|friend|gran|grandad|grandma|grandpa|nan)s?", re.I)


def unnamed_effects_asked(text: str, unknown: Callable[[str], bool]) -> list[tuple[str, int]]:
    """What `text` asks whether a treatment does something to, named by a word `unknown` says the index has never seen
    ("does ketamine raise intraocular pressure", "can it crack teeth"), each with where it is named: the first word
    after the `causes_effect` cue that does not only say whose (`_EFFECT_GAP`), named with the word after it when that
    word is not a function word ("intraocular pressure")."""
    asked = []
    for lead in cue("causes_effect").finditer(text):
        clause = re.match(r"[^,.;:?!()/]*", text[lead.end():]).group(0)
        for word in re.finditer(r"[A-Za-z]+", clause):
            name = word.group(0)
            if _EFFECT_GAP.fullmatch(name):
                continue
            if unknown(name):
                rest = re.match(r"(?:\s+(?!(?:or|and|in|on|at|for|with|during|after|before|if|when|the|a|an|same|"
                                r"too|as|than)\b)[A-Za-z]+)?", clause[word.end():]).group(0)
                asked.append((name + rest, lead.end() + word.start()))  # as written
            break
    return list(dict.fromkeys(asked))


def conditions_asked(text: str, lead: str = "treats_condition") -> list[tuple[str, int]]:
    """The conditions `text` asks a treatment to be for ("does TMS work for tinnitus?"), each with where it is
    named: a condition (lexicon [[condition]]) right after the `treats_condition` cue, or after words that only
    say whose or how bad it is (`_ASKED_FOR_GAP`). With `lead` "causes_condition": the conditions it asks a
    treatment to bring about ("does having ect raise the chance of developing epilepsy later on")."""
    conditions = load_lexicon().conditions
    ends = [m.end() for m in cue(lead).finditer(text)]
    asked = []
    for condition in conditions:
        for match in condition.pattern.finditer(text):
            lead_end = max((end for end in ends if end <= match.start()), default=None)
            if lead_end is None:
                continue
            gap = text[lead_end:match.start()]
            for other in conditions:
                gap = other.pattern.sub(" ", gap)
            if _ASKED_FOR_GAP.fullmatch(gap):
                asked.append((condition.name, match.start()))
                break
    return asked
