"""Self-check: how well do InGram and the baselines predict *this* KG's own triples?

Protocol. Held-out triples: every triple (leave-one-out) when the KG has fewer than
:data:`LOO_LIMIT` triples, else a seeded 10 % sample. Each held-out triple ``(h, r, t)`` is asked
both ways, ``(h, r, ?) → t`` and ``(?, r, t) → h``, and its answer ranked among all entities,
filtered (other answers forming a triple of the KG are removed; spec §7 tie rule), from a
message graph that does **not** contain it. Methods: InGram (scores averaged over the draws
``seeds``) or any other scorer (``scorer``: e.g. ULTRA, rows named by ``scorer.name``), raw and under
each constraint of :mod:`kgviz.ranking.constraints`, and the baselines
computed from the same message graph, raw and under both constraints (the rules the headline
InGram row gets, given to the baselines too).

Folds, and why this is exact. A forward pass per held-out triple and draw (true leave-one-out)
costs ``O(M²)`` in all. The held-out triples are instead grouped into ``k`` folds; each fold's
message graph is the KG without that fold's triples, and a triple is ranked from its own fold's
graph only — an exact k-fold cross-validation, no approximation: a triple never sees itself, and
the other triples of its fold are missing too (``k`` = the number of held-out triples is exact
leave-one-out). ``k`` is as large as ``max_work`` allows (``k · (N + M) · draws``, the size of
the graphs pushed through the model, sized for :data:`FOLD_DRAWS` draws whatever the number used, so
that the CLI and the app split a KG alike), at least enough that no fold removes more than 10 % of the
KG: small KGs get exact leave-one-out, a 1,000-triple KG a few folds. The
fold graphs share the KG's vocabulary, so every draw has the same features on each; all folds
run in **one** forward pass per draw over their disjoint union (entities and relations of fold
``i`` offset by ``i·N`` and ``i·2R``, relation-graph bins computed per fold). InGram's layers
only pass messages along edges (softmax grouped by destination), so the union gives each fold
exactly its own embeddings, while the per-pass overhead is paid once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.defaults import DRAWS
from kgviz.evaluation.benchmark import REPORT_SEEDS
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.ingram.network import InGram
from kgviz.models.ingram.scorer import FoldUnion, fold_embeddings, fold_unions
from kgviz.ranking.ranks import metrics
from kgviz.evaluation.transfer_ranks import (
    baseline_ranks_by_constraint,
    directed_task,
    ranks_by_constraint,
    scorer_ranks,
)

__all__ = [
    "LOO_LIMIT",
    "SAMPLE_SHARE",
    "SelfCheck",
    "held_out_triples",
    "make_folds",
    "FoldUnion",
    "fold_unions",
    "fold_embeddings",
    "self_check",
    "format_self_check",
]

LOO_LIMIT = 300  # KGs with fewer triples hold out every triple
SAMPLE_SHARE = 0.10  # else this share of the triples, drawn with the seed
MAX_FOLD_SHARE = 0.10  # no fold removes more than this share of the KG
FOLD_DRAWS = DRAWS  # the draws the fold count is sized for: fixed, so the CLI and the app split a KG alike
BASELINE_CONSTRAINTS = ("none", "both constraints")  # the baselines get the rules of the headline InGram row
Progress = Callable[[float, str], None]


@dataclass
class SelfCheck:
    """Result of :func:`self_check`.

    ``held_out (H, 3)`` triple ids of ``kg``; ``fold (H,)`` the fold of each; ``ranks[method]``
    ``{"tail": (H,), "head": (H,)}`` filtered ranks of the tail of ``(h, r, ?)`` and the head of
    ``(?, r, t)``; ``metrics[method]`` MRR / Hits@1 / Hits@10 (and MR, Hits@3) over both.
    """

    kg: KnowledgeGraph
    held_out: np.ndarray
    fold: np.ndarray
    num_folds: int
    protocol: str
    seeds: list[int]
    ranks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    model_name: str = "InGram"  # how the model's rows are named: "InGram", "InGram + both constraints", …

    def rows(self) -> list[dict]:
        """One dict per held-out triple: names, fold, and each method's tail and head rank."""
        e, r = self.kg.entities, self.kg.relations
        out = []
        for i, (h, rel, t) in enumerate(self.held_out.tolist()):
            row = {"head": e[h], "relation": r[rel], "tail": e[t], "fold": int(self.fold[i])}
            for m, rk in self.ranks.items():
                row[f"{m}: tail rank"], row[f"{m}: head rank"] = int(rk["tail"][i]), int(rk["head"][i])
            out.append(row)
        return out


