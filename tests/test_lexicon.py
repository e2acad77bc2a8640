"""The domain lexicon: every entry's examples hold, and the code that reads it behaves."""

from __future__ import annotations

import re

import pytest

from ipchat.conversation import topics_in
from ipchat.coverage import named_treatments
from ipchat.lexicon import LexiconError, aspects_asked, build_lexicon, conditions_named, expand_lay, load_lexicon

LEXICON = load_lexicon()


def _cases(kind: str, field: int) -> list[tuple[str, str]]:
    return [(name, text) for k, name, *examples in LEXICON.examples if k == kind for text in examples[field - 2]]


@pytest.mark.parametrize(("name", "text"), _cases("treatment", 2))
def test_treatment_aliases_are_recognised(name, text):
    assert name in [n for n, _s, _e in named_treatments(text)], text


@pytest.mark.parametrize(("name", "text"), _cases("treatment", 3))
def test_treatment_aliases_are_not_read_into_other_text(name, text):
    assert name not in [n for n, _s, _e in named_treatments(text)], text


@pytest.mark.parametrize(("name", "text"), _cases("topic", 2))
def test_topic_aliases_are_recognised(name, text):
    assert name in topics_in(text), text


@pytest.mark.parametrize(("name", "text"), _cases("topic", 3))
def test_topic_aliases_are_not_read_into_other_text(name, text):
    assert name not in topics_in(text), text


@pytest.mark.parametrize(("source", "text"), _cases("lay", 2))
def test_lay_words_add_the_sources_word(source, text):
    assert f"({source})" in expand_lay(text), text


@pytest.mark.parametrize(("source", "text"), _cases("lay", 3))
def test_lay_words_leave_other_questions_alone(source, text):
    assert f"({source})" not in expand_lay(text), text


@pytest.mark.parametrize(("name", "text"), _cases("condition", 2))
def test_conditions_are_read(name, text):
    assert name in conditions_named(text), text


@pytest.mark.parametrize(("name", "text"), _cases("condition", 3))
def test_conditions_are_not_read_into_other_text(name, text):
    assert name not in conditions_named(text), text


@pytest.mark.parametrize(("name", "text"), _cases("aspect", 2))
def test_aspects_are_read_from_the_question(name, text):
    assert name in [a.name for a in aspects_asked(text)], text


@pytest.mark.parametrize(("name", "text"), _cases("aspect", 3))
def test_aspects_are_not_read_into_other_questions(name, text):
    assert name not in [a.name for a in aspects_asked(text)], text


def test_every_lay_word_and_aspect_has_examples():
    for kind, name, must_match, _must_not in LEXICON.examples:
        if kind in ("lay", "aspect"):
            assert must_match, f"{kind} {name} has no must_match examples"


def test_lay_expansion_needs_the_index_to_know_the_word_and_is_idempotent():
    question = "Is the patient put to sleep for ECT?"
    assert expand_lay(question, known=lambda w: w == "ect") == question
    expanded = expand_lay(question)
    assert expanded == "Is the patient put to sleep (anesthesia) for ECT?"
    assert expand_lay(expanded) == expanded


def test_a_denied_lay_word_adds_nothing():
    assert expand_lay("why would pregnancy be a reason to have ECT?") == \
        "why would pregnancy (pregnant) be a reason to have ECT?"
    # "no pregnancy" says what the question is not about
    assert "(pregnant)" not in expand_lay("pt is still low, not actively suicidal, no pregnancy, which criteria fit?")
    assert "(pregnant)" in expand_lay("no idea why pregnancy would matter for ECT")
    # "not" asks about the word rather than denying it
    assert "(first-line)" in expand_lay("why is ketamine not first line?")


def test_conditions_asked_are_those_a_treatment_is_asked_to_be_for():
    from ipchat.lexicon import conditions_asked

    assert [name for name, _ in conditions_asked("Does TMS work for tinnitus or migraines?")] == ["tinnitus", "migraine"]
    assert [name for name, _ in conditions_asked("my mum has dementia, is ECT used for depression?")] == ["depression"]
    # the cue must reach the condition within the sentence
    assert conditions_asked("is TMS used here? my dad has tinnitus") == []
    assert conditions_asked("what are the side effects of TMS for someone with a long history of migraine") == []
    # words saying whose or how bad may stand between; other words may not
    assert [name for name, _ in conditions_asked("does TMS work for people with chronic tinnitus")] == ["tinnitus"]
    assert conditions_asked("Will ECT work for me if my tinnitus gets worse?") == []


