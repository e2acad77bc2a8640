"""The semantic backstop of the safety layer: it can only raise a level.

The rules read what they were written for; a person in crisis may say it in words no rule lists. The
backstop compares the message's vector (the one `ask` computes for retrieval anyway) with a reviewed
bank of exemplars (ipchat/data/safety/exemplars.toml): crisis and concern messages, and negatives
(clinical questions, idioms, negated statements, ordinary treatment questions).

- The message is `concern` when its nearest risk exemplar is at least `RISK_MIN` similar and at least
  `MARGIN` more similar than its nearest negative exemplar;
- and `crisis` when, besides, the `AGREE` nearest exemplars are all crisis exemplars.
- The classifier head (head.py), trained on the bank and the labelled sets, judges the same vector;
  the more severe of the two verdicts stands. The head generalises to new wording where the vote
  needs a near neighbour.

A long message dilutes one risky clause in its vector, so each of its sentences is judged too. Their
vectors are made in the same model call as the message's (one batch); on the labelled sets this found
a tenth more crises than vectors pooled from the message's own pass ("late chunking"), which were
tried first (eval/safety_backstop.py).

The rule id is ``semantic.<nearest exemplar id>`` (with ``semantic.head`` when the head decided). The constants were set with eval/safety_backstop.py on
the case file and the bank itself (leave-one-out), for the over-block they cost; see the README.

The bank's vectors ship in a folder per model (models/<model>/exemplars.npy, float16, with exemplars.json
naming the model and a digest of the texts), so nothing is embedded at run time for the default model. With another model the
bank is embedded once, when the backstop is first built.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .data import SafetyDataError, model_folder, read_table
from .gloss import for_model, language_of, load_glossaries
from .head import Head, load_head

log = logging.getLogger(__name__)

LABELS = ("crisis", "concern", "negative")
RISK_MIN = 0.6  # nearest risk exemplar at least this similar
MARGIN = 0.1  # ... and this much more similar than the nearest negative one
AGREE = 3  # crisis when the AGREE nearest exemplars are all crisis exemplars
# The head speaks only where its input is not plainly ordinary: when the nearest negative exemplar is
# more than this much closer than the nearest risk one ("thanks, that really helped, you're a
# lifesaver"), the head's confidence is extrapolation, not evidence.
HEAD_MARGIN = -0.05
# These are all-MiniLM-L6-v2's. Each model's similarities have their own scale: a model's folder may set
# its own in exemplars.json ("vote": {"risk_min": ..., "margin": ..., "agree": ..., "head_margin": ...}),
# chosen with eval/safety_backstop.py for that model.
# "history_risk_p": the head's threshold for an earlier message of the conversation (default: the head's
# own). What is heard there turns the next messages into a crisis, whatever they ask, so it may need
# more confidence than the message itself.
# "head_min": the head speaks only when the nearest risk exemplar is at least this similar; a message far
# from every exemplar ("want a quote for the end of my feature") is one the head can only extrapolate to.
VOTE_KEYS = ("risk_min", "margin", "agree", "head_margin", "history_risk_p", "head_min")
FORMAT_VERSION = 1
# A model's folder may hold, in this subfolder, the head the conversation is heard with (`Backstop.in_conversation`).
CONVERSATION_DIR = "conversation"
_RANK = {"none": 0, "concern": 1, "crisis": 2}
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")


@dataclass(frozen=True)
class Exemplar:
    id: str
    label: str
    category: str
    lang: str
    text: str


@dataclass(frozen=True)
class Verdict:
    """What the backstop makes of one vector: "none", "concern" or "crisis", the rule ids to report,
    and the similarities behind it."""

    level: str
    rule_ids: tuple[str, ...]
    risk: float
    negative: float
    sentence: int = -1  # which sentence vector it came from in judge_message; -1 for the message's own


def load_exemplars() -> tuple[Exemplar, ...]:
    """The reviewed bank. Raises SafetyDataError for a missing field, an unknown label or a duplicate id."""
    raw = read_table("exemplars.toml").get("exemplar", [])
    seen: set[str] = set()
    out = []
    for n, spec in enumerate(raw, start=1):
        where = f"exemplars.toml [[exemplar]] #{n}"
        try:
            exemplar = Exemplar(spec["id"], spec["label"], spec["category"], spec["lang"], spec["text"])
        except KeyError as exc:
            raise SafetyDataError(f"{where}: missing {exc}") from None
        if exemplar.label not in LABELS:
            raise SafetyDataError(f"{where} ({exemplar.id}): label must be one of {', '.join(LABELS)}")
        if exemplar.id in seen:
            raise SafetyDataError(f"{where}: duplicate id {exemplar.id!r}")
        if not exemplar.text.strip():
            raise SafetyDataError(f"{where} ({exemplar.id}): empty text")
        seen.add(exemplar.id)
        out.append(exemplar)
    if not out:
        raise SafetyDataError("exemplars.toml holds no exemplars")
    return tuple(out)


def bank_digest(exemplars: tuple[Exemplar, ...]) -> str:
    """A digest of the bank's ids, labels and texts: the shipped vectors must have been made from it."""
    digest = hashlib.sha256()
    for e in exemplars:
        digest.update(f"{e.id}\t{e.label}\t{e.text}\n".encode())
    return digest.hexdigest()


