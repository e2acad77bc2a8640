"""Ingest speed: `ipchat add` / `ipchat remove` (incremental) against a full rebuild, with the real model.

    python eval/ingest_speed.py
    python eval/ingest_speed.py --scale 1 4 16 --repeat 3
    python eval/ingest_speed.py --file path/to/paper.pdf --json ingest.json

For each --scale N, a copy of corpus/ is made in a temporary directory with the article N times
(under N ids, so a bigger corpus costs what it would), and its index is built there — never over
index/ or data/. Then, --repeat times:

- add: `add_documents` of the file (default: a Markdown document made of the article's opening
  sections, ~10 chunks), wall time, and the embedding share of it;
- full rebuild: `build_index` of the same corpus with the added document, into another directory;
- remove: `remove_document` of it, which embeds nothing.

The model is loaded and warmed up once, before anything is timed; times are the median over the
repeats. Numbers only: nothing here passes or fails. The table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from ipchat.corpus import load_manifest
from ipchat.embedding import load_embedder
from ipchat.index import build_index, read_meta
from ipchat.ingest import add_documents, remove_document
from ipchat.settings import DEFAULT_MODEL, PROJECT_ROOT, load_settings

CORPUS = PROJECT_ROOT / "corpus"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_corpus(folder: Path, scale: int) -> Path:
    """A copy of corpus/ under `folder` holding the bundled article `scale` times, as distinct documents."""
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    if scale > 1:
        article = next(e for e in load_manifest(corpus) if e.status == "bundled")
        text = (corpus / article.file).read_text(encoding="utf-8")
        manifest = (corpus / "sources.toml").read_text(encoding="utf-8")
        for n in range(2, scale + 1):
            name = f"documents/copy-{n}.md"
            # A different first line per copy: the same text would still be embedded, but keep them distinguishable.
            (corpus / name).write_text(f"Copy {n}.\n\n{text}", encoding="utf-8")
            manifest += (f'\n[[source]]\nid = "copy-{n}"\ntitle = "Copy {n}"\nkind = "web-page"\nlicence = "test copy"\n'
                         f'redistributable = false\nstatus = "bundled"\nfile = "{name}"\n')
        (corpus / "sources.toml").write_text(manifest, encoding="utf-8")
    return corpus


def default_file(folder: Path, sections: int = 4) -> Path:
    """A Markdown document made of the article's first `sections` second-level sections."""
    article = next(e for e in load_manifest(CORPUS) if e.status == "bundled")
    text = (CORPUS / article.file).read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^## ", text, re.MULTILINE)]
    end = starts[sections] if len(starts) > sections else len(text)
    path = folder / "leaflet.md"
    path.write_text("# A leaflet to add\n\n" + text[starts[0] if starts else 0:end], encoding="utf-8")
    return path


def measure(scale: int, file: Path | None, repeat: int, embedder) -> dict:
    with tempfile.TemporaryDirectory(prefix="ipchat-ingest-") as tmp:
        tmp = Path(tmp)
        corpus = make_corpus(tmp, scale)
        path = file or default_file(tmp)
        added = tmp / "added"
        settings = load_settings(environ={}, corpus=corpus, index=tmp / "index")
        log(f"scale {scale}: building the base index")
        started = time.perf_counter()
        base = build_index(settings, embedder, added_dir=added)
        base_seconds = time.perf_counter() - started
        adds, embeds, fulls, removes, chunks = [], [], [], [], 0
        for round_ in range(1, repeat + 1):
            log(f"scale {scale}: round {round_}/{repeat}")
            started = time.perf_counter()
            [result] = add_documents([path], settings, embedder, added_dir=added)
            adds.append(time.perf_counter() - started)
            if result.status != "added":
                raise SystemExit(f"{path}: {result.line()}")
            embeds.append(result.seconds)
            chunks = result.chunks
            incremental = read_meta(settings.index)
            started = time.perf_counter()
            full = build_index(settings.replace(index=tmp / "full"), embedder, added_dir=added)
            fulls.append(time.perf_counter() - started)
            # Both indexes must be of the same corpus, or the comparison means nothing.
            assert (incremental["corpus_digest"], incremental["chunks"]) == (full["corpus_digest"], full["chunks"])
            started = time.perf_counter()
            remove_document(result.doc_id, settings, embedder, added_dir=added)
            removes.append(time.perf_counter() - started)
        return {
            "scale": scale, "documents": base["documents"], "corpus_chunks": base["chunks"], "added_chunks": chunks,
            "base_build_s": round(base_seconds, 3),
            "add_s": round(statistics.median(adds), 3), "add_embedding_s": round(statistics.median(embeds), 3),
            "full_rebuild_s": round(statistics.median(fulls), 3), "remove_s": round(statistics.median(removes), 3),
            "speedup": round(statistics.median(fulls) / statistics.median(adds), 1),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 4], help="copies of the article in the corpus (default: 1 4)")
    parser.add_argument("--file", type=Path, help="the file to add (default: a Markdown document made from the article)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of add / rebuild / remove (default 3); medians reported")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default {DEFAULT_MODEL})")
    parser.add_argument("--threads", type=int, help="torch intra-op threads")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    log(f"loading {args.model}")
    embedder = load_embedder(args.model)
    embedder.embed(["warm-up sentence"] * 32)  # the first call pays for thread pools and kernels
    rows = [measure(scale, args.file, args.repeat, embedder) for scale in args.scale]

    print(f"ipchat ingest speed — {args.model}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, median of {args.repeat}")
    header = ["scale", "docs", "chunks", "+chunks", "full rebuild s", "add s", "(embedding s)", "remove s", "rebuild/add"]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(v) for v in (row["scale"], row["documents"], row["corpus_chunks"], row["added_chunks"],
                                          row["full_rebuild_s"], row["add_s"], row["add_embedding_s"], row["remove_s"],
                                          f"{row['speedup']}x")))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
