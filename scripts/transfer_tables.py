"""Write ``docs/transfer.md`` (and ``docs/transfer.json``): every checkpoint on KGs it never saw, next to baselines.

    OMP_NUM_THREADS=1 python scripts/transfer_tables.py [--reuse] [--checkpoints pretrained/NL-100 ...]

Every checkpoint folder in ``pretrained/`` (a new one, e.g. ``pretrained/universal``, is one more
row: nothing to change here) is measured with :func:`kgviz.evaluation.transfer` on the test splits of
FB-25/50/75/100 (zero-shot: no shipped model saw an FB triple), NL-100 and WK-100, and on each
sample KG's ``# query:`` line (rank of the expected answer). Baselines from the known facts
(``msg.txt``, or the sample KG) stand beside them. Draws: the reporting seeds
(:data:`kgviz.evaluation.benchmark.REPORT_SEEDS`), never the ones that chose weights.

``--reuse`` keeps a checkpoint's figures from the previous ``docs/transfer.json`` when its weight
file, the seeds and the sets are unchanged, so adding a checkpoint costs only its own run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from recommended_tables import recommended_lines
from results_tables import LEAKAGE_NOTE  # scripts/ is on the path of a script run from it

from kgviz.models.ingram.checkpoint import atomic_write_bytes, find_checkpoint_file, load_checkpoint
from kgviz.graph.data import load_benchmark, read_kg
from kgviz.evaluation.benchmark import REPORT_SEEDS
from kgviz.graph.samples import read_meta, sample_paths
from kgviz.evaluation.transfer import baseline_rows, checkpoint_rows, untrained_rows
from kgviz.evaluation.transfer_ranks import (
    CONSTRAINTS,
    baseline_ranks,
    directed_task,
    ingram_ranks,
    transfer_task,
    untrained_ranks,
)

ROOT = Path(__file__).resolve().parents[1]

SETS = ["FB-25", "FB-50", "FB-75", "FB-100", "NL-100", "WK-100"]
ZERO_SHOT = ["FB-25", "FB-50", "FB-75", "FB-100"]
DEVICE = torch.device("cpu")


def checkpoint_folders(directory: Path) -> list[Path]:
    """Folders holding a ``config.json``; ``universal`` first, then by name."""
    found = [d for d in directory.iterdir() if (d / "config.json").is_file()]
    return sorted(found, key=lambda d: (d.name != "universal", d.name))


def digest(folder: Path) -> str:
    return hashlib.sha256(find_checkpoint_file(folder).read_bytes()).hexdigest()[:16]


def sample_tasks(directory: Path) -> list[dict]:
    """One single-direction task per ``# query:`` line with an expected answer."""
    out = []
    for name, path in sample_paths(directory).items():
        kg, meta = read_kg(path), read_meta(path)
        for q in meta.queries:
            if q.answer is None:
                continue
            a, r, x = kg.entity_index[q.anchor], kg.relation_index[q.relation], kg.entity_index[q.answer]
            triple = [a, r, x] if q.direction == "tail" else [x, r, a]
            task = directed_task(name, kg, np.array([triple]), np.array([q.direction == "tail"]), kg.triples)
            out.append({"sample": name, "query": q.text(), "task": task, "candidates": kg.num_entities})
    return out


def slim(row: dict) -> dict:
    """A table row as ``docs/transfer.json`` keeps it: the figures the tables show, 6 decimals (so that
    the tables' 3 decimals are rounded once)."""
    out = {k: v for k, v in row.items() if k not in ("single", "metrics", "about")}
    if row.get("single"):
        out["single"] = {
            "mean": {"MRR": round(row["single"]["mean"]["MRR"], 6)},
            "std": {"MRR": round(row["single"]["std"]["MRR"], 6)},
        }
    else:
        out["single"] = None
    out["metrics"] = {k: round(row["metrics"][k], 6) for k in ("MRR", "Hits@1", "Hits@3", "Hits@10")}
    return out


