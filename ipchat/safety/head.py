"""The backstop's classifier: a small network over message vectors, trained on the reviewed bank and the
labelled safety sets.

Nearest-exemplar voting (backstop.py) only fires when a message is close to one exemplar; a person in
crisis who says it in new words is near none. A classifier learns which directions of the embedding
space carry risk from every labelled message at once, and on batches it never saw (each labelled set
held out in turn, eval/safety_backstop.py --head) it found far more crises than the nearest-exemplar
vote at the same over-block.

The head is an ensemble of `members` two-layer networks (vector -> ReLU(hidden) -> 3 classes:
negative, concern, crisis) whose probabilities are averaged. A vector is a risk when the crisis and
concern probabilities together reach `risk_p`; it is a crisis when the crisis probability is the
larger of the two, else a concern. Inference is plain numpy; training (maintainers only, `python -m
ipchat.safety.backstop --train-head`) uses torch, which sentence-transformers already brings.

The weights ship as head.npz beside head.json in the model's folder (ipchat/data/safety/models/<model>),
one head per model; head.json names the model whose vectors it reads, the
threshold, the sha256 of head.npz and what it was trained on. A head made for another model is not
used (the backstop then votes with the bank alone).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import SafetyDataError, model_folder

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CLASSES = ("negative", "concern", "crisis")
HEAD_FILE, META_FILE = "head.npz", "head.json"
_ARRAYS = ("w1", "b1", "w2", "b2")


@dataclass(frozen=True)
class Head:
    """An ensemble of small networks over one model's unit vectors."""

    model: str
    w1: np.ndarray  # (members, dimension, hidden)
    b1: np.ndarray  # (members, hidden)
    w2: np.ndarray  # (members, hidden, 3)
    b2: np.ndarray  # (members, 3)
    risk_p: float
    # Its own thresholds for an earlier message of a conversation and for "the message's own vector carries
    # some risk" (safety.OWN_SHARE_P), when they were set for it (`match_rates`); None: the defaults.
    history_risk_p: float | None = None
    own_share_p: float | None = None

    def __post_init__(self) -> None:
        members, dimension, hidden = self.w1.shape
        if self.b1.shape != (members, hidden) or self.w2.shape != (members, hidden, 3) or self.b2.shape != (members, 3):
            raise SafetyDataError("the safety head's arrays do not fit together")
        for name in ("risk_p", "history_risk_p", "own_share_p"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise SafetyDataError(f"the safety head's {name} must be in (0, 1], not {value}")

    @property
    def dimension(self) -> int:
        return int(self.w1.shape[1])

    def probs(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of negative, concern, crisis for (n, dimension) vectors (or (3,) for one)."""
        x = np.asarray(vectors, dtype=np.float32)
        single = x.ndim == 1
        x = x.reshape(-1, x.shape[-1])
        if x.shape[1] != self.dimension:
            raise ValueError(f"the vector has {x.shape[1]} dimensions; the safety head's model ({self.model}) "
                             f"has {self.dimension}")
        hidden = np.maximum(np.einsum("nd,mdh->mnh", x, self.w1) + self.b1[:, None, :], 0.0)
        logits = np.einsum("mnh,mhk->mnk", hidden, self.w2) + self.b2[:, None, :]
        logits -= logits.max(axis=2, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=2, keepdims=True)
        out = p.mean(axis=0)
        return out[0] if single else out

    def level(self, vector: np.ndarray) -> tuple[str, np.ndarray]:
        """("none" | "concern" | "crisis", probabilities) for one vector."""
        p = self.probs(vector)
        if p[1] + p[2] < self.risk_p:
            return "none", p
        return ("crisis" if p[2] >= p[1] else "concern"), p


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_head(model: str, directory: Path | None = None) -> Head | None:
    """The shipped head when it was made for `model`, else None. Raises SafetyDataError when head.npz
    does not match the sha256 in head.json, or the files are malformed."""
    directory = Path(directory) if directory else model_folder(model)
    meta_path, head_path = directory / META_FILE, directory / HEAD_FILE
    if not meta_path.exists() or not head_path.exists():
        log.info("no safety head shipped for %s; the backstop votes with the bank alone", model)
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SafetyDataError(f"{META_FILE}: not JSON ({exc})") from None
    if meta.get("format") != FORMAT_VERSION:
        raise SafetyDataError(f"{META_FILE}: format {meta.get('format')!r}, expected {FORMAT_VERSION}")
    if meta.get("model") != model:
        log.info("the safety head reads %s vectors, not %s; not used", meta.get("model"), model)
        return None
    if _sha256(head_path) != meta.get("sha256"):
        raise SafetyDataError(f"{HEAD_FILE} does not match the sha256 in {META_FILE}; retrain it "
                              "(python -m ipchat.safety.backstop --train-head ...)")
    with np.load(head_path, allow_pickle=False) as arrays:
        try:
            w1, b1, w2, b2 = (arrays[name].astype(np.float32) for name in _ARRAYS)
        except KeyError as exc:
            raise SafetyDataError(f"{HEAD_FILE}: missing array {exc}") from None
    optional = {name: float(meta[name]) for name in ("history_risk_p", "own_share_p") if meta.get(name) is not None}
    return Head(model, w1, b1, w2, b2, float(meta["risk_p"]), **optional)


def train_head(vectors: np.ndarray, labels: np.ndarray, *, members: int = 3, hidden: int = 64, epochs: int = 60,
               risk_p: float = 0.98, model: str = "") -> Head:
    """Train an ensemble on (n, dimension) unit vectors and labels 0 negative, 1 concern, 2 crisis.
    Seeded, so the same data give the same head on the same machine."""
    import torch

    x = torch.tensor(np.asarray(vectors, dtype=np.float32))
    y = torch.tensor(np.asarray(labels, dtype=np.int64))
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError("train_head needs one label per vector")
    if int(y.min()) < 0 or int(y.max()) > 2:
        raise ValueError("labels must be 0 (negative), 1 (concern) or 2 (crisis)")
    arrays: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAYS}
    for seed in range(members):
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        first, second = torch.nn.Linear(x.shape[1], hidden), torch.nn.Linear(hidden, 3)
        net = torch.nn.Sequential(torch.nn.Dropout(0.1), first, torch.nn.ReLU(), torch.nn.Dropout(0.2), second)
        optimiser = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
        net.train()
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), 64):
                batch = order[start:start + 64]
                loss = torch.nn.functional.cross_entropy(net(x[batch]), y[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        with torch.no_grad():
            arrays["w1"].append(first.weight.T.numpy().copy())
            arrays["b1"].append(first.bias.numpy().copy())
            arrays["w2"].append(second.weight.T.numpy().copy())
            arrays["b2"].append(second.bias.numpy().copy())
    return Head(model, *(np.stack(arrays[name]).astype(np.float32) for name in _ARRAYS), risk_p)


def write_head(head: Head, trained_on: dict, directory: Path | None = None) -> Path:
    """Write head.npz and head.json (with the sha256 and `trained_on`) into the model's folder
    (ipchat/data/safety/models/<model>) or `directory`; return the npz path."""
    directory = Path(directory) if directory else model_folder(head.model)
    directory.mkdir(parents=True, exist_ok=True)
    head_path, meta_path = directory / HEAD_FILE, directory / META_FILE
    with open(head_path, "wb") as handle:
        np.savez_compressed(handle, **{name: getattr(head, name) for name in _ARRAYS})
    members, dimension, hidden = head.w1.shape
    meta = {"format": FORMAT_VERSION, "model": head.model, "dimension": int(dimension), "hidden": int(hidden),
            "members": int(members), "risk_p": head.risk_p}
    meta.update({name: getattr(head, name) for name in ("history_risk_p", "own_share_p") if getattr(head, name) is not None})
    meta.update({"sha256": _sha256(head_path), "trained_on": trained_on})
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return head_path


def risk(head: Head, vectors: np.ndarray) -> np.ndarray:
    """The head's risk probability (concern + crisis) of each of (n, dimension) vectors."""
    p = head.probs(np.asarray(vectors, dtype=np.float32).reshape(-1, head.dimension))
    return p[:, 1] + p[:, 2]


def match_rates(new: Head, old: Head, vectors: np.ndarray, thresholds: dict[str, float]) -> dict[str, float]:
    """Thresholds for `new` that pass as many of `vectors` as `old` passes at each of `thresholds` (name ->
    the old head's value): a retrained head judges as often as the one it replaces, so the conversation
    logic tuned on the old head's readings keeps its balance, and what changes is which messages it raises.
    The vectors should be messages neither head learnt from (conversation sets: the heads learn from single
    messages). Each threshold is the new head's risk at the same rank: the old head's share at or above its
    threshold, counted down from the top of the new head's risks."""
    old_risk, new_risk = risk(old, vectors), np.sort(risk(new, vectors))[::-1]
    if len(new_risk) == 0:
        raise ValueError("match_rates needs vectors")
    matched = {}
    for name, threshold in thresholds.items():
        passed = int((old_risk >= threshold).sum())
        # The passed-th highest new risk; when the old head passes none, just above the highest.
        at = new_risk[passed - 1] if passed else np.nextafter(new_risk[0], 2.0)
        matched[name] = float(min(1.0, at))
    return matched