class Backstop:
    """Nearest-exemplar judgement over one model's vectors of the bank."""

    def __init__(self, exemplars: tuple[Exemplar, ...], vectors: np.ndarray, model: str, head: Head | None = None,
                 vote: dict | None = None, conversation_head: Head | None = None):
        if vectors.shape[0] != len(exemplars):
            raise SafetyDataError(f"{len(exemplars)} exemplars but {vectors.shape[0]} vectors")
        self.exemplars = exemplars
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.model = model
        self.dimension = self.vectors.shape[1]
        if head is not None and head.dimension != self.dimension:
            raise SafetyDataError(f"the safety head reads {head.dimension}-d vectors; the bank's are {self.dimension}-d")
        self.head = head
        vote = vote or {}
        unknown = set(vote) - set(VOTE_KEYS)
        if unknown:
            raise SafetyDataError(f"unknown vote setting(s) {', '.join(sorted(unknown))}; known: {', '.join(VOTE_KEYS)}")
        self.risk_min = float(vote.get("risk_min", RISK_MIN))
        self.margin = float(vote.get("margin", MARGIN))
        self.agree = int(vote.get("agree", AGREE))
        self.head_margin = float(vote.get("head_margin", HEAD_MARGIN))
        # A head's own threshold for earlier messages (set with it: head.match_rates) comes before the vote's.
        own = head.history_risk_p if head is not None else None
        default = head.risk_p if head is not None else 1.0
        self.history_risk_p = float(own if own is not None else vote.get("history_risk_p", default))
        self._given_vote = vote  # as given: the conversation head takes its own thresholds from it
        self.head_min = float(vote.get("head_min", -1.0))
        self._for_history: Backstop | None = None
        # A second head the conversation is heard with (`in_conversation`), when one ships beside a retrained one.
        if conversation_head is not None and conversation_head.dimension != self.dimension:
            raise SafetyDataError(f"the conversation head reads {conversation_head.dimension}-d vectors; "
                                  f"the bank's are {self.dimension}-d")
        self.conversation_head = conversation_head
        self._in_conversation: Backstop | None = None
        labels = np.array([e.label for e in exemplars])
        self._risk = labels != "negative"
        self._crisis = labels == "crisis"
        # A risk exemplar of several sentences ("How many ECT sessions before it usually works? I'm not sure I can
        # hold on ...") is matched only by a text of several sentences: a one-sentence message or sentence is
        # like it only in the half they share ("how many ect sessions til you notice anything").
        self._several = self._risk & np.array([bool(sentence_spans(e.text)) for e in exemplars], dtype=bool)

    @property
    def vote(self) -> dict:
        """The vote settings in force, as exemplars.json's "vote" holds them."""
        return {"risk_min": self.risk_min, "margin": self.margin, "agree": self.agree, "head_margin": self.head_margin,
                "history_risk_p": self.history_risk_p, "head_min": self.head_min}

    def certain_crisis(self, vector: np.ndarray) -> bool:
        """Whether the head hears a crisis in `vector` at `history_risk_p`, the line it must clear where what it
        hears weighs more than a message's own verdict (an earlier message; a risk word the rules read as a topic)."""
        return self.head is not None and float(self.head.probs(vector)[2]) >= self.history_risk_p

    @property
    def for_history(self) -> "Backstop":
        """This backstop as it hears an earlier message: its head at `history_risk_p`."""
        if self.head is None or self.history_risk_p == self.head.risk_p:
            return self
        if self._for_history is None:
            self._for_history = Backstop(self.exemplars, self.vectors, self.model,
                                         replace(self.head, risk_p=self.history_risk_p), self.vote)
        return self._for_history

    @property
    def in_conversation(self) -> "Backstop":
        """This backstop as it hears the conversation: the earlier messages, the messages joined and a message's own
        share in them. With a conversation head (the head the conversation logic was tuned beside, kept when the
        head that judges each message was retrained), a backstop with that head and the vote's thresholds; else
        this one."""
        if self.conversation_head is None:
            return self
        if self._in_conversation is None:
            self._in_conversation = Backstop(self.exemplars, self.vectors, self.model, self.conversation_head,
                                             self._given_vote)
        return self._in_conversation

    def judge_message(self, vector: np.ndarray | None, sentence_vectors=(), several: bool | None = None) -> Verdict:
        """The most severe verdict over the message's vector and its sentences' vectors (None skipped; with
        no message vector, over the sentences alone). `several`: whether the message has several sentences
        (default: whether their vectors were given); a sentence's vector is always one sentence's."""
        rank = {"none": 0, "concern": 1, "crisis": 2}
        several = bool(sentence_vectors) if several is None else several
        best = self.judge(vector, several=several) if vector is not None else Verdict("none", (), 0.0, 0.0)
        for n, sentence in enumerate(sentence_vectors):
            if sentence is not None:
                verdict = self.judge(sentence, several=False)
                if rank[verdict.level] > rank[best.level]:
                    best = Verdict(verdict.level, verdict.rule_ids, verdict.risk, verdict.negative, n)
        return best

    def judge(self, vector: np.ndarray, exclude: int | None = None, several: bool = True) -> Verdict:
        """The backstop's verdict on a unit vector of the model's dimension (`exclude`: a bank row to
        leave out, for leave-one-out calibration; `several`: False for the vector of one sentence, which
        risk exemplars of several sentences do not vote on). Raises ValueError for a vector of another size."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dimension:
            raise ValueError(f"the vector has {vector.shape[0]} dimensions; the bank's model ({self.model}) "
                             f"has {self.dimension}")
        sims = self.vectors @ vector
        if exclude is not None:
            sims[exclude] = -1.0
        if not several:
            sims = np.where(self._several, -1.0, sims)
        risk_row = int(np.argmax(np.where(self._risk, sims, -1.0)))
        risk, negative = float(sims[risk_row]), float(np.max(np.where(self._risk, -1.0, sims)))
        nearest_id = f"semantic.{self.exemplars[risk_row].id}"
        level, rule_ids = "none", ()
        if risk >= self.risk_min and risk - negative >= self.margin:
            nearest = np.argpartition(-sims, self.agree)[:self.agree]
            level = "crisis" if bool(np.all(self._crisis[nearest])) else "concern"
            rule_ids = (nearest_id,)
        if self.head is not None and risk - negative >= self.head_margin and risk >= self.head_min:
            head_level, _ = self.head.level(vector)
            if _RANK[head_level] > _RANK[level]:
                level, rule_ids = head_level, ("semantic.head", nearest_id)
        return Verdict(level, rule_ids, risk, negative)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each sentence of `text`; [] when it has only one (its vector is the message's)."""
    spans = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]
    return spans if len(spans) > 1 else []


