"""What every baseline shares: training options, the scoring interface, ranking and evaluation.

A trained model scores queries on a *known graph* (a :class:`~kgviz.graph.data.KnowledgeGraph`, the facts
available at prediction time). Ids of anchors, relations and candidates are those of the known graph;
each model maps them by name onto what it has learned:

* a shallow model (TransE … RotatE) has one vector per entity and relation seen in training;
* RGCN computes entity vectors from the known graph (any entity), but has weights only for relations
  seen in training;
* InGram computes both from the known graph.

A candidate the model has no vector for scores ``-inf`` (ranked last); a query whose anchor, relation
or answer has none *cannot be scored* (:class:`NoEmbeddingError`, or ``cannot_score`` in results).
Ranks are filtered and use the spec's tie rule, through :mod:`kgviz.ranking.ranks`; queries are
built in both directions with :func:`kgviz.evaluation.benchmark.query_set`, as ``kgviz evaluate`` does.
"""

from __future__ import annotations

import contextlib
import gc
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from kgviz.graph.data import KnowledgeGraph
from kgviz.evaluation.benchmark import query_set
from kgviz.models.ingram.predictor import resolve
from kgviz.ranking.ranks import filtered_rank, known_answers, metrics, rank_query

__all__ = [
    "TrainOptions",
    "TrainProgress",
    "TrainingInfo",
    "NoEmbeddingError",
    "TrainedModel",
    "RankedEntity",
    "ModelAnswer",
    "QueryEvaluation",
    "answer_query",
    "candidate_ranks",
    "evaluate_queries",
    "cannot_score_text",
    "torch_threads",
    "EpochClock",
]


@dataclass
class TrainOptions:
    """Training settings shared by all trainable baselines; defaults train a 1,000-triple KG in ≤ 30 s on CPU."""

    dim: int = 64  # embedding size (complex models: 32 complex numbers = 64 reals)
    learning_rate: float = 0.05  # Adam step size; large, as budgets allow few hundred steps
    batch_size: int | None = None  # triples per step (shallow models; None: the model's default); RGCN: full batch
    negatives: int | None = None  # corruptions per true triple (shallow models, PyKEEN's sLCWA; None: default)
    max_epochs: int = 1000  # upper bound; training usually stops on the time budget first
    time_budget_s: float = 25.0  # stop after the epoch during which this much wall time has passed
    seed: int = 0  # seeds torch, numpy and the model's initialisation
    threads: int | None = 1  # torch CPU threads while training (None: leave torch's setting)
    device: str = "auto"  # "auto" (CUDA when present), "cpu", "cuda"
    progress_bar: bool = True  # tqdm bar on stderr


@dataclass
class TrainProgress:
    """What a progress callback receives after each chunk of epochs."""

    model: str
    epoch: int
    max_epochs: int
    elapsed_s: float
    time_budget_s: float
    loss: float


@dataclass
class TrainingInfo:
    """How a model was trained: epochs run, wall time, last epoch's loss (empty for untrained models)."""

    epochs: int = 0
    seconds: float = 0.0
    final_loss: float | None = None
    stopped_by_budget: bool = False


def cannot_score_text(name: str) -> str:
    return f"cannot score: no embedding for ⟨{name}⟩"


class NoEmbeddingError(ValueError):
    """The model has no vector for an entity or relation of the query (it was not seen in training)."""

    def __init__(self, kind: str, name: str):
        self.kind, self.name = kind, name
        super().__init__(cannot_score_text(name))


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch CPU threads, restoring the previous setting after."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class EpochClock:
    """Time budget, tqdm bar and progress callback of a training run, advanced in chunks of epochs.

    ``chunk()`` says how many epochs to run next so that a chunk takes about ``chunk_s`` seconds;
    ``advance(n, loss)`` records them. ``done`` once the budget or ``max_epochs`` is reached.
    While it runs, the objects alive before are frozen out of the garbage collector: PyKEEN collects
    garbage after every epoch, which otherwise costs ~0.6 s per epoch in a process with many imports.
    """

    def __init__(
        self, name: str, options: TrainOptions, progress: Callable[[TrainProgress], None] | None, chunk_s: float = 0.5
    ):
        self.name, self.options, self.progress, self.chunk_s = name, options, progress, chunk_s
        self.epoch, self.loss = 0, float("nan")
        self.start = time.perf_counter()
        self.bar = tqdm(
            total=options.max_epochs,
            desc=f"training {name}",
            unit="epoch",
            leave=False,
            disable=not options.progress_bar,
        )
        gc.freeze()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def done(self) -> bool:
        return self.epoch >= self.options.max_epochs or self.elapsed >= self.options.time_budget_s

    def chunk(self) -> int:
        left = self.options.max_epochs - self.epoch
        if self.epoch == 0:
            return 1
        per_epoch = self.elapsed / self.epoch
        want = min(self.chunk_s, max(self.options.time_budget_s - self.elapsed, 0.0)) / max(per_epoch, 1e-6)
        return int(max(1, min(left, want)))

    def advance(self, epochs: int, loss: float) -> None:
        self.epoch += epochs
        self.loss = float(loss)
        self.bar.update(epochs)
        self.bar.set_postfix(loss=f"{self.loss:.4f}", s=f"{self.elapsed:.0f}/{self.options.time_budget_s:.0f}")
        if self.progress is not None:
            self.progress(
                TrainProgress(
                    self.name, self.epoch, self.options.max_epochs, self.elapsed, self.options.time_budget_s, self.loss
                )
            )

    def finish(self) -> TrainingInfo:
        self.bar.close()
        gc.unfreeze()
        return TrainingInfo(
            self.epoch, self.elapsed, None if np.isnan(self.loss) else self.loss, self.epoch < self.options.max_epochs
        )


