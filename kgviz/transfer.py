"""How good is a checkpoint on a KG it never saw: InGram next to baselines from the known facts.

For each benchmark folder (``msg.txt`` the known facts, ``valid.txt``/``test.txt`` the queries)
every query triple is asked in both directions and its answer ranked filtered, with the spec's
tie rule (§7, :mod:`kgviz.evaluation`). In one table:

- InGram: single random draws (mean ± std over ``seeds``) and the ensemble of ``K`` draws (mean
  score), raw — the headline row — and with each inference-time constraint of
  :mod:`kgviz.heuristics` (own entity excluded, known side first) and both;
- the baselines of :mod:`kgviz.heuristics` from ``msg.txt`` only (relation-tail frequency, global
  degree, personalized PageRank) and an untrained InGram of each checkpoint's shape (mean score
  of 3 weight seeds, one draw each).

Scores are computed in batches of queries (one matmul per batch and draw); no Python loop over
entities or queries.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

from .data import BenchmarkDataset, KnowledgeGraph, load_benchmark
from .evaluation import QuerySet, REPORT_SEEDS, embed, query_scores, query_set, selection_draws_reused
from .constraints import constraint_tiers, rank_context, ranks_in
from .heuristics import BASELINES, Baselines, side_counts, untrained_ingram
from .inference import pick_device
from .model import InGram, InGramConfig
from .ranking import METRIC_NAMES, known_mask, metrics

__all__ = [
    "CONSTRAINTS",
    "TransferTask",
    "transfer_task",
    "directed_task",
    "ranks_by_constraint",
    "ingram_ranks",
    "baseline_ranks",
    "untrained_ranks",
    "checkpoint_rows",
    "baseline_rows",
    "untrained_row",
    "transfer",
    "format_transfer",
    "ensemble_seeds",
    "row_label",
]

# label → (exclude the query's own entity, rank the known side of the relation first)
CONSTRAINTS = {
    "none": (False, False),
    "own entity excluded": (True, False),
    "known side first": (False, True),
    "both constraints": (True, True),
}
BATCH = 1024


@dataclasses.dataclass
class TransferTask:
    """Queries ready to rank on one KG: anchors, relations, answers, filters and directions."""

    name: str
    graph: KnowledgeGraph  # the known facts: message graph of the model and source of the baselines
    queries: QuerySet
    is_tail: np.ndarray  # (Q,) True for tail queries (a, r, ?)

    @property
    def batches(self) -> list[slice]:
        n = len(self.queries.answers)
        return [slice(s, min(s + BATCH, n)) for s in range(0, n, BATCH)]


def transfer_task(dataset: BenchmarkDataset, split: str = "test") -> TransferTask:
    """Both directions of ``dataset``'s ``split``, filtered by msg, valid and test (spec §7)."""
    queries = dataset.split(split)
    if len(queries) == 0:
        raise ValueError(f"{dataset.name}: the {split} split holds no triples to rank ({split}.txt is empty)")
    graph = dataset.inference
    qs = query_set(graph, queries, np.concatenate([graph.triples, dataset.valid, dataset.test]))
    return TransferTask(dataset.name, graph, qs, np.arange(len(qs.answers)) < qs.num_tail_queries)


def directed_task(
    name: str, graph: KnowledgeGraph, triples: np.ndarray, is_tail: np.ndarray, known: np.ndarray
) -> TransferTask:
    """Queries ``triples (Q, 3)`` in one direction each: ``(h, r, ?) → t`` where ``is_tail``, else
    ``(?, r, t) → h``; other answers forming a triple of ``known (K, 3)`` are filtered."""
    t, flags, n_rel = (
        np.asarray(triples, dtype=np.int64).reshape(-1, 3),
        np.asarray(is_tail, dtype=bool),
        graph.num_relations,
    )
    anchor, answer = np.where(flags, t[:, 0], t[:, 2]), np.where(flags, t[:, 2], t[:, 0])
    k = np.asarray(known, dtype=np.int64).reshape(-1, 3)
    key_known = np.concatenate([k[:, 0] * n_rel + k[:, 1], (graph.num_entities + k[:, 2]) * n_rel + k[:, 1]])
    answer_known = np.concatenate([k[:, 2], k[:, 0]])
    key = np.where(flags, anchor, graph.num_entities + anchor) * n_rel + t[:, 1]  # head queries keyed apart
    mask = known_mask(key, key_known, answer_known, graph.num_entities)
    qs = QuerySet(
        torch.from_numpy(anchor), torch.from_numpy(t[:, 1].copy()), torch.from_numpy(answer), mask, int(flags.sum())
    )
    return TransferTask(name, graph, qs, flags)


