"""Risk statements in other languages: Spanish, French, German, Portuguese and Italian.

Patterns and per-language cue words are data (ipchat/data/safety/languages.toml). In these languages
the verb form carries the person ("quiero morir" is the writer, "quiere morir" someone else), so each
phrase says whose statement it is; this engine only reads negation, a hypothetical and a distant past
around the match, with the same decisions as the English rules. A phrase that names no person ("una
carta de despedida") is the writer's unless its clause opens with someone else ("mi hermano dejó una
carta de despedida": the language's `third_subjects`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .data import Entry, SafetyDataError, build_entries, head_index, literal_heads, load_lexicon, read_table, word_heads

LANGUAGES = ("es", "fr", "de", "pt", "it")
_SENTENCE = re.compile(r"[.!?;\n\r]+")
_CLAUSE = re.compile(r",|\b(?:pero|aber|y ahora|e agora|et maintenant|und jetzt|e ora)\b")
_CONDITIONAL_NOT = re.compile(r"\b(?:si|se|wenn|falls|if)\s+(?:\w+\s+){0,5}?(?:no|non|nao|ne|nicht|not)\b")
_AND = r"(?:y|e|et|und|ed|o|ou|oder|mais|pero|mas|ma|aber)"  # words that join one clause to the next
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})


@dataclass(frozen=True)
class Phrase:
    rule_id: str
    lang: str
    item: str
    person: str  # "first" | "third" | "clause" (no person in the phrase: the clause's subject decides)
    tense: str  # "state" | "event"
    pattern: re.Pattern
    negation_inside: bool = False  # a negator inside the match counts too ("ich wurde mich nie umbringen")
    needs_context: bool = False  # a sign ("compre la cuerda") that is a crisis only in context
    heads: frozenset[str] | None = None  # data.literal_heads: word beginnings a match needs


@dataclass(frozen=True)
class Language:
    code: str
    negated_before: re.Pattern  # a negator just before the match
    negator: re.Pattern
    distant: re.Pattern
    hypothetical_before: re.Pattern
    topic: re.Pattern
    function_words: frozenset[str]
    distress: re.Pattern | None = None
    fillers: tuple[str, ...] = ()  # adverbs dropped before matching ("he pensado seriamente en ...")
    third_subject: re.Pattern | None = None  # someone else opening a clause ("mi hermano", "elle")
    risk_words: re.Pattern | None = None  # words of death, means, farewells or despair (see without_risk_words)
    ceased: re.Pattern | None = None  # said later in the sentence, it makes what came before past ("pero eso ya quedó atrás")
    past: re.Pattern | None = None  # a verb in a past tense within or just before a state ("j'avais des idées ...")
    recent: re.Pattern | None = None  # a time that keeps a past tense current ("hier soir", "esta semana")
    upcoming: re.Pattern | None = None  # a time ahead, after the match, that keeps its clause current ("este domingo")
    told: re.Pattern | None = None  # a telling verb with its complementiser ("disse que", "hat gesagt, dass")


def fold(text: str) -> str:
    """`text` in lower case with accents removed and plain apostrophes, as the patterns are written."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).translate(_QUOTES).lower())
    if not text.isascii():
        text = "".join(c for c in text if not unicodedata.combining(c))
    # Ligatures NFKD leaves whole: "cœur", "sœur" are written "coeur", "soeur" in the patterns.
    text = text.replace("\u00df", "ss").replace("\u0153", "oe").replace("\u00e6", "ae")
    return re.sub(r"\s+", " ", text).strip()


def _words(values, where: str) -> str:
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise SafetyDataError(f"{where}: must be a non-empty list of patterns")
    return "(?:" + "|".join(values) + ")"


