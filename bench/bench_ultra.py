"""ULTRA benchmark (issue 28): query latency on movies and FB-100, and the whole FB-100 test split.

Run by hand, not in CI:
``KGVIZ_DATA=../shared/ingram-data .venv/bin/python bench/bench_ultra.py --threads 2``

Prints, for ``pretrained/ultra-3g`` (or ``--checkpoint``):

- movies (``sample_kgs/movies.tsv``): seconds per query with one query per call (each of the 5
  relations × 12 anchors × 2 directions, graph tensors cached as in the app) and with all 60
  queries of a direction in one call;
- FB-100 (``msg.txt``): seconds per query in calls of 16 test queries;
- the FB-100 test split ranked in both directions (2 × 2,329 queries), filtered against
  msg ∪ valid ∪ test, ranks by :func:`kgviz.ranking.ranks.filtered_rank` (ties: #greater + #equal//2 + 1),
  and for comparison with the authors' 0.438 the MRR with pessimistic ties (#greater + #equal + 1);
- InGram beside it: the same split with the default shipped checkpoint, one random draw
  (:func:`kgviz.evaluation.benchmark.evaluate`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import load_benchmark, read_kg
from kgviz.evaluation.benchmark import evaluate, query_set
from kgviz.models.ultra.network import load_ultra
from kgviz.models.pretrained import default_checkpoint
from kgviz.ranking.ranks import filtered_rank, metrics
from kgviz.runtime import cpu_model

ROOT = Path(__file__).resolve().parent.parent


def per_query_seconds(run, queries: int, repeats: int = 3) -> float:
    """Median over ``repeats`` of the wall time of ``run()`` divided by ``queries``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / queries)
    return statistics.median(times)


def bench_movies(scorer) -> None:
    kg = read_kg(ROOT / "sample_kgs" / "movies.tsv")
    anchors = torch.arange(kg.num_entities).repeat(kg.num_relations)
    relations = torch.arange(kg.num_relations).repeat_interleave(kg.num_entities)
    scorer.scores(kg, anchors[:1], relations[:1], "tail")  # graph tensors built and cached, as in the app

    def one_by_one():
        for direction in ("tail", "head"):
            for a, r in zip(anchors, relations):
                scorer.scores(kg, a[None], r[None], direction)

    def batched():
        for direction in ("tail", "head"):
            scorer.scores(kg, anchors, relations, direction)

    n = 2 * len(anchors)
    print(f"movies, batch 1: {per_query_seconds(one_by_one, n) * 1e3:.1f} ms per query ({n} queries)")
    print(
        f"movies, batch {len(anchors)} (all queries of a direction): {per_query_seconds(batched, n) * 1e3:.2f} ms per query"
    )


def rank_split(scorer, dataset) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """Filtered ranks of both directions (spec tie rule, pessimistic ties), the wall seconds it took
    and the process' CPU seconds (all threads; on a shared machine the wall time depends on the others)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    inf = dataset.inference
    qs = query_set(inf, dataset.test, np.concatenate([inf.triples, dataset.valid, dataset.test]))
    ranks, pessimistic = [], []
    q = qs.num_tail_queries
    for direction, rows in (("tail", slice(0, q)), ("head", slice(q, 2 * q))):
        scores = scorer.scores(inf, qs.anchors[rows], qs.relations[rows], direction)
        answers, mask = qs.answers[rows], qs.mask[rows]
        ranks.append(filtered_rank(scores, answers, mask))
        true = scores[torch.arange(len(answers)), answers][:, None]
        keep = ~mask
        keep[torch.arange(len(answers)), answers] = False
        pessimistic.append(1 + ((scores >= true) & keep).sum(1))
    return torch.cat(ranks), torch.cat(pessimistic), time.perf_counter() - start, time.process_time() - cpu_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "pretrained" / "ultra-3g"))
    parser.add_argument("--data", default=os.environ.get("KGVIZ_DATA", str(ROOT.parent / "shared" / "ingram-data")))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-ingram", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s), load {load}")
    scorer = load_ultra(args.checkpoint, device="cpu")
    print(f"model: {scorer.name} ({args.checkpoint})")
    bench_movies(scorer)

    dataset = load_benchmark(Path(args.data) / "FB-100")
    inf = dataset.inference
    anchors, relations = torch.from_numpy(dataset.test[:16, 0]), torch.from_numpy(dataset.test[:16, 1])
    scorer.scores(inf, anchors[:1], relations[:1], "tail")
    ms = per_query_seconds(lambda: scorer.scores(inf, anchors, relations, "tail"), 16) * 1e3
    print(f"FB-100, batch 16: {ms:.1f} ms per query")

    ranks, pessimistic, seconds, cpu_seconds = rank_split(scorer, dataset)
    m = metrics(ranks)
    print(
        f"FB-100 test, {len(ranks):,} queries (both directions): {seconds:.1f} s ({cpu_seconds:.1f} s of CPU); "
        f"filtered MRR {m['MRR']:.3f}, Hits@1 {m['Hits@1']:.3f}, Hits@10 {m['Hits@10']:.3f}, MR {m['MR']:.1f} "
        f"(spec ties); MRR {metrics(pessimistic)['MRR']:.3f} with pessimistic ties"
    )
    print(f"load average now: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if not args.skip_ingram:
        checkpoint = default_checkpoint()
        model, _, _ = load_checkpoint(checkpoint)
        start = time.perf_counter()
        result = evaluate(model, dataset, "test", seeds=(0,), device="cpu")
        print(
            f"InGram {checkpoint.name}, same split, one draw: {time.perf_counter() - start:.1f} s; "
            f"MRR {result['mean']['MRR']:.3f}"
        )


if __name__ == "__main__":
    main()