def measure_checkpoint(
    folder: Path, tasks: dict, samples: list[dict], seeds: list[int], ensemble: int, sample_seeds: list[int]
) -> dict:
    model, _, _ = load_checkpoint(folder)
    sets = {}
    for name, task in tasks.items():
        t0 = time.perf_counter()
        sets[name] = checkpoint_rows(model, task, name=folder.name, seeds=seeds, ensemble=ensemble, device=DEVICE)
        sets[name] = [slim(row) for row in sets[name]]
        print(
            f"{folder.name} on {name}: ensemble MRR {sets[name][0]['metrics']['MRR']:.3f}, both constraints "
            f"{sets[name][-1]['metrics']['MRR']:.3f} ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    ranks = {}
    for s in samples:
        singles, ens = ingram_ranks(model, s["task"], seeds=sample_seeds, ensemble=len(sample_seeds), device=DEVICE)
        raw = [int(r["none"][0]) for r in singles]
        ranks[s["query"]] = {
            "raw": int(ens["none"][0]),
            "both": int(ens["both constraints"][0]),
            "single_min": min(raw),
            "single_max": max(raw),
        }
    return {
        "sha256": digest(folder),
        "seeds": seeds,
        "ensemble": ensemble,
        "sample_seeds": sample_seeds,
        "sets": sets,
        "samples": ranks,
    }


def measure_references(folders: list[Path], tasks: dict, samples: list[dict], draw_seed: int) -> dict:
    """Baselines on every set and sample query; an untrained InGram of each distinct checkpoint shape."""
    shapes: dict[tuple, tuple[str, object]] = {}
    for f in folders:
        _, config, _ = load_checkpoint(f)
        shapes.setdefault(tuple(sorted(config.model_kwargs().items())), (f.name, config))
    sets = {}
    for name, task in tasks.items():
        sets[name] = [
            slim(r)
            for r in baseline_rows(task)
            + [
                row
                for of, cfg in shapes.values()
                for row in untrained_rows(
                    untrained_ranks(cfg, task, draw_seed=draw_seed, device=DEVICE, constraints=tuple(CONSTRAINTS)),
                    shape_of=of,
                )
            ]
        ]
        print(
            f"baselines on {name}: "
            + ", ".join(f"{r['method']} ({r['constraints']}) {r['metrics']['MRR']:.3f}" for r in sets[name]),
            flush=True,
        )
    ranks = {}
    for s in samples:
        ranks[s["query"]] = {k: int(v[0]) for k, v in baseline_ranks(s["task"]).items()}
        for of, cfg in shapes.values():
            ranks[s["query"]][f"untrained ({of} shape)"] = int(
                untrained_ranks(cfg, s["task"], draw_seed=draw_seed, device=DEVICE)["none"][0]
            )
    return {"sets": sets, "samples": ranks}


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def summary_lines(ckpts: dict, refs: dict, sets: list[str]) -> list[str]:
    zs = [s for s in ZERO_SHOT if s in sets]
    head = "| method | " + " | ".join(sets) + (" | mean FB-* |" if zs else " |")
    lines = [head, "|---|" + "---|" * (len(sets) + bool(zs))]

    def line(label: str, row_of) -> str:
        vals = {s: row_of(s)["metrics"]["MRR"] for s in sets}
        cells = [f"{vals[s]:.3f}" for s in sets] + ([f"**{np.mean([vals[s] for s in zs]):.3f}**"] if zs else [])
        return f"| {label} | " + " | ".join(cells) + " |"

    for name, c in ckpts.items():
        lines.append(line(f"InGram `{name}`", lambda s, c=c: c["sets"][s][0]))
        lines.append(line(f"  `{name}` + both constraints", lambda s, c=c: c["sets"][s][-1]))
    for k, r in enumerate(refs["sets"][sets[0]]):
        label = r["method"] if r["constraints"] == "none" else f"  + {r['constraints']}"
        lines.append(line(label, lambda s, k=k: refs["sets"][s][k]))
    return lines


def best_vs_frequency(ckpts: dict, refs: dict, sets: list[str]) -> list[str]:
    out = []
    for s in [x for x in ("FB-100",) if x in sets] + [x for x in ZERO_SHOT if x in sets and x != "FB-100"]:
        best = max(ckpts, key=lambda n: ckpts[n]["sets"][s][0]["metrics"]["MRR"])
        m = ckpts[best]["sets"][s]
        freq = {
            r["constraints"]: r["metrics"]["MRR"] for r in refs["sets"][s] if r["method"] == "relation-tail frequency"
        }
        out.append(
            f"- {s}: best checkpoint `{best}` {m[0]['metrics']['MRR']:.3f} raw, "
            f"{m[-1]['metrics']['MRR']:.3f} with both constraints; relation-tail frequency {freq['none']:.3f} raw, "
            f"{freq.get('both constraints', float('nan')):.3f} with both constraints (the same rules)."
        )
    return out


def bar_lines(ckpts: dict, refs: dict, sets: list[str], new: str = "universal") -> list[str]:
    """The bars of issue 20 for checkpoint ``new`` (raw InGram, ensemble), when it and the sets are there."""
    if new not in ckpts or not all(s in sets for s in ZERO_SHOT):
        return []
    mrr = lambda name, s: ckpts[name]["sets"][s][0]["metrics"]["MRR"]  # noqa: E731
    fb_mean = {n: np.mean([mrr(n, s) for s in ZERO_SHOT]) for n in ckpts}
    shipped = max((n for n in ckpts if n != new), key=fb_mean.get, default=None)
    freq = {
        s: next(r for r in refs["sets"][s] if r["method"] == "relation-tail frequency" and r["constraints"] == "none")[
            "metrics"
        ]["MRR"]
        for s in ZERO_SHOT
    }
    ok = lambda b: "**met**" if b else "not met"  # noqa: E731
    out = [
        f"## Bars of issue 20 for `{new}` (raw InGram, ensemble)",
        "",
        f"- FB-100 MRR ≥ 0.32: {mrr(new, 'FB-100'):.3f} — {ok(mrr(new, 'FB-100') >= 0.32)}",
    ]
    if shipped:
        out.append(
            f"- mean over FB-25/50/75/100 ≥ 1.2 × the best shipped checkpoint's (`{shipped}`, "
            f"{fb_mean[shipped]:.3f}): {fb_mean[new]:.3f} = {fb_mean[new] / fb_mean[shipped]:.2f}× — "
            f"{ok(fb_mean[new] >= 1.2 * fb_mean[shipped])}"
        )
    for s in ("NL-100", "WK-100"):
        if s in sets and s in ckpts:
            out.append(
                f"- {s} within 0.03 of `{s}`: {mrr(new, s):.3f} vs {mrr(s, s):.3f} — "
                f"{ok(mrr(new, s) >= mrr(s, s) - 0.03)}"
            )
    ranks = [r["raw"] for r in ckpts[new]["samples"].values()]
    both = [r["both"] for r in ckpts[new]["samples"].values()]
    out.append(
        f"- sample queries in the top 3: ranks {ranks} raw — {ok(all(r <= 3 for r in ranks))}; {both} with both "
        f"constraints (the app's default) — {ok(all(r <= 3 for r in both))} (seeds of the sample table below)"
    )
    beat = [s for s in ZERO_SHOT if mrr(new, s) > freq[s]]
    out += [f"- beyond: above relation-tail frequency on {len(beat)} of 4 FB sets ({', '.join(beat) or 'none'})", ""]
    return out


def adapt_lines(path: Path) -> list[str]:
    """The `kgviz adapt` figures written by ``scripts/adapt_figure.py`` (``docs/adapt.json``), if present."""
    if not path.is_file():
        return []
    runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
    out = [
        "## Adapting to the KG (`kgviz adapt`)",
        "",
        "Fine-tuned for the time budget on the set's `msg.txt` only (its queries never seen), then the test split, "
        f"ensemble of {runs[0]['ensemble']} draws ({runs[0]['seeds'][0]}–{runs[0]['seeds'][-1]}). "
        "Gain = adapted − zero-shot, raw MRR; the bar of issue 21 is a gain ≥ +0.03 on FB-100 with the defaults.",
        "",
        "Since issue 29 `kgviz adapt` holds out part of `msg.txt`, never trains on it and keeps its best state "
        "there, never worse than the start; the last column says what that judgement was (MRR with both constraints "
        "on the held-out msg facts, start → kept). Runs from before have no entry there.",
        "",
        "| set | model | weights moved, lr | steps in s | zero-shot raw / both | adapted raw / both | gain (raw) "
        "| held-out msg facts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in runs:
        z, d = a["zero_shot"], a["adapted"]
        judged = (
            f"{a['held_out']}: {a['held_out_mrr_start']:.3f} → {a['held_out_mrr_kept']:.3f} "
            f"({'improved' if a['improved'] else 'start kept'})"
            if "held_out" in a
            else "— (the last state kept, before issue 29)"
        )
        out.append(
            f"| {a['data']} | `{a['checkpoint']}` | {a['parts']}, {a['learning_rate']:g} | "
            f"{a['steps']} in {a['seconds']:.0f} | {z['raw']:.3f} / {z['both']:.3f} | "
            f"{d['raw']:.3f} / {d['both']:.3f} | {d['raw'] - z['raw']:+.3f} | {judged} |"
        )
    return out + [""]


def set_table(name: str, ckpts: dict, refs: dict, num_queries: int, ensemble: int) -> list[str]:
    lines = [
        f"### {name} ({num_queries} test triples × 2 directions)",
        "",
        "| method | constraints | single draw MRR (mean ± std) | MRR | Hits@1 | Hits@3 | Hits@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [r for c in ckpts.values() for r in c["sets"][name]] + refs["sets"][name]
    for r in rows:
        s, m = r["single"], r["metrics"]
        single = f"{s['mean']['MRR']:.3f} ± {s['std']['MRR']:.3f}" if s else "—"
        label = f"InGram `{r['checkpoint']}`" if r["kind"] == "ingram" else r["method"]
        lines.append(
            f"| {label} | {r['constraints']} | {single} | **{fmt(m['MRR'])}** | {fmt(m['Hits@1'])} | "
            f"{fmt(m['Hits@3'])} | {fmt(m['Hits@10'])} |"
        )
    return lines + [""]


def sample_lines(ckpts: dict, refs: dict, samples: list[dict]) -> list[str]:
    names = list(ckpts)
    ref_cols = list(refs["samples"][samples[0]["query"]]) if samples else []
    lines = [
        "| sample | query → expected | candidates | "
        + " | ".join(f"`{n}`" for n in names)
        + " | "
        + " | ".join(ref_cols)
        + " |",
        "|---|---|---|" + "---|" * (len(names) + len(ref_cols)),
    ]
    for s in samples:
        q = s["query"]
        cells = []
        for n in names:
            r = ckpts[n]["samples"][q]
            cells.append(f"{r['raw']} / {r['both']} ({r['single_min']}–{r['single_max']})")
        lines.append(
            f"| {s['sample']} | {q} | {s['candidates']} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(str(refs["samples"][q][c]) for c in ref_cols)
            + " |"
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("KGVIZ_DATA", str(ROOT.parent / "shared" / "ingram-data")))
    p.add_argument("--checkpoints", nargs="+", default=None, help="checkpoint folders (default: all of pretrained/)")
    p.add_argument("--sets", nargs="+", default=SETS)
    p.add_argument("--seeds", type=int, nargs="+", default=list(REPORT_SEEDS[:5]))
    p.add_argument("--ensemble", type=int, default=10)
    p.add_argument("--sample-seeds", type=int, nargs="+", default=list(REPORT_SEEDS))
    p.add_argument("--reuse", action="store_true", help="keep unchanged checkpoints' figures from --json")
    p.add_argument("--out", default=str(ROOT / "docs" / "transfer.md"))
    p.add_argument("--json", default=str(ROOT / "docs" / "transfer.json"))
    args = p.parse_args()
    t0 = time.perf_counter()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    folders = [Path(c) for c in args.checkpoints] if args.checkpoints else checkpoint_folders(ROOT / "pretrained")
    sets = [s for s in args.sets if (Path(args.data) / s / "msg.txt").is_file()]
    tasks = {s: transfer_task(load_benchmark(Path(args.data) / s)) for s in sets}
    samples = sample_tasks(ROOT / "sample_kgs")
    old = json.loads(Path(args.json).read_text()) if args.reuse and Path(args.json).is_file() else {}
    ckpts = {}
    for f in folders:
        prev = old.get("checkpoints", {}).get(f.name)
        same = (
            prev
            and prev["sha256"] == digest(f)
            and prev["seeds"] == args.seeds
            and prev["ensemble"] == args.ensemble
            and prev["sample_seeds"] == args.sample_seeds
            and all(s in prev["sets"] for s in sets)
            and all(s["query"] in prev["samples"] for s in samples)
        )
        ckpts[f.name] = (
            prev if same else measure_checkpoint(f, tasks, samples, args.seeds, args.ensemble, args.sample_seeds)
        )
    refs = measure_references(folders, tasks, samples, draw_seed=args.seeds[0])
    atomic_write_bytes(
        args.json,
        (
            json.dumps({"checkpoints": ckpts, "references": refs, "sets": sets}, indent=None).replace(
                '}, {"method"', '},\n{"method"'
            )
            + "\n"
        ).encode(),
    )

    lines = [
        "# Transfer: InGram on KGs it never saw, next to baselines",
        "",
        "Filtered MRR / Hits@k over both directions (spec §7 tie rule) of each checkpoint in `pretrained/` on "
        "test splits, measured with `kgviz transfer` (`kgviz/evaluation/transfer.py`). *Ensemble* = scores averaged over "
        f"{args.ensemble} random draws (seeds {args.seeds[0]}–{args.seeds[0] + args.ensemble - 1}); *single draw* "
        f"= seeds {', '.join(map(str, args.seeds))}, mean ± std. No draw here chose any weights (those are 0–29). "
        "FB-25/50/75/100 are zero-shot for every shipped model: no model was trained or selected on an FB "
        "triple. Baselines use the known facts (`msg.txt`) only: *relation-tail frequency* ranks a candidate by "
        "how often it is a tail of the query relation (a head, for head queries); *global degree* by its number "
        "of triples; *personalized PageRank* by a random walk with restart (α = 0.15) from the query entity; "
        "*untrained InGram* is a model of a checkpoint's shape with random weights (mean score of 3 weight "
        "seeds, one draw). Constraints (inference time, `kgviz/ranking/constraints.py`): *own entity excluded* unless "
        "the KG holds a self-loop of the relation; *known side first*: candidates never seen on the query's "
        "side of the relation rank after those that were. Every baseline is given the same rules as InGram: "
        "each is shown raw and under each constraint (a fair comparison: a rule given to the model is given "
        "to the baselines too).",
        "",
        "## Summary: ensemble MRR",
        "",
    ]
    lines += summary_lines(ckpts, refs, sets)
    lines += ["", "Best checkpoint (raw ensemble) against relation-tail frequency:", ""]
    lines += best_vs_frequency(ckpts, refs, sets)
    lines += [
        "",
        *bar_lines(ckpts, refs, sets),
        *adapt_lines(Path(args.out).with_name("adapt.json")),
        LEAKAGE_NOTE,
        "",
        "## Sample KGs: rank of the expected answer",
        "",
        f"Each sample's `# query:` line (`sample_kgs/*.tsv`), filtered rank among all entities of the sample. "
        f"Checkpoint cells: ensemble of {len(args.sample_seeds)} draws (seeds {args.sample_seeds[0]}–"
        f"{args.sample_seeds[-1]}) raw / with both constraints (best–worst rank of the single draws, raw). "
        "Baseline cells: the baseline's rank.",
        "",
    ]
    lines += sample_lines(ckpts, refs, samples)
    lines += ["", *recommended_lines(Path(args.out).with_name("transfer_recommended.json"), sets)]
    lines += ["## Per set", ""]
    for s in sets:
        lines += set_table(s, ckpts, refs, int(tasks[s].queries.num_tail_queries), args.ensemble)
    lines += [
        f"Generated by `OMP_NUM_THREADS=1 python scripts/transfer_tables.py` in {time.perf_counter() - t0:.0f} s "
        "(figures also in `docs/transfer.json`; `--reuse` re-measures only changed or new checkpoints)."
    ]
    from ultra_transfer import JSON as ULTRA_JSON, ultra_lines  # ULTRA's rows (scripts/ultra_transfer.py)

    lines += ["", *ultra_lines(json.loads(ULTRA_JSON.read_text()))] if ULTRA_JSON.is_file() else []
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
