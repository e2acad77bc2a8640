"""Optional generated phrasing through an OpenAI-compatible endpoint, checked before it is shown.

The model may only rephrase the numbered passages it is given. What comes back is split into
sentences and kept only when every sentence carries a marker that points at a passage, and every
number in it appears in a passage it cites. Anything else falls back to the extractive answer.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from .errors import IpchatError

SYSTEM_PROMPT = (
    "You answer questions about interventional psychiatry for clinicians. Use ONLY the numbered passages "
    "given. Write at most five short sentences. End every sentence with the marker of the passage it "
    "comes from, like [1] or [2][3]. Copy numbers exactly as the passages give them. If the passages do "
    "not answer the question, reply exactly: NOT COVERED"
)

_MARKER = re.compile(r"\[(\d+)\]")
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "half quarter once twice"
).split()
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
# A sentence ends at . ! ? followed by a space or the end, not inside "0.5" or after "e.g.".
_SENTENCE = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|approx)\.|[^.!?\n]|[.!?](?=[^\s.!?\[]))+(?:[.!?]+|$)(?:\s*(?:\[\d+\])+)?", re.M)


class LLMUnavailable(IpchatError):
    """The endpoint failed, timed out, or answered with something unusable."""


def numbers_in(text: str) -> set[str]:
    """Numbers in `text`, as digit strings or lower-case number words ("83", "six", "twelve")."""
    return {m.group(0).lower().replace(",", "") for m in _NUMBER.finditer(text)}


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # the sentence without its markers
    markers: tuple[int, ...]


def check_generated(text: str, passages: dict[int, str]) -> tuple[list[CheckedSentence], list[str]]:
    """The sentences of a generated answer that survive the checks, and why the others were dropped.

    A sentence survives when it has at least one marker, every marker names a passage, and every number
    in it appears in one of the passages it cites.
    """
    kept: list[CheckedSentence] = []
    dropped: list[str] = []
    for match in _SENTENCE.finditer(text):
        raw = match.group(0).strip()
        if not raw:
            continue
        markers = tuple(int(n) for n in _MARKER.findall(raw))
        sentence = re.sub(r"\s+([.!?,;:])", r"\1", _MARKER.sub("", raw)).strip()
        if len(sentence) < 3:
            continue
        if not markers:
            dropped.append("no marker")
            continue
        if any(n not in passages for n in markers):
            dropped.append("marker points at no passage")
            continue
        cited = " ".join(passages[n] for n in markers)
        if not numbers_in(sentence) <= numbers_in(cited):
            dropped.append("number not in the cited passage")
            continue
        kept.append(CheckedSentence(sentence, markers))
    return kept, dropped


class ChatClient:
    """A minimal client for `/v1/chat/completions`; no API key, no retries (the extractive answer is the fallback)."""

    def __init__(self, url: str, model: str, timeout: float = 20.0):
        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/v1/chat/completions" if not self.url.endswith("/v1") else "/chat/completions"
        self.model = model
        self.timeout = timeout

    def complete(self, question: str, passages: dict[int, str]) -> str:
        """The model's reply text. Raises LLMUnavailable on any failure or timeout."""
        numbered = "\n\n".join(f"[{n}] {text}" for n, text in passages.items())
        body = json.dumps({
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"},
            ],
        }).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = json.loads(response.read().decode("utf-8"))
            return str(data["choices"][0]["message"]["content"])
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
            raise LLMUnavailable(f"LLM endpoint {self.url} failed: {exc}") from None
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, UnicodeDecodeError):
            raise LLMUnavailable(f"LLM endpoint {self.url} returned an unexpected response") from None