class TrainedModel(ABC):
    """A model ready to score queries on a known graph (ids in that graph's vocabulary)."""

    name: str = "model"
    info: TrainingInfo

    @abstractmethod
    def entity_map(self, known: KnowledgeGraph) -> Tensor:
        """``(N_known,)`` int64: the model's id of each entity of ``known``, ``-1`` where it has no vector."""

    @abstractmethod
    def relation_map(self, known: KnowledgeGraph) -> Tensor:
        """``(R_known,)`` int64: the model's id of each relation of ``known``, ``-1`` where it has no vector."""

    @abstractmethod
    def _scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str) -> Tensor:
        """Scores ``(B, N_known)`` of every entity of ``known``; all anchors and relations have vectors."""

    def scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str = "tail") -> Tensor:
        """Scores ``(B, N_known)`` of ``(a, r, e)`` (``direction="tail"``) or ``(e, r, a)`` for every entity ``e``.

        ``anchors``, ``relations``: ``(B,)`` ids in ``known``. Entities without a vector score ``-inf``;
        an anchor or relation without one raises :class:`NoEmbeddingError`.
        """
        if direction not in ("tail", "head"):
            raise ValueError(f"direction must be 'tail' or 'head', not {direction!r}")
        ent, rel = self.entity_map(known), self.relation_map(known)
        for ids, table, names, kind in (
            (anchors, ent, known.entities, "entity"),
            (relations, rel, known.relations, "relation"),
        ):
            bad = ids[table[ids] < 0]
            if len(bad):
                raise NoEmbeddingError(kind, names[int(bad[0])])
        with torch.no_grad():
            out = self._scores(known, anchors, relations, direction).float().cpu()
        out[:, ent < 0] = float("-inf")
        return out


@dataclass
class RankedEntity:
    """One candidate of a ranking; ``known`` marks an answer already in the known graph."""

    rank: int
    name: str
    score: float
    known: bool


@dataclass
class ModelAnswer:
    """A model's answer to ``(head, relation, ?)`` or ``(?, relation, tail)`` (a row of ``kgviz compare``).

    ``top`` is empty and ``cannot_score`` holds "cannot score: no embedding for ⟨name⟩" when the model
    has no vector for the anchor or relation; ``expected_rank`` is the filtered rank of ``expected``
    (``None`` with ``expected_cannot_score`` set when the model has no vector for it).
    """

    model: str
    anchor: str
    relation: str
    direction: str
    top: list[RankedEntity] = field(default_factory=list)
    expected: str | None = None
    expected_rank: int | None = None
    cannot_score: str | None = None
    expected_cannot_score: str | None = None


def answer_query(
    model: TrainedModel,
    known: KnowledgeGraph,
    anchor: str | int,
    relation: str | int,
    *,
    direction: str = "tail",
    top_k: int = 10,
    expected: str | int | None = None,
    filter_known: bool = False,
) -> ModelAnswer:
    """Rank every entity of ``known`` as the tail of ``(anchor, relation, ?)`` (or head of ``(?, relation, anchor)``)
    through :func:`kgviz.ranking.ranks.rank_query` (no constraints: compare's models all rank by score alone).

    ``expected`` gets its filtered rank (other known answers removed, spec tie rule). Unknown names
    raise :class:`kgviz.models.ingram.predictor.UnknownNameError`; missing vectors give a ``cannot_score`` result.
    """
    a = resolve(anchor, known.entity_index, "entity")
    r = resolve(relation, known.relation_index, "relation")
    x = None if expected is None else resolve(expected, known.entity_index, "entity")
    out = ModelAnswer(
        model.name, known.entities[a], known.relations[r], direction, expected=None if x is None else known.entities[x]
    )
    try:
        ranked = rank_query(
            model, a, r, direction, graph=known, exclude_self=False, known_side=False, filter_known=filter_known
        )
    except NoEmbeddingError as exc:
        out.cannot_score = str(exc)
        return out
    finite = [c for c in ranked.candidates if np.isfinite(c.score)]
    out.top = [RankedEntity(i + 1, c.name, c.score, c.known) for i, c in enumerate(finite[:top_k])]
    if x is not None:
        if model.entity_map(known)[x] < 0:
            out.expected_cannot_score = cannot_score_text(known.entities[x])
        else:
            out.expected_rank = ranked.rank_of(x, filtered=True)
    return out


