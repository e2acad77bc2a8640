"""The English gloss the safety model hears a message of the five languages through (ipchat/safety/gloss.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ipchat.safety import embed_turn
from ipchat.safety.data import SafetyDataError
from ipchat.safety.gloss import _parse, for_model, gloss, gloss_words, language_of, load_glossaries

GLOSSARIES = load_glossaries()
EXAMPLES = [(lang, text, has) for lang, g in sorted(GLOSSARIES.items()) for text, has in g.examples]


def test_each_of_the_five_languages_has_a_glossary_with_examples():
    assert set(GLOSSARIES) == {"es", "fr", "de", "pt", "it"}
    for glossary in GLOSSARIES.values():
        assert len(glossary.words) > 500
        assert len(glossary.examples) >= 10


@pytest.mark.parametrize("lang,text,has", EXAMPLES, ids=[f"{lang}-{n}" for n, (lang, _, _) in enumerate(EXAMPLES)])
def test_glossary_example(lang, text, has):
    glossed = gloss(text, lang)
    assert glossed is not None
    for word in has:
        # Any of a word's alternatives ("cut my veins/wrists"), without its note ("starving (idiom)"), as a
        # word or its plural.
        options = [w.strip() for w in re.sub(r"\s*\([^)]*\)", "", word).lower().split("/")]
        assert any(re.search(rf"(?<![a-z]){re.escape(w)}s?(?![a-z])", glossed.lower()) for w in options), (word, glossed)


# Short messages can read as a neighbour (Spanish and Portuguese share many words); a message of eight words
# or more is read in its own language.
LONG_EXAMPLES = [(lang, text) for lang, text, _ in EXAMPLES if len(text.split()) >= 8]


@pytest.mark.parametrize("lang,text", LONG_EXAMPLES, ids=[f"{lang}-{n}" for n, (lang, _) in enumerate(LONG_EXAMPLES)])
def test_example_language_is_told_from_the_text(lang, text):
    assert language_of(text) == lang


@pytest.mark.parametrize("text", [
    "How long does a course of ECT usually take?",
    "i bought a rope yesterday",
    "is ketamine safe in pregnancy",
])
def test_english_is_not_glossed(text):
    assert gloss(text) is None
    assert for_model(text) == text


def test_a_foreign_message_is_glossed_in_its_own_language():
    glossed = gloss("Ich will nicht mehr leben, ich habe die Tabletten schon gesammelt.")
    assert glossed is not None and "Tabletten" not in glossed and "ich" not in glossed.split()


def test_an_english_sentence_inside_a_foreign_message_stays_english():
    text = "Quiero saber cuánto dura una sesión de TMS y si duele. Also how long does each session last in total?"
    glossed = gloss(text)
    assert glossed is not None and glossed.endswith("Also how long does each session last in total?")


def _glossary(words: dict[str, str]):
    return _parse({"lang": "xx", "words": words}, "test.toml")


def test_longest_phrase_first_and_unknown_words_kept():
    g = _glossary({"no": "not", "puedo": "I can", "no puedo mas": "I can't go on", "mas": "more"})
    text, known, total = gloss_words("ya no puedo mas, zorglub", g)
    assert text == "ya I can't go on, zorglub"
    assert (known, total) == (3, 5)


def test_elided_article_is_glossed_in_two_parts():
    g = _glossary({"l'": "the", "j'ai": "I have", "ect": "ECT"})
    assert gloss_words("j'ai peur de l'ect", g)[0] == "I have peur de the ECT"


@pytest.mark.parametrize("words,message", [
    ({"Quiero": "I want"}, "lower case without accents"),
    ({"quería": "I wanted"}, "lower case without accents"),
    ({"a b c d e f": "six"}, "one to 5 words"),
    ({"morir": ""}, "non-empty"),
])
def test_bad_glossary_entries_are_refused(words, message):
    with pytest.raises(SafetyDataError, match=message):
        _glossary(words)


def test_glossary_needs_a_language_code():
    with pytest.raises(SafetyDataError, match="lang"):
        _parse({"lang": "Spanish", "words": {"a": "to"}}, "test.toml")


def test_the_safety_model_embeds_the_gloss_of_a_foreign_message_and_its_sentences():
    seen: list[str] = []

    def embed(texts):
        seen.extend(texts)
        return np.ones((len(texts), 4), dtype=np.float32)

    text = "Ya lo tengo decidido. Esta noche me voy a tirar del puente."
    vectors = embed_turn(embed, text, ["hola, tengo una pregunta sobre la TMS"])
    assert len(vectors["sentence_vectors"]) == 2
    assert seen[0] == gloss(text) and seen[0] != text
    assert seen[1:3] == [gloss("Ya lo tengo decidido."), gloss("Esta noche me voy a tirar del puente.")]
    assert "hola" not in seen[3]  # the earlier message, glossed too


def test_a_message_reads_well_only_when_its_glossary_knows_most_of_its_words():
    from ipchat.safety.gloss import reads_well

    assert reads_well("Ya lo tengo decidido, esta noche me voy a tirar del puente.")
    assert not reads_well("I have decided, tonight I will go to the bridge.")  # English: nothing to gloss
    assert not reads_well("Zorglub blimp quatzel frobnicar esta noche con el grunfo")  # mostly unknown words
