"""The int8 encoder (IPCHAT_ENCODER=int8, ipchat/int8.py) against fp32: speed, fidelity, answers.

    python eval/int8.py                                                  # speed, fidelity, answers on the sets
    python eval/int8.py --speed-corpus ../shared/benchmarks/medquad-liveqa/corpus.jsonl
    python eval/int8.py --beir ../shared/benchmarks/medquad-liveqa       # + nDCG@10 fp32 vs int8 (slow: two builds)

The int8 encoder is made exactly as ipchat makes it (ipchat.int8.ensure_export), into a temporary
folder unless --cache names one, so the export time is measured too; nothing is downloaded.

Measured, in one run so that both see the same machine (the load average is printed before and after;
on a shared machine compare the two encoders, not runs):
- build speed: texts/s of fp32 (torch, ipchat's embedder) and int8 (onnxruntime) over --texts texts (the
  passages and sentences a build of the bundled corpus embeds, repeated; or the first --texts of
  --speed-corpus / the BEIR corpus), same batch size, same length sorting, same --threads; --rounds
  rounds alternating the encoders, the best of each reported with the median;
- query latency: each question of the sets embedded alone, as a query is (IPCHAT_QUERY_THREADS, 1);
- fidelity: cosine of int8 to fp32 vectors of the speed texts;
- with --beir, ipchat's BEIR evaluation (hybrid retrieval) with each encoder;
- on each question set, the answer metrics with an index built by each encoder and how many answers
  are word for word the fp32 ones.
Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", type=Path, help="a BEIR folder for nDCG@10 (corpus.jsonl, queries.jsonl, qrels/)")
    parser.add_argument("--speed-corpus", type=Path, help="a corpus.jsonl whose first --texts texts are timed")
    parser.add_argument("--sets", nargs="*", type=Path, default=[ROOT / "eval/questions" / f"{n}.jsonl"
                                                                   for n in ("seed", "heldout", "blind")])
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per encoder, alternating")
    parser.add_argument("--cache", type=Path, help="folder for the int8 export (default: a temporary one, made afresh)")
    args = parser.parse_args(argv)

    import torch

    from ipchat.answer import Answerer
    from ipchat.embedding import load_embedder
    from ipchat.evaluation import evaluate_beir, evaluate_questions, load_question_rows
    from ipchat.index import build_index, load_index, passage_text, sentence_text
    from ipchat.int8 import CACHE_NAME, Int8Embedder
    from ipchat.retrieval import Retriever
    from ipchat.settings import load_settings

    print(f"start: {_load()} on {os.cpu_count()} CPUs", flush=True)
    torch.set_num_threads(args.threads)
    settings = load_settings(environ={k: v for k, v in os.environ.items() if k != "IPCHAT_ENCODER"})
    fp32 = load_embedder(settings.model_name, args.batch_size)
    fp32.build_threads = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "export"
        mark = time.perf_counter()
        int8 = Int8Embedder(settings.model_name, args.batch_size, places=[cache / CACHE_NAME], threads=args.threads)
        print(f"int8 encoder ready in {time.perf_counter() - mark:.1f} s (sha256 {int8.encoder_sha256[:12]}, {int8.folder})")

        source = args.speed_corpus or (args.beir / "corpus.jsonl" if args.beir else None)
        if source:
            with open(source, encoding="utf-8") as handle:
                texts = [json.loads(line)["text"] for line, _ in zip(handle, range(args.texts))]
            what = f"the first {len(texts)} texts of {source}"
        else:
            chunks = load_index(settings).chunks
            build = [passage_text(c) for c in chunks] + [sentence_text(c, j) for c in chunks for j in range(len(c.sentences))]
            texts = (build * (args.texts // len(build) + 1))[:args.texts]
            what = f"{len(texts)} texts: the {len(build)} passages and sentences of the bundled build, repeated"
        encoders = {"fp32": fp32, "int8": int8}
        for embedder in encoders.values():
            embedder.embed(texts[:args.batch_size])  # warm up (first-call allocations, session creation)
        seconds = {name: [] for name in encoders}
        vectors = {}
        for _ in range(args.rounds):
            for name, embedder in encoders.items():
                mark = time.perf_counter()
                vectors[name] = embedder.embed(texts)
                seconds[name].append(time.perf_counter() - mark)
        print(f"build speed over {what}; batch {args.batch_size}, {args.threads} threads, best (median) of {args.rounds}:")
        for name in encoders:
            best, median = min(seconds[name]), statistics.median(seconds[name])
            print(f"  {name}: {len(texts) / best:.1f} texts/s ({len(texts) / median:.1f})")
        ratio = min(seconds["fp32"]) / min(seconds["int8"])
        ratio_median = statistics.median(seconds["fp32"]) / statistics.median(seconds["int8"])
        cosine = (vectors["fp32"] * vectors["int8"]).sum(1)
        print(f"  int8 / fp32: x{ratio:.2f} best, x{ratio_median:.2f} median; cosine int8 to fp32 mean {cosine.mean():.4f}, "
              f"min {cosine.min():.4f}; {_load()}", flush=True)

        questions = [row["question"] for path in args.sets for row in load_question_rows(path)]
        if questions:
            latency = {name: [] for name in encoders}
            for question in questions:
                for name, embedder in encoders.items():
                    mark = time.perf_counter()
                    embedder.embed([question])
                    latency[name].append(time.perf_counter() - mark)
            print(f"query latency over {len(questions)} questions, one at a time ({fp32.query_threads} thread): " +
                  ", ".join(f"{name} median {statistics.median(v) * 1000:.1f} ms" for name, v in latency.items()) +
                  f"; {_load()}", flush=True)

        if args.beir:
            for name, embedder in encoders.items():
                metrics = evaluate_beir(args.beir, settings.replace(encoder=name), embedder).metrics
                print(f"BEIR {args.beir.name} {name}: ndcg@10 {metrics['ndcg@10']:.4f}, recall@10 {metrics['recall@10']:.4f}, "
                      f"hit@1 {metrics['hit@1']:.4f}", flush=True)

        int8_settings = settings.replace(index=Path(tmp) / "index-int8", encoder="int8")
        build_index(int8_settings, int8)
        quantised = Answerer(Retriever.from_settings(int8_settings, int8), int8_settings)
        reference = Answerer.from_settings(settings, fp32)
        for path in args.sets:
            rows = load_question_rows(path)
            same = sum(quantised.ask(r["question"], r["history"]).answer == reference.ask(r["question"], r["history"]).answer
                       for r in rows)
            for name, answerer in (("fp32", reference), ("int8", quantised)):
                m = evaluate_questions(rows, answerer).metrics
                print(f"{path.name} {name}: first citation {m['gold_in_first_citation']:.3f}, facts {m['facts_covered']:.3f}, "
                      f"abstention recall {m.get('abstention_recall', float('nan')):.3f}"
                      + (f"; answers identical to fp32 {same}/{len(rows)}" if name == "int8" else ""), flush=True)
    print(f"end: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
