"""A word-by-word English gloss of a message in Spanish, French, German, Portuguese or Italian.

The safety model is English: its sense of "Ich weiß schon, wie ich es machen werde, der Brief an meine
Tochter liegt im Handschuhfach" is mostly noise, while its sense of the gloss "I know already, how I it do
will, the letter to my daughter lies in the glovebox" is close to what an English speaker would have
written. So the backstop hears a message of one of the five languages, and each of its sentences, through
its gloss: the words looked up in a reviewed glossary (ipchat/data/safety/glossary/<code>.toml), longest
phrase first, in their own order, a word the glossary lacks kept as it is. Meaning survives word order well
enough for nearness in meaning. The rules never read a gloss: they have the languages' own patterns
(languages.toml), and the English rules on glosses raised 18 of the learnt sets' safe messages in the five
languages to a crisis ("risk suicidal" is not the topic "suicidal risk") for 4 crises found.

Of a gloss given as alternatives ("heavy/hard") the first is used: every sense at once made the backstop
worse (over the learnt sets' 578 messages in the five languages, 7 crises missed, 6 safe messages raised to
a crisis and 11 concerns judged none, against 7 / 3 / 3 with the first sense). Text in parentheses is a
note for the reader ("a morrer de vontade" = "really want (idiom)").

Each glossary names its language (`lang`), maps words and phrases of up to `MAX_WORDS` words, written as
`languages.fold` writes text (lower case, accents removed), to English (`[words]`), and holds examples
whose gloss must contain given English words (`[[example]]`, run by the tests). Folding merges words that
differ only by an accent (French "a" and "à", "achète" and "acheté"): the glossary gives one of them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .data import SafetyDataError
from .languages import _may_be_foreign, english_letters, fold, is_foreign
from .normalise import english_words

#: The longest key a glossary may hold, in words.
MAX_WORDS = 5
#: The share of a short message's words a glossary must know to read it as that language.
SHORT_COVER = 0.8
#: The share of a message's words its glossary must know for its gloss to be judged as English is.
READS_WELL = 0.85

_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*(?:'(?=\s|$))?|[^\sa-z0-9]")
_PIECES = re.compile(r"[^.!?;\n]+[.!?;]*|[.!?;\n]+")


@dataclass(frozen=True)
class Glossary:
    """One language's glossary: `words` maps a folded word or phrase (a tuple of words) to English."""

    lang: str
    words: dict[tuple[str, ...], str]
    examples: tuple[tuple[str, tuple[str, ...]], ...]

    def knows(self, word: str) -> bool:
        """Whether this glossary glosses `word` on its own."""
        return (word,) in self.words or _parts(word, self.words) is not None

    def covers(self, words: list[str]) -> int:
        """How many of `words` this glossary knows as words on their own."""
        return sum(map(self.knows, words))


def _elided(word: str, words: dict[tuple[str, ...], str]) -> list[str] | None:
    """The gloss of a word with an elided article or pronoun ("l'ect", "dell'anno", "m'a") when both
    parts are known or the first is, else None."""
    head, sep, tail = word.partition("'")
    if not sep or not tail:
        return None
    first = words.get((head + "'",))
    if first is None:
        return None
    return [first, words.get((tail,), tail)]


def _english(value: str) -> str:
    """A glossary value without its notes in parentheses and, of alternatives, the first: of "has / to / at",
    "has"; of "he/she will pay", "he will pay"."""
    plain = re.sub(r"\s*\([^)]*\)", "", value).strip() or value.strip()
    first = plain.split(" / ")[0].strip() or plain
    return re.sub(r"(\S+?)(?:/\S+)+", r"\1", first).strip() or first


def _parts(word: str, words: dict[tuple[str, ...], str]) -> list[str] | None:
    """The gloss of a word the glossary lacks as a whole: with an elided article or pronoun ("l'ect"), or
    joined by hyphens ("dis-moi", "matar-me") when each part is known; else None."""
    elided = _elided(word, words)
    if elided is not None or "-" not in word:
        return elided
    parts = [words.get((part,)) for part in word.split("-")]
    return None if None in parts else parts


def _parse(raw: dict, where: str) -> Glossary:
    lang = raw.get("lang")
    if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2}", lang):
        raise SafetyDataError(f"{where}: lang must be a two-letter language code")
    table = raw.get("words")
    if not isinstance(table, dict) or not table:
        raise SafetyDataError(f"{where}: [words] must map words to their English")
    words: dict[tuple[str, ...], str] = {}
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise SafetyDataError(f"{where}: the gloss of {key!r} must be non-empty text")
        if fold(key) != key:
            raise SafetyDataError(f"{where}: {key!r} must be written in lower case without accents, as {fold(key)!r}")
        parts = tuple(key.split())
        if not parts or len(parts) > MAX_WORDS:
            raise SafetyDataError(f"{where}: {key!r} must be one to {MAX_WORDS} words")
        words[parts] = _english(value)
    examples = []
    for n, example in enumerate(raw.get("example", []), 1):
        text, has = example.get("text"), example.get("gloss_has")
        if not isinstance(text, str) or not text or not isinstance(has, list) or not all(isinstance(h, str) for h in has):
            raise SafetyDataError(f"{where}: example {n} needs text and a list gloss_has")
        examples.append((text, tuple(has)))
    return Glossary(lang, words, tuple(examples))


