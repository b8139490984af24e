"""The scorer interface every model implements.

A scorer answers a batch of queries on a *known graph* ``G`` (a :class:`~kgviz.graph.data.KnowledgeGraph`:
the facts available when predicting). For ``Q`` queries with anchors ``a``, relations ``r`` (ids in
``G``) and one direction::

    tail:  S[q, e] = score(a_q, r_q, e)      head:  S[q, e] = score(e, r_q, a_q)

higher is better, ``S`` is ``(Q, N)`` float32 on the CPU, ``N = G.num_entities``; a candidate the
scorer has no vector for scores ``-inf``. Turning scores into ranks (filtering, constraints, ties)
is not the scorer's job: :mod:`kgviz.ranking.ranks` does it, once, for every scorer.

What a scorer needs before it can score (:class:`Needs`) and what else it can do
(:class:`Capabilities`) are declared, never guessed from its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol, runtime_checkable

from torch import Tensor

from kgviz.graph.data import KnowledgeGraph

__all__ = ["QueryDirection", "Needs", "Capabilities", "Scorer", "DrawScorer", "check_direction"]

QueryDirection = Literal["tail", "head"]


class Needs(Enum):
    """What a scorer needs before it can score a KG it has not seen."""

    WEIGHTS = "trained weights"  # pretrained, zero-shot on any KG (InGram, ULTRA)
    TRAINING = "a KG to train on"  # trained on (part of) the user's KG (TransE … RotatE, R-GCN)
    NOTHING = "nothing"  # counting and untrained models


@dataclass(frozen=True)
class Capabilities:
    """Optional abilities of a scorer; each one is a promise of the methods named here.

    - ``draws``: scores depend on a random draw (InGram's initial features); the scorer is a
      :class:`DrawScorer` and ``scores`` is the mean over its draws;
    - ``attention``: the scorer can return its attention weights (InGram);
    - ``relation_graph``: its answer can be explained by a graph over relations (InGram, ULTRA);
    - ``paths``: its answer can be explained by paths from the anchor to a candidate (ULTRA);
    - ``adaptation``: it can be fine-tuned on the user's KG.
    """

    draws: bool = False
    attention: bool = False
    relation_graph: bool = False
    paths: bool = False
    adaptation: bool = False


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores every entity of ``graph`` for a batch of queries (see the module docstring)."""

    name: str
    needs: Needs
    capabilities: Capabilities

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        """``(Q, N)`` float32 CPU scores of every entity for queries ``(anchors[q], relations[q], ?)``
        (``direction="tail"``) or ``(?, relations[q], anchors[q])`` (``"head"``)."""
        ...


@runtime_checkable
class DrawScorer(Scorer, Protocol):
    """A scorer whose scores depend on random draws: ``scores`` is the mean of ``draw_scores`` over draws."""

    seeds: tuple[int, ...]

    def draw_scores(
        self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection
    ) -> Tensor:
        """``(K, Q, N)``: the scores under each of the ``K = len(seeds)`` draws."""
        ...


def check_direction(direction: str) -> QueryDirection:
    """``direction`` if it is ``"tail"`` or ``"head"``, else a ``ValueError`` that says so."""
    if direction not in ("tail", "head"):
        raise ValueError(f"direction must be 'tail' or 'head', not {direction!r}")
    return direction  # type: ignore[return-value]
