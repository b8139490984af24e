"""Held-out facts of one KG, scored by every scorer from graphs that never contain them.

Protocol (:func:`make_split`). A KG of fewer than :data:`SMALL_KG` triples: up to
:data:`MAX_HELD` facts drawn (seeded) and dealt into :data:`NUM_FOLDS` folds; fold ``f``'s known
graph is the KG without fold ``f``'s facts. A larger KG: one seeded split, ``min(10 % of M,
MAX_HELD)`` facts held out, the rest known. Each held-out fact is asked both ways — ``(h, r, ?) → t``
and ``(?, r, t) → h`` — from its own fold's known graph only, so a fact is never scored by a
scorer that trained on it (trained scorers are trained per fold, on that fold's known facts).
Independently of the folds, every held-out fact is dealt (seeded) to the *validation* part (which
chooses: scorer, combination weights, temperature) or the *test* part (which reports); the two
never mix.

Ranks are filtered (the other answers that form a triple of ``filter_triples`` — the KG — are
removed) with the spec's tie rule, under each constraint variant of :data:`VARIANTS`
(:mod:`kgviz.ranking.constraints`: the own entity last, the known side of the relation first), with the
tiers taken from the fold's known graph.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from kgviz.ranking.constraints import RankContext, constraint_tiers, rank_context, ranks_in
from kgviz.graph.data import KnowledgeGraph
from kgviz.models.counting_scores import side_counts
from kgviz.ranking.ranks import known_mask
from kgviz.evaluation.leaderboard.scorers import ScorerSpec

__all__ = [
    "SMALL_KG",
    "NUM_FOLDS",
    "MAX_HELD",
    "VARIANTS",
    "SCENARIOS",
    "Cancelled",
    "Split",
    "make_split",
    "HeldOut",
    "half_link_scenarios",
    "score_held_out",
    "fold_queries",
    "score_queries",
    "variant_ranks",
]

SMALL_KG = 2_000  # fewer triples: k folds; else one seeded split
NUM_FOLDS = 5
MAX_HELD = 500  # held-out facts at most (each asked both ways)
LARGE_SHARE = 0.10
BATCH = 1024
SLOW_BATCH = 32  # batches of a scorer with a scoring budget (cancel is asked between batches)
PROBE = 4  # queries timed before a scorer with a scoring budget runs
# row suffix → (own entity last, known side first)
VARIANTS = {"": (False, False), " + own entity last": (True, False), " + both constraints": (True, True)}
SCENARIOS = (
    "anchor and answer both seen with r",
    "only the anchor seen with r",
    "only the answer seen with r",
    "neither seen with r",
)
Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


class Cancelled(RuntimeError):
    """The caller's cancel flag was raised; nothing of the run is kept."""


@dataclass
class Split:
    """``held (H,)`` indices into the KG's triples; ``fold (H,)``; ``validation (H,)`` bool (else test)."""

    held: np.ndarray
    fold: np.ndarray
    validation: np.ndarray
    protocol: str

    @property
    def num_folds(self) -> int:
        return int(self.fold.max()) + 1


def make_split(kg: KnowledgeGraph, seed: int = 0) -> Split:
    """The held-out facts, their folds and their validation/test part (module docstring); deterministic."""
    m = kg.num_triples
    if m < 4:
        raise ValueError(f"{kg.source}: a leaderboard needs at least 4 triples, the KG has {m}")
    rng = np.random.default_rng(seed)
    if m < SMALL_KG:
        n = min(m, MAX_HELD)
        k = min(NUM_FOLDS, n)
        held = np.sort(rng.choice(m, n, replace=False))
        fold = rng.permutation(n) % k
        protocol = f"{n} of {m} facts held out in {k} folds (each fold's facts scored from the KG without them)"
    else:
        n = min(math.ceil(LARGE_SHARE * m), MAX_HELD)
        held = np.sort(rng.choice(m, n, replace=False))
        fold = np.zeros(n, dtype=np.int64)
        protocol = f"{n} of {m} facts held out (one seeded split; scored from the other {m - n})"
    validation = rng.permutation(n) % 2 == 0
    return Split(held, fold, validation, protocol)


def half_link_scenarios(known: np.ndarray, facts: np.ndarray, is_tail: np.ndarray) -> np.ndarray:
    """Half-link scenario of each query, ``(Q,)`` int in 0…3 (index of :data:`SCENARIOS`).

    For ``(h, r, ?) → t``: *anchor seen* = some ``(h, r, ·)`` in ``known``, *answer seen* = some
    ``(·, r, t)`` in ``known``; for ``(?, r, t) → h`` mirrored (anchor ``t``: ``(·, r, t)``, answer
    ``h``: ``(h, r, ·)``). Scenario ``= 2·[anchor unseen] + [answer unseen]``.
    """
    k = np.asarray(known, dtype=np.int64).reshape(-1, 3)
    big = int(max(k.max(initial=0), facts.max(initial=0))) + 1
    hr, rt = k[:, 0] * big + k[:, 1], k[:, 1] * big + k[:, 2]
    h_seen = np.isin(facts[:, 0] * big + facts[:, 1], hr)
    t_seen = np.isin(facts[:, 1] * big + facts[:, 2], rt)
    anchor_seen = np.where(is_tail, h_seen, t_seen)
    answer_seen = np.where(is_tail, t_seen, h_seen)
    return 2 * (~anchor_seen).astype(np.int64) + (~answer_seen).astype(np.int64)


