"""Clinical shorthand gets its long form before retrieval, unless the sources use the shorthand."""

from __future__ import annotations

from ipchat.abbreviations import expand


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
    assert reply.rewritten_query == "is rTMS (repetitive transcranial magnetic stimulation) invasive"
    assert real_retriever.expand_query("is TMS invasive") == "is TMS invasive"  # the article uses "TMS"
