"""How good is a checkpoint on a KG it never saw: InGram next to baselines from the known facts.

For each benchmark folder (``msg.txt`` the known facts, ``valid.txt``/``test.txt`` the queries)
every query triple is asked in both directions and its answer ranked filtered, with the spec's
tie rule (§7, :mod:`kgviz.evaluation.benchmark`). In one table:

- InGram: single random draws (mean ± std over ``seeds``) and the ensemble of ``K`` draws (mean
  score), raw — the headline row — and with each inference-time constraint of
  :mod:`kgviz.ranking.constraints` (own entity excluded, known side first) and both;
- the baselines of :mod:`kgviz.models.counting_scores` from ``msg.txt`` only (relation-tail frequency, global
  degree, personalized PageRank) and an untrained InGram of each checkpoint's shape (mean score
  of 3 weight seeds, one draw each) — each raw and under the same constraints as InGram: any rule
  given to the model is given to the baselines too;
- any registered scorer (``models``: e.g. ``ultra-3g``, through :func:`kgviz.models.registry.resolve_scorer`),
  deterministic (a scorer with draws scores the mean over its draws), raw and under the same constraints.

Scores are computed in batches of queries (one matmul per batch and draw); no Python loop over
entities or queries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from kgviz.graph.data import BenchmarkDataset, load_benchmark
from kgviz.evaluation.benchmark import REPORT_SEEDS, selection_draws_reused
from kgviz.models.counting_scores import BASELINES
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.ranking.ranks import METRIC_NAMES, metrics
from kgviz.evaluation.transfer_ranks import (
    CONSTRAINTS,
    Tick,
    TransferTask,
    baseline_ranks_by_constraint,
    ensemble_seeds,
    ingram_ranks,
    no_tick,
    scorer_ranks,
    transfer_task,
    untrained_ranks,
)

__all__ = [
    "checkpoint_rows",
    "baseline_rows",
    "untrained_rows",
    "scorer_rows",
    "transfer",
    "format_transfer",
    "row_label",
]


# registered scorers whose pre-training graphs are not published and may include a benchmark's splits
# (pretrained/ultra-50g/README.md): their rows on KGs with these name prefixes say "may not be zero-shot"
MAY_HAVE_SEEN = {"ultra-50g": ("FB-",)}
NOT_ZERO_SHOT = "may not be zero-shot"


def may_have_seen(model: str, data_name: str) -> bool:
    """Whether the registered ``model`` may have been pre-trained on the KG called ``data_name``."""
    return any(data_name.startswith(p) for p in MAY_HAVE_SEEN.get(model.lower(), ()))


def _summary(per_seed: list[dict[str, float]]) -> dict:
    table = np.array([[m[k] for k in METRIC_NAMES] for m in per_seed])
    return {
        "mean": dict(zip(METRIC_NAMES, table.mean(0).tolist())),
        "std": dict(zip(METRIC_NAMES, table.std(0).tolist())),
    }


def checkpoint_rows(
    model: InGram,
    task: TransferTask,
    *,
    name: str,
    seeds: Sequence[int],
    ensemble: int,
    device: torch.device,
    tick: Tick = no_tick,
) -> list[dict]:
    """One row per constraint: single draws ``seeds`` (mean ± std, per seed) and the ensemble."""
    singles, ens = ingram_ranks(model, task, seeds=seeds, ensemble=ensemble, device=device, tick=tick)
    rows = []
    for c in CONSTRAINTS:
        per_seed = [metrics(r[c]) for r in singles]
        rows.append(
            {
                "method": f"InGram {name}",
                "kind": "ingram",
                "checkpoint": name,
                "constraints": c,
                "single": {**_summary(per_seed), "per_seed": {str(s): m for s, m in zip(seeds, per_seed)}},
                "metrics": metrics(ens[c]) if ens is not None else None,
            }
        )
    return rows


def baseline_rows(task: TransferTask, tick: Tick = no_tick) -> list[dict]:
    """Rows of each baseline of :data:`kgviz.models.counting_scores.BASELINES`, from the known facts only: raw, then under
    each constraint InGram gets (:data:`kgviz.evaluation.transfer_ranks.CONSTRAINTS`)."""
    return [
        {
            "method": name,
            "kind": "baseline",
            "about": BASELINES[name],
            "constraints": c,
            "single": None,
            "metrics": metrics(ranks),
        }
        for name, by_c in baseline_ranks_by_constraint(task, tuple(CONSTRAINTS), tick).items()
        for c, ranks in by_c.items()
    ]


def scorer_rows(scorer: Any, task: TransferTask, *, tick: Tick = no_tick, note: str = "") -> list[dict]:
    """Rows of one registered scorer (``kind`` ``scorer``): raw, then under each constraint of
    :data:`kgviz.evaluation.transfer_ranks.CONSTRAINTS`; ``note`` (e.g. "may not be zero-shot") goes into the row."""
    name = str(getattr(scorer, "name", scorer))
    return [
        {"method": name, "kind": "scorer", "constraints": c, "single": None, "metrics": metrics(r)}
        | ({"note": note} if note else {})
        for c, r in scorer_ranks(scorer, task, tick=tick).items()
    ]


def untrained_rows(ranks: dict[str, Tensor], *, shape_of: str, weight_seeds: int = 3) -> list[dict]:
    """The rows of ``{constraint: (Q,) ranks}`` from :func:`kgviz.evaluation.transfer_ranks.untrained_ranks`."""
    method = f"untrained InGram ({shape_of} shape, {weight_seeds} weight seeds)"
    return [
        {"method": method, "kind": "untrained", "constraints": c, "single": None, "metrics": metrics(r)}
        for c, r in ranks.items()
    ]


def transfer(
    checkpoints: Sequence[str | Path],
    data: Sequence[str | Path | BenchmarkDataset],
    *,
    split: str = "test",
    seeds: Sequence[int] = REPORT_SEEDS[:5],
    ensemble: int = 10,
    device: str | torch.device = "auto",
    baselines: bool = True,
    untrained: bool = True,
    progress: bool = True,
    models: Sequence[str] = (),
) -> dict:
    """The transfer table of every checkpoint on every KG folder (see the module docstring).

    Returns ``{"split", "seeds", "ensemble_seeds", "notes", "results": [{"data", "num_queries",
    "rows": [...]}]}``; a row holds ``method``, ``kind`` (``ingram``/``baseline``/``untrained``),
    ``constraints``, ``single`` (``{"mean", "std", "per_seed"}`` of metrics, InGram only) and
    ``metrics`` (the ensemble's, or the deterministic baseline's). ``models``: registered scorer names
    (:func:`kgviz.models.registry.resolve_scorer`), one row each per constraint (``kind`` ``scorer``).
    """
    from tqdm.auto import tqdm

    from kgviz.models.ingram.checkpoint import load_checkpoint

    from kgviz.models.registry import resolve_scorer

    device = pick_device(device)
    scorers = [(m, resolve_scorer(m, device=str(device))) for m in models]
    seeds = list(seeds)
    if not seeds:
        raise ValueError("at least one seed is needed")
    ens = ensemble_seeds(seeds, ensemble) if ensemble else []
    loaded, notes = [], []
    for path in checkpoints:
        model, config, extra = load_checkpoint(path)
        reused = selection_draws_reused(extra, seeds + ens)
        if reused:
            notes.append(f"{path}: draws {reused} chose these weights; figures on them are optimistic")
        loaded.append((Path(path).name, model, config))
    shapes: dict[tuple, tuple[str, InGramConfig]] = {}  # one untrained row per distinct shape
    for name, _, config in loaded:
        shapes.setdefault(tuple(sorted(config.model_kwargs().items())), (name, config))
    tasks = [transfer_task(d if isinstance(d, BenchmarkDataset) else load_benchmark(d), split) for d in data]
    n_draws = len(dict.fromkeys(seeds + ens))
    n_untrained = len(shapes) if untrained else 0
    total = sum(len(t.batches) * (len(loaded) + len(scorers) + int(baselines) + n_untrained) for t in tasks)
    total += len(tasks) * (n_draws * len(loaded) + 3 * n_untrained)
    bar = tqdm(total=total, desc="transfer", unit="step", disable=not progress)
    results = []
    for task in tasks:
        rows: list[dict] = []
        for name, model, _ in loaded:
            bar.set_postfix_str(f"{name} on {task.name}")
            rows += checkpoint_rows(
                model, task, name=name, seeds=seeds, ensemble=ensemble, device=device, tick=bar.update
            )
        for key, scorer in scorers:
            bar.set_postfix_str(f"{scorer.name} on {task.name}")
            rows += scorer_rows(scorer, task, tick=bar.update, note=NOT_ZERO_SHOT * may_have_seen(key, task.name))
        if baselines:
            bar.set_postfix_str(f"baselines on {task.name}")
            rows += baseline_rows(task, tick=bar.update)
        if untrained:
            for shape_of, config in shapes.values():
                bar.set_postfix_str(f"untrained InGram on {task.name}")
                ranks = untrained_ranks(
                    config, task, draw_seed=seeds[0], device=device, tick=bar.update, constraints=tuple(CONSTRAINTS)
                )
                rows += untrained_rows(ranks, shape_of=shape_of)
        results.append({"data": task.name, "num_queries": int(task.queries.num_tail_queries), "rows": rows})
    bar.close()
    return {
        "split": split,
        "seeds": seeds,
        "ensemble": ensemble,
        "ensemble_seeds": ens,
        "notes": notes,
        "results": results,
    }


def row_label(row: dict) -> str:
    """``InGram NL-100`` (or the baseline), ``  + both constraints`` for a constrained row under it."""
    if row["constraints"] != "none":
        return f"  + {row['constraints']}"
    return row["method"] + (f" ({row['note']})" if row.get("note") else "")


def format_transfer(result: dict) -> str:
    """Plain-text tables of a :func:`transfer` result, one per KG."""
    k = result["ensemble"]
    lines = []
    for res in result["results"]:
        width = max(len(row_label(r)) for r in res["rows"]) + 2
        lines += [
            "",
            f"{res['data']}: {result['split']} split, {res['num_queries']} queries × 2 directions, filtered",
            f"{'method':<{width}}{'single draw MRR':>18}"
            + "".join(f"{m:>9}" for m in METRIC_NAMES[1:])
            + (
                f"   (InGram: ensemble of {k} draws; baselines and registered scorers deterministic, same constraints)"
                if k
                else ""
            ),
        ]
        for row in res["rows"]:
            single = row["single"]
            cell = f"{single['mean']['MRR']:.3f} ± {single['std']['MRR']:.3f}" if single else "—"
            m = row["metrics"]
            lines.append(
                f"{row_label(row):<{width}}{cell:>18}"
                + ("".join(f"{m[x]:>9.3f}" for x in METRIC_NAMES[1:]) if m else "")
            )
    lines += [f"note: {n}" for n in result["notes"]]
    return "\n".join(lines[1:])
