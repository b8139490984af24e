"""Core benchmark (issue #2): relation graph and forward pass, ours next to a naive per-edge version.

Run by hand, not in CI:  ``KGVIZ_DATA=../shared/ingram-data .venv/bin/python bench/bench_core.py``

For the NL-100 and WK-100 inference graphs (``msg.txt``) it measures, in one run:

- relation-graph build (``relation_graph`` + ``binned_edges``) — ours (sparse, vectorised) and a
  naive build (Python dicts and loops over entities, then a Python sort for the bins);
- forward pass of the default model (``no_grad``, features drawn beforehand), median of ``--runs``
  — ours (:mod:`kgviz.models.ingram.network`) and the per-edge reference :mod:`kgviz.models.ingram.reference`, written like the
  authors' code (a concatenation and a full linear map per edge, softmax by ``scatter_reduce``);
- peak memory: for the relation graph the peak of Python/numpy allocations (``tracemalloc``);
  for the forward pass the growth of the process' peak resident set (Linux ``VmHWM`` after
  resetting it through ``/proc/self/clear_refs``) during one forward, each in a fresh subprocess,
  because torch's CPU allocations are not seen by ``tracemalloc``;

and the relation-graph build of a synthetic 1,000,000-triple KG (ours only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from kgviz.runtime import cpu_model, retain_freed_memory
from kgviz.graph.data import load_benchmark
from kgviz.models.ingram.predictor import graph_tensors, seeded_features
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.models.ingram.reference import forward as naive_forward
from kgviz.graph.relgraph import binned_edges, relation_graph

DATASETS = ("NL-100", "WK-100")
TARGETS = {  # seconds, on the project's 2-core CPU
    ("forward", "NL-100"): 0.02,
    ("forward", "WK-100"): 0.1,
    ("relgraph", "WK-100"): 0.05,
    ("relgraph", "synthetic-1M"): 5.0,
}


# -- naive references ------------------------------------------------------------------------


def naive_relation_graph(triples: np.ndarray, num_relations: int, num_bins: int) -> np.ndarray:
    """A from Python dicts: per entity, counts per (augmented) relation as head and as tail, then
    Σ count_i · count_j / d² over pairs; bins by a Python sort. Returns ``[i, j, bin]`` rows."""
    head = defaultdict(lambda: defaultdict(int))  # entity -> relation -> count (E_h)
    tail = defaultdict(lambda: defaultdict(int))  # entity -> relation -> count (E_t)
    for h, r, t in triples.tolist():
        head[h][r] += 1
        tail[t][r] += 1
        head[t][r + num_relations] += 1  # inverse (t, r + R, h)
        tail[h][r + num_relations] += 1
    a = defaultdict(float)
    for incidence in (head, tail):
        for counts in incidence.values():
            d = sum(counts.values())
            for i, ci in counts.items():
                for j, cj in counts.items():
                    a[(i, j)] += ci * cj / (d * d)
    edges = sorted(a.items(), key=lambda kv: -kv[1])
    nnz = len(edges)
    rows = [(i, j, -(-(k * num_bins) // nnz) - 1) for k, ((i, j), _) in enumerate(edges, start=1)]
    return np.array(sorted(rows), dtype=np.int64)


# -- measurements ----------------------------------------------------------------------------


def median_time(fn, runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def traced_peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    raise KeyError(key)


def setup(data: Path, name: str):
    kg = load_benchmark(data / name).inference
    torch.manual_seed(0)
    model = InGram.from_config(InGramConfig()).eval()
    g = graph_tensors(kg, model.num_bin)
    x, z = seeded_features(model, kg, 0)
    return kg, model, g, x, z


def memory_probe(data: Path, name: str, impl: str) -> dict:
    """Run in a fresh process: growth of the peak RSS during one forward pass."""
    kg, model, g, x, z = setup(data, name)
    fn = model if impl == "ours" else (lambda *a: naive_forward(model, *a))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    with torch.no_grad():
        fn(x, z, g.triplets, g.relation_triplets)
    return {"peak_extra_mib": (_status_kib("VmHWM") - before) / 1024}


def forward_peak_mib(data: Path, name: str, impl: str, threads: int) -> float | None:
    cmd = [sys.executable, __file__, "--data", str(data), "--threads", str(threads), "--memory-probe", name, impl]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"memory probe {name}/{impl} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_extra_mib"]


def matmul_gflops(threads: int) -> float:
    """Dense float32 matmul throughput right now (GFLOP/s): a yardstick on a shared machine."""
    a, w = torch.randn(12_000, 256), torch.randn(768, 256)
    t = median_time(lambda: a @ w.T, 7, warmup=2)
    return 2 * 12_000 * 256 * 768 / t / 1e9


def forward_gflop(model, *inputs) -> float:
    """Floating-point operations of the matrix products in one forward pass (GFLOP)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    return counter.get_total_flops() / 1e9


