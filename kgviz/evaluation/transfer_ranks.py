"""Filtered ranks for :mod:`kgviz.evaluation.transfer`: query tasks on one KG, ranked under each inference-time constraint.

A :class:`TransferTask` holds the queries of a KG (both directions of a split, or one direction per
triple); :func:`ranks_by_constraint` ranks the answers of any score sets under each constraint of
:data:`CONSTRAINTS` (:mod:`kgviz.ranking.constraints`), with the spec's tie rule (§7). InGram's draws and
ensemble, the baselines of :mod:`kgviz.models.counting_scores`, an untrained InGram and any registered scorer
(:func:`scorer_ranks`, e.g. ULTRA) each supply their scores.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

from kgviz.ranking.constraints import constraint_tiers, rank_context, ranks_in
from kgviz.graph.data import BenchmarkDataset, KnowledgeGraph
from kgviz.evaluation.benchmark import QuerySet, embed, query_scores, query_set
from kgviz.models.counting_scores import BASELINES, Baselines, side_counts, untrained_ingrams
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.ranking.ranks import known_mask

__all__ = [
    "CONSTRAINTS",
    "Tick",
    "no_tick",
    "TransferTask",
    "transfer_task",
    "directed_task",
    "ensemble_seeds",
    "ranks_by_constraint",
    "ingram_ranks",
    "baseline_ranks",
    "baseline_ranks_by_constraint",
    "untrained_ranks",
    "scorer_ranks",
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
    The tiers and filters of a batch are turned into :class:`~kgviz.ranking.constraints.RankContext` once
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


Tick = Callable[[int], None]


def no_tick(n: int) -> None:
    return None


def ingram_ranks(
    model: InGram,
    task: TransferTask,
    *,
    seeds: Sequence[int],
    ensemble: int,
    device: torch.device,
    tick: Tick = no_tick,
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


def baseline_ranks(task: TransferTask, tick: Tick = no_tick) -> dict[str, Tensor]:
    """Ranks ``(Q,)`` under each baseline of :data:`kgviz.models.counting_scores.BASELINES` (from ``task.graph`` only), no constraint."""
    return {name: by_c["none"] for name, by_c in baseline_ranks_by_constraint(task, ("none",), tick).items()}


def baseline_ranks_by_constraint(
    task: TransferTask, constraints: Sequence[str] = tuple(CONSTRAINTS), tick: Tick = no_tick
) -> dict[str, dict[str, Tensor]]:
    """``{baseline: {constraint: (Q,) ranks}}``: every baseline of :data:`kgviz.models.counting_scores.BASELINES` under each
    of ``constraints`` — the rules InGram gets, given to the baselines too (scores computed once per batch)."""
    graph, qs = task.graph, task.queries
    scorer = Baselines(graph.triples, graph.num_entities, graph.num_relations)
    scorer.warm(qs.anchors)  # every PageRank row in one power iteration

    def scores_of(rows: slice) -> Iterable[Tensor]:
        for name in BASELINES:
            yield scorer.scores(name, qs.anchors[rows], qs.relations[rows], task.is_tail[rows])
        tick(1)

    return dict(zip(BASELINES, ranks_by_constraint(task, scores_of, constraints=constraints)))


def untrained_ranks(
    config: InGramConfig,
    task: TransferTask,
    *,
    draw_seed: int,
    device: torch.device,
    weight_seeds: Sequence[int] = (0, 1, 2),
    tick: Tick = no_tick,
    constraints: Sequence[str] = ("none",),
) -> dict[str, Tensor]:
    """Ranks ``{constraint: (Q,)}`` under an InGram of ``config``'s shape with random weights: the mean score of
    ``weight_seeds`` models (:func:`kgviz.models.counting_scores.untrained_ingrams`), one forward pass each from draw ``draw_seed``."""
    pairs = []
    for m in untrained_ingrams(config, weight_seeds):
        m = m.to(device)
        pairs.append((m, embed(m, task.graph, [draw_seed], device)[0]))
        tick(1)

    def scores_of(rows: slice) -> Iterable[Tensor]:
        with torch.no_grad():
            yield torch.stack([query_scores(m, [e], task.queries, rows).double() for m, e in pairs]).mean(0)
        tick(1)

    return ranks_by_constraint(task, scores_of, constraints=constraints)[0]


def scorer_ranks(
    scorer: Any, task: TransferTask, *, tick: Tick = no_tick, constraints: Sequence[str] = tuple(CONSTRAINTS)
) -> dict[str, Tensor]:
    """Ranks ``{constraint: (Q,)}`` under any :class:`kgviz.models.base.Scorer` (ULTRA, a counting scorer, an
    InGram scorer: the mean over its draws), scoring ``task.graph``; each batch's tail and head queries are
    asked apart (``scorer.scores`` takes one direction), filtered, the spec's tie rule."""
    qs = task.queries

    def scores_of(rows: slice) -> Iterable[Tensor]:
        anchors, relations, is_tail = qs.anchors[rows], qs.relations[rows], task.is_tail[rows]
        out = torch.empty(len(anchors), task.graph.num_entities)
        with torch.no_grad():
            for direction, picked in (("tail", np.flatnonzero(is_tail)), ("head", np.flatnonzero(~is_tail))):
                if len(picked):
                    b = torch.from_numpy(picked)
                    out[b] = scorer.scores(task.graph, anchors[b], relations[b], direction).float()
        yield out
        tick(1)

    return ranks_by_constraint(task, scores_of, constraints=constraints)[0]
