"""Shallow embeddings through PyKEEN: TransE, TransR, DistMult, ComplEx and RotatE.

Each learns one vector per entity and relation seen in training (the lecture's "embedding lookup"):

=========  ======================================  ==========================================
model      score f(h, r, t)                        vectors
=========  ======================================  ==========================================
TransE     −‖h + r − t‖₁                           h, r, t ∈ ℝᵏ
TransR     −‖M_r h + r − M_r t‖₂²                  h, t ∈ ℝᵏ, r ∈ ℝᵈ, M_r ∈ ℝᵈˣᵏ
DistMult   ⟨h, r, t⟩ = Σᵢ hᵢ rᵢ tᵢ                 h, r, t ∈ ℝᵏ
ComplEx    Re(⟨h, r, t̄⟩)                           h, r, t ∈ ℂᵏ
RotatE     −‖h ∘ r − t‖, |rᵢ| = 1                  h, r, t ∈ ℂᵏ
=========  ======================================  ==========================================

The models and their training loop are PyKEEN's (sLCWA: each true triple against ``negatives``
corruptions of its head or tail, no inverse triples, so heads and tails are ranked by the same f).
Training runs in chunks of epochs until :attr:`TrainOptions.time_budget_s` or ``max_epochs``.
Runs are deterministic for a seed and a number of epochs (a binding time budget makes the number
of epochs depend on the machine's speed; set ``time_budget_s=float("inf")`` to fix it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.baselines.common import (
    EpochClock,
    TrainedModel,
    TrainingInfo,
    TrainOptions,
    TrainProgress,
    torch_threads,
)

__all__ = ["SHALLOW_MODELS", "ShallowModel", "train_shallow", "name_map"]


@dataclass(frozen=True)
class _Spec:
    pykeen_name: str  # class name in pykeen.models
    loss: str  # PyKEEN loss name, as in each model's paper
    kwargs: Callable[[int], dict[str, Any]]  # constructor arguments from TrainOptions.dim
    batch_size: int = 256  # default triples per step
    negatives: int = 16  # default corruptions per true triple


SHALLOW_MODELS: dict[str, _Spec] = {
    "transe": _Spec("TransE", "nssa", lambda d: {"embedding_dim": d, "scoring_fct_norm": 1}),
    # TransR projects every scored triple with its relation's matrix, which dominates the cost: a space of
    # half the size, and more, cheaper steps (few negatives) learn most within the time budget
    "transr": _Spec(
        "TransR", "marginranking", lambda d: {"embedding_dim": d, "relation_dim": d // 2}, batch_size=64, negatives=4
    ),
    # PyKEEN's L2 penalty on DistMult's relations and ComplEx's vectors (weight 0.1, meant for large KGs) keeps
    # them from fitting the small KGs here at all (e.g. 0.13 train MRR on the 108-triple symmetry KG): none
    "distmult": _Spec("DistMult", "softplus", lambda d: {"embedding_dim": d, "regularizer": None}),
    "complex": _Spec("ComplEx", "nssa", lambda d: {"embedding_dim": d // 2, "regularizer": None}),  # d/2 complex
    "rotate": _Spec("RotatE", "nssa", lambda d: {"embedding_dim": d // 2}),
}


def name_map(names: tuple[str, ...], index: dict[str, int]) -> Tensor:
    """``(len(names),)`` int64: ``index[name]`` for each name, ``-1`` where absent."""
    return torch.tensor([index.get(n, -1) for n in names], dtype=torch.int64)


class ShallowModel(TrainedModel):
    """A trained PyKEEN model with the vocabulary of the KG it was trained on."""

    def __init__(self, name: str, model: Any, trained_on: KnowledgeGraph, info: TrainingInfo):
        self.name, self.model, self.trained_on, self.info = name, model.eval(), trained_on, info
        self._maps: tuple[KnowledgeGraph, Tensor, Tensor] | None = None

    def _mapped(self, known: KnowledgeGraph) -> tuple[Tensor, Tensor]:
        if self._maps is None or self._maps[0] is not known:
            self._maps = (
                known,
                name_map(known.entities, self.trained_on.entity_index),
                name_map(known.relations, self.trained_on.relation_index),
            )
        return self._maps[1], self._maps[2]

    def entity_map(self, known: KnowledgeGraph) -> Tensor:
        return self._mapped(known)[0]

    def relation_map(self, known: KnowledgeGraph) -> Tensor:
        return self._mapped(known)[1]

    def _scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str) -> Tensor:
        ent, rel = self._mapped(known)
        device = next(self.model.parameters()).device
        a, r = ent[anchors].to(device), rel[relations].to(device)
        if direction == "tail":
            s = self.model.score_t(torch.stack([a, r], 1))  # (B, N_model)
        else:
            s = self.model.score_h(torch.stack([r, a], 1))  # (B, N_model)
        out = torch.full((len(anchors), known.num_entities), float("-inf"))
        has = ent >= 0
        out[:, has] = s.float().cpu()[:, ent[has]]
        return out


def train_shallow(
    name: str,
    kg: KnowledgeGraph,
    options: TrainOptions | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
) -> ShallowModel:
    """Train PyKEEN's ``name`` model (a key of :data:`SHALLOW_MODELS`) on all triples of ``kg``."""
    from pykeen import models as pykeen_models
    from pykeen.training import SLCWATrainingLoop
    from pykeen.triples import CoreTriplesFactory
    from pykeen.utils import set_random_seed

    if name not in SHALLOW_MODELS:
        raise ValueError(f"unknown shallow model {name!r}; choose from {', '.join(SHALLOW_MODELS)}")
    if kg.num_triples == 0:
        raise ValueError(f"{kg.source}: no triples to train on")
    options = options or TrainOptions()
    spec = SHALLOW_MODELS[name]
    device = pick_device(options.device)
    # PyKEEN's data loader asks for pinned memory, and torch warns when there is no GPU to pin for; PyKEEN
    # warns about its own shuffle argument: neither is ours to act on
    with torch_threads(options.threads), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        warnings.filterwarnings("ignore", message="Training instances are always shuffled")
        set_random_seed(options.seed)
        factory = CoreTriplesFactory.create(
            torch.from_numpy(np.array(kg.triples)), num_entities=kg.num_entities, num_relations=kg.num_relations
        )
        model = getattr(pykeen_models, spec.pykeen_name)(
            triples_factory=factory, loss=spec.loss, random_seed=options.seed, **spec.kwargs(options.dim)
        )
        model = model.to(device)
        loop = SLCWATrainingLoop(
            model=model,
            triples_factory=factory,
            optimizer="adam",
            optimizer_kwargs={"lr": options.learning_rate},
            negative_sampler_kwargs={"num_negs_per_pos": options.negatives or spec.negatives},
        )
        batch_size = options.batch_size or spec.batch_size
        clock = EpochClock(spec.pykeen_name, options, progress)
        try:
            while not clock.done:
                n = clock.chunk()
                losses = loop.train(
                    factory,
                    num_epochs=clock.epoch + n,
                    batch_size=batch_size,
                    continue_training=clock.epoch > 0,
                    use_tqdm=False,
                    pin_memory=False,
                )
                clock.advance(n, losses[-1] if losses else float("nan"))
        finally:
            info = clock.finish()
    return ShallowModel(spec.pykeen_name, model, kg, info)