def _bundled_vectors(exemplars: tuple[Exemplar, ...], model: str) -> tuple[np.ndarray, dict] | None:
    """(vectors, vote settings) shipped for `model`: vectors None when they were made from another bank;
    None when nothing was shipped for `model`."""
    folder = model_folder(model)
    try:
        meta = json.loads((folder / "exemplars.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "exemplars.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.info("no usable shipped exemplar vectors for %s (%s)", model, exc)
        return None
    if meta.get("model") != model:
        return None
    if meta.get("format") != FORMAT_VERSION or meta.get("digest") != bank_digest(exemplars):
        log.warning("the shipped exemplar vectors are stale; rebuild them with python -m ipchat.safety.backstop --rebuild")
        return None, dict(meta.get("vote", {}))  # the model's vote settings still hold
    return vectors.astype(np.float32), dict(meta.get("vote", {}))


def build_backstop(embedder) -> Backstop:
    """A Backstop for `embedder`'s model: the shipped vectors when they are that model's, else the bank
    embedded now, and the shipped head when it was trained on that model's vectors. Raises
    SafetyDataError for a broken bank, head or glossary."""
    exemplars = load_exemplars()
    load_glossaries()  # read now (about a second), not at the first message in one of the five languages
    vectors, vote = _bundled_vectors(exemplars, embedder.name) or (None, {})
    if vectors is None:
        log.info("embedding %d safety exemplars with %s", len(exemplars), embedder.name)
        vectors = embedder.embed([e.text for e in exemplars])
    folder = model_folder(embedder.name)
    return Backstop(exemplars, vectors, embedder.name, load_head(embedder.name), vote,
                    load_head(embedder.name, folder / CONVERSATION_DIR) if (folder / CONVERSATION_DIR).is_dir() else None)


@lru_cache(maxsize=4)
def _cached(embedder) -> Backstop:
    return build_backstop(embedder)


def backstop_for(embedder) -> Backstop:
    """The Backstop for `embedder`, built once per embedder object."""
    return _cached(embedder)


@dataclass(frozen=True)
class Screen:
    """The answers' model's safety head as the first reader of a turn.

    The safety model (all-mpnet-base-v2) costs most of a question's time. The answers' model (MiniLM) embeds
    every question anyway, and a head trained on the same bank and labelled sets ships for it. A turn whose
    every text (the message, its sentences, the earlier messages heard and the conversation joined:
    turn_texts) that head gives a risk probability (concern + crisis) below `threshold` is not read by
    the safety model: the rules alone read it. The threshold sits below every raise the safety model made
    over the rules on the labelled sets (README, Safety screen)."""

    model: str
    head: Head
    embed: Callable[[Sequence[str]], np.ndarray]  # the answers' model's texts → vectors (a cache in front of it)
    threshold: float

    def reading(self, embed: Callable[[Sequence[str]], np.ndarray]) -> "Screen":
        """This screen reading its vectors through `embed` (a cache made beforehand for many turns)."""
        return replace(self, embed=embed)

    def risk(self, texts: Sequence[str]) -> float:
        """The highest risk probability the head gives any of `texts` (0.0 for none)."""
        if not texts:
            return 0.0
        p = self.head.probs(np.stack(list(self.embed(list(texts)))))
        return float((p[:, 1] + p[:, 2]).max())

    def clears(self, texts: Sequence[str]) -> bool:
        """True when the head hears no risk in any of `texts`: the safety model need not read them."""
        return self.risk(texts) < self.threshold


def screen_for(settings, answer_embedder, safety_embedder, embed=None) -> Screen | None:
    """The Screen in front of `safety_embedder` (settings.safety_screen, IPCHAT_SAFETY_SCREEN), reading
    `answer_embedder`'s vectors through `embed` when given (a cache the retriever shares), else its own
    `embed`; or None: with the screen off, when the safety model is the answers' model (nothing to save),
    or when no head ships for the answers' model."""
    from ipchat.embedding import encoder_of

    threshold = getattr(settings, "safety_screen", 0.0)
    if not threshold or answer_embedder is None or safety_embedder is None or answer_embedder is safety_embedder \
            or not getattr(answer_embedder, "semantic", False) or answer_embedder.name == safety_embedder.name \
            or encoder_of(answer_embedder)[0] != "fp32":  # the head learnt from fp32 vectors
        return None
    backstop = backstop_for(answer_embedder)
    if backstop.head is None:
        return None
    return Screen(backstop.model, backstop.head, embed or answer_embedder.embed, float(threshold))


def load_screen(settings, safety_embedder) -> Screen | None:
    """screen_for with the configured answers' model (settings.model_name), loaded once per process: for
    the commands that read messages without an index (`ipchat safety`, `eval --safety --semantic`)."""
    if not getattr(settings, "safety_screen", 0.0) or safety_embedder is None:
        return None
    if safety_embedder.name == settings.model_name:
        return None
    try:
        return screen_for(settings, _load_embedder(settings.model_name, settings.batch_size), safety_embedder)
    except ModelError as exc:  # no screen: the safety model reads every message
        log.warning("no safety screen: %s", exc)
        return None


def safety_model_name(settings, answer_model: str | None = None) -> str:
    """The model whose vectors the backstop reads: settings.safety_model (IPCHAT_SAFETY_MODEL), else
    SAFETY_MODEL when its packages are installed, else the answer model (`answer_model`, the one the index
    was built with, when given; else the configured one). all-mpnet-base-v2's short name is its full name,
    so its shipped bank and head are found."""
    from ipchat import mpnet
    from ipchat.settings import SAFETY_MODEL

    if settings.safety_model:
        return mpnet.MPNET if settings.safety_model in mpnet.NAMES else settings.safety_model
    if mpnet.part_files() is None:  # SAFETY_MODEL is all-mpnet-base-v2, made from those packages
        log.warning("the safety model %s is not installed (%s); the backstop reads the answer model's vectors",
                    SAFETY_MODEL, mpnet.INSTALL)
        return answer_model or settings.model_name
    return SAFETY_MODEL


def load_safety_embedder(settings, answer_embedder=None):
    """The embedder the backstop reads (see safety_model_name): `answer_embedder` itself when it is that
    model in fp32, so its vectors serve both; else that model, loaded once per process. Raises ModelError
    when the model can't be loaded."""
    from ipchat.embedding import encoder_of

    name = safety_model_name(settings, answer_embedder.name if answer_embedder is not None else None)
    if answer_embedder is not None and answer_embedder.name == name and encoder_of(answer_embedder)[0] == "fp32":
        return answer_embedder
    return _load_embedder(name, settings.batch_size, settings.safety_runtime)


@lru_cache(maxsize=4)
def _load_embedder(name: str, batch_size: int, runtime: str = "auto"):
    """One embedder per safety model and runtime for the process: every Answerer and command shares it.
    all-mpnet-base-v2 runs on onnxruntime (mpnet.onnx_embedder) unless `runtime` is "torch"; with "auto"
    a missing onnxruntime, or an export that can't be made, falls back to torch with a warning."""
    import importlib.util

    from ipchat import mpnet
    from ipchat.embedding import load_embedder

    if runtime == "auto" and importlib.util.find_spec("onnxruntime") is None:
        log.info("onnxruntime is not installed: the safety model runs on torch")
        runtime = "torch"
    if name == mpnet.MPNET and runtime != "torch" and mpnet.part_files() is not None:
        try:
            return mpnet.onnx_embedder(batch_size)
        except ModelError as exc:
            if runtime == "onnx":
                raise
            log.warning("the safety model runs on torch: %s", exc)
    elif runtime == "onnx":
        raise ModelError(f"IPCHAT_SAFETY_RUNTIME=onnx runs the bundled {mpnet.MPNET} only, not {name!r}; "
                         f"install it ({mpnet.INSTALL}) or use IPCHAT_SAFETY_RUNTIME=auto.")
    return load_embedder(name, batch_size)


def write_vectors(embedder) -> tuple[str, int]:
    """Embed the bank with `embedder` and write exemplars.npy and exemplars.json into the model's folder
    (ipchat/data/safety/models/<model>); return
    (model, rows). For maintainers, after editing exemplars.toml in a source checkout."""
    exemplars = load_exemplars()
    vectors = embedder.embed([e.text for e in exemplars]).astype(np.float16)
    folder = model_folder(embedder.name)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "exemplars.npy", vectors, allow_pickle=False)
    meta = {"format": FORMAT_VERSION, "model": embedder.name, "dimension": int(vectors.shape[1]),
            "rows": len(exemplars), "digest": bank_digest(exemplars)}
    with contextlib.suppress(OSError, ValueError):  # the model's vote settings outlive a rebuild of its vectors
        vote = json.loads((folder / "exemplars.json").read_text(encoding="utf-8")).get("vote")
        if vote:
            meta["vote"] = vote
    (folder / "exemplars.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return embedder.name, len(exemplars)


def negative_texts(paths) -> list[str]:
    """Texts that are no risk to anyone, for the head to learn what ordinary text looks like: the
    "question" of each line of a .jsonl question set and, for a question of several sentences, each of
    them (the backstop judges sentences too), or each sentence of a plain-text document."""
    texts: list[str] = []
    for path in map(Path, paths):
        raw = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            for question in (json.loads(line)["question"] for line in raw.splitlines() if line.strip()):
                texts += [question] + [question[start:end] for start, end in sentence_spans(question)]
        else:
            texts += [m.group().strip() for m in _SENTENCE.finditer(raw) if len(m.group().split()) >= 4]
    return texts


def training_set(embedder, paths, negatives=()) -> tuple[np.ndarray, np.ndarray, dict]:
    """Vectors and labels (0 negative, 1 concern, 2 crisis) of the bank and of labelled files
    (label<TAB>text; clinical and none rows are negatives), and a record of what they were. Each
    sentence of a clinical or none message is a negative too: the backstop judges sentences as well,
    and "hang on while I pull up the MADRS" is harmless wherever it stands."""
    from ipchat.evaluation import load_safety_rows

    backstop = build_backstop(embedder)
    vectors = [backstop.vectors]
    labels = [np.array([{"negative": 0, "concern": 1, "crisis": 2}[e.label] for e in backstop.exemplars])]
    files = {}
    for path in paths:
        rows = load_safety_rows(path)
        texts = [for_model(row["text"]) for row in rows]
        vectors.append(embedder.embed(texts))
        labels.append(np.array([{"crisis": 2, "concern": 1}.get(row["label"], 0) for row in rows]))
        safe = [(row["text"], language_of(row["text"])) for row in rows if row["label"] in ("clinical", "none")]
        sentences = [for_model(text[start:end], lang) for text, lang in safe for start, end in sentence_spans(text)]
        if sentences:
            vectors.append(embedder.embed(sentences))
            labels.append(np.zeros(len(sentences), dtype=np.int64))
        files[Path(path).name] = {"rows": len(rows), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
    for path in negatives:
        texts = [for_model(text) for text in negative_texts([path])]
        vectors.append(embedder.embed(texts))
        labels.append(np.zeros(len(texts), dtype=np.int64))
        files[Path(path).name] = {"rows": len(texts), "negatives": True,
                                  "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
    trained_on = {"exemplars": {"rows": len(backstop.exemplars), "digest": bank_digest(backstop.exemplars)},
                  "files": files}
    return np.vstack(vectors).astype(np.float32), np.concatenate(labels), trained_on


def _rates_matched(head: Head, embedder, paths, trained_on: dict) -> Head:
    """`head` with the thresholds at which it passes as many messages of `paths` as the shipped head passes at
    its own (head.match_rates); the shipped head's readings and the thresholds go into `trained_on`."""
    from dataclasses import replace

    from ipchat.evaluation import load_safety_rows

    from . import OWN_SHARE_P
    from .head import match_rates

    shipped = build_backstop(embedder)
    if shipped.head is None:
        raise SafetyDataError(f"no shipped head for {embedder.name} to match the rates of")
    texts = []
    for path in paths:
        for row in load_safety_rows(path):
            texts += [*row.get("history", ()), row["text"]]
    vectors = embedder.embed([for_model(text) for text in dict.fromkeys(texts)])
    old = {"risk_p": shipped.head.risk_p, "history_risk_p": shipped.history_risk_p,
           "own_share_p": shipped.head.own_share_p if shipped.head.own_share_p is not None else OWN_SHARE_P}
    matched = match_rates(head, shipped.head, vectors, old)
    for name, value in matched.items():
        sys.stdout.write(f"{name}: {old[name]:.4f} for the shipped head -> {value:.4f}\n")
    trained_on["rates_matched"] = {"messages": len(vectors), "files": sorted(Path(p).name for p in paths),
                                   "shipped": old}
    return replace(head, **matched)


def keep_conversation_head(model: str) -> Path:
    """Copy the shipped head of `model` into its conversation folder (CONVERSATION_DIR), unless one is kept there
    already (a head retrained again keeps the one the conversation logic was tuned beside); return that folder.
    Raises SafetyDataError when no head ships for `model`."""
    from .head import HEAD_FILE, META_FILE

    folder = model_folder(model)
    kept = folder / CONVERSATION_DIR
    if kept.is_dir() and load_head(model, kept) is not None:
        return kept
    if load_head(model, folder) is None:
        raise SafetyDataError(f"no shipped head for {model} to keep for conversations")
    kept.mkdir(exist_ok=True)
    for name in (HEAD_FILE, META_FILE):
        (kept / name).write_bytes((folder / name).read_bytes())
    return kept


def main(argv: list[str] | None = None) -> int:
    """`python -m ipchat.safety.backstop --rebuild [--model NAME]`: rewrite the shipped bank vectors;
    `--train-head FILE...`: train the classifier head on the bank and labelled files and ship it."""
    from ipchat.embedding import load_embedder
    from ipchat.settings import DEFAULT_MODEL

    from .head import train_head, write_head

    parser = argparse.ArgumentParser(description="Rebuild the safety exemplar vectors or retrain the safety head.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--rebuild", action="store_true", help="embed exemplars.toml and write the vectors")
    mode.add_argument("--train-head", nargs="+", metavar="FILE",
                      help="train the head on the bank and these label<TAB>text files, and write head.npz/head.json")
    parser.add_argument("--negatives", nargs="+", default=[], metavar="FILE",
                        help="ordinary text for the head: question sets (.jsonl) or documents (sentences)")
    parser.add_argument("--risk-p", type=float, default=None,
                        help="the head's risk threshold (default: the model's shipped head's, else 0.98)")
    parser.add_argument("--match-rates", nargs="+", default=[], metavar="FILE",
                        help="set the new head's thresholds so that it passes as many of these files' messages "
                             "(conversation sets, which the heads do not learn from) as the shipped head does")
    parser.add_argument("--keep-conversation-head", action="store_true",
                        help="keep the shipped head to hear conversations with (models/<model>/conversation/), "
                             "where the conversation logic was tuned beside it; the new head judges each message")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model (default {DEFAULT_MODEL})")
    args = parser.parse_args(argv)
    embedder = load_embedder(args.model)
    if args.rebuild:
        model, rows = write_vectors(embedder)
        sys.stdout.write(f"wrote {rows} exemplar vectors made with {model}\n")
        return 0
    vectors, labels, trained_on = training_set(embedder, args.train_head, args.negatives)
    sys.stdout.write(f"training the safety head on {len(labels)} vectors "
                     f"({int((labels == 2).sum())} crisis, {int((labels == 1).sum())} concern, "
                     f"{int((labels == 0).sum())} negative)\n")
    risk_p = args.risk_p
    if risk_p is None:
        shipped = load_head(embedder.name)
        risk_p = shipped.risk_p if shipped is not None else 0.98
    head = train_head(vectors, labels, risk_p=risk_p, model=embedder.name)
    if args.match_rates:
        head = _rates_matched(head, embedder, args.match_rates, trained_on)
    if args.keep_conversation_head:
        kept = keep_conversation_head(embedder.name)
        sys.stdout.write(f"the conversation is heard with the head in {kept}\n")
    path = write_head(head, trained_on)
    sys.stdout.write(f"wrote {path.name} and head.json for {embedder.name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