def _language(code: str, spec: dict) -> Language:
    where = f"languages.toml [language.{code}]"
    try:
        negators = _words(spec.get("negators"), where + " negators")
        return Language(
            code=code,
            negated_before=re.compile(r"(?:^|\s)" + negators + r"(?:\s+\S+){0,2}\s*$"),
            negator=re.compile(r"(?:^|\s)" + negators + r"(?=\s)"),
            distant=re.compile(r"\b" + _words(spec.get("distant"), where + " distant")),
            hypothetical_before=re.compile(r"(?:^|\s)" + _words(spec.get("hypothetical"), where + " hypothetical")
                                           + r"(?:\s*\S+){0,2}\s*$"),
            topic=re.compile(r"\b" + _words(spec.get("topic"), where + " topic")),
            function_words=frozenset(spec.get("function_words", ())),
            distress=re.compile(r"\b" + _words(spec["distress"], where + " distress")) if spec.get("distress") else None,
            fillers=tuple(spec.get("fillers", ())),
            # Within the clause's first three words ("anoche mi hermano dejó ..."), not later as an
            # object ("le escribí a mi hermano una carta de despedida" is the writer's).
            third_subject=re.compile(r"^\s*(?:\S+\s+){0,2}?" + _words(spec["third_subjects"], where + " third_subjects")
                                     + r"\b") if spec.get("third_subjects") else None,
            risk_words=re.compile(r"\b" + _words(spec["risk_words"], where + " risk_words") + r"\b")
            if spec.get("risk_words") else None,
            ceased=re.compile(r"\b" + _words(spec["ceased"], where + " ceased") + r"\b") if spec.get("ceased") else None,
            # Within the match or the three words before it ("j'avais des idées suicidaires", "tenía ganas de
            # morir"): further back it is another verb's ("quería preguntar, ¿puedo ...").
            past=re.compile(r"\b" + _words(spec["past"], where + " past") + r"\b") if spec.get("past") else None,
            recent=re.compile(r"\b" + _words(spec["recent"], where + " recent") + r"\b") if spec.get("recent") else None,
            # The telling right before the match, or up to four words before it ("disse que vai acabar com tudo",
            # "me disse q tem pensado em tomar todos os remédios"), or
            # before a second "that" it goes on with ("lleva semanas diciendo que no le ve sentido y que seria mejor
            # no estar").
            told=re.compile(r"\b" + _words(spec["told"], where + " told") + r"(?:[^.!?]*?\s" + _AND
                            + r"\s+(?:que|qu'|dass|che))?(?:\s+\S+){0,4}?\s*$") if spec.get("told") else None,
            # Right after the match, at most two words on and no "and" between: the act's own time ("para irme
            # con ella este domingo"), not the next clause's ("intente matarme y manana empiezo la TMS").
            upcoming=re.compile(r"\s*(?:(?!" + _AND + r"\s)\S+\s+){0,2}?" + _words(spec["upcoming"], where + " upcoming")
                                + r"\b") if spec.get("upcoming") else None,
        )
    except re.error as exc:
        raise SafetyDataError(f"{where}: a pattern does not compile: {exc}") from None


def build_phrases(raw: dict) -> tuple[tuple[Phrase, ...], dict[str, Language], tuple[Entry, ...]]:
    """Phrases, languages and the raw entries (for the tests) from the parsed languages file.

    Raises SafetyDataError for an unknown language, person or tense, or a pattern that does not compile.
    """
    languages = {code: _language(code, spec) for code, spec in raw.get("language", {}).items()}
    entries = build_entries(raw, "phrase", load_lexicon(), "languages.toml", ("pattern", "lang", "item", "person"),
                            normalised=False)
    phrases = []
    for entry in entries:
        where = f"languages.toml ({entry.id})"
        lang, person, tense = entry.get("lang"), entry.get("person"), entry.get("tense", "state")
        if lang not in languages:
            raise SafetyDataError(f"{where}: language {lang!r} has no [language.{lang}] table")
        if person not in ("first", "third", "clause") or tense not in ("state", "event"):
            raise SafetyDataError(f"{where}: person must be first, third or clause, tense state or event")
        phrases.append(Phrase(entry.id, lang, entry.get("item"), person, tense, entry.pattern,
                              bool(entry.get("negation_inside", False)), bool(entry.get("needs_context", False)),
                              literal_heads(entry.pattern)))
    return tuple(phrases), languages, entries


@lru_cache(maxsize=1)
def load_phrases() -> tuple[tuple[Phrase, ...], dict[str, Language], tuple[Entry, ...]]:
    """The bundled phrases and languages (cached). Raises SafetyDataError when the file is broken."""
    return build_phrases(read_table("languages.toml"))


# A time said aside, between commas, belongs to the clause next to it: "I overdosed after my first was born,
# 6 yrs ago"; "Due anni fa, dopo il parto, ho tentato". Only a fragment that is the time and at most two more
# words ("stopped about five years ago"), not a clause of its own ("six years ago my wife died, I want to die");
# a fronted one reaches past fragments that open with a time word ("after the birth", "dopo il parto").
_ASIDE_EXTRA_WORDS = 2
_TIME_OPENER = re.compile(r"\s*(?:after|before|during|following|when|once|dopo|prima|durante|quando|despues|antes|tras|"
                          r"cuando|apres|avant|pendant|quand|lorsque|nach|vor|wahrend|als|depois|enquanto)\b")