def test_a_condition_no_entry_lists_is_asked_by_a_name_of_its_form_the_sources_never_use():
    from ipchat.lexicon import unnamed_conditions_asked

    never = {"amblyopia", "psoriasis", "gastritis"}.__contains__  # the words a stand-in index never saw
    eye = "could TMS be used to help lazy eye / amblyopia in adults"
    assert unnamed_conditions_asked(eye, never) == [("amblyopia", eye.index("amblyopia"))]
    assert [n for n, _ in unnamed_conditions_asked("can ECT be used to treat psoriasis", never)] == ["psoriasis"]
    # a word the sources use, or not of a condition's form, is not one
    assert unnamed_conditions_asked("does TMS work for depression", lambda word: True) == []
    assert unnamed_conditions_asked("can ECT be used to treat psoriasis", lambda word: False) == []
    # the cue must reach it within the clause
    assert unnamed_conditions_asked("does TMS help? my dad has gastritis", never) == []
    # only words saying whose or how bad, or its other names, stand before it; everyday words of the form are not one
    assert unnamed_conditions_asked("how do you manage post-ECT headaches in someone with psoriasis", never) == []
    assert unnamed_conditions_asked("would ECT help his prognosis", lambda word: True) == []


def test_what_a_treatment_is_asked_to_do_something_to_is_read_from_its_first_words():
    from ipchat.lexicon import unnamed_effects_asked

    never = {"intraocular", "teeth", "rate", "retina", "afterwards"}.__contains__  # words a stand-in index never saw
    eye = "ophtho nurse here, does ketamine raise intraocular pressure? worried"
    assert unnamed_effects_asked(eye, never) == [("intraocular pressure", eye.index("intraocular"))]
    assert [n for n, _ in unnamed_effects_asked("pt asking if it can crack teeth", never)] == ["teeth"]
    # past words that only say whose, named without a function word after it
    assert [n for n, _ in unnamed_effects_asked("will ECT damage the pts retina too", never)] == ["retina"]
    assert unnamed_effects_asked("worried ketamine will damage her father memory", {"father"}.__contains__) == []
    # only the first word of what it is done to: "heart rate", "confusion afterwards" name what the sources may say
    assert unnamed_effects_asked("does ketamine increase the pts heart rate", never) == []
    assert unnamed_effects_asked("can ECT cause confusion afterwards", never) == []
    # words the sources use, or what is not asked as done by a treatment, are not
    assert unnamed_effects_asked("does ketamine raise blood pressure", never) == []
    assert unnamed_effects_asked("my teeth hurt, how long is a TMS session", never) == []


def test_an_alias_the_sources_never_use_gets_the_treatments_name():
    known = {"ketamine", "electroconvulsive", "therapy"}.__contains__
    assert expand_lay("what kind of drug is special k", known) == "what kind of drug is special k (ketamine)"
    assert expand_lay("is ketamine safe", known) == "is ketamine safe"  # its own name: nothing added


def test_a_treatment_described_by_what_it_does_gets_its_name():
    assert expand_lay("my dad is getting the seizure treatment tomorrow") == \
        "my dad is getting the seizure treatment (electroconvulsive therapy) tomorrow"
    # named as well, nothing is added; and the words alone describe nothing
    assert "(electroconvulsive therapy)" not in expand_lay("is ECT the seizure treatment?")
    assert "(electroconvulsive therapy)" not in expand_lay("how long does the seizure last?")
    assert topics_in("and the shock one?") == ["ECT"] and topics_in("and the IV one?") == ["ketamine"]


def test_a_lay_phrase_holding_the_sources_word_says_what_is_asked():
    from ipchat.lexicon import lay_sources_added

    # "what kind of drug" holds "drug", so nothing is added, but it asks what kind of drug ketamine is
    query = expand_lay("what kind of drug is special K, when they use it for depression")
    assert "(drug)" not in query and lay_sources_added(query) == ["drug"]
    assert lay_sources_added("is ketamine a safe drug?") == []


