"""ipchat in the browser: cited answers a clinician can check at a glance, safety first.

A thin shell: answering, safety, rendering helpers, export and feedback all live in the ipchat package.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from ipchat.chat import (
    MAX_QUESTION_CHARS, Turn, check_question, conversation_markdown, corpus_overview, ensure_index,
    escape_markdown, highlight_markdown, index_status, record_feedback,
)
from ipchat.answer import Answerer
from ipchat.embedding import load_embedder
from ipchat.errors import IpchatError
from ipchat.evaluation import evaluate_questions, evaluate_safety, metric_table, parse_question_rows, parse_safety_rows, write_report
from ipchat.index import read_meta
from ipchat.settings import RETRIEVAL_MODES, load_settings
from ipchat.verify import MAX_TEXT_CHARS, verify_text

NOTE = ("An educational tool, not medical advice. Answers come only from the listed sources, "
        "quoted word for word.")
REASK_LABEL = "I'm asking about a patient / for teaching"


@st.cache_resource(show_spinner=False)
def get_embedder(model: str, batch_size: int):
    """The embedding model, loaded once per process: for building the index and for answering."""
    return load_embedder(model, batch_size)


@st.cache_resource(show_spinner=False)
def get_answerer(settings_digest: str, index_version: str, model: str):
    """One answerer (index + model) per process, shared by every session; a rebuilt index (another
    `index_version`) is loaded afresh instead of serving the one cached before it."""
    settings = load_settings()
    return Answerer.from_settings(settings, get_embedder(model, settings.batch_size))


def prepare():
    settings = load_settings()
    problem = index_status(settings)
    if problem:
        with st.status("Building the index of the corpus…", expanded=True) as status:
            st.write(problem)
            bar = st.progress(0.0, text="Embedding passages")
            ensure_index(settings, progress=lambda done, total: bar.progress(done / total, text=f"Embedding passages {done}/{total}"),
                         embedder=get_embedder(settings.model_name, settings.batch_size))
            status.update(label="Index built", state="complete", expanded=False)
    meta = read_meta(settings.index)
    with st.spinner("Loading the model and index…"):
        return settings, get_answerer(settings.digest(), f"{meta['corpus_digest']}:{meta['built_at']}", meta["model"])


def render_sources(reply):
    chunks = {h.chunk.chunk_id: h.chunk for h in reply.hits}
    for c in reply.citations:
        title = c.title if len(c.title) <= 60 else c.title[:57].rstrip() + "…"
        with st.expander(f"[{c.n}] {c.locator} — {title}"):
            chunk = chunks[c.chunk_id]
            st.markdown(highlight_markdown(chunk.text, chunk.start, c.start, c.end))
            if c.url:
                st.caption(c.url)


def render_closest(reply, index):
    with st.expander("Closest material (not an answer)", expanded=False):
        for hit in reply.hits:
            doc = index.documents[hit.chunk.doc_id]
            st.markdown(f"**{escape_markdown(doc.title)} — {escape_markdown(hit.chunk.section)}**")
            st.markdown(escape_markdown(hit.chunk.text))


def render_feedback(i: int, turn: Turn, meta: dict):
    if turn.feedback:
        st.caption("Thanks — feedback saved.")
        return
    rating = st.feedback("thumbs", key=f"rating-{i}")
    if rating is None:
        return
    with st.form(key=f"feedback-{i}", border=False):
        comment = st.text_input("Comment (optional)", key=f"comment-{i}")
        include = st.checkbox("Include my question in the feedback file", key=f"include-{i}")
        if st.form_submit_button("Send feedback"):
            turn.feedback = record_feedback(turn, "up" if rating == 1 else "down", comment, include,
                                            meta.get("corpus_digest", ""))
            st.rerun()


def render_turn(i: int, turn: Turn, answerer, history: list[str]):
    reply = turn.reply
    with st.chat_message("user"):
        st.markdown(escape_markdown(turn.question))
    with st.chat_message("assistant"):
        level = reply.safety.level
        if reply.path == "crisis":
            st.error(reply.answer, icon=":material/health_and_safety:")
            if st.button(REASK_LABEL, key=f"reask-{i}"):
                st.session_state.reask = (turn.question, history)
                st.rerun()
            return
        if level in ("crisis", "concern"):
            st.warning(reply.safety.message, icon=":material/health_and_safety:")
        elif level == "none" and reply.safety.show_resources:
            st.info(reply.safety.session_footer, icon=":material/health_and_safety:")
        if reply.rewritten_query and reply.rewritten_query != turn.question:
            st.caption(f"Searched for: {escape_markdown(reply.rewritten_query)}")
        if reply.abstained:
            st.info(reply.answer)
        else:
            st.markdown(escape_markdown(reply.answer))
        for note in reply.notes:
            st.caption(escape_markdown(note))
        if reply.abstained:
            render_closest(reply, answerer.index)
        else:
            render_sources(reply)
        if level == "clinical" and reply.safety.message:
            st.caption(reply.safety.message)
        render_feedback(i, turn, answerer.index.meta)


VERDICT_STYLE = {
    "supported": (st.success, ":material/check_circle:", "Supported"),
    "contradicted": (st.error, ":material/cancel:", "Contradicted"),
    "not_found": (st.info, ":material/help:", "Not found in the sources"),
}


def check_tab(answerer):
    st.caption("Paste an answer — a student's or a chatbot's. Each claim is checked against the sources.")
    text = st.text_area("Answer to check", height=200, max_chars=MAX_TEXT_CHARS, key="check_text")
    if not st.button("Check", disabled=not text.strip(), key="check_button"):
        return
    try:
        with st.spinner("Checking each claim against the sources…"):
            result = verify_text(text, answerer.retriever)
    except IpchatError as exc:
        st.warning(str(exc))
        return
    st.caption(" · ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in result.counts().items()))
    for i, claim in enumerate(result.claims):
        show, icon, label = VERDICT_STYLE[claim.verdict]
        show(f"**{label}:** {escape_markdown(claim.claim)}", icon=icon)
        st.caption(escape_markdown(claim.reason))
        if claim.evidence:
            with st.expander(f"Evidence for claim {i + 1}"):
                for e in claim.evidence:
                    st.markdown(f"[{e.n}] **{escape_markdown(e.locator)}** — {escape_markdown(e.title)}")
                    st.markdown("> " + escape_markdown(e.quote).replace("  \n", "  \n> "))
                    if e.url:
                        st.caption(e.url)


def evaluate_tab(answerer):
    st.caption("Upload a question set (JSON lines: id, question, gold, facts, scope, optional history — the "
               "eval/questions format) or safety cases (label<TAB>text). Nothing you upload is kept.")
    upload = st.file_uploader("Question set or safety cases", type=["jsonl", "tsv"], key="eval_upload")
    if upload is None or not st.button("Run evaluation", key="eval_run"):
        return
    text = upload.getvalue().decode("utf-8", errors="replace")
    bar = st.progress(0.0, text="Evaluating…")
    progress = lambda done, total: bar.progress(done / max(total, 1), text=f"Evaluating {done}/{total}")  # noqa: E731
    try:
        if upload.name.endswith(".tsv"):
            result = evaluate_safety(parse_safety_rows(text, upload.name), progress=progress, source=upload.name)
        else:
            result = evaluate_questions(parse_question_rows(text, upload.name), answerer, progress=progress,
                                        source=upload.name)
    except IpchatError as exc:
        st.warning(str(exc))
        return
    bar.empty()
    st.table(metric_table(result.metrics))
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_report(result, tmp)
        for chart in ("hit_at_k", "latency"):
            if chart in paths:
                st.image(str(paths[chart]))
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            for path in paths.values():
                zf.write(path, arcname=Path(path).name)
    st.download_button("Download the report (zip: Markdown, JSON, charts)", archive.getvalue(),
                       file_name="ipchat-evaluation.zip", mime="application/zip", key="eval_download")


def sidebar(settings, answerer):
    meta = answerer.index.meta
    with st.sidebar:
        st.header("ipchat")
        st.caption(NOTE)
        if st.button("New chat", use_container_width=True):
            st.session_state.turns = []
            st.rerun()
        turns = st.session_state.get("turns", [])
        st.download_button("Download conversation (Markdown)", conversation_markdown(turns, meta),
                           file_name="ipchat-conversation.md", mime="text/markdown",
                           disabled=not turns, use_container_width=True)
        st.subheader("Retrieval")
        st.slider("Number of sources", 1, 10, settings.k, key="k")
        st.radio("Search", RETRIEVAL_MODES, key="mode", horizontal=True,
                 help="hybrid: meaning and keywords; dense: meaning only; keyword: BM25 only")
        st.subheader("About the corpus")
        st.caption(f"{meta['chunks']} passages from {meta['documents']} document(s) · model {meta['model']} · "
                   f"built {meta['built_at']} · digest {meta['corpus_digest'][:12]}")
        sources = corpus_overview(settings)
        if sources:
            in_index = sum(s.status in ("bundled", "fetched") for s in sources)
            with st.expander(f"Sources: {in_index} indexed, {len(sources) - in_index} metadata only"):
                for source in sources:
                    status = {"metadata-only": "metadata only"}.get(source.status, source.status)
                    st.markdown(f"**{escape_markdown(source.title)}**  \n"
                                f"_{escape_markdown(status)} · {escape_markdown(source.licence)}_")


def main():
    st.set_page_config(page_title="ipchat — interventional psychiatry, cited", page_icon="🧠", layout="wide")
    settings, answerer = prepare()
    sidebar(settings, answerer)
    st.title("ipchat")
    st.caption(NOTE)
    chat_tab_, check_tab_, eval_tab_ = st.tabs(["Chat", "Check an answer", "Evaluate"])
    with check_tab_:
        check_tab(answerer)
    with eval_tab_:
        evaluate_tab(answerer)
    with chat_tab_:
        chat_tab(answerer)


def chat_tab(answerer):
    turns: list[Turn] = st.session_state.setdefault("turns", [])

    reask = st.session_state.pop("reask", None)
    if reask is not None:
        question, history = reask
        turns.append(Turn(question, answerer.ask(question, history, k=st.session_state.k,
                                                 mode=st.session_state.mode, clinical_context=True)))

    for i, turn in enumerate(turns):
        render_turn(i, turn, answerer, [t.question for t in turns[:i]])

    prompt = st.chat_input("Ask about ECT, TMS or ketamine…", max_chars=MAX_QUESTION_CHARS)
    if prompt is not None:
        try:
            question = check_question(prompt)
            history = [t.question for t in turns]
            reply = answerer.ask(question, history, k=st.session_state.k, mode=st.session_state.mode)
        except IpchatError as exc:
            st.warning(str(exc))
            return
        turns.append(Turn(question, reply))
        render_turn(len(turns) - 1, turns[-1], answerer, history)


main()