def dated_aside(time: re.Pattern, sentence: str, start: int, end: int, unless: re.Pattern | None = None) -> bool:
    """True when a comma-separated fragment next to `sentence[start:end]` is a time `time` matches, with at
    most two other words and nothing `unless` matches: the fragment just after the span, or the one just
    before it (or, past fragments that open with a time word, the one that opens the run)."""
    bounds = [0] + [m.end() for m in re.finditer(",", sentence)]
    spans = [(a, (bounds[n + 1] - 1) if n + 1 < len(bounds) else len(sentence)) for n, a in enumerate(bounds)]
    first = next((n for n, (a, b) in enumerate(spans) if a <= start <= b), None)
    last = next((n for n, (a, b) in enumerate(spans) if a <= max(end - 1, start) <= b), None)
    if first is None or last is None:
        return False
    texts = [sentence[a:b] for a, b in spans]
    chosen = texts[last + 1:last + 2]
    n = first - 1
    while n > 0 and _TIME_OPENER.match(texts[n]):
        n -= 1
    if n >= 0:
        chosen.append(texts[n])
    for text in chosen:
        found = time.search(text)
        # ("_" stands for words set aside as an idiom: a clause of their own.)
        if found and len((text[:found.start()] + " " + text[found.end():]).split()) <= _ASIDE_EXTRA_WORDS \
                and "_" not in text and not (unless is not None and unless.search(text)):
            return True
    return False


def _someone_else_opens(before: str) -> bool:
    """True when the clause before a match opens with someone else in any of the five languages (the
    patterns are shared: "mi hermano dejó una carta" is read by the Portuguese phrase too)."""
    _, languages, _ = load_phrases()
    return any(lang.third_subject is not None and lang.third_subject.search(before) for lang in languages.values())


# A telling with the subject left unsaid is someone else's (see `_decide`), unless it is a gerund, which has no person
# ("diciendo", "dicendo", "dizendo"), the writer tells it ("j'ai dit que", "eu disse que"), or tells of themselves
# ("disse que vou ...").
_GERUND = re.compile(r"\w+(?:ndo|nd)\b")
_FIRST_TELLER = re.compile(r"(?:\b(?:yo|je|j|eu|io|ich)\b[^.!?,]{0,20}|\b(?:ai|ho|he|habe)\s+)$")
_FIRST_PERSON = re.compile(r"\b(?:yo|je|j|moi|eu|io|ich|quiero|voy|quero|vou|voglio|vado|veux|vais|will|werde|me|m)\b")
# ... and one told to the writer is someone else's, whatever the verb's person ("ontem disse-me ao telefone que queria
# morrer", "me dijo que", "mi ha detto che", "m'a dit que", "hat mir gesagt, dass").
_TO_WRITER_BEFORE = re.compile(r"(?:\b(?:me|mi|nos|ci)\s+|\bm')$")
_TO_WRITER_INSIDE = re.compile(r"-(?:me|nos)\b|\b(?:mir|uns)\b")
# A clause told to or by someone ("dit que", "dijo que", "gesagt, dass", "detto che"): its verb's tense follows
# the telling, not the time of what was felt.
_COMPLEMENTISER = re.compile(r"(?:^|\s)(?:que|qu'|dass|che)\s*$")


def _in_past_tense(phrase: Phrase, language: Language, sentence: str, clause_start: int, clause_end: int,
                   match: re.Match, said: str | None) -> bool:
    """True when a state (thoughts, a wish) is told in a past tense, within the match or in the three words
    before it, and no recent time in its clause keeps it current: "j'avais des idées suicidaires pendant les
    dettes" is over, "j'avais des idées suicidaires hier soir" is not. `said` is the sentence as written,
    with its fillers ("encore", "otra vez", "wieder" say it is recent). Events have their own reading (an
    act told in the past is recent unless a distant time is named)."""
    if phrase.tense != "state" or language.past is None:
        return False
    told = " ".join(sentence[clause_start:match.start()].split()[-3:] + [match.group(0)])
    found = language.past.search(told)
    # Told to someone ("j'ai dit a ma psy que j'avais envie de mourir"): the tense follows the telling.
    if not found or _COMPLEMENTISER.search(told[:found.start()]):
        return False
    return not (language.recent is not None and language.recent.search(
        said if said is not None else sentence[clause_start:clause_end]))


