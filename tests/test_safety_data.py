"""The safety layer's data files: every entry's must-match and must-not-match messages, and clear
errors for a broken file."""

from __future__ import annotations

import pytest

from ipchat.safety import assess, normalise
from ipchat.safety.data import SafetyDataError, build_entries, build_lexicon, load_entries, load_lexicon, spaced_hyphens
from ipchat.safety.languages import load_phrases
from ipchat.safety.data import word_heads
from ipchat.safety.rules import build_rules, load_rules, read_message

RULES = load_entries("patterns.toml", "rule")
PHRASES = load_phrases()[2]
IDIOMS = load_entries("idioms.toml", "idiom")
LEXICON = load_lexicon()


def _cases(entries, which):
    return [pytest.param(entry.id, text, id=f"{entry.id}:{n}")
            for entry in entries for n, text in enumerate(getattr(entry, which))]


def _fired(text: str) -> set[str]:
    # A sign that needs context is kept aside when the message alone gives none: count it too.
    reading = read_message(text)
    return set(reading.rule_ids) | set(reading.signs)


def _risk_from(text: str) -> set[str]:
    # What raised a risk: a rule read as negated or generic ("I'd never ...") is not one.
    reading = read_message(text)
    idioms = {rule_id for rule_id in reading.rule_ids if rule_id.startswith("idiom.")}
    return {f.rule_id for f in reading.findings if f.level in ("concern", "crisis")} | set(reading.signs) | idioms


@pytest.mark.parametrize(("rule_id", "text"), _cases(RULES + IDIOMS + PHRASES, "must_match"))
def test_entry_fires_on_its_examples(rule_id: str, text: str) -> None:
    assert rule_id in _fired(text)


@pytest.mark.parametrize(("rule_id", "text"), _cases(RULES + IDIOMS + PHRASES, "must_not_match"))
def test_entry_raises_no_risk_on_its_counter_examples(rule_id: str, text: str) -> None:
    assert rule_id not in _risk_from(text)


@pytest.mark.parametrize(("entry_id", "text"), _cases(LEXICON.entries, "must_match"))
def test_lexicon_entry_matches(entry_id: str, text: str) -> None:
    entry = next(e for e in LEXICON.entries if e.id == entry_id)
    assert entry.pattern.search(normalise(text)), text


@pytest.mark.parametrize(("entry_id", "text"), _cases(LEXICON.entries, "must_not_match"))
def test_lexicon_entry_does_not_match(entry_id: str, text: str) -> None:
    entry = next(e for e in LEXICON.entries if e.id == entry_id)
    assert not entry.pattern.search(normalise(text)), text


def test_every_rule_names_a_screening_item() -> None:
    assert all(entry.get("item") for entry in RULES)


# --------------------------------------------------------------------------------------
# A broken data file fails loudly, naming the entry
# --------------------------------------------------------------------------------------


def _rule(**fields) -> dict:
    return {"rule": [{"id": "test.rule", "item": "cssrs.wish_dead", "pattern": ["want to vanish"],
                      "must_match": ["i want to vanish"], **fields}]}


@pytest.mark.parametrize(("fields", "message"), [
    ({"pattern": ["want to ({undefined_list})"]}, "unknown word list {undefined_list}"),
    ({"pattern": ["want to (vanish"]}, "does not compile"),
    ({"item": "cssrs.made_up"}, "unknown item 'cssrs.made_up'"),
    ({"must_match": []}, "at least one message in 'must_match'"),
    ({"pattern": []}, "non-empty list of strings"),
])
def test_broken_rule_is_reported_with_its_id(fields: dict, message: str) -> None:
    with pytest.raises(SafetyDataError, match="test.rule") as error:
        build_entries(_rule(**fields), "rule", LEXICON, "patterns.toml")
    assert message in str(error.value)


def test_duplicate_ids_are_refused() -> None:
    raw = {"rule": _rule()["rule"] * 2}
    with pytest.raises(SafetyDataError, match="duplicate id 'test.rule'"):
        build_entries(raw, "rule", LEXICON, "patterns.toml")


def test_unknown_kind_or_check_is_refused() -> None:
    for fields, message in (({"kind": "magic"}, "kind must be one of"), ({"check": "nope"}, "unknown check")):
        entries = build_entries(_rule(**fields), "rule", LEXICON, "patterns.toml")
        with pytest.raises(SafetyDataError, match=message):
            build_rules(LEXICON, entries, ())


def test_a_group_that_names_no_person_the_rules_read_is_refused() -> None:
    # "who12" is read by no one: the pattern's person would go unread, so the data is refused at load
    entries = build_entries(_rule(pattern=["sliced (?P<who12>my) arms up"], must_match=["sliced my arms up"]),
                            "rule", LEXICON, "patterns.toml")
    with pytest.raises(SafetyDataError, match="unknown group who12"):
        build_rules(LEXICON, entries, ())
    entries = build_entries(_rule(pattern=["sliced (?P<who8>my) arms up"], must_match=["sliced my arms up"]),
                            "rule", LEXICON, "patterns.toml")
    assert build_rules(LEXICON, entries, ())


def test_a_list_without_words_is_refused() -> None:
    with pytest.raises(SafetyDataError, match=r"\[list.empty\]"):
        build_lexicon({"list": {"empty": {"words": [], "must_match": ["x"]}}})


