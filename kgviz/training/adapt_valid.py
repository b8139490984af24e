"""Held-out validation facts for :func:`kgviz.training.adapt.adapt`: the split, and the score that judges a state.

Split (:func:`validation_split`). The training part must keep a spanning forest of the entity graph and a
triple of every relation (spec §6, drawn with the seed as :func:`kgviz.training.sampling.split_triples` does), so that
every entity and relation of a held-out fact is still in the graph the model reads; the other ``S`` triples
are spare. ``V = min(VALID_MOST, max(VALID_LEAST, ⌈VALID_SHARE · M⌉), max(⌊S / 2⌋, min(VALID_LEAST, S − 1)))``
of the spare triples, drawn with the seed, are held out: 10 % of the KG, at least 10, at most 1,000, and never
so many that fewer than half the spare triples are left to learn from — unless that is what it takes to reach
10 held-out facts, and at least one spare triple is always left (the 14-triple movies KG has 3 spare and holds
out 2). With fewer than :data:`VALID_LEAST` held-out facts no fine-tuned state is accepted (see
:func:`kgviz.training.adapt.adapt`): on graphs cut from the training sets, states chosen on 1–8 held-out facts lost up
to 0.2 MRR on other facts (docs/experiments.md, "Adapting to one KG").

Score (:class:`ValidationScorer`). Each held-out fact ``(h, r, t)`` is asked both ways, ``(h, r, ?) → t`` and
``(?, r, t) → h``, from the training part as the message graph; its answer is ranked among all entities,
filtered (other answers forming a triple of the whole KG are removed), under the app's default constraints
(own entity last, the known side of the relation first: :data:`kgviz.evaluation.transfer_ranks.CONSTRAINTS`), with
InGram's scores averaged over the fixed draws :data:`VALID_DRAWS`. The criterion is the MRR of those ranks,
``mean(1 / rank)`` over the ``2V`` queries; raw InGram and relation-tail frequency (same constraints, same
graph) are reported beside it. A fine-tuned state counts as better than the start only when its gain exceeds
one standard error (:func:`gain_over`), so that on a KG with few facts a change within noise is not taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch
from torch import Tensor

from kgviz.graph.data import KGFormatError, KnowledgeGraph
from kgviz.evaluation.benchmark import embed, query_scores
from kgviz.models.counting_scores import Baselines
from kgviz.models.ingram.network import InGram
from kgviz.ranking.ranks import metrics
from kgviz.training.sampling import split_triples
from kgviz.evaluation.transfer_ranks import TransferTask, directed_task, ranks_by_constraint

__all__ = [
    "MARGIN_SE",
    "gain_over",
    "VALID_SHARE",
    "VALID_LEAST",
    "VALID_MOST",
    "VALID_DRAWS",
    "CRITERION",
    "ValidationSplit",
    "validation_split",
    "ValidationScorer",
]

VALID_SHARE = 0.10  # share of the KG's triples held out for validation …
VALID_LEAST = 10  # … but at least this many (small KGs: a 66-triple KG holds out 10) …
VALID_MOST = 1000  # … and at most this many (the cost of a validation grows with them)
VALID_DRAWS = (0, 1, 2, 3)  # InGram's draws for validation: fixed, so every state is scored alike
CRITERION = "both constraints"  # the app's default ranking
MARGIN_SE = 1.0  # a state beats the start only by more than this many standard errors of its gain


def gain_over(start: np.ndarray, state: np.ndarray) -> tuple[float, float]:
    """Gain of a state over the start on the same queries, and its standard error.

    ``d = state − start`` (reciprocal ranks ``(Q,)``); gain ``Δ = mean(d)`` (the change of MRR), standard error
    ``std(d) / √Q`` (sample std, 0 for one query). A state counts as better than the start when
    ``Δ > MARGIN_SE · SE`` and ``Δ > 0``: on a few held-out facts, a change within noise is not taken.
    """
    d = np.asarray(state, dtype=np.float64) - np.asarray(start, dtype=np.float64)
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
    return float(d.mean()), se


@dataclass
class ValidationSplit:
    """``train`` (the KG without the held-out facts) and ``valid (V, 3)``, the held-out triple ids."""

    kg: KnowledgeGraph
    train: KnowledgeGraph
    valid: np.ndarray

    def describe(self) -> str:
        share = len(self.valid) / self.kg.num_triples
        return (
            f"{len(self.valid)} of {self.kg.num_triples} facts held out for validation ({share:.0%}; "
            f"{VALID_SHARE:.0%} of the KG, at least {VALID_LEAST} where it can spare them, at most {VALID_MOST}; "
            "seeded)"
        )


def validation_split(kg: KnowledgeGraph, seed: int = 0) -> ValidationSplit:
    """Hold out validation facts of ``kg`` (module docstring); :class:`KGFormatError` if none can be spared."""
    m = kg.num_triples
    rng = np.random.default_rng(seed)
    needed = split_triples(kg.triples, kg.num_entities, kg.num_relations, rng, ratio=0.0)
    spare = np.flatnonzero(~needed)
    room = max(len(spare) // 2, min(VALID_LEAST, len(spare) - 1))
    count = min(VALID_MOST, max(VALID_LEAST, math.ceil(VALID_SHARE * m)), room)
    if count < 1:
        raise KGFormatError(
            f"too small to adapt to: of its {m} triples, {m - len(spare)} are needed to keep each entity and "
            "relation in the graph (a spanning tree plus one triple per relation), which leaves "
            f"{len(spare)} — too few both to hold one out to judge the adaptation and to learn from another; "
            "add triples that close a cycle or repeat a relation",
            source=kg.source,
        )
    held = np.zeros(m, dtype=bool)
    held[rng.choice(spare, count, replace=False)] = True
    train = KnowledgeGraph(
        kg.entities, kg.relations, kg.triples[~held], source=f"{kg.source} without its validation facts"
    )
    return ValidationSplit(kg, train, kg.triples[held])


class ValidationScorer:
    """Scores a model on a :class:`ValidationSplit` (module docstring); the queries are built once."""

    def __init__(self, split: ValidationSplit, device: torch.device):
        self.split, self.device = split, device
        v = split.valid
        both = np.concatenate([v, v])
        self.task: TransferTask = directed_task(
            "validation", split.train, both, np.arange(len(both)) < len(v), split.kg.triples
        )
        self._frequency: dict[str, float] | None = None

    @property
    def num_facts(self) -> int:
        return len(self.split.valid)

    def ingram(self, model: InGram) -> dict[str, float]:
        """MRR of ``model`` (mean score over :data:`VALID_DRAWS`): ``{"raw", "both constraints"}``."""
        return self.score(model)[0]

    def score(self, model: InGram) -> tuple[dict[str, float], np.ndarray]:
        """:meth:`ingram`'s MRRs, and ``(2V,)`` the reciprocal rank of each query under the criterion."""
        was_training = model.training
        model.eval()
        embs = embed(model, self.split.train, VALID_DRAWS, self.device)

        def scores_of(rows: slice) -> Iterable[Tensor]:
            with torch.no_grad():
                yield query_scores(model, embs, self.task.queries, rows)

        (ranks,) = ranks_by_constraint(self.task, scores_of, constraints=("none", CRITERION))
        model.train(was_training)
        mrr = {"raw": metrics(ranks["none"])["MRR"], CRITERION: metrics(ranks[CRITERION])["MRR"]}
        return mrr, 1.0 / ranks[CRITERION].double().numpy()

    def frequency(self) -> dict[str, float]:
        """MRR of relation-tail (head) frequency from the training part, raw and with both constraints."""
        if self._frequency is None:
            g, qs = self.split.train, self.task.queries
            scorer = Baselines(g.triples, g.num_entities, g.num_relations)

            def scores_of(rows: slice) -> Iterable[Tensor]:
                yield scorer.scores(
                    "relation-tail frequency", qs.anchors[rows], qs.relations[rows], self.task.is_tail[rows]
                )

            (ranks,) = ranks_by_constraint(self.task, scores_of, constraints=("none", CRITERION))
            self._frequency = {"raw": metrics(ranks["none"])["MRR"], CRITERION: metrics(ranks[CRITERION])["MRR"]}
        return self._frequency