@dataclass
class HeldOut:
    """Every query of every fold, concatenated; ``Q`` = 2 × held-out facts.

    ``facts (Q, 3)`` the fact each query asks about; ``is_tail``, ``fold``, ``validation``,
    ``scenario`` ``(Q,)``; ``answers (Q,)``; ``contexts[variant]`` the rank contexts;
    ``scores[scorer] (Q, N)`` float32; ``trained[scorer]`` training seconds and epochs per fold;
    ``skipped[scorer]``: why a scorer was left out (its scoring budget).
    """

    facts: np.ndarray
    is_tail: np.ndarray
    fold: np.ndarray
    validation: np.ndarray
    scenario: np.ndarray
    answers: Tensor
    contexts: dict[str, RankContext]
    scores: dict[str, Tensor] = field(default_factory=dict)
    trained: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def candidates(self) -> Tensor:
        """``(Q, N)`` bool: the filtered candidates (other known answers removed), the answer included."""
        out = self.contexts[""].rivals.clone()
        out[torch.arange(len(self.answers)), self.answers] = True
        return out


def fold_queries(
    kg: KnowledgeGraph, facts: np.ndarray, known: np.ndarray, filter_triples: np.ndarray
) -> tuple[np.ndarray, Tensor, Tensor, Tensor, dict[str, RankContext]]:
    """One fold's queries (tails then heads): facts, anchors, relations, answers and rank contexts."""
    n, n_rel = kg.num_entities, kg.num_relations
    both = np.concatenate([facts, facts])
    is_tail = np.arange(len(both)) < len(facts)
    h, r, t = both[:, 0], both[:, 1], both[:, 2]
    f = filter_triples
    mask = torch.cat(
        [
            known_mask(h[is_tail] * n_rel + r[is_tail], f[:, 0] * n_rel + f[:, 1], f[:, 2], n),
            known_mask(t[~is_tail] * n_rel + r[~is_tail], f[:, 2] * n_rel + f[:, 1], f[:, 0], n),
        ]
    )
    anchors = torch.from_numpy(np.where(is_tail, h, t))
    answers = torch.from_numpy(np.where(is_tail, t, h))
    counts = side_counts(known, n, n_rel)
    contexts = {}
    for suffix, (own, side) in VARIANTS.items():
        tiers = None
        if own or side:
            tiers = constraint_tiers(
                known, n, n_rel, anchors, r, is_tail, exclude_self=own, known_side=side, counts=counts
            )
        contexts[suffix] = rank_context(answers, mask, tiers)
    return both, anchors, torch.from_numpy(r.copy()), answers, contexts


def _scorable(scorer, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor) -> Tensor:
    """``(Q,)`` bool: queries whose anchor and relation a trained model has a vector for (others: all ``-inf``)."""
    model = getattr(scorer, "model", None)
    if model is None or not hasattr(model, "entity_map"):
        return torch.ones(len(anchors), dtype=torch.bool)
    return (model.entity_map(graph)[anchors] >= 0) & (model.relation_map(graph)[relations] >= 0)


def score_queries(
    scorer,
    graph: KnowledgeGraph,
    anchors: Tensor,
    relations: Tensor,
    is_tail: np.ndarray,
    *,
    batch: int = BATCH,
    cancel: Cancel | None = None,
) -> Tensor:
    """``(Q, N)`` float32 scores of a fold's queries, tail and head queries in batches of ``batch``.

    A query whose anchor or relation a trained model has no vector for (it occurs only in held-out
    facts) gets a row of ``-inf``: every candidate ties, its answer lands in the middle (the tie rule).
    ``cancel()`` is asked between batches.
    """
    out = torch.full((len(anchors), graph.num_entities), float("-inf"))
    ok = _scorable(scorer, graph, anchors, relations).numpy()
    for direction, rows in (("tail", np.flatnonzero(is_tail & ok)), ("head", np.flatnonzero(~is_tail & ok))):
        for start in range(0, len(rows), batch):
            if cancel is not None and cancel():
                raise Cancelled("leaderboard cancelled")
            b = torch.from_numpy(rows[start : start + batch])
            with torch.no_grad():
                out[b] = scorer.scores(graph, anchors[b], relations[b], direction).float()
    return out


def projected_seconds(scorer, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, total: int) -> float:
    """Seconds ``total`` queries would take, timed on up to :data:`PROBE` queries of ``anchors`` (tail queries)."""
    n = min(PROBE, len(anchors))
    started = time.perf_counter()
    with torch.no_grad():
        scorer.scores(graph, anchors[:n], relations[:n], "tail")
    return (time.perf_counter() - started) / max(1, n) * total