def _decide(phrase: Phrase, language: Language, sentence: str, match: re.Match,
            said: str | None = None) -> tuple[str, str]:
    """(level, decision) for one match, read within its clause of `sentence` (`said`: the sentence before
    its fillers were dropped)."""
    starts = [0] + [m.end() for m in _CLAUSE.finditer(sentence) if m.end() <= match.start()]
    ends = [m.start() for m in _CLAUSE.finditer(sentence) if m.start() >= match.end()]
    clause_start, clause_end = starts[-1], (ends[0] if ends else len(sentence))
    before = sentence[clause_start: match.start()]
    before = _CONDITIONAL_NOT.sub(" ", before)  # "si no le funciona, se tira": a condition, not a denial
    negated = language.negated_before.search(before) or (
        phrase.negation_inside and language.negator.search(" " + match.group(0) + " "))
    if negated:
        return "clinical", "clinical.negated"
    if phrase.person == "third" or (phrase.person == "clause" and _someone_else_opens(before)):
        return "concern", "concern.third_person"
    # A first-person form in someone else's telling ("o meu filho disse que queria morrer") is theirs.
    # The teller may open the sentence, clauses before the telling ("meu marido trabalha na roça, tá bebendo
    # muito e disse que vai acabar com tudo").
    # So is a phrase with no person of its own told by a teller in the third person with the subject left unsaid
    # ("ieri sera a cena ha detto che vuole farla finita": he said it), unless the telling is a gerund, which has no
    # person ("sto dicendo che ...").
    told = language.told.search(before) if language.told is not None else None
    if told and (_someone_else_opens(sentence[: match.start()]) or _TO_WRITER_BEFORE.search(before, 0, told.start())
                 or _TO_WRITER_INSIDE.search(told.group(0)) or (
            phrase.person == "clause" and not _GERUND.search(told.group(0))
            and not _FIRST_TELLER.search(before, 0, told.start()) and not _FIRST_PERSON.search(before, told.end()))):
        return "concern", "concern.third_person"
    if language.hypothetical_before.search(before):
        return "concern", "concern.hypothetical_self"
    # A time ahead after the match keeps it current, whatever distant time opens the clause ("mi mujer se fue
    # hace un ano y lo tengo todo preparado para irme con ella este domingo").
    ahead = language.upcoming is not None and language.upcoming.match(sentence, match.end(), clause_end)
    if not ahead and (language.distant.search(sentence[clause_start:clause_end]) or dated_aside(
            language.distant, sentence, match.start(), match.end())) or (
            language.ceased is not None and language.ceased.search(sentence, match.end())) or (
            _in_past_tense(phrase, language, sentence, clause_start, clause_end, match, said)):
        return "concern", "concern.past_self"
    return "crisis", "crisis.first_person"


# English words that tell an English message from one in the five languages.
_ENGLISH = frozenset("i the a to and is my me you it of in that what do how this with for am are was have not "
                     "be can will just so but if about want".split())
# Words that are function words of one of the five languages but also common in English text.
_SHARED = frozenset("no on an as at he she we us e o de la se te ha ho um die".split())


def _foreign_counts(folded: str) -> tuple[int, int]:
    """(English function words, function words of one of the five languages) in `folded`, for the language
    that tells most against English. A word that is a function word of both counts for neither: in "não
    tenho pensamentos suicidas, só quero saber se a EMT pode ajudar ... do cotovelo" the folded "do" is as
    Portuguese as it is English, and the message reads as Portuguese."""
    _, languages, _ = load_phrases()
    words = re.findall(r"[a-z]+", folded)
    english_all = sum(w in _ENGLISH for w in words)
    best = (english_all, 0)
    for lang in languages.values():
        foreign = sum(w in lang.function_words and w not in _ENGLISH for w in words)
        english = sum(w in _ENGLISH and w not in lang.function_words for w in words)
        if foreign - english > best[1] - best[0]:
            best = (english, foreign)
    return best


@lru_cache(maxsize=1)
def _foreign_only() -> frozenset[str]:
    """The five languages' function words that English does not share."""
    _, languages, _ = load_phrases()
    return frozenset(w for lang in languages.values() for w in lang.function_words) - _ENGLISH - _SHARED


def english_letters(text: str) -> bool:
    """True when every letter of `text` is an ASCII one: no accent or other script, whatever its quotes, dashes
    and emoji ("I’m done 😅" is written in English letters; "à" is not)."""
    return text.isascii() or not any(ch.isalpha() and not ch.isascii() for ch in text)


