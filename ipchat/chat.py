"""What the chat interface needs beyond answers: loading once, safe rendering, export, feedback.

Kept out of app.py so that all of it can be tested without Streamlit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .corpus import load_manifest
from .embedding import load_embedder
from .errors import InputError, IpchatError, ManifestError
from .settings import Settings
from .workspace import workspace
from .types import Reply

MAX_QUESTION_CHARS = 2000
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=^])")


def escape_markdown(text: str) -> str:
    """`text` with every Markdown (and HTML-ish) control character escaped, so it shows as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def highlight_markdown(passage: str, passage_start: int, quote_start: int, quote_end: int) -> str:
    """The passage as escaped Markdown with the quoted span in bold; offsets are document offsets."""
    a, b = quote_start - passage_start, quote_end - passage_start
    if not (0 <= a < b <= len(passage)):
        return escape_markdown(passage)
    lines = passage[a:b].split("\n")
    bold = "\n".join(f"**{escape_markdown(l.strip())}**" if l.strip() else l for l in lines)
    return escape_markdown(passage[:a]) + bold + escape_markdown(passage[b:])


def check_question(text: str) -> str:
    """The question stripped; raises InputError for an empty or over-long one."""
    text = (text or "").strip()
    if not text:
        raise InputError("Please type a question.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"That question is {len(text):,} characters long; please keep it under {MAX_QUESTION_CHARS:,}.")
    return text


def index_status(settings: Settings) -> str | None:
    """None when the index the settings name (the folder `settings.index`, or `settings.store`) is
    ready, else why it must be (re)built."""
    from .stores import store_status

    return store_status(settings)


def ensure_index(settings: Settings, progress: Callable[[int, int], None] | None = None, embedder=None) -> bool:
    """Build the index when it is missing or stale, embedding only what changed; True if it was built.
    `embedder` is the model to build with when the caller has it loaded already."""
    from .stores import update_store

    if index_status(settings) is None:
        return False
    update_store(settings, embedder or load_embedder(settings.model_name, settings.batch_size, settings.encoder, settings.query_runtime), progress=progress)
    return True


@dataclass(frozen=True)
class SourceInfo:
    id: str
    title: str
    url: str
    licence: str
    status: str


def corpus_overview(settings: Settings) -> list[SourceInfo]:
    """Every source of the manifest with its licence and status — as last recorded by `ipchat fetch`
    when it has run — or [] for a corpus without a manifest."""
    from .corpus import resolve_fetched_dir
    from .fetch import read_status

    try:
        entries = load_manifest(settings.corpus)
    except ManifestError:
        return []
    fetched_dir = resolve_fetched_dir(settings.corpus)
    try:
        recorded = read_status(fetched_dir) if fetched_dir is not None else {}
    except IpchatError:
        recorded = {}
    out = []
    for e in entries:
        record = recorded.get(e.id, {})
        status = e.status if e.status == "bundled" else record.get("status") or e.status
        title = e.title or record.get("title") or e.display_title
        out.append(SourceInfo(e.id, title, e.url, e.licence, status))
    return out


@dataclass
class Turn:
    """One exchange of a conversation as the interface keeps it in memory."""

    question: str
    reply: Reply
    feedback: dict | None = field(default=None)


def conversation_markdown(turns: Sequence[Turn], meta: dict) -> str:
    """The conversation as Markdown: questions, answers, citations with URLs, and the index digest."""
    lines = ["# ipchat conversation", "",
             f"Index: {meta.get('corpus_digest', '')[:12]} · model {meta.get('model', '')} · built {meta.get('built_at', '')}",
             f"Exported: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", ""]
    for i, turn in enumerate(turns, start=1):
        lines += [f"## Q{i}. {turn.question}", ""]
        if turn.reply.rewritten_query and turn.reply.rewritten_query != turn.question:
            lines += [f"_Searched for: {turn.reply.rewritten_query}_", ""]
        lines += [turn.reply.answer, ""]
        lines += [f"_Note: {note}_\n" for note in turn.reply.notes]
        for c in turn.reply.citations:
            lines.append(f"[{c.n}] {c.title} — {c.locator}. {c.url}")
            lines.append("> " + c.quote.replace("\n", "\n> "))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def feedback_path() -> Path:
    """$IPCHAT_FEEDBACK, else feedback/feedback.jsonl in the workspace."""
    return Path(os.environ.get("IPCHAT_FEEDBACK") or workspace().feedback_file)


def record_feedback(turn: Turn, rating: str, comment: str = "", include_question: bool = False,
                    index_digest: str = "", path: Path | None = None) -> dict:
    """Append one feedback record to the JSONL file and return it.

    The question is stored only when `include_question` is set; otherwise only a hash of the answer's
    citations identifies what was rated. Raises InputError for a rating other than "up" or "down".
    """
    if rating not in ("up", "down"):
        raise InputError("Rating must be 'up' or 'down'.")
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rating": rating,
        "comment": comment.strip()[:2000],
        "abstained": turn.reply.abstained,
        "citations": [c.chunk_id for c in turn.reply.citations],
        "answer_sha256": hashlib.sha256(turn.reply.answer.encode()).hexdigest()[:16],
        "index_digest": index_digest[:12],
    }
    if include_question:
        record["question"] = turn.question
    path = Path(path or feedback_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record