def _known_graph(kg: KnowledgeGraph, split: Split, f: int) -> tuple[KnowledgeGraph, np.ndarray]:
    """Fold ``f``'s known graph (the KG without the fold's facts) and the fold's held-out rows."""
    rows = split.held[split.fold == f]
    known_rows = np.ones(kg.num_triples, dtype=bool)
    known_rows[rows] = False
    return KnowledgeGraph(kg.entities, kg.relations, kg.triples[known_rows], source=f"{kg.source}, fold {f}"), rows


def _keep(parts: dict[str, list], **values) -> None:
    """Append each of one fold's ``values`` to its list in ``parts``."""
    for key, value in values.items():
        parts.setdefault(key, []).append(value)


def _scoring_budget_left(spec: ScorerSpec, scorer, known: KnowledgeGraph, anchors, relations, total: int) -> str:
    """``""`` when ``spec`` may score all ``total`` queries, else why not (its scoring budget, projected time)."""
    if spec.max_scoring_s is None:
        return ""
    seconds = projected_seconds(scorer, known, anchors, relations, total)
    if seconds <= spec.max_scoring_s:
        return ""
    return f"left out: its {total} queries would take ~{seconds:.0f} s, over its scoring budget of {spec.max_scoring_s:g} s"


def score_held_out(
    kg: KnowledgeGraph,
    specs: Sequence[ScorerSpec],
    split: Split,
    *,
    budget_s: float,
    filter_triples: np.ndarray | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> HeldOut:
    """Score every held-out query with every scorer from its fold's known graph (module docstring).

    ``budget_s``: training seconds of all trained scorers over all folds together (each trained
    scorer gets ``budget_s / (folds · trained scorers)`` per fold). A scorer with a scoring budget
    (``spec.max_scoring_s``) is timed on a few queries first and left out (``held.skipped[name]``, why)
    when all its queries would take longer. ``progress(fraction, message)``; ``cancel()`` true stops
    the run with :class:`Cancelled` (also during training and between scoring batches).
    """
    report = progress or (lambda f, m: None)
    stop = cancel or (lambda: False)
    filter_triples = kg.triples if filter_triples is None else filter_triples
    k = split.num_folds
    n_trained = sum(s.trains for s in specs)
    per_model = budget_s / max(1, k * n_trained)
    cost = [per_model + 0.5 if s.trains else (s.max_scoring_s or 0.0) / k + 0.5 for s in specs]
    total, done = k * sum(cost), 0.0

    def hook(_) -> None:
        if stop():
            raise Cancelled("leaderboard cancelled")

    parts: dict[str, list] = {}
    scores: dict[str, list[Tensor]] = {s.name: [] for s in specs}
    trained: dict[str, list[tuple[float, int]]] = {s.name: [] for s in specs if s.trains}
    skipped: dict[str, str] = {}
    for f in range(k):
        known, rows = _known_graph(kg, split, f)
        facts, anchors, relations, answers, contexts = fold_queries(kg, kg.triples[rows], known.triples, filter_triples)
        is_tail = np.arange(len(facts)) < len(rows)
        valid = np.concatenate([split.validation[split.fold == f]] * 2)
        scenario = half_link_scenarios(known.triples, facts, is_tail)
        _keep(parts, facts=facts, is_tail=is_tail, fold=np.full(len(facts), f), validation=valid)
        _keep(parts, scenario=scenario, answers=answers, contexts=contexts)
        for spec, c in zip(specs, cost):
            if stop():
                raise Cancelled("leaderboard cancelled")
            done += c
            if spec.name in skipped:
                continue
            report((done - c) / total, f"fold {f + 1} of {k}: {'training' if spec.trains else 'scoring'} {spec.name}")
            scorer = spec.make(known, per_model, hook)
            if f == 0 and (why := _scoring_budget_left(spec, scorer, known, anchors, relations, 2 * len(split.held))):
                skipped[spec.name] = why
                continue
            info = getattr(scorer, "info", None) or getattr(getattr(scorer, "model", None), "info", None)
            if spec.trains and info is not None:  # how long it trained: TrainingInfo (seconds, epochs or steps)
                trained[spec.name].append((info.seconds, info.epochs))
            batch = SLOW_BATCH if spec.max_scoring_s is not None else BATCH
            scores[spec.name].append(
                score_queries(scorer, known, anchors, relations, is_tail, batch=batch, cancel=stop)
            )
    report(1.0, "scored")
    ctx = parts["contexts"]
    contexts = {
        v: RankContext(torch.cat([c[v].before for c in ctx]), torch.cat([c[v].rivals for c in ctx])) for v in VARIANTS
    }
    return HeldOut(
        np.concatenate(parts["facts"]),
        np.concatenate(parts["is_tail"]),
        np.concatenate(parts["fold"]),
        np.concatenate(parts["validation"]),
        np.concatenate(parts["scenario"]),
        torch.cat(parts["answers"]),
        contexts,
        {name: torch.cat(s) for name, s in scores.items() if name not in skipped},
        trained,
        skipped,
    )


def variant_ranks(held: HeldOut, scores: Tensor) -> dict[str, Tensor]:
    """Filtered rank of every query's answer under each variant of :data:`VARIANTS`: suffix → ``(Q,)``."""
    return ranks_in(scores, held.answers, held.contexts)