def _may_be_foreign(folded: str) -> bool:
    """False only when `folded` is surely English: no function word of the five languages (beyond
    those English shares) and every word found in the English word list."""
    from .normalise import english_words

    words = re.findall(r"[a-z]+", folded)
    if not _foreign_only().isdisjoint(words):
        return True
    english = english_words()
    return english is None or not all(w in english for w in words if len(w) > 3)


def is_foreign(text: str) -> bool:
    """True when `text` reads as Spanish, French, German, Portuguese or Italian rather than English:
    more of its words are that language's function words than English ones (and at least two), words that are
    function words of both counted for neither (`_foreign_counts`)."""
    english, foreign = _foreign_counts(fold(text))
    return foreign >= 2 and foreign > english


def without_risk_words(text: str) -> bool:
    """True when `text` reads as one of the five languages (`is_foreign`) and holds none of that language's
    words of death, means, farewells or despair (`risk_words`), nor a topic or distress word of any of them:
    "Je suis interne en psychiatrie", "vale, ¿la ketamina va en nevera?". What an English embedding model
    makes of such a message is not evidence of risk."""
    if not is_foreign(text):
        return False
    _, languages, _ = load_phrases()
    folded = fold(text)
    return not any(pattern is not None and pattern.search(folded)
                   for language in languages.values()
                   for pattern in (language.risk_words, language.topic, language.distress))


@lru_cache(maxsize=1)
def _phrase_index() -> tuple[list[int], dict[str, list[int]]]:
    """Phrase positions for read_languages, as the English rules are indexed (data.head_index)."""
    phrases, _, _ = load_phrases()
    return head_index(enumerate(phrase.heads for phrase in phrases))


@lru_cache(maxsize=1)
def _filler_pattern(codes: tuple[str, ...]) -> re.Pattern | None:
    _, languages, _ = load_phrases()
    words = sorted({w for code in codes for w in languages[code].fillers}, key=len, reverse=True)
    # Kept before "se": "anche se" is "even though", not the hypothetical "se".
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b(?! se\b) ?") if words else None


def _without_fillers(folded: str, languages: dict[str, Language]) -> str:
    """`folded` with the languages' filler adverbs removed, so patterns need no slot for them."""
    pattern = _filler_pattern(tuple(sorted(languages)))
    return re.sub(r"\s+", " ", pattern.sub("", folded)).strip() if pattern else folded


def read_languages(text: str) -> tuple[list[tuple[str, str, str, str, bool]], bool, bool, bool]:
    """The findings in `text` as (rule id, item, level, decision, needs context), whether a
    language's word for suicide or self-harm names it as a topic, whether it voices distress, and whether
    a sign of the writer's (a phrase that needs context) has a time ahead after it in its sentence ("Hab mir
    schon überlegt wie, am Sonntag wenn meine Freundin weg ist"): a plan, as the English cue.plan reads."""
    phrases, languages, _ = load_phrases()
    folded = fold(text)
    found: list[tuple[str, str, str, str, bool]] = []
    if english_letters(text) and not _may_be_foreign(folded):
        return found, False, False, False  # nothing here reads as one of the five languages
    said = _SENTENCE.split(folded)
    folded = _without_fillers(folded, languages)
    always, by_head = _phrase_index()
    sentences = _SENTENCE.split(folded)
    if len(said) != len(sentences):
        said = [None] * len(sentences)
    planned = False
    for sentence, as_said in zip(sentences, said):
        first, timed = len(found), []
        # Only the phrases whose word beginnings the sentence has, in file order.
        found_at = set(always)
        for head in word_heads(sentence):
            found_at.update(by_head.get(head, ()))
        for position in sorted(found_at):
            phrase = phrases[position]
            for match in phrase.pattern.finditer(sentence):
                language = languages[phrase.lang]
                level, decision = _decide(phrase, language, sentence, match, as_said)
                found.append((phrase.rule_id, phrase.item, level, decision, phrase.needs_context))
                if phrase.needs_context and level == "crisis" and language.upcoming is not None \
                        and language.upcoming.search(sentence, match.end()):
                    timed.append(len(found) - 1)
        # ... a time ahead in a sentence that tells someone else's risk ("Meine Patientin hat mir erzählt, dass sie
        # Tabletten gesammelt hat und sich am Wochenende umbringen will") is theirs.
        planned = planned or (bool(timed) and not any(
            entry[3] == "concern.third_person" for entry in found[first:]))
    topic = any(language.topic.search(folded) for language in languages.values())
    distress = any(language.distress is not None and language.distress.search(folded) for language in languages.values())
    return found, topic, distress, planned
