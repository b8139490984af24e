"""The "Why InGram?" split: training triples and three held-out groups, scored per group by every model.

A KG is split (seeded) into

* **train** — the triples the models are trained on;
* **context** — facts about the *new* entities and relations, known at prediction time but never
  trained on (the lecture's "a new drug comes in" with what is known about it);
* three groups of held-out queries, each triple ranked in both directions (filtered):
  (a) among entities and relations seen in training, (b) touching an entity unseen in training,
  (c) with a relation unseen in training.

Construction, so that every group is non-empty even on a KG of a dozen triples (the movies sample):

1. *New relations*: ``⌈relation_share · R⌉`` relations (at least one) drawn among those with ≥ 2 triples.
   All their triples leave training; per relation half go to context (at least one), the rest to (c).
2. *New entities*: entities drawn (random order) among those with ≥ 2 triples of seen relations left,
   until ``⌈entity_share · N⌉`` (at least one). Their triples leave training; per entity half go to
   context (at least one), the rest to (b).
3. Group (a): triples drawn from what is left, each only if its head, relation and tail keep another
   training triple, until ``⌈query_share · M⌉`` (at least one). The rest is train.

Each query is then filed by what training saw: relation unseen → (c); else an entity unseen → (b);
else (a). At scoring time every model gets ``known`` = train ∪ context: R-GCN and InGram compute
vectors from it; shallow models have vectors only for what they were trained on, so they cannot score
(b) or (c), and R-GCN cannot score (c). InGram is applied zero-shot and scores all three.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from kgviz.graph.data import KnowledgeGraph, from_triples
from kgviz.models.baselines.common import QueryEvaluation, TrainedModel, TrainOptions, TrainProgress, evaluate_queries
from kgviz.models.baselines.ingram import DEFAULT_CHECKPOINT
from kgviz.models.baselines.models import get_model

__all__ = [
    "GROUPS",
    "GROUP_TITLES",
    "WhyInGramSplit",
    "why_ingram_split",
    "ModelGroupScores",
    "score_split",
    "score_model",
    "format_split_table",
]

GROUPS = ("a", "b", "c")
GROUP_TITLES = {
    "a": "(a) seen entities and relations",
    "b": "(b) an entity unseen in training",
    "c": "(c) a relation unseen in training",
}


@dataclass
class WhyInGramSplit:
    """A seeded split of ``kg``; every id array is in ``kg``'s vocabulary."""

    kg: KnowledgeGraph
    train: KnowledgeGraph  # its own vocabulary: the entities and relations seen in training
    known: KnowledgeGraph  # train ∪ context, in kg's vocabulary: the graph every model scores on
    context: np.ndarray  # (C, 3)
    groups: dict[str, np.ndarray]  # "a" / "b" / "c" → (Q, 3) held-out triples
    new_entities: list[str] = field(default_factory=list)  # in kg, not in train
    new_relations: list[str] = field(default_factory=list)  # in kg, not in train
    seed: int = 0


