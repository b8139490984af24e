"""The lecture's shallow models (TransE … RotatE) and R-GCN as scorers: trained on the user's KG first.

:class:`TrainingScorer` trains on the first graph it is asked to score (``needs = Needs.TRAINING``) —
or is given an already trained :class:`kgviz.models.baselines.common.TrainedModel` — and then scores any known
graph through :meth:`TrainedModel.scores` (entities it has no vector for score ``-inf``). Never score a
fact with a model that trained on it: train on a graph without the facts you will ask for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.base import Capabilities, Needs, QueryDirection, check_direction

if TYPE_CHECKING:
    from kgviz.models.baselines.common import TrainedModel, TrainOptions, TrainProgress

__all__ = ["TrainingScorer", "TRAINED_SCORERS"]

TRAINED_SCORERS = ("transe", "transr", "distmult", "complex", "rotate", "rgcn")


class TrainingScorer:
    """A trainable baseline (``name`` one of :data:`TRAINED_SCORERS`) behind the scorer interface.

    ``model``: an already trained model (then nothing is trained); else the first :meth:`scores` call trains
    one on that call's graph with ``options`` (:func:`kgviz.models.baselines.models.get_model`), reporting to ``progress``.
    """

    needs = Needs.TRAINING
    capabilities = Capabilities()

    def __init__(
        self,
        name: str,
        options: TrainOptions | None = None,
        model: TrainedModel | None = None,
        progress: Callable[[TrainProgress], None] | None = None,
    ):
        key = name.lower()
        if model is None and key not in TRAINED_SCORERS:
            raise ValueError(f"unknown trained model {name!r}; known: {', '.join(TRAINED_SCORERS)}")
        self.key, self.options, self.model, self.progress = key, options, model, progress
        self.name = model.name if model is not None else key

    def train(self, graph: KnowledgeGraph) -> TrainedModel:
        """Train on ``graph``'s triples (once); the trained model is kept."""
        if self.model is None:
            from kgviz.models.baselines.models import get_model

            self.model = get_model(self.key, graph, self.options, progress=self.progress)
            self.name = self.model.name
        return self.model

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        """``(Q, N)`` float32 CPU scores; trains on ``graph`` first if no model was trained yet."""
        return self.train(graph).scores(graph, anchors, relations, check_direction(direction)).float()
