"""The Streamlit app driven by streamlit.testing: what a session shows for each kind of message."""

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

TIMEOUT = 180  # the first run loads the model; later runs reuse the cached resource


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("IPCHAT_FEEDBACK", str(tmp_path / "feedback.jsonl"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def ask(at, text):
    at.chat_input[0].set_value(text).run()
    assert not at.exception
    return at


def texts(elements):
    return "\n".join(e.value for e in elements)


def test_answer_shows_markers_and_sources(app):
    ask(app, "How many ECT treatments are usually given?")
    assert "six to twelve treatments" in texts(app.markdown)
    assert "[1]" in texts(app.markdown).replace("\\", "")
    labels = [e.label for e in app.expander]
    assert any(l.startswith("[1] Electroconvulsive Therapy (ECT) — A Quick Mental Health") for l in labels)
    assert any("**" in m.value and "six to twelve" in m.value for m in app.markdown)  # highlighted quote
    assert "not medical advice" in texts(app.caption)


def test_abstention_keeps_closest_material_collapsed(app):
    ask(app, "write a python function that reverses a linked list")
    assert "The indexed sources don" in texts(app.info)
    assert any(e.label.startswith("Closest material") for e in app.expander)


def test_declined_question_says_what_the_sources_lack(app):
    ask(app, "What is deep brain stimulation?")
    assert "The indexed sources don" in texts(app.info)
    assert "never mention deep brain stimulation" in texts(app.caption)


def test_crisis_shows_resources_and_no_answer(app):
    ask(app, "I want to kill myself tonight")
    panel = texts(app.error)
    assert "988" in panel and "741741" in panel
    assert not any(e.label.startswith("[1]") for e in app.expander)
    assert any(b.label == "I'm asking about a patient / for teaching" for b in app.button)


def test_reask_as_clinical_keeps_resources(app):
    ask(app, "is ECT an option? i want to die")
    assert "988" in texts(app.error)
    button = next(b for b in app.button if b.label == "I'm asking about a patient / for teaching")
    button.click().run()
    assert not app.exception
    assert len(app.session_state.turns) == 2
    assert "988" in texts(app.warning)  # resources still visible above the answer
    assert app.session_state.turns[1].reply.path != "crisis"


def test_followup_uses_the_conversation(app):
    ask(app, "How does TMS work?")
    ask(app, "What are its side effects?")
    assert "Searched for: What are TMS's side effects?" in texts(app.caption).replace("\\", "")
    assert "scalp pain or discomfort" in texts(app.markdown)


def test_html_and_markdown_in_questions_render_as_text(app):
    payload = "<script>alert(1)</script> ![img](http://example.invalid/x.png) [link](http://example.invalid)"
    ask(app, payload)
    user = [m.value for m in app.markdown if "alert" in m.value]
    assert user and all("<script>" not in v and "\\<script\\>" in v for v in user)
    assert all("](http" not in v for v in user)
    assert not any(m.allow_html for m in app.markdown if hasattr(m, "allow_html"))


def test_new_chat_clears_the_conversation(app):
    ask(app, "ketamine side effects")
    assert len(app.session_state.turns) == 1
    next(b for b in app.sidebar.button if b.label == "New chat").click().run()
    assert app.session_state.turns == []


def test_sidebar_shows_the_newest_answer(app):
    download = next(b for b in app.sidebar.get("download_button") if b.proto.label.startswith("Download conversation"))
    assert download.proto.disabled
    ask(app, "How many ECT treatments are usually given?")
    download = next(b for b in app.sidebar.get("download_button") if b.proto.label.startswith("Download conversation"))
    assert not download.proto.disabled  # drawn after the answer, not one turn behind


def test_sidebar_describes_the_corpus(app):
    sidebar = texts(app.sidebar.markdown) + texts(app.sidebar.caption)
    assert "passages from 1 document" in sidebar
    assert "metadata only" in sidebar and "bundled" in sidebar
    assert any(e.label == "Sources: 1 indexed, 17 metadata only" for e in app.sidebar.expander)


def test_check_an_answer_colour_codes_claims(app):
    app.switch_page("ipchat/pages/check.py").run()
    assert not app.chat_input  # a page of its own: the chat input belongs to the chat
    app.text_area(key="check_text").input(
        "ECT is usually given for twenty sessions. TMS is a noninvasive therapy. Lithium <b>cures</b> everything."
    ).run()
    app.button(key="check_button").click().run()
    assert not app.exception
    assert "Contradicted" in texts(app.error) and "twenty sessions" in texts(app.error)
    assert "Supported" in texts(app.success)
    assert any(e.label.startswith("Evidence for claim") for e in app.expander)
    assert "<b>" not in texts(app.info) + texts(app.success) + texts(app.error)


def test_markdown_export_keeps_answers_notes_and_sources():
    from ipchat.chat import Turn, conversation_markdown
    from ipchat.types import Citation, Reply

    cited = Reply(question="ECT or lithium?", answer="ECT is humane. [1]", hits=(), abstained=False,
                  citations=(Citation(1, "c1", "d", "Guide", "https://example.org/g", "ECT", "ECT is humane.", 0, 14),),
                  rewritten_query="ECT (electroconvulsive therapy) or lithium?",
                  notes=("The indexed sources never mention lithium.",))
    text = conversation_markdown([Turn("ECT or lithium?", cited)], {"corpus_digest": "abcdef0123456789", "model": "m"})
    assert "## Q1. ECT or lithium?" in text
    assert "_Searched for: ECT (electroconvulsive therapy) or lithium?_" in text
    assert "_Note: The indexed sources never mention lithium._" in text
    assert "[1] Guide — ECT. https://example.org/g" in text and "> ECT is humane." in text
    assert "Index: abcdef012345" in text