def ensemble_seeds(seeds: Sequence[int], k: int) -> list[int]:
    """The first ``k`` of ``seeds``, continued after ``max(seeds)`` when fewer (as ``evaluate``)."""
    out = list(seeds)[:k]
    return out + [max(seeds) + 1 + i for i in range(k - len(out))]


def ranks_by_constraint(
    task: TransferTask, scores_of: Callable[[slice], Iterable[Tensor]], constraints: Sequence[str] = tuple(CONSTRAINTS)
) -> list[dict[str, Tensor]]:
    """Filtered ranks ``(Q,)`` of each score set under each constraint.

    ``scores_of(rows)`` yields the ``(B, N)`` scores of the queries ``rows`` for each score set
    (e.g. one per draw, then the ensemble); returns one ``{constraint: ranks}`` per score set.
    The tiers and filters of a batch are turned into :class:`~kgviz.constraints.RankContext` once
    and shared by every score set.
    """
    qs, graph = task.queries, task.graph
    counts = side_counts(graph.triples, graph.num_entities, graph.num_relations)
    out: list[dict[str, list[Tensor]]] = []
    for rows in task.batches:
        target, mask = qs.answers[rows], qs.mask[rows]
        contexts = {}
        for c in constraints:
            ex, side = CONSTRAINTS[c]
            tiers = (
                constraint_tiers(
                    graph.triples,
                    graph.num_entities,
                    graph.num_relations,
                    qs.anchors[rows],
                    qs.relations[rows],
                    task.is_tail[rows],
                    exclude_self=ex,
                    known_side=side,
                    counts=counts,
                )
                if ex or side
                else None
            )
            contexts[c] = rank_context(target, mask, tiers)
        for k, scores in enumerate(scores_of(rows)):
            if k == len(out):
                out.append({c: [] for c in constraints})
            for c, ranks in ranks_in(scores, target, contexts).items():
                out[k][c].append(ranks)
    return [{c: torch.cat(parts) for c, parts in sets.items()} for sets in out]


def _summary(per_seed: list[dict[str, float]]) -> dict:
    table = np.array([[m[k] for k in METRIC_NAMES] for m in per_seed])
    return {
        "mean": dict(zip(METRIC_NAMES, table.mean(0).tolist())),
        "std": dict(zip(METRIC_NAMES, table.std(0).tolist())),
    }


Tick = Callable[[int], None]


def _no_tick(n: int) -> None:
    return None


def ingram_ranks(
    model: InGram,
    task: TransferTask,
    *,
    seeds: Sequence[int],
    ensemble: int,
    device: torch.device,
    tick: Tick = _no_tick,
) -> tuple[list[dict[str, Tensor]], dict[str, Tensor] | None]:
    """Ranks ``{constraint: (Q,)}`` of each single draw of ``seeds`` and of the ensemble of
    ``ensemble`` draws (:func:`ensemble_seeds`; ``None`` when ``ensemble`` is 0)."""
    ens = ensemble_seeds(seeds, ensemble) if ensemble else []
    model = model.to(device).eval()
    embs = {}
    for s in dict.fromkeys(list(seeds) + ens):
        embs[s] = embed(model, task.graph, [s], device)[0]
        tick(1)

    def scores_of(rows: slice) -> Iterable[Tensor]:
        with torch.no_grad():
            for s in seeds:
                yield query_scores(model, [embs[s]], task.queries, rows)
            if ens:
                yield query_scores(model, [embs[s] for s in ens], task.queries, rows)
        tick(1)

    sets = ranks_by_constraint(task, scores_of)
    return sets[: len(seeds)], (sets[-1] if ens else None)


def baseline_ranks(task: TransferTask, tick: Tick = _no_tick) -> dict[str, Tensor]:
    """Ranks ``(Q,)`` under each baseline of :data:`kgviz.heuristics.BASELINES` (from ``task.graph`` only)."""
    graph, qs = task.graph, task.queries
    scorer = Baselines(graph.triples, graph.num_entities, graph.num_relations)
    scorer.warm(qs.anchors)  # every PageRank row in one power iteration

    def scores_of(rows: slice) -> Iterable[Tensor]:
        for name in BASELINES:
            yield scorer.scores(name, qs.anchors[rows], qs.relations[rows], task.is_tail[rows])
        tick(1)

    sets = ranks_by_constraint(task, scores_of, constraints=("none",))
    return {name: ranks["none"] for name, ranks in zip(BASELINES, sets)}