def _halve(rng: np.random.Generator, rows: list[int]) -> tuple[list[int], list[int]]:
    """Shuffle ``rows`` and split into context (half, ≥ 1) and queries (the rest, ≥ 1 when ≥ 2 rows)."""
    rows = [rows[i] for i in rng.permutation(len(rows))]
    k = max(1, len(rows) // 2)
    return rows[:k], rows[k:]


def _draw(kg: KnowledgeGraph, seed: int, n_rel: int, n_ent: int, n_a: int) -> tuple[np.ndarray, list[int], list[int]]:
    """One draw of steps 1–3: the training mask ``(M,)``, context rows and query rows."""
    rng = np.random.default_rng(seed)
    t = kg.triples
    rel_count = np.bincount(t[:, 1], minlength=kg.num_relations)
    new_rel = set(rng.permutation(np.flatnonzero(rel_count >= 2))[:n_rel].tolist())
    context: list[int] = []
    queries: list[int] = []
    for r in sorted(new_rel):
        c, q = _halve(rng, np.flatnonzero(t[:, 1] == r).tolist())
        context += c
        queries += q
    left = ~np.isin(t[:, 1], list(new_rel))
    chosen = 0
    for e in rng.permutation(kg.num_entities).tolist():
        if chosen == n_ent:
            break
        rows = np.flatnonzero(left & ((t[:, 0] == e) | (t[:, 2] == e)))
        if 2 <= len(rows) < left.sum():
            chosen += 1
            left[rows] = False
            c, q = _halve(rng, rows.tolist())
            context += c
            queries += q
    degree = np.bincount(t[left][:, [0, 2]].ravel(), minlength=kg.num_entities)
    rel_left = np.bincount(t[left][:, 1], minlength=kg.num_relations)
    for i in rng.permutation(np.flatnonzero(left)).tolist():
        if n_a == 0:
            break
        h, r, tl = t[i]
        if degree[h] >= 2 and degree[tl] >= 2 and rel_left[r] >= 2 and h != tl:
            left[i] = False
            degree[[h, tl]] -= 1
            rel_left[r] -= 1
            queries.append(i)
            n_a -= 1
    return left, context, queries


def why_ingram_split(
    kg: KnowledgeGraph,
    seed: int = 0,
    *,
    entity_share: float = 0.1,
    relation_share: float = 0.1,
    query_share: float = 0.1,
) -> WhyInGramSplit:
    """Split ``kg`` as described in the module docstring; ``ValueError`` if a group would be empty.

    When group (a) or (b) comes out empty (a small KG whose new entities took the triples group (a)
    needed), the draw is repeated with one new entity fewer, down to one.
    """
    t = kg.triples
    n_rel = min(max(1, math.ceil(relation_share * kg.num_relations)), kg.num_relations - 1)
    if n_rel < 1 or len(t) < 4:
        raise ValueError(f"{kg.source}: too small for the Why-InGram split (needs ≥ 2 relations and ≥ 4 triples)")
    n_a = max(1, math.ceil(query_share * len(t)))
    for n_ent in range(max(1, math.ceil(entity_share * kg.num_entities)), 0, -1):
        left, context, queries = _draw(kg, seed, n_rel, n_ent, n_a)
        train_rows = t[left]
        seen_e = np.zeros(kg.num_entities, dtype=bool)
        seen_e[train_rows[:, [0, 2]].ravel()] = True
        seen_r = np.zeros(kg.num_relations, dtype=bool)
        seen_r[train_rows[:, 1]] = True
        q = t[sorted(queries)]
        unseen_rel = ~seen_r[q[:, 1]]
        unseen_ent = ~(seen_e[q[:, 0]] & seen_e[q[:, 2]])
        groups = {"a": q[~unseen_rel & ~unseen_ent], "b": q[~unseen_rel & unseen_ent], "c": q[unseen_rel]}
        empty = [g for g in GROUPS if len(groups[g]) == 0]
        if not empty:
            break
    else:
        raise ValueError(
            f"{kg.source}: too small for the Why-InGram split, group(s) {', '.join(empty)} came out "
            "empty; it needs a relation with ≥ 2 triples, an entity with ≥ 2 triples of other "
            "relations and a triple whose entities and relation occur in others"
        )
    names = kg.string_triples()
    train = from_triples([names[i] for i in np.flatnonzero(left)], source=f"{kg.source} (training part)")
    ctx = t[sorted(context)]
    known = KnowledgeGraph(
        kg.entities, kg.relations, np.concatenate([train_rows, ctx]), source=f"{kg.source} (training part + context)"
    )
    used_e = np.zeros(kg.num_entities, dtype=bool)
    used_e[t[:, [0, 2]].ravel()] = True
    return WhyInGramSplit(
        kg,
        train,
        known,
        ctx,
        groups,
        [kg.entities[e] for e in np.flatnonzero(used_e & ~seen_e)],
        [kg.relations[r] for r in np.flatnonzero(~seen_r)],
        seed,
    )


@dataclass
class ModelGroupScores:
    """One model's evaluation of each group (``QueryEvaluation.cannot_score`` says where it has no vector)."""

    model: str
    groups: dict[str, QueryEvaluation]
    train_seconds: float  # wall time of training
    epochs: int
    cpu_seconds: float = 0.0  # CPU time of this thread for training and scoring (torch on one thread: all of it)


def score_model(
    split: WhyInGramSplit,
    name: str,
    options: TrainOptions | None = None,
    *,
    model: TrainedModel | None = None,
    checkpoint: str = str(DEFAULT_CHECKPOINT),
    train_progress: Callable[[TrainProgress], None] | None = None,
) -> ModelGroupScores:
    """Train model ``name`` on ``split.train`` (or take ``model``, e.g. InGram) and evaluate each group.

    Groups are ranked on ``split.known``, filtered by every triple of ``split.kg``.
    """
    cpu = time.thread_time()
    if model is None:
        model = get_model(name, split.train, options, progress=train_progress, checkpoint=checkpoint)
    groups = {g: evaluate_queries(model, split.known, split.groups[g], split.kg.triples) for g in GROUPS}
    return ModelGroupScores(model.name, groups, model.info.seconds, model.info.epochs, time.thread_time() - cpu)


def score_split(
    split: WhyInGramSplit,
    models: Sequence[str] = ("transe", "transr", "distmult", "complex", "rotate", "rgcn", "ingram"),
    options: TrainOptions | None = None,
    *,
    checkpoint: str = str(DEFAULT_CHECKPOINT),
    progress: Callable[[str], None] | None = None,
    train_progress: Callable[[TrainProgress], None] | None = None,
) -> list[ModelGroupScores]:
    """:func:`score_model` for each of ``models`` in turn (one trained model alive at a time)."""
    out = []
    for name in models:
        if progress is not None:
            progress(name)
        out.append(score_model(split, name, options, checkpoint=checkpoint, train_progress=train_progress))
    return out


def format_split_table(split: WhyInGramSplit, scores: Sequence[ModelGroupScores]) -> str:
    """Plain-text table: per model and group MRR / Hits@1 / Hits@10, or "cannot score: …"."""
    width = max([36] + [len(s.groups[g].cannot_score or "") + 2 for s in scores for g in GROUPS])
    sizes = ", ".join(f"{GROUP_TITLES[g]}: {len(split.groups[g])}" for g in GROUPS)
    lines = [
        f"{split.kg.source}: train {split.train.num_triples} triples, context {len(split.context)}; held out {sizes}",
        f"new entities: {', '.join(split.new_entities)}; new relations: {', '.join(split.new_relations)}",
        f"{'model':<22}{'train s':>8}  " + "".join(f"{'(' + g + ') MRR  H@1  H@10':<{width}}" for g in GROUPS),
    ]
    for s in scores:
        row = f"{s.model:<22}{s.train_seconds:>8.1f}  "
        for g in GROUPS:
            ev = s.groups[g]
            if ev.metrics is None:
                cell = ev.cannot_score or "no queries"
            else:
                m = ev.metrics
                cell = f"{m['MRR']:.3f} {m['Hits@1']:.2f} {m['Hits@10']:.2f}"
                if ev.num_scored < ev.num_queries:
                    cell += f" ({ev.num_scored}/{ev.num_queries})"
            row += f"{cell:<{width}}"
        lines.append(row.rstrip())
    return "\n".join(lines)