def test_a_new_rule_in_data_changes_the_verdict_without_code() -> None:
    # What a reviewer adds to patterns.toml is all it takes: the engine picks it up.
    lexicon = LEXICON
    entries = build_entries(_rule(), "rule", lexicon, "patterns.toml")
    rules = build_rules(lexicon, entries, ())
    assert [r.rule_id for r in rules.rules] == ["test.rule"]
    assert rules.rules[0].pattern.search("i want to vanish")


def test_a_hyphenated_word_in_a_rule_matches_both_spellings() -> None:
    # The normaliser reads "co-workers" as "co workers": a rule written with the hyphen must still fire.
    entries = build_entries(_rule(pattern=["said goodbye to my co-workers"]), "rule", LEXICON, "patterns.toml")
    rules = build_rules(LEXICON, entries, ())
    for text in ("i said goodbye to my co-workers today", "I said goodbye to my co workers today"):
        assert rules.rules[0].pattern.search(normalise(text))
    # Text that is only folded (the other languages' phrases) keeps its hyphens, and so do their patterns.
    folded = build_entries(_rule(pattern=["ce week-end"]), "rule", LEXICON, "languages.toml", normalised=False)
    assert folded[0].pattern.search("je le ferai ce week-end")


@pytest.mark.parametrize(("pattern", "spaced"), [
    ("co-workers|back-up", "co workers|back up"),
    ("[a-z-]+x", "[a-z-]+x"),          # inside a character class
    (r"[^-]a-b", r"[^-]a b"),
    (r"\w-b", r"\w-b"),              # beside an escape
    (r"a\-b", r"a\-b"),              # escaped
    ("(?P<head>x)-y", "(?P<head>x)-y"),  # after a group
    ("[]a-]b-c", "[]a-]b c"),          # a class opening with ]
    ("1-2", "1-2"),
])
def test_spaced_hyphens_rewrites_only_literal_hyphens_between_letters(pattern: str, spaced: str) -> None:
    assert spaced_hyphens(pattern) == spaced


def test_word_heads_index_rules_by_first_and_required_words() -> None:
    import re

    from ipchat.safety.data import literal_heads, required_heads, word_heads

    starts = re.compile(r"\b(?:took|swallowed)\s+(?:all|every)\s+(?:pills|tablets)\b")
    assert literal_heads(starts) == {"too", "swa"}
    # A pattern that may start anywhere is known by a word it cannot skip, the fewest: the two pill words.
    inside = re.compile(r"(?:\w+\s+){0,3}?\s+(?:pills|tablets)\s+(?:hidden|saved|stashed)\b")
    assert literal_heads(inside) is None
    assert required_heads(inside) == {"pil", "tab"}
    assert inside.search("found her pills hidden") and not required_heads(inside).isdisjoint(word_heads("found her pills hidden"))
    # Each alternative of the pattern must be known, else nothing is.
    assert required_heads(re.compile(r"\w+\s+pills\b|\d+\s*mg")) is None
    # A word the pattern may skip (optional) or only looks ahead at is no requirement.
    assert required_heads(re.compile(r"\w+(?:\s+tonight)?(?!\s+pills)")) is None


def test_every_rule_skipped_by_its_words_could_not_have_matched() -> None:
    # The index by word beginning must never hide a match: over every example the data files carry.
    R = load_rules()
    examples = [text for entry in load_entries("patterns.toml", "rule", ("pattern",))
                for text in (*entry.get("must_match", ()), *entry.get("must_not_match", ()))]
    for text in examples:
        norm = normalise(text)
        heads = word_heads(norm)
        chosen = set(id(rule) for rule in R.candidates(heads, heads))
        for rule in R.rules:
            if id(rule) not in chosen:
                assert not rule.pattern.search(norm), (rule.rule_id, text)


def test_every_idiom_skipped_by_its_words_could_not_have_matched() -> None:
    # Idioms are tried only on a sentence holding one of their word beginnings; over every example the data
    # files carry, none skipped would have matched.
    R = load_rules()
    examples = [text for name, kind in (("patterns.toml", "rule"), ("idioms.toml", "idiom"))
                for entry in load_entries(name, kind, ("pattern",))
                for text in (*entry.get("must_match", ()), *entry.get("must_not_match", ()))]
    assert sum(idiom.heads is not None for idiom in R.idioms) > len(R.idioms) // 2  # the index does skip some
    for text in examples:
        norm = normalise(text)
        heads = word_heads(norm)
        for idiom in R.idioms:
            if idiom.heads is not None and idiom.heads.isdisjoint(heads):
                assert not idiom.pattern.search(norm), (idiom.rule_id, text)


@pytest.mark.parametrize(("text", "english"), [
    ("I’m done 😅 — is that normal after TMS?", True),
    ("plain ascii", True),
    ("¿la ketamina va en nevera?", True),  # the letters alone tell nothing here: the function words do
    ("¿sí o no?", False),
    ("je suis épuisée", False),
])
def test_english_letters_ignores_quotes_and_emoji_but_not_accents(text: str, english: bool) -> None:
    from ipchat.safety.languages import english_letters

    assert english_letters(text) is english