def test_topics_come_from_the_lexicon_with_treatment_topics_first():
    from ipchat.conversation import TOPICS
    assert [name for name, _aliases in TOPICS][:3] == ["ECT", "TMS", "ketamine"]
    assert topics_in("will shock treatment wipe my memory") == ["ECT"]


@pytest.mark.parametrize(("data", "message"), [
    ({"treatment": [{"aliases": ["x"]}]}, "name is missing"),
    ({"treatment": [{"name": "a", "aliases": ["a"]}, {"name": "a", "aliases": ["b"]}]}, "duplicate name"),
    ({"treatment": [{"name": "a", "aliases": []}]}, "aliases is empty"),
    ({"treatment": [{"name": "a", "aliases": ["a"]}], "aspect": [{"name": "x", "asked": ["("], "answered": ["y"]}]},
     "bad pattern"),
    ({"topic": [{"name": "t", "aliases": ["t"]}]}, "no treatments"),
    ({"treatment": [{"name": "a", "aliases": ["a"], "medication": "yes"}]}, "medication must be true or false"),
    ({"treatment": [{"name": "a", "aliases": ["a"]}], "aspect": [{"name": "x", "asked": ["{nope}"], "answered": ["y"]}]},
     "no [terms] list named 'nope'"),
    ({"treatment": [{"name": "a", "aliases": ["a"]}], "terms": {"heart": []}}, "[terms] heart: must be a list"),
    ({"treatment": [{"name": "a", "aliases": ["a"]}], "topic": [{"name": "t", "aliases": ["t"], "unnamed": "yes"}]},
     "unnamed must be true or false"),
    ({"treatment": [{"name": "a", "aliases": ["a"]}], "topic": [{"name": "t", "aliases": ["t"], "unnamed": True},
                                                             {"name": "u", "aliases": ["u"], "unnamed": True}]},
     "only one topic can be the unnamed one"),
])
def test_a_broken_lexicon_is_reported_with_its_entry(data, message):
    with pytest.raises(LexiconError, match=re.escape(message)):
        build_lexicon(data)


def test_a_broader_class_is_a_topic_the_lexicon_knows():
    lexicon = load_lexicon()
    topics = {alias.lower() for topic in lexicon.topics for alias in (topic.name, *topic.aliases)}
    classes = {t.broader for t in lexicon.treatments if t.broader}
    assert classes and all(c.lower() in topics for c in classes)


def test_a_treatment_named_only_by_its_class_gets_the_class_added():
    unnamed = lambda w: w != "sertraline"  # noqa: E731 - sources that never name sertraline
    assert expand_lay("how long does sertraline take to work", known=unnamed) == \
        "how long does sertraline (antidepressants) take to work"
    assert expand_lay("do antidepressants and sertraline differ", known=unnamed) == "do antidepressants and sertraline differ"
    # sources that name it: it is read as itself
    assert expand_lay("how long does sertraline take to work") == "how long does sertraline take to work"
    assert expand_lay("how long does sertraline take", known=lambda w: w != "antidepressants") == \
        "how long does sertraline take"


def test_treatments_the_sources_cover_are_read_as_their_class_only_when_named_together():
    assert expand_lay("can I suggest ect/tms/ketamine as first line?") == \
        "can I suggest ect/tms/ketamine (interventional therapies) as first line (first-line)?"
    assert "interventional" not in expand_lay("does ECT hurt")
    assert "interventional" not in expand_lay("which is gentler on SE, TMS or ECT?")  # one picked among them
    # two drugs the sources never name: the class once, after the last
    assert expand_lay("sertraline or fluoxetine, which first?", known=lambda w: w not in ("sertraline", "fluoxetine")) \
        .count("(antidepressants)") == 1


@pytest.mark.parametrize(("name", "text"), _cases("cue", 2))
def test_cues_match_their_examples(name, text):
    assert LEXICON.cues[name].search(text), text


