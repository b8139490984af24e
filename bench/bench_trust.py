"""Times of the app's trust features on a 1,000-triple KG (run by hand; issue 21).

    OMP_NUM_THREADS=1 python bench/bench_trust.py [--checkpoint pretrained/WK-50] [--threads 1]

Prints, for the movies sample and a 1,000-triple KG (a typed people/cities/countries graph, or the
first 1,000 triples of FB-100's msg.txt when ``$KGVIZ_DATA`` has it): one forward pass and the
default ensemble (kgviz.defaults.DRAWS draws), the Predictions ranking with that ensemble beside one
draw, the self-check the app runs (the default ensemble's draws plus the baselines; target under
5 s) beside the baselines alone, and the fine-tuning steps of a 2 s adaptation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from kg_factory import typed_graph  # noqa: E402

from kgviz.training.adapt import adapt  # noqa: E402
from kgviz.models.ingram.checkpoint import load_checkpoint  # noqa: E402
from kgviz.graph.data import KGFormatError, KnowledgeGraph, from_triples, load_benchmark, read_kg  # noqa: E402
from kgviz.models.ingram.predictor import Predictor  # noqa: E402
from kgviz.models.pretrained import default_checkpoint  # noqa: E402
from kgviz.evaluation.selfcheck import self_check  # noqa: E402
from kgviz.defaults import DRAWS, SELF_CHECK_SEED  # noqa: E402
from kgviz.models.ingram.scorer import forward_seconds  # noqa: E402
from kgviz.ranking.ranks import rank_query  # noqa: E402


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def graphs() -> dict[str, KnowledgeGraph]:
    out = {"movies (sample)": read_kg(ROOT / "sample_kgs" / "movies.tsv")}
    rows = typed_graph("", np.random.default_rng(0), people=260)[:1000]
    out["typed, 1,000 triples"] = from_triples(rows, source="typed[:1000]")
    fb = Path(os.environ.get("KGVIZ_DATA", ROOT.parent / "shared" / "ingram-data")) / "FB-100"
    if (fb / "msg.txt").is_file():
        out["FB-100 msg.txt[:1000]"] = from_triples(
            load_benchmark(fb).inference.string_triples()[:1000], source="FB-100[:1000]"
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=None, help="default: the app's default model")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    source = args.checkpoint or default_checkpoint()
    model, config, _ = load_checkpoint(source)
    print(f"model {Path(source).name}; torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs")
    for name, kg in graphs().items():
        t = forward_seconds(model, kg, "cpu")
        k = DRAWS
        print(f"\n{name}: {kg.num_entities} entities, {kg.num_relations} relations, {kg.num_triples} triples")
        print(f"  one forward pass {t * 1000:7.1f} ms; default ensemble K = {k} (kgviz.defaults, fixed)")
        h, r = kg.triples[0, 0], kg.triples[0, 1]
        for label, seeds in (("one draw", [0]), (f"default ensemble ({k})", range(k))):
            wall, _ = timed(lambda: rank_query(Predictor(model, kg, seeds=seeds, device="cpu"), int(h), int(r)))
            print(f"  Predictions ranking, {label:<24} {wall:6.2f} s")
        base, _ = timed(lambda: self_check(kg, None, device="cpu"))
        wall, res = timed(
            lambda: self_check(kg, model, seeds=range(SELF_CHECK_SEED, SELF_CHECK_SEED + k), device="cpu")
        )
        print(
            f"  self-check (app: {k} draws + baselines) {wall:6.2f} s, {res.num_folds} folds, {res.protocol} "
            f"(target < 5 s); baselines alone {base:.2f} s"
        )
        try:
            res_b = adapt(model, config, kg, seconds=2.0, device="cpu")
        except KGFormatError as exc:
            print(f"  adapt: refused, {exc}")
            continue
        print(
            f"  adapt 2 s: {res_b.steps} steps in {res_b.seconds:.1f} s, loss {np.mean(res_b.losses[:5]):.3f} "
            f"(first 5) -> {np.mean(res_b.losses[-5:]):.3f} (last 5)"
        )


if __name__ == "__main__":
    main()
