"""Time of `kgviz transfer` on a whole test split, next to `kgviz evaluate` on the same draws (run by hand).

    KGVIZ_DATA=../shared/ingram-data OMP_NUM_THREADS=1 python bench/bench_transfer.py [--data FB-100] \
        [--checkpoint pretrained/NL-100] [--ensemble 10] [--repeat 3]

`transfer` = InGram single draws 100–104 and the ensemble of 10 draws (100–109), each raw and
under the three constraint settings, plus the baselines (relation-tail frequency, degree,
personalized PageRank) and an untrained InGram of the same shape. The reference in the same run
is `kgviz.evaluation.benchmark.evaluate` with the same draws (raw InGram rows only). The target of issue 20:
under 20 s on the 2-core CPU for FB-100, one checkpoint, 10 draws. Medians of ``--repeat`` runs;
the machine may be shared, so the process CPU time is printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgviz.models.ingram.checkpoint import load_checkpoint  # noqa: E402
from kgviz.graph.data import load_benchmark  # noqa: E402
from kgviz.evaluation.benchmark import REPORT_SEEDS, evaluate  # noqa: E402
from kgviz.runtime import retain_freed_memory  # noqa: E402
from kgviz.evaluation.transfer import transfer  # noqa: E402


def timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="FB-100")
    p.add_argument("--checkpoint", default=str(ROOT / "pretrained" / "NL-100"))
    p.add_argument("--ensemble", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    root = Path(os.environ.get("KGVIZ_DATA", ROOT.parent / "shared" / "ingram-data"))
    folder = root / args.data
    retain_freed_memory()  # as the CLI does
    seeds = list(REPORT_SEEDS[:5])
    model, _, _ = load_checkpoint(args.checkpoint)
    data = load_benchmark(folder)
    print(
        f"{args.data} test split ({len(data.test)} queries × 2), {Path(args.checkpoint).name}, draws {seeds} + "
        f"ensemble of {args.ensemble}; torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs"
    )
    runs = {
        "kgviz evaluate (raw InGram only)": lambda: evaluate(
            model, data, "test", seeds=seeds, ensemble=args.ensemble, device="cpu"
        ),
        "kgviz transfer (whole table)": lambda: transfer(
            [args.checkpoint], [folder], seeds=seeds, ensemble=args.ensemble, device="cpu", progress=False
        ),
        "  of which InGram rows": lambda: transfer(
            [args.checkpoint],
            [folder],
            seeds=seeds,
            ensemble=args.ensemble,
            device="cpu",
            progress=False,
            baselines=False,
            untrained=False,
        ),
    }
    for label, fn in runs.items():
        times = [timed(fn) for _ in range(args.repeat)]
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(f"{label:<36} {wall:6.1f} s wall  {cpu:6.1f} s CPU")
    print("target: transfer under 20 s (issue 20)")
    bench_selfcheck(root, model)


def bench_selfcheck(root: Path, model) -> None:
    """`self_check` on a 1,000-triple KG (the first 1,000 triples of FB-100's msg.txt), 10 draws, next
    to exact leave-one-out with one forward pass per held-out triple and draw (estimated from one pass)."""
    from kgviz.graph.data import KnowledgeGraph, from_triples
    from kgviz.evaluation.benchmark import embed
    from kgviz.evaluation.selfcheck import held_out_triples, self_check

    kg = from_triples(load_benchmark(root / "FB-100").inference.string_triples()[:1000], source="FB-100[:1000]")
    seeds = list(REPORT_SEEDS)
    self_check(kg, model, seeds=seeds[:1], device="cpu")  # warm-up
    wall, cpu = timed(lambda: self_check(kg, model, seeds=seeds, device="cpu"))
    result = self_check(kg, model, seeds=seeds, device="cpu")
    held, _ = held_out_triples(kg)
    one = KnowledgeGraph(kg.entities, kg.relations, kg.triples[1:])
    pass_wall, _ = timed(lambda: embed(model, one, seeds[:1], torch.device("cpu")))
    print(
        f"self-check of {kg}: {result.protocol}, {result.num_folds} folds, {len(seeds)} draws: "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU (target: under 5 s, issue 21)"
    )
    print(
        f"  one forward pass per held-out triple and draw ({len(held) * len(seeds)} passes of "
        f"{pass_wall * 1000:.0f} ms): about {pass_wall * len(held) * len(seeds):.0f} s"
    )


if __name__ == "__main__":
    main()