@pytest.mark.parametrize(("name", "text"), _cases("cue", 3))
def test_cues_leave_other_questions_alone(name, text):
    assert not LEXICON.cues[name].search(text), text


def test_an_aspects_figures_are_kinds_the_figure_check_knows():
    from ipchat.coverage import TYPE_LABELS

    figures = {f for aspect in LEXICON.aspects for f in aspect.figures}
    assert figures and figures <= set(TYPE_LABELS)
    assert {"relation", "picks_among"} <= set(LEXICON.cues)


def test_drugs_are_marked_as_medications_and_procedures_are_not():
    from ipchat.lexicon import is_medication

    assert is_medication("ketamine") and is_medication("esketamine") and is_medication("lithium")
    assert not is_medication("electroconvulsive therapy") and not is_medication("transcranial magnetic stimulation")
    assert {a.name for a in LEXICON.aspects if a.medication_named} == {"pregnancy", "breastfeeding"}


def test_lay_phrases_are_read_through_spelt_out_shorthand():
    # Expansion runs first: "pts" and "BP" are already followed by their long forms when lay words are read.
    assert "(high blood pressure)" in expand_lay("does ketamine raise BP (blood pressure)?")
    assert "(maintain)" in expand_lay("is it worth it for keeping pts (patients) well?")
    assert expand_lay("is the pt (patient) put to sleep?") == "is the pt (patient) put to sleep (anesthesia)?"


def test_the_sources_word_in_spelt_out_shorthand_says_what_is_asked():
    from ipchat.lexicon import lay_sources_added

    # "SUD" spelt out holds the sources' "substance use disorder"; "GA" spelt out holds "anesthesia", so "put
    # under" adds nothing, yet anesthesia is what is asked
    assert "substance use disorder" in lay_sources_added(
        "SUD (substance use disorder) (addictive) in the hx (history), is ketamine ok?")
    assert "anesthesia" in lay_sources_added("is she put under? GA (general anesthesia) or sedation?")
    # the writer's own words are read as before: "general anesthesia" written out is no lay word
    assert lay_sources_added("is general anesthesia used for ECT?") == []


def test_a_treatment_described_after_a_word_of_time_needs_no_article():
    # ward shorthand drops the article: "during coil session" is "during the coil session"
    assert topics_in("pt c/o jaw twitching during coil session, normal?") == ["TMS"]
    assert "(electroconvulsive therapy)" in expand_lay("headache post seizure tx (treatment), expected?")
    # the words alone still describe nothing
    assert topics_in("any seizures during sessions?") == []


def test_what_the_asker_already_has_is_not_what_is_asked():
    from ipchat.lexicon import without_known_part

    assert without_known_part("besides combining research w clinical knowledge what else does EBP help w per the article") \
        == "what else does EBP help w per the article"
    assert without_known_part("apart from headaches, what other side effects does TMS have?") == \
        "what other side effects does TMS have?"
    # no "else" or "other" asked for: the words are part of the question
    assert without_known_part("is ketamine used other than for depression") == "is ketamine used other than for depression"
    # too little left to ask: kept whole
    assert without_known_part("besides ECT what else") == "besides ECT what else"


def test_how_a_question_is_announced_is_not_what_is_asked():
    from ipchat.lexicon import without_courtesy_lead

    assert without_courtesy_lead("quick one - which treatments count as interventional in the article") == \
        "which treatments count as interventional in the article"
    assert without_courtesy_lead("sorry to bother you, but is ketamine addictive") == "is ketamine addictive"
    # "quick" asked about is kept, and so is a message that is only an announcement
    assert without_courtesy_lead("is ECT a quick procedure?") == "is ECT a quick procedure?"
    assert without_courtesy_lead("quick question:") == "quick question:"


def test_adverbs_a_question_is_typed_with_are_not_searched_for():
    from ipchat.keywords import keyword_tokens

    # stemmed, "specifically" would meet the sources' "specific areas of the brain"
    assert keyword_tokens("what conditions is ECT good for specifically") == keyword_tokens("what conditions is ECT good for")
    assert "specif" in keyword_tokens("specific areas of the brain")


