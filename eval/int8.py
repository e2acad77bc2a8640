"""An int8 encoder: export the bundled model to ONNX, quantise it, and measure speed and quality cost.

    python eval/int8.py                                                  # speed, fidelity, answers on the sets
    python eval/int8.py --beir ../shared/benchmarks/medquad-liveqa       # + nDCG@10 fp32 vs int8 (slow: two builds)

The route: torch.onnx export of the transformer with ipchat's pooling (mean over tokens, L2-normalised),
then onnxruntime's dynamic quantisation (int8 weights, per channel, MatMul nodes only; plain per-tensor
quantisation drifted to cosine 0.95 from fp32). sentence-transformers' own ONNX backend needs optimum,
which would replace this environment's transformers 5 with 4.x, so it is not used. Needs the `onnx` and
`onnxruntime` packages (not ipchat dependencies). The export is written to --out (default: a temporary
folder); nothing is downloaded.

Measured: texts/s of torch fp32 (ipchat's embedder) and of the int8 model over --texts passages (the BEIR
corpus with --beir, else the bundled index's chunks repeated), torch and onnxruntime on --threads threads;
cosine of int8 to fp32 vectors; with --beir, ipchat's BEIR evaluation (hybrid retrieval) with each
encoder; on each question set, the answer metrics with an index built by int8 and how many answers are
word for word the fp32 ones. Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent


class OnnxEmbedder:
    """ipchat's Embedder protocol over an ONNX model that returns normalised sentence vectors."""

    def __init__(self, path: Path, base, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.base, self.tokenizer = base, base.model.tokenizer
        self.name, self.semantic, self.dimension = base.name, True, base.dimension
        self.max_tokens, self.batch_size = base.max_tokens, base.batch_size

    def count_tokens(self, text: str) -> int:
        return self.base.count_tokens(text)

    def embed(self, texts, progress=None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for begin in range(0, len(texts), self.batch_size):
            rows = order[begin:begin + self.batch_size]
            encoded = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                     max_length=self.max_tokens or 256, return_tensors="np")
            feed = {k: encoded[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
            out[rows] = self.session.run(None, feed)[0]
            if progress:
                progress(begin + len(rows), len(texts))
        return out


def export(base, folder: Path) -> Path:
    """Write model.onnx (fp32) and model_int8.onnx into `folder`; return the int8 path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    transformer = base.model[0].auto_model

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).float()
            return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)

    sample = base.model.tokenizer(["a short text", "a somewhat longer text for the export"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    torch.onnx.export(Pooled().eval(), tuple(sample[n] for n in names), str(folder / "model.onnx"), input_names=names,
                      output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
    quantize_dynamic(str(folder / "model.onnx"), str(folder / "model_int8.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True, op_types_to_quantize=["MatMul"])
    return folder / "model_int8.onnx"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beir", type=Path, help="a BEIR folder for nDCG@10 (corpus.jsonl, queries.jsonl, qrels/)")
    parser.add_argument("--sets", nargs="*", type=Path, default=[ROOT / "eval/questions" / f"{n}.jsonl"
                                                                   for n in ("seed", "heldout", "blind")])
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="folder for the exported models (default: temporary)")
    args = parser.parse_args(argv)

    import torch

    from ipchat.answer import Answerer
    from ipchat.embedding import load_embedder
    from ipchat.evaluation import evaluate_beir, evaluate_questions, load_question_rows
    from ipchat.index import build_index, load_index, passage_text
    from ipchat.retrieval import Retriever
    from ipchat.settings import load_settings

    torch.set_num_threads(args.threads)
    settings = load_settings()
    base = load_embedder(settings.model_name, settings.batch_size)
    base.build_threads = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        int8 = OnnxEmbedder(export(base, folder), base, args.threads)
        if args.beir:
            texts = [json.loads(line)["text"] for line, _ in zip(open(args.beir / "corpus.jsonl", encoding="utf-8"), range(args.texts))]
        else:
            chunks = [passage_text(c) for c in load_index(settings).chunks]
            texts = (chunks * (args.texts // len(chunks) + 1))[:args.texts]
        timings = {}
        for name, embedder in (("torch fp32", base), ("onnx int8", int8)):
            embedder.embed(texts[:32])
            mark = time.perf_counter()
            vectors = embedder.embed(texts)
            timings[name] = (time.perf_counter() - mark, vectors)
        (fp32_s, fp32_v), (int8_s, int8_v) = timings["torch fp32"], timings["onnx int8"]
        cosine = (fp32_v * int8_v).sum(1)
        print(f"{len(texts)} texts: torch fp32 {len(texts) / fp32_s:.1f}/s, onnx int8 {len(texts) / int8_s:.1f}/s "
              f"(x{fp32_s / int8_s:.2f}); cosine int8 to fp32 mean {cosine.mean():.4f}, min {cosine.min():.4f}")
        if args.beir:
            for name, embedder in (("fp32", base), ("int8", int8)):
                metrics = evaluate_beir(args.beir, settings, embedder).metrics
                print(f"BEIR {args.beir.name} {name}: ndcg@10 {metrics['ndcg@10']:.4f}, recall@10 {metrics['recall@10']:.4f}, "
                      f"hit@1 {metrics['hit@1']:.4f}", flush=True)
        int8_settings = settings.replace(index=Path(tmp) / "index-int8")
        build_index(int8_settings, int8)
        quantised = Answerer(Retriever.from_settings(int8_settings, int8), int8_settings)
        reference = Answerer.from_settings(settings, base)
        for path in args.sets:
            rows = load_question_rows(path)
            m = evaluate_questions(rows, quantised).metrics
            same = sum(quantised.ask(r["question"], r["history"]).answer == reference.ask(r["question"], r["history"]).answer
                       for r in rows)
            print(f"{path.name}: int8 first citation {m['gold_in_first_citation']:.3f}, facts {m['facts_covered']:.3f}, "
                  f"abstention recall {m.get('abstention_recall', float('nan')):.3f}; answers identical to fp32 {same}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