def candidate_ranks(
    model: TrainedModel,
    known: KnowledgeGraph,
    anchor: int,
    relation: int,
    candidates: list[int],
    *,
    direction: str = "tail",
    filter_known: bool = False,
) -> list[int | None]:
    """The model's rank of each of ``candidates`` (entity ids of ``known``) for one query, spec tie rule.

    ``filter_known``: the query's other known answers are removed before ranking (filtered rank).
    ``None`` for a candidate the model has no vector for; :class:`NoEmbeddingError` when the anchor or
    relation has none.
    """
    s = model.scores(known, torch.tensor([anchor]), torch.tensor([relation]), direction)  # (1, N)
    if not candidates:
        return []
    mask = None
    if filter_known:
        mask = torch.zeros(1, known.num_entities, dtype=torch.bool)
        mask[0, known_answers(known.triples, anchor, relation, direction)] = True
        mask = mask.expand(len(candidates), -1)
    cands = torch.tensor(candidates, dtype=torch.int64)
    ranks = filtered_rank(s.expand(len(candidates), -1), cands, mask).tolist()
    has = model.entity_map(known)[cands] >= 0
    return [int(r) if ok else None for r, ok in zip(ranks, has.tolist())]


@dataclass
class QueryEvaluation:
    """Filtered metrics of a query set, pooled over tail and head queries (as ``kgviz evaluate``).

    ``metrics`` covers the ``num_scored`` query directions the model can score (``None`` if none);
    ``missing`` names the relations, then the entities, without a vector that made the others unscorable.
    """

    model: str
    num_queries: int  # query directions: 2 per triple
    num_scored: int
    metrics: dict[str, float] | None
    missing: list[str] = field(default_factory=list)
    ranks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def cannot_score(self) -> str | None:
        """ "cannot score: no embedding for ⟨name⟩" when no query could be scored, else ``None``."""
        if self.num_scored or not self.missing:
            return None
        more = f" (and {len(self.missing) - 1} more)" if len(self.missing) > 1 else ""
        return cannot_score_text(self.missing[0]) + more


def evaluate_queries(
    model: TrainedModel,
    known: KnowledgeGraph,
    queries: np.ndarray,
    true_triples: np.ndarray | None = None,
    batch_size: int = 512,
) -> QueryEvaluation:
    """Filtered MR / MRR / Hits@k of ``queries (Q, 3)`` (ids in ``known``), both directions.

    ``true_triples`` (default: ``known``'s triples and the queries) are filtered out of each ranking.
    Query directions whose anchor, relation or answer has no vector are counted, not scored.
    """
    queries = np.asarray(queries, dtype=np.int64).reshape(-1, 3)
    if len(queries) == 0:
        raise ValueError("no queries to evaluate")
    if true_triples is None:
        true_triples = np.concatenate([known.triples, queries])
    qs = query_set(known, queries, true_triples)
    ent, rel = model.entity_map(known), model.relation_map(known)
    ok = (ent[qs.anchors] >= 0) & (rel[qs.relations] >= 0) & (ent[qs.answers] >= 0)  # (2Q,)
    lacking = torch.cat([qs.anchors[ent[qs.anchors] < 0], qs.answers[ent[qs.answers] < 0]]).tolist()
    missing = list(dict.fromkeys(known.relations[i] for i in qs.relations[rel[qs.relations] < 0].tolist()))
    missing += list(dict.fromkeys(known.entities[i] for i in lacking))
    rows = torch.nonzero(ok).flatten()
    ranks = []
    q = len(qs.answers) // 2
    for start in range(0, len(rows), batch_size):
        b = rows[start : start + batch_size]
        s = torch.empty(len(b), known.num_entities)
        for direction, sel in (("tail", b < q), ("head", b >= q)):
            if sel.any():
                s[sel] = model.scores(known, qs.anchors[b[sel]], qs.relations[b[sel]], direction)
        ranks.append(filtered_rank(s, qs.answers[b], qs.mask[b]))
    r = torch.cat(ranks).numpy() if ranks else np.zeros(0, dtype=np.int64)
    return QueryEvaluation(model.name, len(qs.answers), len(r), metrics(r) if len(r) else None, missing, r)