def test_who_asks_is_not_what_is_asked():
    from ipchat.lexicon import without_speaker_role

    assert without_speaker_role("addictions nurse - list the potential s/e of ketamine infusions pls") == \
        "list the potential s/e of ketamine infusions pls"
    assert without_speaker_role("GP here, does TMS hurt?") == "does TMS hurt?"
    # a role that names a treatment keeps it: it is what is asked about
    assert without_speaker_role("ECT nurse here - how long is recovery?") == "ECT nurse here - how long is recovery?"
    # a message that is only a role, and a question about a role, are left whole
    assert without_speaker_role("psychiatry registrar here -") == "psychiatry registrar here -"
    assert without_speaker_role("does the nurse stay in the room during ECT?") == "does the nurse stay in the room during ECT?"
    # a field named before the question is what is asked about, not who asks
    assert without_speaker_role("interventional psych - what is it actually targeting?") == \
        "interventional psych - what is it actually targeting?"


def test_who_asks_said_after_the_question_is_not_what_is_asked():
    from ipchat.lexicon import without_speaker_aside

    assert without_speaker_aside("what fields does interventional mh pull together? im a pharmacologist so the neuro "
                                 "side is a bit outside my lane") == "what fields does interventional mh pull together?"
    # a role that names a treatment keeps it, and so does what the asker wants after the question
    assert without_speaker_aside("how long is recovery? im an ECT nurse") == "how long is recovery? im an ECT nurse"
    assert without_speaker_aside("does TMS hurt? im after the figures") == "does TMS hurt? im after the figures"
    # a message that is mostly the aside is left whole
    assert without_speaker_aside("TMS? im a nurse") == "TMS? im a nurse"


def test_a_condition_a_treatment_is_asked_to_reduce_is_asked_about():
    from ipchat.lexicon import conditions_asked

    assert [name for name, _ in conditions_asked("does IV ketamine reduce cravings / relapse in alcohol use d/o?")] == \
        ["substance use disorder"]
    assert conditions_asked("does ketamine reduce side effects in patients with a history of addiction?") == []


def test_an_aspect_reads_a_terms_list_wherever_it_names_it():
    lexicon = build_lexicon({"treatment": [{"name": "a", "aliases": ["a"]}],
                             "terms": {"heart": ["mi", "heart attacks?"]},
                             "aspect": [{"name": "x", "asked": [r"\b(?:with|after)\s+(?:an?\s+)?{heart}\b", r"\bx{2,3}\b"],
                                         "answered": ["y"]}]})
    asked = lexicon.aspects[0].asked
    assert asked.search("ECT after an MI") and asked.search("tms with a heart attack")
    assert asked.search("xxx") and not asked.search("ECT after a fall")  # a quantifier is not a list's name


@pytest.mark.parametrize("question", ["her meds haven't helped, what next?", "her meds havent helped, what next?",
                                      "her meds haven’t helped, what next?"])
def test_a_lay_word_with_an_apostrophe_is_read_typed_any_way(question):
    assert "(ineffective)" in expand_lay(question)


def test_a_lay_phrase_reads_its_verb_in_any_form_and_you_as_anyone():
    from ipchat.lexicon import words_pattern

    loose = words_pattern(["pull together", "first thing you try", "make sense of"], loose=True)
    assert loose.search("what kind of science is this stuff actually pulling together??")
    assert loose.search("it pulled together three fields")
    assert loose.search("is it normally a first thing they try")
    assert loose.search("making sense of it")
    # only the first word takes endings, and only in the loose reading
    assert not loose.search("pull togethering")
    assert not words_pattern(["pull together"]).search("pulling together")
    # "combining" is added for "pulling together"
    assert "(combining)" in expand_lay("what kind of science is this interventional stuff actually pulling together?")


def test_the_sources_word_asked_beside_a_lay_phrase_for_it_says_what_is_asked():
    from ipchat.lexicon import lay_sources_added

    # "in recovery from" stands for "addictive", and "addictive" is asked in the question's own words too
    assert "addictive" in lay_sources_added("pt in recovery from alcohol/drugs asked if ketamine is safe for her, can "
                                            "it be addictive")
    # the word alone, with no lay phrase for it, is read as before
    assert "addictive" not in lay_sources_added("is ketamine addictive?")
