"""ULTRA (Galkin, Yuan, Mostafa, Tang, Zhu, ICLR 2024): one pretrained model for any KG, in plain PyTorch.

Two NBFNet-style networks of six layers each, ``D = 64``:

- the **relation model** runs on ULTRA's relation graph (:mod:`kgviz.models.ultra.graph`, ``2R``
  nodes, four edge types) from ``ones(D)`` at the query's direct relation ``r`` and returns
  ``relrep (2R, D)``, a representation of every relation *relative to* ``r``;
- the **entity model** runs on the augmented KG (triples + inverses) from ``relrep[r']`` at the
  anchor, with ``relation_projection_l(relrep)`` as layer ``l``'s relation vectors, and scores
  every entity with an MLP. Tail query ``(h, r, ?)``: anchor ``h``, ``r' = r``; head query
  ``(?, r, t)``: anchor ``t``, ``r' = r + R`` (the relation model is still conditioned on ``r``).

A layer (both models), with ``b`` the boundary (the layer-0 state) and messages DistMult::

    out[u] = b[u] + Σ_{stored edges (u, v, k)} w_e · rel[k] ⊙ x[v]       (v sends to u)
    x'     = relu(LayerNorm(W [x ; out] + c)) + x                          (short-cut)

Message direction is the released kernel's: for a triple ``(h, r, t)``, ``h`` receives
``rel[r] ⊙ x[t]`` and ``t`` receives ``rel[r+R] ⊙ x[h]``; in the relation graph ``i`` receives from
``j``. Edge weights ``w_e`` are 1 (a tensor only to take gradients, see :mod:`kgviz.models.ultra.paths`).
Parameter names are the released checkpoints', so ``load_state_dict(strict=True)`` loads them.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import cast

import torch
from torch import Tensor, nn

from kgviz.models.ingram.checkpoint import CheckpointError
from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import pick_device
from kgviz.models.base import Capabilities, Needs, QueryDirection, check_direction
from kgviz.models.ultra.messages import message_plan, propagate
from kgviz.models.ultra.graph import NamedRelationEdge, UltraGraph, build_ultra_graph, named_relation_graph

__all__ = [
    "DIM",
    "NUM_LAYERS",
    "STATE_ELEMENTS",
    "WEIGHTS_FILE",
    "RelationModel",
    "EntityModel",
    "Ultra",
    "UltraScorer",
    "entity_batch_size",
    "load_ultra",
]

DIM = 64
NUM_LAYERS = 6
NUM_EDGE_TYPES = 4  # hh, tt, ht, th
# Memory bound: a batch of B queries keeps a few (N, B, D) states and one (C, B, D) message chunk of
# at most this many float32 elements each. On the CPU 256 k (1 MB) keeps them in cache: FB-100 runs
# one query at a time, 13 ms of CPU each (vs 23 ms with batches of 24 queries); GPUs want big batches.
STATE_ELEMENTS = {"cpu": 1 << 18, "other": 1 << 24}
GRAPH_CACHE_SIZE = 4
WEIGHTS_FILE = "weights.pt"  # a shipped folder's state dict (pretrained/ultra-*/)


def state_elements(device: torch.device) -> int:
    """The element budget of one ``(N, B, D)`` state or ``(C, B, D)`` message chunk on ``device``."""
    return STATE_ELEMENTS["cpu" if device.type == "cpu" else "other"]


def entity_batch_size(num_entities: int, device: torch.device, dim: int = DIM) -> int:
    """How many queries the entity model runs at once: ``max(1, budget // (N · D))``, at most 64."""
    return max(1, min(64, state_elements(device) // max(1, num_entities * dim)))


class UltraLayer(nn.Module):
    """The shared part of a layer: ``x' = relu(LayerNorm(linear([x ; out]))) + x``; ``linear (D, 2D)``."""

    def __init__(self, dim: int = DIM):
        super().__init__()
        self.linear = nn.Linear(2 * dim, dim)
        self.layer_norm = nn.LayerNorm(dim, eps=1e-5)

    def update(self, x: Tensor, out: Tensor) -> Tensor:
        """``x, out (..., D) → (..., D)``; ``linear([x ; out])`` as ``W[:, :D] x + W[:, D:] out + c`` (no concatenation)."""
        d = x.shape[-1]
        weight = self.linear.weight
        h = torch.addmm(self.linear.bias, x.reshape(-1, d), weight[:, :d].t())
        h = h.addmm(out.reshape(-1, d), weight[:, d:].t())
        return torch.relu(self.layer_norm(h)).view_as(x) + x


class RelationLayer(UltraLayer):
    """Relation-model layer: one vector per relation-graph edge type, ``relation.weight (4, D)``."""

    def __init__(self, dim: int = DIM):
        super().__init__(dim)
        self.relation = nn.Embedding(NUM_EDGE_TYPES, dim)


class EntityLayer(UltraLayer):
    """Entity-model layer: relation vectors ``relation_projection(relrep)``, Linear → ReLU → Linear ``(D, D)``."""

    def __init__(self, dim: int = DIM):
        super().__init__(dim)
        self.relation_projection = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))


class RelationModel(nn.Module):
    """``relrep = RelationModel(graph, q)``: ``(U, 2R, D)`` for ``U`` direct query relations ``q``."""

    def __init__(self, dim: int = DIM, num_layers: int = NUM_LAYERS):
        super().__init__()
        self.layers = nn.ModuleList(RelationLayer(dim) for _ in range(num_layers))

    def forward(self, graph: UltraGraph, query_relations: Tensor) -> Tensor:
        """``x⁰[i] = 1[i = q]·ones(D)``; ``out[i] = x⁰[i] + Σ_k rel_k ⊙ (A_k x)[i]`` with ``A_k (2R, 2R)``
        the type-``k`` adjacency (``A_k[i, j] = 1`` for relation-graph edge ``(i, j, k)``).

        Runs node-major, ``x (2R, U, D)``, all four types in one sparse product of the stacked
        ``(4·2R, 2R)`` adjacency. Returns ``(U, 2R, D)``.
        """
        layers = cast(list[RelationLayer], list(self.layers))
        nodes, dim = graph.num_relations, layers[0].linear.out_features
        u = len(query_relations)
        device, dtype = layers[0].linear.weight.device, layers[0].linear.weight.dtype
        boundary = torch.zeros(nodes, u, dim, device=device, dtype=dtype)
        boundary[query_relations, torch.arange(u, device=device)] = 1.0
        i, j = graph.relation_edge_index
        stacked = torch.sparse_coo_tensor(
            torch.stack([graph.relation_edge_type * nodes + i, j]),
            torch.ones(len(i), device=device, dtype=dtype),
            (NUM_EDGE_TYPES * nodes, nodes),
            check_invariants=False,
        ).coalesce()
        x = boundary
        for layer in layers:
            spread = torch.sparse.mm(stacked, x.reshape(nodes, u * dim)).reshape(NUM_EDGE_TYPES, nodes, u, dim)
            out = boundary + (spread * layer.relation.weight[:, None, None, :]).sum(0)
            x = layer.update(x, out)
        return x.transpose(0, 1)


class EntityModel(nn.Module):
    """Scores every entity for ``B`` queries given each query's ``relrep (B, 2R, D)``."""

    def __init__(self, dim: int = DIM, num_layers: int = NUM_LAYERS):
        super().__init__()
        self.layers = nn.ModuleList(EntityLayer(dim) for _ in range(num_layers))
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, 1))

    def forward(
        self,
        graph: UltraGraph,
        relation_reps: Tensor,
        anchors: Tensor,
        query_relations: Tensor,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        """``(B, N)`` raw logits.

        ``relation_reps (B, 2R, D)``, ``anchors (B,)``, ``query_relations (B,)`` (``r'``, in ``0..2R-1``),
        ``edge_weight (2M,)`` or ``None`` (all ones)::

            q = relrep[r'],  x⁰[e] = 1[e = anchor]·q,  layer l: rel = relation_projection_l(relrep)
            score[e] = mlp.2(relu(mlp.0([x⁶[e] ; q])))
        """
        b = len(anchors)
        batch = torch.arange(b, device=anchors.device)
        query = relation_reps[batch, query_relations]  # (B, D)
        boundary = torch.zeros(graph.num_entities, b, query.shape[1], device=query.device, dtype=query.dtype)
        boundary = boundary.index_put((anchors, batch), query)  # (N, B, D), node-major
        x = boundary
        plan = message_plan(graph, state_elements(x.device) // (b * x.shape[2]))  # (C, B, D) chunks
        for layer in cast(list[EntityLayer], list(self.layers)):
            rel = layer.relation_projection(relation_reps).transpose(0, 1)  # (2R, B, D)
            x = layer.update(x, propagate(x, rel, plan, edge_weight, start_from=boundary))
        return self.score(x, query)

    def score(self, x: Tensor, query: Tensor) -> Tensor:
        """``x (N, B, D)``, ``query (B, D)`` → ``(B, N)``: ``mlp([x[e] ; q])``, with ``mlp.0`` split as
        ``W[:, :D] x[e] + (W[:, D:] q + c)`` so the query's half is computed once per query."""
        first, last = cast(nn.Linear, self.mlp[0]), cast(nn.Linear, self.mlp[2])
        d = x.shape[-1]
        per_query = torch.addmm(first.bias, query, first.weight[:, d:].t())  # (B, 2D)
        hidden = torch.relu(torch.matmul(x, first.weight[:, :d].t()) + per_query)  # (N, B, 2D)
        return (torch.matmul(hidden, last.weight.t()).squeeze(-1) + last.bias).transpose(0, 1)


class Ultra(nn.Module):
    """The whole model: ``relation_model`` + ``entity_model`` (names as in the released checkpoints)."""

    def __init__(self, dim: int = DIM, num_layers: int = NUM_LAYERS):
        super().__init__()
        self.relation_model = RelationModel(dim, num_layers)
        self.entity_model = EntityModel(dim, num_layers)

    def forward(
        self, graph: UltraGraph, anchors: Tensor, relations: Tensor, head: bool, edge_weight: Tensor | None = None
    ) -> Tensor:
        """``(B, N)`` logits of queries ``(anchors, relations, ?)`` (``head=False``) or ``(?, relations, anchors)``.

        Queries that share a relation share one relation-model pass; the caller bounds ``B``
        (see :func:`entity_batch_size`).
        """
        unique, which = torch.unique(relations, return_inverse=True)
        relrep = self.relation_model(graph, unique)[which]  # (B, 2R, D), conditioned on the direct r
        query_relations = relations + graph.num_relations // 2 if head else relations
        return self.entity_model(graph, relrep, anchors, query_relations, edge_weight)


class UltraScorer:
    """ULTRA behind the :class:`~kgviz.models.base.Scorer` interface (zero-shot on any KG).

    Per-graph tensors (:class:`UltraGraph`: augmented edges and relation graph) are cached by
    ``graph.fingerprint`` (the last :data:`GRAPH_CACHE_SIZE` graphs), so repeated queries on one KG
    build them once.
    """

    needs = Needs.WEIGHTS
    capabilities = Capabilities(relation_graph=True, paths=True)

    def __init__(self, model: Ultra, name: str = "ULTRA", device: str | torch.device | None = "auto"):
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.name = name
        self._graphs: OrderedDict[str, UltraGraph] = OrderedDict()

    def ultra_graph(self, graph: KnowledgeGraph) -> UltraGraph:
        """The cached :class:`UltraGraph` of ``graph`` on the scorer's device."""
        key = graph.fingerprint
        if key in self._graphs:
            self._graphs.move_to_end(key)
        else:
            self._graphs[key] = build_ultra_graph(graph).to(self.device)
            while len(self._graphs) > GRAPH_CACHE_SIZE:
                self._graphs.popitem(last=False)
        return self._graphs[key]

    @torch.no_grad()
    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        """``(Q, N)`` float32 CPU raw logits (see :class:`Ultra`); one relation-model pass per distinct
        relation, then the entity model over chunks of :func:`entity_batch_size` queries."""
        head = check_direction(direction) == "head"
        anchors, relations = _check_queries(graph, anchors, relations)
        g = self.ultra_graph(graph)
        anchors, relations = anchors.to(self.device), relations.to(self.device)
        unique, which = torch.unique(relations, return_inverse=True)
        relrep = torch.cat(
            [
                self.model.relation_model(g, part)
                for part in unique.split(entity_batch_size(g.num_relations, self.device))
            ]
        )  # (U, 2R, D)
        query_relations = relations + graph.num_relations if head else relations
        out = torch.empty(len(anchors), graph.num_entities, dtype=torch.float32)
        step = entity_batch_size(graph.num_entities, self.device)
        for start in range(0, len(anchors), step):
            part = slice(start, start + step)
            reps = relrep[which[part]]
            out[part] = self.model.entity_model(g, reps, anchors[part], query_relations[part]).float().cpu()
        return out

    def relation_graph_edges(self, graph: KnowledgeGraph) -> list[NamedRelationEdge]:
        """ULTRA's relation graph of ``graph`` by name (see :func:`named_relation_graph`)."""
        return named_relation_graph(graph)


def _check_queries(graph: KnowledgeGraph, anchors: Tensor, relations: Tensor) -> tuple[Tensor, Tensor]:
    """``anchors`` and ``relations`` as int64 ``(Q,)``; a ``ValueError`` names what is out of range."""
    anchors = torch.as_tensor(anchors, dtype=torch.int64).reshape(-1)
    relations = torch.as_tensor(relations, dtype=torch.int64).reshape(-1)
    if len(anchors) != len(relations):
        raise ValueError(f"{len(anchors)} anchors but {len(relations)} relations")
    if len(anchors) and (anchors.min() < 0 or anchors.max() >= graph.num_entities):
        raise ValueError(f"anchor id out of range (the KG has {graph.num_entities} entities)")
    if len(relations) and (relations.min() < 0 or relations.max() >= graph.num_relations):
        raise ValueError(f"relation id out of range (the KG has {graph.num_relations} relations)")
    return anchors, relations


def _display_name(path: Path) -> str:
    """``ultra-3g`` / ``ultra_3g.pth`` → ``"ULTRA 3g"``; any other name → ``"ULTRA (<name>)"``."""
    stem = path.stem if path.is_file() else path.name
    for prefix in ("ultra-", "ultra_"):
        if stem.lower().startswith(prefix) and len(stem) > len(prefix):
            return f"ULTRA {stem[len(prefix) :]}"
    return f"ULTRA ({stem})"


def load_ultra(path: str | os.PathLike, device: str | torch.device | None = "auto") -> UltraScorer:
    """An :class:`UltraScorer` from a shipped folder (``<folder>/weights.pt``), a state-dict file, or a
    released checkpoint (``{"model": state_dict, "optimizer": …}``).

    Loads with ``torch.load(weights_only=True)`` and a strict state-dict match; a missing file, an
    unreadable one or wrong keys/shapes raise :class:`~kgviz.models.ingram.checkpoint.CheckpointError`.
    """
    p = Path(path)
    file = p / WEIGHTS_FILE if p.is_dir() else p
    if not file.is_file():
        where = f"{p} has no {WEIGHTS_FILE}" if p.is_dir() else f"{p}: no such file"
        raise CheckpointError(f"{where} (expected ULTRA weights)")
    try:
        loaded = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of many kinds: one message
        raise CheckpointError(f"{file}: not a readable weights-only torch file ({exc})") from exc
    state = loaded.get("model", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{file}: expected a state dict (or a dict with 'model'), found {type(loaded).__name__}")
    model = Ultra()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{file}: not an ULTRA checkpoint ({str(exc).splitlines()[0]})") from exc
    return UltraScorer(model, name=_display_name(p), device=device)