def held_out_triples(kg: KnowledgeGraph, seed: int = 0) -> tuple[np.ndarray, str]:
    """Indices of the held-out triples and the protocol's name (leave-one-out or a 10 % sample)."""
    m = kg.num_triples
    if m < 2:
        raise ValueError(f"{kg.source}: a self-check needs at least 2 triples, the KG has {m}")
    if m < LOO_LIMIT:
        return np.arange(m), "every triple held out"
    n = math.ceil(SAMPLE_SHARE * m)
    return np.sort(
        np.random.default_rng(seed).choice(m, n, replace=False)
    ), f"{n} triples held out (seeded 10 % sample)"


def make_folds(num_held: int, kg: KnowledgeGraph, draws: int, max_work: int, seed: int = 0) -> np.ndarray:
    """Fold of each held-out triple ``(H,)``.

    As many folds ``k`` as ``k · (N + M) · draws ≤ max_work`` allows (a forward pass costs about
    ``N + M``: per-entity linear maps and per-triple messages), at most one per held-out triple
    (leave-one-out), at least ``⌈H / ⌊0.1 M⌋⌉`` so that no fold removes more than 10 % of the KG.
    Deterministic: the same KG, draws and seed give the same folds on any machine.
    """
    least = math.ceil(num_held / max(1, int(MAX_FOLD_SHARE * kg.num_triples)))
    k = min(num_held, max(least, max_work // max(1, (kg.num_entities + kg.num_triples) * draws)))
    return np.random.default_rng(seed).permutation(num_held) % k


def _named(model: str, by_constraint: dict[str, Tensor]) -> dict[str, Tensor]:
    """``{"<model>": raw ranks, "<model> + <constraint>": ranks, …}``."""
    return {(model if c == "none" else f"{model} + {c}"): r for c, r in by_constraint.items()}


def self_check(
    kg: KnowledgeGraph,
    model: InGram | None = None,
    *,
    seeds: Sequence[int] = REPORT_SEEDS,
    seed: int = 0,
    max_work: int = 80_000,
    device: str | torch.device = "auto",
    progress: Progress | None = None,
    scorer: Any = None,
) -> SelfCheck:
    """Rank each held-out triple of ``kg`` from the rest (see the module docstring for the folds).

    ``model`` and ``scorer`` ``None``: baselines only. ``seeds``: InGram's draws (scores averaged). ``scorer``:
    a :class:`kgviz.models.base.Scorer` checked instead of ``model`` (ULTRA: it scores each fold's graph, rows
    named ``scorer.name``). ``seed``: the held-out sample and the folds; ``progress(fraction, message)``.
    """
    if model is not None and scorer is not None:
        raise ValueError("self_check checks one model: an InGram model or a scorer, not both")
    device = pick_device(device)
    report = progress or (lambda f, msg: None)
    held, protocol = held_out_triples(kg, seed)
    seeds = list(seeds)
    fold = make_folds(len(held), kg, FOLD_DRAWS, max_work, seed)  # the same folds whatever the draws
    k = int(fold.max()) + 1
    kept = [np.delete(kg.triples, held[fold == f], axis=0) for f in range(k)]  # each fold's message graph
    graphs = [
        KnowledgeGraph(kg.entities, kg.relations, t, source=f"{kg.source} without fold {f}") for f, t in enumerate(kept)
    ]
    embs: list[list[tuple[Tensor, Tensor]]] = [[] for _ in range(k)]  # per fold, per draw
    if model is not None:
        model = model.to(device).eval()
        unions = fold_unions(graphs, model.num_bin, device)
        for i, s in enumerate(seeds):
            for f, e in enumerate(fold_embeddings(model, graphs, s, device, unions)):
                embs[f].append(e)
            report(0.8 * (i + 1) / len(seeds), f"draw {i + 1} of {len(seeds)} over {k} folds")
    collected: dict[str, list[Tensor]] = {}
    order = []
    for f in range(k):
        idx = np.flatnonzero(fold == f)
        t = kg.triples[held[idx]]
        task = directed_task(f"fold {f}", graphs[f], np.concatenate([t, t]), np.arange(2 * len(t)) < len(t), kg.triples)
        per_method = {
            (b if c == "none" else f"{b} + {c}"): r
            for b, by_c in baseline_ranks_by_constraint(task, BASELINE_CONSTRAINTS).items()
            for c, r in by_c.items()
        }
        if model is not None:

            def scores_of(rows: slice, f: int = f, task=task):
                with torch.no_grad():
                    yield sum(
                        model.score_all_tails(
                            ent, rel, task.queries.anchors[rows].to(device), task.queries.relations[rows].to(device)
                        ).cpu()
                        for ent, rel in embs[f]
                    ) / len(embs[f])

            (by_c,) = ranks_by_constraint(task, scores_of)
            per_method = _named("InGram", by_c) | per_method
        elif scorer is not None:
            per_method = _named(scorer.name, scorer_ranks(scorer, task)) | per_method
        for name, r in per_method.items():
            collected.setdefault(name, []).append(r)
        order.append(idx)
        report((0.8 if model is not None else 0.0) + 0.2 * (f + 1) / k, f"fold {f + 1} of {k} ranked")
    name = "InGram" if scorer is None else str(scorer.name)
    result = SelfCheck(kg, kg.triples[held], fold, k, protocol, seeds if model is not None else [], model_name=name)
    for name, parts in collected.items():
        tail = np.empty(len(held), dtype=np.int64)
        head = np.empty(len(held), dtype=np.int64)
        for idx, r in zip(order, parts):  # each fold's ranks: its tail queries, then its head queries
            tail[idx], head[idx] = r[: len(idx)].numpy(), r[len(idx) :].numpy()
        result.ranks[name] = {"tail": tail, "head": head}
        result.metrics[name] = metrics(np.concatenate([tail, head]))
    return result


def format_self_check(result: SelfCheck) -> str:
    """A plain-text summary: protocol, MRR / Hits@1 / Hits@10 of each method, and the verdict
    (:func:`kgviz.ranking.stability.self_check_verdict`: the model against the baseline under the same constraints)."""
    from kgviz.ranking.stability import self_check_verdict

    draws = f", InGram: mean of {len(result.seeds)} draws" if result.seeds else ""
    if result.model_name != "InGram" and f"{result.model_name} + both constraints" in result.metrics:
        draws = f", {result.model_name}: no random draws"
    width = max([len(m) for m in result.metrics] + [6]) + 2
    lines = [
        f"self-check of {result.kg}: {result.protocol}, {result.num_folds} folds{draws}; "
        "each answer ranked filtered from the KG without its fold; baselines raw and under both constraints "
        "(the rules the model gets)",
        f"{'method':<{width}}{'MRR':>8}{'Hits@1':>8}{'Hits@10':>9}",
    ]
    for name, m in result.metrics.items():
        lines.append(f"{name:<{width}}{m['MRR']:>8.3f}{m['Hits@1']:>8.3f}{m['Hits@10']:>9.3f}")
    return "\n".join(lines + [self_check_verdict(result.metrics, f"{result.model_name} + both constraints")])
