"""Clinical shorthand gets its long form before retrieval, unless the sources use the shorthand."""

from __future__ import annotations

import pytest

from ipchat.abbreviations import expand, join_initialisms


def test_unknown_abbreviation_gets_its_long_form():
    assert expand("ketamine for TRD?") == "ketamine for TRD (treatment-resistant depression)?"
    assert expand("is rTMS invasive") == "is rTMS (repetitive transcranial magnetic stimulation) invasive"


def test_abbreviation_the_index_knows_is_left_alone():
    known = {"ect", "tms"}.__contains__
    assert expand("ECT or TMS for depression?", known) == "ECT or TMS for depression?"
    assert expand("ECT or TRD", known) == "ECT or TRD (treatment-resistant depression)"


def test_expansion_is_idempotent_and_skips_spelled_out_forms():
    once = expand("criteria for referring a pt with MDD")
    assert once == "criteria for referring a pt (patient) with MDD (major depressive disorder)"
    assert expand(once) == once
    assert expand("TRD, i.e. treatment-resistant depression") == "TRD, i.e. treatment-resistant depression"


def test_only_whole_words_match():
    # "rTMS" is not "TMS", "iv" in lower case is not intravenous, "prompt" holds no "pt".
    assert "transcranial magnetic stimulation)" in expand("rTMS")
    assert expand("rTMS").count("(") == 1
    assert expand("chapter iv of the prompt") == "chapter iv of the prompt"
    assert expand("IV ketamine") == "IV (intravenous) ketamine"
    assert expand("pre-SSRI era") == "pre-SSRI era"


def test_every_abbreviation_is_expanded_once():
    text = "TRD and more TRD"
    assert expand(text) == "TRD (treatment-resistant depression) and more TRD"


def test_answer_reaches_the_spelled_out_source(real_retriever):
    # The article never writes "rTMS": unexpanded, every content word of the question is unknown to
    # the index and the reply abstains. Expanded, it quotes the sentence that answers.
    from ipchat.answer import Answerer

    reply = Answerer(real_retriever).ask("is rTMS invasive")
    assert not reply.abstained
    assert "noninvasive" in reply.citations[0].quote
    # the abbreviation spelled out (a lay word may follow: "invasive" reads "noninvasive")
    assert reply.rewritten_query.startswith("is rTMS (repetitive transcranial magnetic stimulation) invasive")
    assert "transcranial" not in real_retriever.expand_query("is TMS invasive")  # the article uses "TMS"


def test_capital_pt_is_not_a_patient():
    assert expand("PT after TMS", {"tms"}.__contains__) == "PT after TMS"  # physical therapy
    assert expand("Pt is pregnant") == "Pt (patient) is pregnant"


def test_known_words_are_surface_words_outside_links(real_retriever):
    # A reference link holds "med.uth.edu"; that does not make "meds" a word of the sources.
    assert not real_retriever.knows_word("meds") and not real_retriever.knows_word("uth")
    assert real_retriever.knows_word("ECT") and real_retriever.knows_word("medications")
    # ("don't work" is the sources' "ineffective", a lay word of the lexicon.)
    assert real_retriever.expand_query("what if meds don't work?") == "what if meds (medications) don't work (ineffective)?"


def test_a_question_at_the_length_limit_is_not_pushed_over_it_by_expansion(real_retriever):
    from ipchat.answer import Answerer
    from ipchat.retrieval import MAX_QUERY_CHARS

    question = ("pt with TRD " * 400)[:MAX_QUERY_CHARS]
    reply = Answerer(real_retriever).ask(question)
    assert len(reply.rewritten_query) > MAX_QUERY_CHARS  # expanded for scoring, searched as asked


@pytest.mark.parametrize(("text", "joined"), [
    ("E.C.T. - how long does the seizure go on for?", "ECT - how long does the seizure go on for?"),
    ("what is E.C.T. used for nowadays", "what is ECT used for nowadays"),
    ("T.M.S vs E.C.T", "TMS vs ECT"),
    # a stop that ends a sentence too stays
    ("she had E.C.T. How long is recovery?", "she had ECT. How long is recovery?"),
    ("I had E.C.T.", "I had ECT."),
    # lower-case abbreviations with stops are ordinary Latin ones; an initial alone is a name
    ("e.g. yoga, i.e. not drugs", "e.g. yoga, i.e. not drugs"),
    ("Dr. A. Smith", "Dr. A. Smith"),
    # letters spelt out by dictation, when they make a known abbreviation
    ("what conditions is e c t used for", "what conditions is ect used for"),
    ("how long is each T M S session", "how long is each TMS session"),
    ("plan a b c for the day", "plan a b c for the day"),
    ("is e c t a good idea", "is ect a good idea"),
    ("t m s x 5 a week", "tms x 5 a week"),
])
def test_initials_written_with_full_stops_are_joined(text, joined):
    assert join_initialisms(text) == joined


def test_initials_with_full_stops_name_the_treatment_and_ask_the_figure(real_retriever):
    from ipchat.answer import Answerer
    from ipchat.conversation import rewrite_followup

    # "E.C.T." opens the ECT topic for a follow-up, and "how long" after it asks for a duration.
    assert rewrite_followup("is she asleep for it?", ["what is E.C.T. used for nowadays"]).query == "is she asleep for ECT?"
    reply = Answerer(real_retriever).ask("E.C.T. - how long does the seizure itself go on for?")
    assert not reply.abstained and "ninety seconds" in reply.citations[0].quote
