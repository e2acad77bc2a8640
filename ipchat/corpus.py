"""The corpus: the manifest (sources.toml) and the loaders that turn files into Documents."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, ManifestError
from .settings import PROJECT_ROOT
from .types import Document, Section

log = logging.getLogger(__name__)

MANIFEST = "sources.toml"
FETCHED_ENV = "IPCHAT_FETCHED_DIR"
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
STATUSES = ("bundled", "fetched", "metadata-only", "failed")
REQUIRED_KEYS = ("id", "kind", "licence", "redistributable", "status")
OPTIONAL_KEYS = (
    "title", "url", "publisher", "authors", "year", "fetch", "file", "pmcid", "citation",
    "reference_positions", "role", "metadata_status", "notes",
)

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class SourceEntry:
    """One validated entry of sources.toml."""

    id: str
    kind: str
    licence: str
    redistributable: bool | str
    status: str
    title: str = ""
    url: str = ""
    file: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def display_title(self) -> str:
        return self.title or self.url or self.id


def load_manifest(corpus_dir: Path) -> list[SourceEntry]:
    """Read and validate `corpus_dir/sources.toml`.

    Raises ManifestError naming the entry for unknown or missing keys, duplicate ids, bad values,
    and a `file` that is missing or outside the corpus directory.
    """
    path = Path(corpus_dir) / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"No {MANIFEST} in {corpus_dir}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not valid TOML: {exc}") from None
    unknown_top = set(data) - {"source"}
    if unknown_top:
        raise ManifestError(f"{path}: unknown top-level keys {sorted(unknown_top)}; expected only [[source]] tables.")
    entries: list[SourceEntry] = []
    seen: set[str] = set()
    root = Path(corpus_dir).resolve()
    for position, raw in enumerate(data.get("source", []), start=1):
        name = raw.get("id") or f"#{position}"
        where = f"{path}: source {name!r}"
        unknown = set(raw) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
        if unknown:
            raise ManifestError(f"{where} has unknown keys {sorted(unknown)}.")
        missing = [k for k in REQUIRED_KEYS if k not in raw]
        if missing:
            raise ManifestError(f"{where} is missing {', '.join(missing)}.")
        if not isinstance(raw["id"], str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", raw["id"]):
            raise ManifestError(f"{where}: id must be letters, digits, '.', '_' or '-'.")
        if raw["id"] in seen:
            raise ManifestError(f"{where}: duplicate id.")
        seen.add(raw["id"])
        if raw["status"] not in STATUSES:
            raise ManifestError(f"{where}: status {raw['status']!r} is not one of {', '.join(STATUSES)}.")
        if raw["redistributable"] not in (True, False, "unknown"):
            raise ManifestError(f"{where}: redistributable must be true, false or \"unknown\".")
        file = raw.get("file", "")
        if file:
            target = (root / file).resolve()
            if not target.is_relative_to(root):
                raise ManifestError(f"{where}: file {file!r} is outside {corpus_dir}.")
            if not target.is_file():
                raise ManifestError(f"{where}: file {file!r} does not exist.")
        elif raw["status"] == "bundled":
            raise ManifestError(f"{where}: status is 'bundled' but no file is given.")
        extra = {k: v for k, v in raw.items() if k not in {"id", "kind", "licence", "redistributable", "status", "title", "url", "file"}}
        entries.append(SourceEntry(
            id=raw["id"], kind=raw["kind"], licence=raw["licence"], redistributable=raw["redistributable"],
            status=raw["status"], title=raw.get("title", ""), url=raw.get("url", ""), file=file, extra=extra,
        ))
    return entries


def read_text_file(path: Path) -> str:
    """The file's text as UTF-8. Raises CorpusError naming the file when it can't be read or is binary."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if b"\x00" in data:
        raise CorpusError(f"{path} looks like a binary file, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{path} is not UTF-8 text.") from None


def markdown_sections(text: str, default_heading: str) -> tuple[Section, ...]:
    """Sections of a Markdown text: each heading's body runs to the next heading.

    Text before the first heading belongs to `default_heading`. Heading lines are not in any section.
    """
    sections: list[Section] = []
    heading, start = default_heading, 0
    for match in _HEADING.finditer(text):
        if text[start:match.start()].strip():
            sections.append(Section(heading, start, match.start()))
        heading, start = match.group(2).strip(), match.end()
    if text[start:].strip():
        sections.append(Section(heading, start, len(text)))
    return tuple(sections)


def _first_heading(text: str) -> str:
    match = _HEADING.search(text)
    return match.group(2).strip() if match else ""


def document_from_file(path: Path, doc_id: str, title: str = "", url: str = "", kind: str = "text",
                       licence: str = "") -> Document:
    """A Document from a .md or .txt file; Markdown headings become sections."""
    text = read_text_file(path)
    if not text.strip():
        raise CorpusError(f"{path} is empty.")
    if path.suffix.lower() in (".md", ".markdown"):
        title = title or _first_heading(text) or path.stem
        sections = markdown_sections(text, title)
    else:
        title = title or path.stem
        sections = (Section(title, 0, len(text)),)
    return Document(doc_id=doc_id, title=title, url=url, kind=kind, licence=licence, text=text, sections=sections)


