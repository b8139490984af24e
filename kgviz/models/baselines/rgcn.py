"""R-GCN (Schlichtkrull et al., ESWC 2018) with random initial entity features: entity-inductive.

Each layer (the paper's eq. 2, with basis decomposition eq. 3)::

    h'_v = W₀ h_v + Σ_r Σ_{u ∈ N_r(v)} (1 / c_{v,r}) W_r h_u,    W_r = Σ_b a_{r,b} V_b,   c_{v,r} = |N_r(v)|

over the 2R relations (each triple also runs backwards along its inverse), ReLU between layers, and
the paper's DistMult decoder ``f(h, r, t) = Σᵢ eₕᵢ rᵢ eₜᵢ`` on the last layer's entity vectors.

The first layer's inputs ``h⁰`` are *random* (``N(0, 1/d)``, a fresh draw every training step, a few
fixed draws averaged at scoring time), never learned: nothing is stored per entity, so any entity of
the known graph, seen in training or not, gets a vector from its neighbourhood. The weights ``V_b``,
``a_{r,b}`` and the decoder's ``r`` exist only for relations seen in training, so a query with a new
relation cannot be scored, and edges of new relations carry no messages.

Why our own layer rather than PyKEEN's ``RGCN``: PyKEEN builds the R-GCN message graph and its entity
inputs (a learned embedding table) from the training triples factory, so it has no vector for an
entity that was not in training and cannot pass messages over a different known graph at scoring time —
the two things this baseline is here to show. The layer is ~30 lines of index arithmetic.

Training (full batch, one step per "epoch"): each step keeps a random 75 % of the training triples as
the message graph (edge dropout, so the model learns to predict facts it cannot see) and minimises the
softmax cross-entropy of the true tail of every training triple among all entities, and of its head.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.baselines.common import (
    EpochClock,
    TrainedModel,
    TrainOptions,
    TrainProgress,
    TrainingInfo,
    torch_threads,
)
from kgviz.models.baselines.shallow import name_map

__all__ = ["RGCNLayer", "RGCN", "RGCNModel", "train_rgcn"]

MESSAGE_KEEP = 0.75  # share of the training triples in each step's message graph
NUM_BASES = 4  # B, bases of the relation weights
SCORE_DRAWS = 4  # random feature draws averaged at scoring time


class RGCNLayer(nn.Module):
    """One R-GCN layer with basis decomposition (see the module docstring for the formula).

    Shapes: ``x (N, d_in)``, ``edges (E, 3)`` rows ``[u, r, v]`` with ``r < 2R``, ``norm (E,)`` = 1/c_{v,r}
    → ``(N, d_out)``.
    """

    def __init__(self, dim_in: int, dim_out: int, num_relations: int, num_bases: int = NUM_BASES):
        super().__init__()
        self.bases = nn.Parameter(torch.empty(num_bases, dim_in, dim_out))  # V_b
        self.coefficients = nn.Parameter(torch.empty(num_relations, num_bases))  # a_{r,b}
        self.self_loop = nn.Linear(dim_in, dim_out)  # W₀ (with a bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.bases)
        nn.init.xavier_uniform_(self.coefficients)
        self.self_loop.reset_parameters()

    def forward(self, x: Tensor, edges: Tensor, norm: Tensor) -> Tensor:
        u, r, v = edges.unbind(1)
        xb = torch.einsum("nd,bde->nbe", x, self.bases)  # (N, B, d_out): h_u V_b for every basis
        msg = (self.coefficients[r].unsqueeze(-1) * xb[u]).sum(1)  # (E, d_out): W_r h_u
        return self.self_loop(x).index_add(0, v, msg * norm.unsqueeze(1))


class RGCN(nn.Module):
    """Two R-GCN layers over random inputs and a DistMult decoder with one vector per relation."""

    def __init__(self, num_relations: int, dim: int, num_layers: int = 2):
        super().__init__()
        self.dim = dim
        self.layers = nn.ModuleList(RGCNLayer(dim, dim, 2 * num_relations) for _ in range(num_layers))
        self.relation = nn.Parameter(torch.empty(num_relations, dim))  # r of the decoder
        nn.init.xavier_uniform_(self.relation)

    def embed(self, x: Tensor, edges: Tensor) -> Tensor:
        """Entity vectors ``(N, d)`` from inputs ``x (N, d)`` over ``edges (E, 3)`` (inverses included)."""
        key = edges[:, 2] * (edges[:, 1].max() + 1 if len(edges) else 1) + edges[:, 1]  # one key per (v, r)
        _, group, count = torch.unique(key, return_inverse=True, return_counts=True)
        norm = 1.0 / count[group].float()  # (E,) 1/c_{v,r}
        for i, layer in enumerate(self.layers):
            x = layer(x, edges, norm)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x

    def score_all(self, ent: Tensor, anchors: Tensor, relations: Tensor) -> Tensor:
        """``f(a, r, e)`` for every entity ``e``: ``(B, N)``; DistMult is symmetric, so heads use the same."""
        return (ent[anchors] * self.relation[relations]) @ ent.T


def _with_inverses(triples: Tensor, num_relations: int) -> Tensor:
    """``(2M, 3)`` edges ``[u, r, v]``: each triple and its inverse ``[t, r + R, h]``."""
    inverse = torch.stack([triples[:, 2], triples[:, 1] + num_relations, triples[:, 0]], 1)
    return torch.cat([triples, inverse])


def _random_inputs(num_entities: int, dim: int, generator: torch.Generator, device: torch.device) -> Tensor:
    return (torch.randn(num_entities, dim, generator=generator) / math.sqrt(dim)).to(device)  # (N, d)


class RGCNModel(TrainedModel):
    """A trained :class:`RGCN`: vectors for every entity of a known graph, weights for training relations."""

    name = "RGCN"

    def __init__(self, net: RGCN, trained_on: KnowledgeGraph, info: TrainingInfo, seed: int = 0):
        self.net, self.trained_on, self.info, self.seed = net.eval(), trained_on, info, seed
        self._cache: tuple[KnowledgeGraph, Tensor, list[Tensor]] | None = None

    def entity_map(self, known: KnowledgeGraph) -> Tensor:
        return torch.arange(known.num_entities)

    def relation_map(self, known: KnowledgeGraph) -> Tensor:
        return name_map(known.relations, self.trained_on.relation_index)

    def _embeddings(self, known: KnowledgeGraph) -> tuple[Tensor, list[Tensor]]:
        """Relation map and the entity vectors of ``known`` under each of the :data:`SCORE_DRAWS` draws."""
        if self._cache is None or self._cache[0] is not known:
            device = self.net.relation.device
            rel = self.relation_map(known)
            t = torch.from_numpy(np.array(known.triples))
            t = t[rel[t[:, 1]] >= 0]  # edges of relations without weights carry no message
            t[:, 1] = rel[t[:, 1]]
            edges = _with_inverses(t, self.trained_on.num_relations).to(device)
            g = torch.Generator().manual_seed(self.seed + 1_000_003)  # draws apart from training's
            with torch.no_grad():
                embs = [
                    self.net.embed(_random_inputs(known.num_entities, self.net.dim, g, device), edges)
                    for _ in range(SCORE_DRAWS)
                ]
            self._cache = (known, rel, embs)
        return self._cache[1], self._cache[2]

    def _scores(self, known: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: str) -> Tensor:
        rel, embs = self._embeddings(known)
        device = self.net.relation.device
        a, r = anchors.to(device), rel[relations].to(device)
        return torch.stack([self.net.score_all(e, a, r) for e in embs]).mean(0)  # (B, N)


def train_rgcn(
    kg: KnowledgeGraph, options: TrainOptions | None = None, progress: Callable[[TrainProgress], None] | None = None
) -> RGCNModel:
    """Train an entity-inductive R-GCN on all triples of ``kg`` (one full-batch step per epoch)."""
    if kg.num_triples == 0:
        raise ValueError(f"{kg.source}: no triples to train on")
    options = options or TrainOptions()
    device = pick_device(options.device)
    with torch_threads(options.threads):
        torch.manual_seed(options.seed)
        net = RGCN(kg.num_relations, options.dim).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=options.learning_rate)
        triples = torch.from_numpy(np.array(kg.triples)).to(device)  # (M, 3)
        g = torch.Generator().manual_seed(options.seed)
        clock = EpochClock("RGCN", options, progress)
        try:
            while not clock.done:
                n = clock.chunk()
                for _ in range(n):
                    keep = (torch.rand(kg.num_triples, generator=g) < MESSAGE_KEEP).to(device)
                    edges = _with_inverses(triples[keep], kg.num_relations)
                    ent = net.embed(_random_inputs(kg.num_entities, options.dim, g, device), edges)
                    h, r, t = triples.unbind(1)
                    loss = nn.functional.cross_entropy(net.score_all(ent, h, r), t) + nn.functional.cross_entropy(
                        net.score_all(ent, t, r), h
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                clock.advance(n, loss.item())
        finally:
            info = clock.finish()
    return RGCNModel(net.eval(), kg, info, options.seed)
