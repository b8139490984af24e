"""Choose `kgviz adapt`'s defaults on validation splits of training graphs (never FB-*, never a test split).

    OMP_NUM_THREADS=1 python scripts/adapt_defaults.py --seconds 30 [--sets WK-25 NL-100] [--small 3]

For each setting (weights moved, learning rate) and each graph: :func:`kgviz.training.adapt.adapt` from the default
model, on the set's ``msg.txt`` (it holds out its own validation facts and keeps its best state), then the
filtered MRR with the app's constraints (mean of the validation draws) on the set's ``valid.txt``, which the
adaptation never saw, from ``msg.txt`` as the known graph (filter: msg ∪ valid). Small graphs: KGs of 50–300
triples cut from ``msg ∪ valid`` (:func:`kgviz.training.validation_graphs.small_valid_graphs`), adapted on their msg
triples and scored on their valid triples. Records every figure under ``"defaults_search"`` of
``docs/adapt.json`` (the ``"runs"`` of ``scripts/adapt_figure.py`` are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from kgviz.training.adapt import adapt
from kgviz.training.adapt_valid import CRITERION, MARGIN_SE, VALID_LEAST, ValidationScorer, ValidationSplit
from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import KnowledgeGraph, load_benchmark
from kgviz.models.pretrained import default_checkpoint
from kgviz.training.release import write_json
from kgviz.training.validation_graphs import small_valid_graphs

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [("all", 5e-4), ("all", 1e-4), ("output", 1e-4), ("output", 1e-3)]


def scorer_on(graph: KnowledgeGraph, queries: np.ndarray) -> ValidationScorer:
    known = KnowledgeGraph(graph.entities, graph.relations, np.concatenate([graph.triples, queries]), graph.source)
    return ValidationScorer(ValidationSplit(known, graph, queries), torch.device("cpu"))


def change(row: dict) -> float:
    """Valid MRR change under the final rule: a graph holding out fewer than ``VALID_LEAST`` facts keeps its start."""
    if row["held_out"] < VALID_LEAST:
        return 0.0
    return row["valid_adapted"][CRITERION] - row["valid_zero_shot"][CRITERION]


def cell(row: dict) -> str:
    after = row["valid_adapted"][CRITERION]
    if row["held_out"] < VALID_LEAST:
        return (
            f"start (the run kept {'step ' + str(row['best_step']) if row['improved'] else 'the start'}: {after:.3f})"
        )
    return f"{after:.3f} ({'kept step ' + str(row['best_step']) if row['improved'] else 'start'})"


def table(rows: list[dict]) -> str:
    """The search as a markdown table under the final rule: valid MRR zero-shot and after each setting."""
    settings = list(dict.fromkeys((r["parts"], r["learning_rate"]) for r in rows))
    head = "| graph | triples | valid facts | held out | zero-shot | " + " | ".join(f"{a}, {b:g}" for a, b in settings)
    lines = [head + " |", "|---" * (5 + len(settings)) + "|"]
    for g in dict.fromkeys(r["graph"] for r in rows):
        mine = {(r["parts"], r["learning_rate"]): r for r in rows if r["graph"] == g}
        first = next(iter(mine.values()))
        cells = [cell(m) if (m := mine.get(k)) else "" for k in settings]
        lines.append(
            f"| {g} | {first['triples']} | {first['valid_facts']} | {first['held_out']} | "
            f"{first['valid_zero_shot'][CRITERION]:.3f} | " + " | ".join(cells) + " |"
        )
    means = []
    for k in settings:
        d = [change(r) for r in rows if (r["parts"], r["learning_rate"]) == k]
        means.append(f"{np.mean(d):+.3f} (worst {min(d):+.3f}, better on {sum(x > 0 for x in d)} of {len(d)})")
    lines.append("| mean change (final rule) |  |  |  |  | " + " | ".join(means) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["WK-25", "WK-75", "NL-100"])
    p.add_argument("--small", type=int, default=3, help="small graphs cut from each set")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--settings", nargs="+", default=[f"{a}:{b:g}" for a, b in SETTINGS], help="PARTS:LR …")
    p.add_argument("--no-full", action="store_true", help="only the small graphs, not the sets' whole msg.txt")
    p.add_argument("--json", default=str(ROOT / "docs" / "adapt.json"))
    p.add_argument(
        "--only", nargs="*", default=None, help="only these graphs (labels as printed, e.g. 'NL-50 small 1')"
    )
    p.add_argument("--table", action="store_true", help="print the recorded search as a markdown table and stop")
    args = p.parse_args()
    if args.table:
        print(table(json.loads(Path(args.json).read_text(encoding="utf-8"))["defaults_search"]["rows"]))
        return
    torch.set_num_threads(1)
    data = Path(os.environ.get("KGVIZ_DATA", "data"))
    start = default_checkpoint()
    model, config, _ = load_checkpoint(start)
    graphs = []
    for name in args.sets:
        if name.startswith("FB"):
            raise SystemExit("FB-* are test sets: never chosen on")
        d = load_benchmark(data / name)
        if not args.no_full:
            graphs.append((f"{name} msg", d.inference, d.valid))
        graphs += [
            (f"{name} small {i}", g.graph, g.queries)
            for i, g in enumerate(small_valid_graphs(d, args.small, size_range=(50, 300)))
        ]
    settings = [(a, float(b)) for a, b in (x.split(":") for x in args.settings)]
    path = Path(args.json)
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"runs": []}
    rows = doc.get("defaults_search", {}).get("rows", [])
    for label, graph, queries in graphs:
        if args.only is not None and label not in args.only:
            continue
        scorer = scorer_on(graph, queries)
        zero = scorer.ingram(model)
        freq = scorer.frequency()
        print(
            f"{label}: {graph.num_triples} triples, {len(queries)} valid facts; zero-shot {zero[CRITERION]:.3f}, frequency {freq[CRITERION]:.3f}",
            flush=True,
        )
        for parts, lr in settings:
            t0 = time.perf_counter()
            r = adapt(model, config, graph, seconds=args.seconds, learning_rate=lr, parts=parts, device="cpu")
            after = scorer.ingram(r.model)
            row = {
                "graph": label,
                "triples": graph.num_triples,
                "valid_facts": len(queries),
                "parts": parts,
                "learning_rate": lr,
                "seconds": args.seconds,
                "steps": r.steps,
                "best_step": r.best_step,
                "improved": r.improved,
                "held_out": r.num_valid,
                "held_out_start": r.start_mrr[CRITERION],
                "held_out_best": r.best_mrr[CRITERION],
                "held_out_history": [[h.step, round(h.seconds, 1), h.mrr] for h in r.history],
                "valid_zero_shot": zero,
                "valid_adapted": after,
                "valid_frequency": freq,
            }
            same = ("graph", "parts", "learning_rate", "seconds")
            rows = [r for r in rows if any(r[k] != row[k] for k in same)] + [row]
            print(
                f"  {parts} {lr:g}: {r.steps} steps, kept step {r.best_step}, held-out {r.start_mrr[CRITERION]:.3f}->{r.best_mrr[CRITERION]:.3f}; valid {zero[CRITERION]:.3f}->{after[CRITERION]:.3f} ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            doc["defaults_search"] = {
                "checkpoint": f"pretrained/{start.name}",
                "criterion": f"valid MRR, {CRITERION}",
                "rule": f"best held-out state whose gain over the start exceeds {MARGIN_SE:g} standard error",
                "rows": rows,
            }
            write_json(path, doc)


if __name__ == "__main__":
    main()