def synthetic_triples(num_triples: int, num_entities: int, num_relations: int, seed: int = 0) -> np.ndarray:
    """Power-law-ish KG: entity ids drawn from a Zipf-like distribution, relations uniform."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, num_entities + 1) ** 0.8
    p /= p.sum()
    return np.stack(
        [
            rng.choice(num_entities, num_triples, p=p),
            rng.integers(0, num_relations, num_triples),
            rng.choice(num_entities, num_triples, p=p),
        ],
        axis=1,
    ).astype(np.int64)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("KGVIZ_DATA", "../shared/ingram-data"))
    p.add_argument("--runs", type=int, default=7, help="timed runs per figure (median)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    p.add_argument("--synthetic", type=int, default=1_000_000, help="triples of the synthetic KG (0: skip)")
    p.add_argument(
        "--keep-freed-memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="glibc keeps freed buffers (kgviz.runtime.retain_freed_memory), as the CLI and the app run",
    )
    p.add_argument("--memory-probe", nargs=2, metavar=("DATASET", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.keep_freed_memory:
        retain_freed_memory()
    data = Path(args.data)
    if args.memory_probe:
        print(json.dumps(memory_probe(data, *args.memory_probe)))
        return

    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {cpu_model()} · {os.cpu_count()} cores · "
        f"torch {torch.__version__} · {args.threads} thread(s) · freed memory kept: "
        f"{'yes' if args.keep_freed_memory else 'no'} · load average {os.getloadavg()[0]:.2f} · "
        f"median of {args.runs} runs"
    )
    print(f"dense float32 matmul right now: {matmul_gflops(args.threads):.0f} GFLOP/s")
    rows = []  # (what, data set, size, ours s, naive s, ours MiB, naive MiB, max |Δ|)
    for name in DATASETS:
        if not (data / name / "msg.txt").is_file():
            print(f"skipping {name}: {data / name} not found")
            continue
        kg, model, g, x, z = setup(data, name)
        t = kg.triples
        build = lambda: binned_edges(relation_graph(t, kg.num_entities, kg.num_relations), 10)  # noqa: E731
        naive_build = lambda: naive_relation_graph(t, kg.num_relations, 10)  # noqa: E731
        assert np.array_equal(np.sort(build()[:, :2], axis=0), np.sort(naive_build()[:, :2], axis=0))
        rows.append(
            (
                "relation graph",
                name,
                f"{kg.num_triples:,} triples, {g.relation_triplets.shape[0]:,} edges",
                median_time(build, args.runs),
                median_time(naive_build, max(1, args.runs // 2)),
                traced_peak_mib(build),
                traced_peak_mib(naive_build),
                None,
            )
        )
        with torch.no_grad():
            ours = lambda: model(x, z, g.triplets, g.relation_triplets)  # noqa: E731
            naive = lambda: naive_forward(model, x, z, g.triplets, g.relation_triplets)  # noqa: E731
            diff = max((a - b).abs().max().item() for a, b in zip(ours(), naive()))
            print(
                f"{name}: matrix products of one forward: ours {forward_gflop(model, x, z, g.triplets, g.relation_triplets):.2f} "
                f"GFLOP, naive {forward_gflop(lambda *a: naive_forward(model, *a), x, z, g.triplets, g.relation_triplets):.2f} GFLOP"
            )
            rows.append(
                (
                    "forward",
                    name,
                    f"N={kg.num_entities:,}, 2M={len(g.triplets):,}",
                    median_time(ours, args.runs, warmup=2),
                    median_time(naive, args.runs, warmup=2),
                    forward_peak_mib(data, name, "ours", args.threads),
                    forward_peak_mib(data, name, "naive", args.threads),
                    diff,
                )
            )
    if args.synthetic:
        n_ent, n_rel = args.synthetic // 5, 500
        triples = synthetic_triples(args.synthetic, n_ent, n_rel)
        build = lambda: binned_edges(relation_graph(triples, n_ent, n_rel), 10)  # noqa: E731
        rows.append(
            (
                "relation graph",
                "synthetic-1M" if args.synthetic == 1_000_000 else "synthetic",
                f"{args.synthetic:,} triples, {n_ent:,} ent., {n_rel} rel.",
                median_time(build, 3, warmup=0),
                None,
                traced_peak_mib(build),
                None,
                None,
            )
        )

    fmt = lambda v, spec: "—" if v is None else format(v, spec)  # noqa: E731
    print(
        f"\n{'what':<15} {'data':<13} {'size':<50} {'ours s':>9} {'naive s':>9} {'speed-up':>8} "
        f"{'ours MiB':>9} {'naive MiB':>9} {'max |Δ|':>8}  target"
    )
    for what, name, size, t_ours, t_naive, m_ours, m_naive, diff in rows:
        key = ("forward" if what == "forward" else "relgraph", name)
        target = TARGETS.get(key)
        verdict = "" if target is None else f"< {target:g} s: {'met' if t_ours < target else 'NOT met'}"
        speed = None if t_naive is None else t_naive / t_ours
        print(
            f"{what:<15} {name:<13} {size:<50} {t_ours:>9.4f} {fmt(t_naive, '>9.4f')} {fmt(speed, '>7.1f') + '×' if speed else '—':>8} "
            f"{fmt(m_ours, '>9.1f')} {fmt(m_naive, '>9.1f')} {fmt(diff, '>8.1e')}  {verdict}"
        )


if __name__ == "__main__":
    main()