def untrained_ranks(
    config: InGramConfig,
    task: TransferTask,
    *,
    draw_seed: int,
    device: torch.device,
    weight_seeds: Sequence[int] = (0, 1, 2),
    tick: Tick = _no_tick,
) -> Tensor:
    """Ranks ``(Q,)`` under an InGram of ``config``'s shape with random weights: the mean score of
    ``weight_seeds`` models (:func:`kgviz.heuristics.untrained_ingram`), one forward pass each from draw ``draw_seed``."""
    pairs = []
    for m in untrained_ingram(config, weight_seeds):
        m = m.to(device)
        pairs.append((m, embed(m, task.graph, [draw_seed], device)[0]))
        tick(1)

    def scores_of(rows: slice) -> Iterable[Tensor]:
        with torch.no_grad():
            yield torch.stack([query_scores(m, [e], task.queries, rows).double() for m, e in pairs]).mean(0)
        tick(1)

    return ranks_by_constraint(task, scores_of, constraints=("none",))[0]["none"]


def checkpoint_rows(
    model: InGram,
    task: TransferTask,
    *,
    name: str,
    seeds: Sequence[int],
    ensemble: int,
    device: torch.device,
    tick: Tick = _no_tick,
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


def baseline_rows(task: TransferTask, tick: Tick = _no_tick) -> list[dict]:
    """One row per baseline of :data:`kgviz.heuristics.BASELINES`, from the known facts only (no constraint)."""
    return [
        {
            "method": name,
            "kind": "baseline",
            "about": BASELINES[name],
            "constraints": "none",
            "single": None,
            "metrics": metrics(ranks),
        }
        for name, ranks in baseline_ranks(task, tick).items()
    ]


def untrained_row(
    config: InGramConfig,
    task: TransferTask,
    *,
    shape_of: str,
    draw_seed: int,
    device: torch.device,
    weight_seeds: Sequence[int] = (0, 1, 2),
    tick: Tick = _no_tick,
) -> dict:
    """The row of :func:`untrained_ranks`."""
    ranks = untrained_ranks(config, task, draw_seed=draw_seed, device=device, weight_seeds=weight_seeds, tick=tick)
    return {
        "method": f"untrained InGram ({shape_of} shape, {len(weight_seeds)} weight seeds)",
        "kind": "untrained",
        "constraints": "none",
        "single": None,
        "metrics": metrics(ranks),
    }


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
) -> dict:
    """The transfer table of every checkpoint on every KG folder (see the module docstring).

    Returns ``{"split", "seeds", "ensemble_seeds", "notes", "results": [{"data", "num_queries",
    "rows": [...]}]}``; a row holds ``method``, ``kind`` (``ingram``/``baseline``/``untrained``),
    ``constraints``, ``single`` (``{"mean", "std", "per_seed"}`` of metrics, InGram only) and
    ``metrics`` (the ensemble's, or the deterministic baseline's).
    """
    from tqdm.auto import tqdm

    from .checkpoint import load_checkpoint

    device = pick_device(device)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("at least one seed is needed")
    ens = ensemble_seeds(seeds, ensemble) if ensemble else []
    models, notes = [], []
    for path in checkpoints:
        model, config, extra = load_checkpoint(path)
        reused = selection_draws_reused(extra, seeds + ens)
        if reused:
            notes.append(f"{path}: draws {reused} chose these weights; figures on them are optimistic")
        models.append((Path(path).name, model, config))
    shapes: dict[tuple, tuple[str, InGramConfig]] = {}  # one untrained row per distinct shape
    for name, _, config in models:
        shapes.setdefault(tuple(sorted(config.model_kwargs().items())), (name, config))
    tasks = [transfer_task(d if isinstance(d, BenchmarkDataset) else load_benchmark(d), split) for d in data]
    n_draws = len(dict.fromkeys(seeds + ens))
    n_untrained = len(shapes) if untrained else 0
    total = sum(len(t.batches) * (len(models) + int(baselines) + n_untrained) for t in tasks)
    total += len(tasks) * (n_draws * len(models) + 3 * n_untrained)
    bar = tqdm(total=total, desc="transfer", unit="step", disable=not progress)
    results = []
    for task in tasks:
        rows: list[dict] = []
        for name, model, _ in models:
            bar.set_postfix_str(f"{name} on {task.name}")
            rows += checkpoint_rows(
                model, task, name=name, seeds=seeds, ensemble=ensemble, device=device, tick=bar.update
            )
        if baselines:
            bar.set_postfix_str(f"baselines on {task.name}")
            rows += baseline_rows(task, tick=bar.update)
        if untrained:
            for shape_of, config in shapes.values():
                bar.set_postfix_str(f"untrained InGram on {task.name}")
                rows.append(
                    untrained_row(config, task, shape_of=shape_of, draw_seed=seeds[0], device=device, tick=bar.update)
                )
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
    """``InGram NL-100``, ``  + both constraints`` for a constrained InGram row, else the method."""
    return row["method"] if row["constraints"] == "none" else f"  + {row['constraints']}"


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
            + (f"   (ensemble of {k} draws; baselines deterministic)" if k else ""),
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
