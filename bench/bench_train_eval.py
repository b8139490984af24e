"""Training-epoch and evaluation timings, next to straightforward references (run by hand).

    KGVIZ_DATA=../shared/ingram-data python bench/bench_train_eval.py [--sets NL-100 WK-100] [--epochs 10]

- Epoch: one full training step (split, relation graph, forward, loss, backward, Adam) with
  kgviz's model — eager, with ``retain_freed_memory``, and with ``--compile`` kernels — and with
  the same step using the per-edge reference :mod:`kgviz.models.ingram.reference` (concatenations per edge,
  like the authors' code).
- Evaluation: the whole test split (both directions, one random draw) with the batched
  ``kgviz.evaluation.benchmark.evaluate`` and with the authors'-style per-triple loop.
- Then the same with glibc keeping freed memory (``retain_freed_memory``, what the CLI does) and,
  for the epoch, with the ``--compile`` kernels as well.
Figures are medians; the machine may be shared, so run it on a quiet machine for the docs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from kgviz.graph.data import load_benchmark
from kgviz.evaluation.benchmark import embed, evaluate
from kgviz.models.ingram.network import InGramConfig
from kgviz.models.ingram.reference import forward as reference_forward
from kgviz.runtime import retain_freed_memory
from kgviz.training.loop import Trainer

ROOT = Path(__file__).resolve().parents[1]


def time_epochs(trainer: Trainer, epochs: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        trainer.step()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def per_triple_ranks(model, ent, rel, queries, known, num_entities):
    """The authors' evaluation loop: one query at a time, a Python dict filter."""
    filt_tail, filt_head = {}, {}
    for h, r, t in known.tolist():
        filt_tail.setdefault((h, r), []).append(t)
        filt_head.setdefault((r, t), []).append(h)
    ranks = []
    all_e = torch.arange(num_entities)
    with torch.no_grad():
        for h, r, t in queries.tolist():
            for target, cand, filt in (
                (t, torch.stack([torch.full_like(all_e, h), torch.full_like(all_e, r), all_e], 1), filt_tail[(h, r)]),
                (h, torch.stack([all_e, torch.full_like(all_e, r), torch.full_like(all_e, t)], 1), filt_head[(r, t)]),
            ):
                scores = model.score(ent, rel, cand)
                thres = scores[target].item()
                scores[filt] = thres - 1
                ranks.append(int((scores > thres).sum() + (scores == thres).sum() // 2 + 1))
    return np.array(ranks)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("KGVIZ_DATA", str(ROOT.parent / "shared" / "ingram-data")))
    p.add_argument("--sets", nargs="+", default=["NL-100", "WK-100"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--skip-reference", action="store_true", help="skip the slow reference runs")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    class NaiveInGram(torch.nn.Module):
        """The same parameters, forward by the straightforward per-edge formula."""

        def __init__(self, model):
            super().__init__()
            self.m = model

        def forward(self, *inputs):
            return reference_forward(self.m, *inputs)[:2]

        def score(self, *inputs):
            return self.m.score(*inputs)

    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    rows = []
    for name in args.sets:
        data = load_benchmark(Path(args.data) / name)
        cfg = InGramConfig()
        tr = Trainer(data, cfg, "/tmp/kgviz-bench-run", seed=0)
        eager = time_epochs(tr, args.epochs)
        ref = float("nan")
        if not args.skip_reference:
            tr_ref = Trainer(data, cfg, "/tmp/kgviz-bench-run", seed=0)
            tr_ref.model = NaiveInGram(tr_ref.model)
            tr_ref.optimizer = torch.optim.Adam(tr_ref.model.parameters(), lr=cfg.learning_rate)
            ref = time_epochs(tr_ref, max(2, args.epochs // 3), warmup=1)
        rows.append((name, "epoch, eager", eager, ref))
        # Evaluation: batched vs per-triple loop, one draw.
        model = tr.model.eval()
        t0 = time.perf_counter()
        evaluate(model, data, "test", seeds=[0], device="cpu")
        ours = time.perf_counter() - t0
        ref_eval = float("nan")
        if not args.skip_reference:
            ((ent, rel),) = embed(model, data.inference, [0], torch.device("cpu"))
            known = np.concatenate([data.inference.triples, data.valid, data.test])
            t0 = time.perf_counter()
            per_triple_ranks(model, ent, rel, data.test, known, data.inference.num_entities)
            ref_eval = time.perf_counter() - t0
        rows.append((name, f"evaluate test ({len(data.test)} × 2 queries)", ours, ref_eval))

    # What `python -m kgviz train/evaluate` run: glibc keeps freed memory; then also --compile.
    retain_freed_memory()
    for name in args.sets:
        data = load_benchmark(Path(args.data) / name)
        tr = Trainer(data, InGramConfig(), "/tmp/kgviz-bench-run", seed=0)
        rows.append((name, "epoch, freed memory kept", time_epochs(tr, args.epochs), float("nan")))
        t0 = time.perf_counter()
        evaluate(tr.model.eval(), data, "test", seeds=[0], device="cpu")
        rows.append((name, "evaluate test, freed memory kept", time.perf_counter() - t0, float("nan")))
    for name in args.sets:
        data = load_benchmark(Path(args.data) / name)
        tr = Trainer(data, InGramConfig(), "/tmp/kgviz-bench-run", seed=0)
        tr.model.use_compiled_kernels()
        rows.append(
            (name, "epoch, freed memory kept + --compile", time_epochs(tr, args.epochs, warmup=3), float("nan"))
        )

    print(f"\n{'set':<8} {'what':<42} {'kgviz (s)':>10} {'reference (s)':>14} {'speed-up':>9}")
    for name, what, ours, ref in sorted(rows, key=lambda r: r[0]):  # stable: per set in the order measured
        speed = f"{ref / ours:.1f}×" if ref == ref else ""
        print(f"{name:<8} {what:<42} {ours:>10.3f} {ref:>14.3f} {speed:>9}")


if __name__ == "__main__":
    main()