def default_fetched_dir(environ=None) -> Path:
    """Where `ipchat fetch` keeps downloaded text: $IPCHAT_FETCHED_DIR, else data/fetched/ under the
    project root (git-ignored, so text that may not be redistributed never enters the repository)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(FETCHED_ENV) or PROJECT_ROOT / "data" / "fetched")


def resolve_fetched_dir(corpus_dir: Path, fetched_dir: Path | None = None, environ=None) -> Path | None:
    """The fetched folder that belongs with `corpus_dir`: `fetched_dir` when given, the default one
    only for the project's own corpus/, otherwise None (another corpus never borrows the project's
    downloads)."""
    if fetched_dir is not None:
        return Path(fetched_dir)
    if Path(corpus_dir).resolve() == (PROJECT_ROOT / "corpus").resolve():
        return default_fetched_dir(environ)
    return None


def read_provenance(fetched_dir: Path, source_id: str) -> dict | None:
    """The provenance record of fetched source `source_id`, or None when `<id>.md` or `<id>.json` is
    missing, unreadable, or the record's id or sha256 does not match the text (a torn or edited copy)."""
    text_path = Path(fetched_dir) / f"{source_id}.md"
    meta_path = Path(fetched_dir) / f"{source_id}.json"
    try:
        data = text_path.read_bytes()
        record = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("id") != source_id:
        return None
    if record.get("sha256") != hashlib.sha256(data).hexdigest():
        log.warning("ignoring fetched %s: its text does not match %s; run ipchat fetch again", text_path, meta_path.name)
        return None
    return record


def _load_manifest_corpus(corpus_dir: Path, fetched_dir: Path | None = None) -> list[Document]:
    documents = []
    for entry in load_manifest(corpus_dir):
        if entry.file:
            if entry.status in ("bundled", "fetched"):
                documents.append(document_from_file(
                    Path(corpus_dir) / entry.file, entry.id, entry.title, entry.url, entry.kind, entry.licence,
                ))
            continue
        provenance = read_provenance(fetched_dir, entry.id) if fetched_dir is not None else None
        if provenance is None:
            continue
        # A manifest that could not name the licence defers to the one the source declared when fetched.
        licence = entry.licence
        if licence.lower().startswith("unknown") and provenance.get("licence"):
            licence = str(provenance["licence"])
        documents.append(document_from_file(
            Path(fetched_dir) / f"{entry.id}.md", entry.id, entry.title or str(provenance.get("title") or ""),
            entry.url or str(provenance.get("url") or ""), entry.kind, licence,
        ))
    return documents


def _load_directory(corpus_dir: Path) -> list[Document]:
    documents = []
    for path in sorted(Path(corpus_dir).rglob("*")):
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES and not path.name.startswith("."):
            rel = path.relative_to(corpus_dir).with_suffix("").as_posix()
            documents.append(document_from_file(path, rel.replace("/", "--")))
    return documents


def load_beir(path: Path) -> list[Document]:
    """Documents from a BEIR-style corpus.jsonl (`_id`, `title`, `text`): the title heads the text.

    Raises CorpusError naming the line for malformed JSON or a missing `_id`/`text`.
    """
    documents = []
    seen = set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                doc_id, body = str(row["_id"]), str(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise CorpusError(f"{path}:{number}: expected a JSON object with _id and text.") from None
            if doc_id in seen:
                raise CorpusError(f"{path}:{number}: duplicate _id {doc_id!r}.")
            seen.add(doc_id)
            title = str(row.get("title") or "").strip()
            text = f"{title}\n\n{body}" if title else body
            url = str((row.get("metadata") or {}).get("url", ""))
            documents.append(Document(doc_id, title or doc_id, url, "beir", "", text, (Section(title or doc_id, 0, len(text)),)))
    return documents


def load_corpus(path: Path, fetched_dir: Path | None = None) -> list[Document]:
    """All documents of a corpus: a directory with sources.toml, a directory of .md/.txt files,
    or a BEIR corpus.jsonl (or a directory holding one).

    For a manifest corpus, entries without a bundled file are read from the fetched folder when it
    holds `<id>.md` with a matching `<id>.json` (see `ipchat fetch`). That folder is `fetched_dir`, or
    by default data/fetched/ ($IPCHAT_FETCHED_DIR) for the project's own corpus/ only.

    Raises CorpusError when the path is missing or yields no documents, ManifestError for a bad manifest.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"Corpus {path} does not exist.")
    if path.is_file():
        if path.suffix == ".jsonl":
            documents = load_beir(path)
        elif path.suffix.lower() in TEXT_SUFFIXES:
            documents = [document_from_file(path, path.stem)]
        else:
            raise CorpusError(f"{path}: expected a directory, a .jsonl, .md or .txt file.")
    elif (path / MANIFEST).exists():
        documents = _load_manifest_corpus(path, resolve_fetched_dir(path, fetched_dir))
    elif (path / "corpus.jsonl").exists():
        documents = load_beir(path / "corpus.jsonl")
    else:
        documents = _load_directory(path)
    if not documents:
        raise CorpusError(f"Corpus {path} has no documents (.md, .txt, or corpus.jsonl).")
    return documents


def corpus_digest(documents: list[Document]) -> str:
    """A sha256 over every document's id, title, url and text, independent of load order."""
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        for part in (doc.doc_id, doc.title, doc.url, doc.text):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x1f")
    return digest.hexdigest()
