"""ipchat in the browser: cited answers a clinician can check at a glance, safety first.

A thin shell over the ipchat package: answering, safety, rendering helpers, export, feedback and adding
documents all live there. Three pages (st.navigation): the chat, with its input docked at the bottom;
"Check an answer"; "Evaluate". The sidebar is drawn after the page, so it shows the conversation as it
stands, newest answer included. Run it with `ipchat app`, or `streamlit run app.py` from a clone.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from ipchat.answer import Answerer
from ipchat.chat import (
    MAX_QUESTION_CHARS, Turn, check_question, conversation_markdown, corpus_overview, ensure_index,
    escape_markdown, highlight_markdown, index_status, record_feedback,
)
from ipchat.corpus import ADDED_KINDS, read_added_manifest
from ipchat.embedding import load_embedder
from ipchat.errors import IpchatError
from ipchat.evaluation import evaluate_questions, evaluate_safety, metric_table, parse_question_rows, parse_safety_rows, write_report
from ipchat.stores import read_store_meta
from ipchat.ingest import SUPPORTED, add_documents, remove_document
from ipchat.settings import RETRIEVAL_MODES, default_added_dir, load_settings
from ipchat.verify import MAX_TEXT_CHARS, verify_text

PAGES = Path(__file__).resolve().parent / "pages"
UPLOAD_TYPES = sorted(suffix.lstrip(".") for suffix in ADDED_KINDS)

NOTE = ("An educational tool, not medical advice. Answers come only from the listed sources, "
        "quoted word for word.")
REASK_LABEL = "I'm asking about a patient / for teaching"


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


def check_page(answerer):
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


def evaluate_page(answerer):
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




# -- loading -----------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def get_embedder(model: str, batch_size: int, encoder: str = "fp32", query_runtime: str = "auto"):
    """The embedding model, loaded once per process: for building the index, adding documents and answering."""
    return load_embedder(model, batch_size, encoder, query_runtime)


@st.cache_resource(show_spinner=False)
def get_answerer(settings_digest: str, index_version: str, model: str):
    """One answerer (index + model) per process, shared by every session; a rebuilt index (another
    `index_version`) is loaded afresh instead of serving the one cached before it."""
    settings = load_settings()
    return Answerer.from_settings(settings, get_embedder(model, settings.batch_size, settings.encoder, settings.query_runtime))


def prepare():
    """The settings and the answerer, building the index first when it is missing or stale."""
    settings = load_settings()
    problem = index_status(settings)
    if problem:
        with st.status("Building the index of the corpus…", expanded=True) as status:
            st.write(problem)
            bar = st.progress(0.0, text="Embedding passages")
            ensure_index(settings, progress=lambda done, total: bar.progress(done / total, text=f"Embedding passages {done}/{total}"),
                         embedder=get_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime))
            status.update(label="Index built", state="complete", expanded=False)
    meta = read_store_meta(settings)
    with st.spinner("Loading the model and index…"):
        return settings, get_answerer(settings.digest(), f"{meta['corpus_digest']}:{meta['built_at']}", meta["model"])


def context():
    """(settings, answerer) as main() prepared them for this run."""
    return st.session_state["_ipchat"]


# -- pages -------------------------------------------------------------------------------------------

def chat_page():
    settings, answerer = context()
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    k = st.session_state.get("k", settings.k)
    mode = st.session_state.get("mode", settings.mode)

    reask = st.session_state.pop("reask", None)
    if reask is not None:
        question, history = reask
        turns.append(Turn(question, answerer.ask(question, history, k=k, mode=mode, clinical_context=True)))

    # The input is docked at the bottom of the page; the question it brings is answered before anything
    # is drawn, so the conversation and the sidebar below both show it.
    prompt = st.chat_input("Ask about ECT, TMS or ketamine…", max_chars=MAX_QUESTION_CHARS)
    problem = None
    if prompt is not None:
        try:
            question = check_question(prompt)
            history = [t.question for t in turns]
            turns.append(Turn(question, answerer.ask(question, history, k=k, mode=mode)))
        except IpchatError as exc:
            problem = str(exc)

    if not turns:
        st.title("ipchat")
        st.caption(NOTE)
    for i, turn in enumerate(turns):
        render_turn(i, turn, answerer, [t.question for t in turns[:i]])
    if problem:
        st.warning(problem)


def check_an_answer_page():
    _settings, answerer = context()
    st.title("Check an answer")
    check_page(answerer)


def evaluate_set_page():
    _settings, answerer = context()
    st.title("Evaluate")
    evaluate_page(answerer)


# -- sidebar -----------------------------------------------------------------------------------------

def sidebar(settings, answerer):
    meta = answerer.index.meta
    with st.sidebar:
        st.caption(NOTE)
        if st.button("New chat", use_container_width=True):
            st.session_state.turns = []
            st.rerun()
        turns = st.session_state.get("turns", [])
        st.download_button("Download conversation (Markdown)", conversation_markdown(turns, meta),
                           file_name="ipchat-conversation.md", mime="text/markdown",
                           disabled=not turns, use_container_width=True, key="download_conversation")
        st.subheader("Retrieval")
        st.slider("Number of sources", 1, 10, st.session_state.get("k", settings.k), key="k")
        st.radio("Search", RETRIEVAL_MODES, index=RETRIEVAL_MODES.index(st.session_state.get("mode", settings.mode)),
                 key="mode", horizontal=True, help="hybrid: meaning and keywords; dense: meaning only; keyword: BM25 only")
        documents_panel(settings)
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


def documents_panel(settings):
    """Add your own documents (through the same path as `ipchat add`) and remove them."""
    st.subheader("Your documents")
    for message in st.session_state.pop("upload_messages", []):
        getattr(st, message[0])(message[1])
    generation = st.session_state.setdefault("upload_generation", 0)
    uploads = st.file_uploader(f"Add {SUPPORTED}", type=UPLOAD_TYPES, accept_multiple_files=True,
                               key=f"upload-{generation}",
                               help="Copied into this workspace's data/added/ and indexed; never sent anywhere.")
    if uploads and st.button("Add to the index", key="upload_add", use_container_width=True):
        add_uploads(settings, uploads)
    try:
        entries = read_added_manifest(default_added_dir())
    except IpchatError as exc:
        st.warning(str(exc))
        return
    if not entries:
        st.caption("None added yet.")
    for entry in entries:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.caption(f"**{escape_markdown(entry.title)}** · {escape_markdown(entry.original_name)}")
        if right.button("✕", key=f"remove-{entry.id}", help=f"Remove {entry.title}"):
            with st.spinner(f"Removing {entry.title}…"):
                try:
                    removed = remove_document(entry.id, settings, get_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime))
                except IpchatError as exc:
                    st.session_state.upload_messages = [("warning", str(exc))]
                else:
                    st.session_state.upload_messages = [("success", f"Removed {removed.title} ({removed.chunks} passages).")]
            st.rerun()


def add_uploads(settings, uploads) -> None:
    """Write the uploads to a temporary folder under their own names and add them; say what happened."""
    bar = st.progress(0.0, text="Reading the documents…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Embedding passages {done}/{total}")

    messages = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for upload in uploads:
            path = Path(tmp) / (Path(upload.name).name or "upload")
            path.write_bytes(upload.getvalue())
            paths.append(path)
        try:
            # An upload of the same name is the same document: a changed version replaces the earlier one.
            results = add_documents(paths, settings, get_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime), progress,
                                    sources=[f"upload:{path.name}" for path in paths])
        except IpchatError as exc:
            results, messages = [], [("warning", str(exc))]
    for result in results:
        name = result.path.name
        if result.status in ("added", "updated"):
            messages.append(("success", f"{result.status.capitalize()} {name} as {result.doc_id} ({result.chunks} passages)."))
        elif result.status == "unchanged":
            messages.append(("info", f"{name} is already in the index ({result.doc_id})."))
        else:
            messages.append(("warning", f"{name} was not added: {result.reason}"))
    bar.empty()
    st.session_state.upload_messages = messages
    st.session_state.upload_generation = st.session_state.get("upload_generation", 0) + 1
    st.rerun()


# -- the app -----------------------------------------------------------------------------------------

def main():
    st.set_page_config(page_title="ipchat — interventional psychiatry, cited", page_icon="🧠", layout="wide")
    settings, answerer = prepare()
    st.session_state["_ipchat"] = (settings, answerer)
    page = st.navigation([
        st.Page(PAGES / "chat.py", title="Chat", icon=":material/chat:", default=True),
        st.Page(PAGES / "check.py", title="Check an answer", icon=":material/fact_check:"),
        st.Page(PAGES / "evaluate.py", title="Evaluate", icon=":material/analytics:"),
    ])
    page.run()
    sidebar(settings, answerer)


if __name__ == "__main__":
    main()