@lru_cache(maxsize=1)
def load_glossaries(directory: Path | None = None) -> dict[str, Glossary]:
    """The glossaries, by language code. Raises SafetyDataError for a broken file."""
    folder = directory or Path(str(resources.files("ipchat.data") / "safety" / "glossary"))
    glossaries: dict[str, Glossary] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SafetyDataError(f"{path.name}: {exc}") from exc
        glossary = _parse(raw, path.name)
        if glossary.lang in glossaries:
            raise SafetyDataError(f"{path.name}: a second glossary for {glossary.lang!r}")
        glossaries[glossary.lang] = glossary
    return glossaries


def _words(folded: str) -> list[str]:
    return [t for t in _TOKEN.findall(folded) if t[0].isalnum()]


def gloss_words(folded: str, glossary: Glossary) -> tuple[str, int, int]:
    """(the English gloss of `folded` text, words glossed, words in it), longest phrase first."""
    tokens = _TOKEN.findall(folded)
    out: list[str] = []
    known = total = 0
    at = 0
    while at < len(tokens):
        token = tokens[at]
        if not token[0].isalnum():
            out.append(token)
            at += 1
            continue
        for size in range(min(MAX_WORDS, len(tokens) - at), 0, -1):
            key = tuple(tokens[at:at + size])
            if key in glossary.words:
                out.append(glossary.words[key])
                known += size
                total += size
                at += size
                break
        else:
            parts = _parts(token, glossary.words)
            out += parts if parts is not None else [token]
            known += parts is not None or token.isdigit()
            total += 1
            at += 1
    text = " ".join(out)
    return re.sub(r"\s+([,.!?;:)])", r"\1", text), known, total


def language_of(text: str) -> str | None:
    """The code of the glossary that knows most of `text`'s words, when `text` reads as one of the five
    languages: by their function words (`languages.is_foreign`) or, for a short message with few of them
    ("Me muero de hambre, ¿a qué hora es la cena?"), when that glossary knows at least `SHORT_COVER` of its
    words and two or more of them are not English words. None for English, or when no glossary is shipped."""
    folded = fold(text)
    if english_letters(text) and not _may_be_foreign(folded):
        return None  # surely English: no function word of the five, every longer word an English one
    glossaries = load_glossaries()
    if not glossaries:
        return None
    words = _words(folded)
    known = {lang: {w for w in words if g.knows(w)} for lang, g in glossaries.items()}

    def score(lang: str) -> tuple[int, int]:
        # Words only this glossary knows ("estou", "ich") first, then all it knows.
        others = set().union(*(k for other, k in known.items() if other != lang))
        return len(known[lang] - others), sum(w in known[lang] for w in words)

    best = glossaries[max(known, key=score)]
    if is_foreign(text):
        return best.lang
    pieces = _PIECES.findall(text)
    for piece in pieces if len(pieces) > 1 else ():
        if is_foreign(piece):  # a sentence of one of them in an English message
            return language_of(piece)
    if len(words) < 3 or best.covers(words) < SHORT_COVER * len(words):
        return None
    english = english_words()
    foreign = sum(w not in english for w in words if not w.isdigit()) if english is not None else 0
    return best.lang if foreign >= 2 else None


def gloss(text: str, lang: str | None = None) -> str | None:
    """The English gloss of `text`, or None when it reads as English (nothing to gloss). Each sentence is
    glossed in the language of the whole message (`lang`, else `language_of(text)`) when it reads as that
    language or is too short to tell; an English sentence in a foreign message stays as it is."""
    lang = lang or language_of(text)
    if lang is None:
        return None
    glossary = load_glossaries()[lang]
    pieces = []
    for piece in _PIECES.findall(text):
        folded = fold(piece)
        words = _words(folded)
        if is_foreign(piece) or len(words) < 4 or glossary.covers(words) * 2 > len(words):
            pieces.append(gloss_words(folded, glossary)[0])
        else:
            pieces.append(piece.strip())
    return " ".join(p for p in pieces if p)


def reads_well(text: str) -> bool:
    """Whether `text` is in one of the five languages and its glossary knows at least `READS_WELL` of its
    words: then its gloss is English the model can judge as it judges English."""
    lang = language_of(text)
    if lang is None:
        return False
    _, known, total = gloss_words(fold(text), load_glossaries()[lang])
    return total > 0 and known >= READS_WELL * total


def for_model(text: str, lang: str | None = None) -> str:
    """What the safety model embeds for `text`: its gloss when it is in one of the five languages (or in
    `lang`'s), else `text` itself."""
    glossed = gloss(text, lang)
    return text if glossed is None else glossed
