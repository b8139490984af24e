"""Running a trained InGram on a KG: embeddings, attention, ranked tails and heads.

InGram has no embedding tables: entity and relation vectors come from a forward pass over the
KG (the *message graph*) starting from random features (spec §3). Predictions therefore depend
on the draw; :class:`Predictor` holds one forward pass per seed and averages scores over them.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.network import InGram, LayerAttention, initial_features
from kgviz.models.base import check_direction
from kgviz.ranking.ranks import Candidate, filtered_rank, known_answers, rank_query
from kgviz.graph.relgraph import add_inverses, binned_edges, relation_graph

__all__ = [
    "pick_device",
    "GraphTensors",
    "graph_tensors",
    "UnknownNameError",
    "Candidate",
    "Predictor",
    "resolve",
    "seeded_features",
    "STORED_DRAW",
    "weights_fingerprint",
]

STORED_DRAW = -1  # the seed that stands for a checkpoint's stored draw (kgviz.models.ingram.draws) in a Predictor


def pick_device(name: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; otherwise the named device (checked)."""
    if name is None or str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available")
    return device


def weights_fingerprint(model: torch.nn.Module) -> str:
    """SHA-1 (hex) of the model's parameters and buffers (names, shapes, dtypes and values):
    equal for two models that compute the same function, whatever object holds them."""
    h = hashlib.sha1()
    for name, t in sorted(model.state_dict().items()):
        h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


@dataclass
class GraphTensors:
    """What the model needs about one KG: augmented triples and binned relation-graph edges."""

    triplets: Tensor  # (2M, 3) [h, r, t] with inverses
    relation_triplets: Tensor  # (E, 3) [i, j, bin]
    affinity: sp.csr_matrix  # (2R, 2R)


def graph_tensors(kg: KnowledgeGraph, num_bin: int, device: torch.device | str = "cpu") -> GraphTensors:
    """Build the model inputs of ``kg``: ``add_inverses`` and ``binned_edges(relation_graph)``."""
    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    return GraphTensors(
        torch.from_numpy(add_inverses(kg.triples, kg.num_relations)).to(device),
        torch.from_numpy(binned_edges(a, num_bin)).to(device),
        a,
    )


def seeded_features(
    model: InGram, kg: KnowledgeGraph, seed: int, device: torch.device | str = "cpu"
) -> tuple[Tensor, Tensor]:
    """Initial features ``(x⁰, z⁰)`` of ``kg`` for draw ``seed``; identical on CPU and CUDA."""
    g = torch.Generator().manual_seed(int(seed))
    return initial_features(kg.num_entities, kg.num_relations, model.dim_ent, model.dim_rel, g, device)


class UnknownNameError(KeyError):
    """A query names an entity or relation that is not in the KG; lists close matches."""

    def __init__(self, kind: str, name: str, suggestions: Sequence[str]):
        self.kind, self.name, self.suggestions = kind, name, list(suggestions)
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


def resolve(name: str | int, index: dict[str, int], kind: str) -> int:
    """Id of ``name`` in ``index`` (ints pass through after a range check)."""
    if isinstance(name, (int, np.integer)):
        if not 0 <= int(name) < len(index):
            raise UnknownNameError(kind, str(name), [])
        return int(name)
    key = name.strip()
    if key in index:
        return index[key]
    lower = {k.lower(): k for k in index}
    if key.lower() in lower:
        return index[lower[key.lower()]]
    close = difflib.get_close_matches(key, list(index), n=5, cutoff=0.5)
    close += [k for k in index if key.lower() in k.lower() and k not in close][: 5 - len(close)]
    raise UnknownNameError(kind, key, close)


class Predictor:
    """Embeddings of ``kg`` under ``model`` for each seed, and rankings from their mean scores.

    Args:
        model: a trained :class:`InGram` (put in eval mode here).
        kg: the message graph: the facts known at prediction time.
        seeds: one random draw of initial features per seed; scores are averaged over draws.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` …
        num_bin: bins of the relation graph (defaults to the model's).
        stored: features ``(x⁰ (N, d̂), z⁰ (2R, d))`` a checkpoint keeps for ``kg``
            (:func:`kgviz.models.ingram.draws.stored_draw_for`); the seed :data:`STORED_DRAW` (−1) uses them.
    """

    def __init__(
        self,
        model: InGram,
        kg: KnowledgeGraph,
        *,
        seeds: Sequence[int] = (0,),
        device: str | torch.device = "auto",
        num_bin: int | None = None,
        stored: tuple[Tensor, Tensor] | None = None,
    ):
        if not seeds:
            raise ValueError("at least one seed is needed")
        if STORED_DRAW in seeds and stored is None:
            raise ValueError(f"seed {STORED_DRAW} stands for a stored draw, and none was given")
        if stored is not None:
            want = ((kg.num_entities, model.dim_ent), (2 * kg.num_relations, model.dim_rel))
            if (tuple(stored[0].shape), tuple(stored[1].shape)) != want:
                raise ValueError(
                    f"stored draw has shapes {tuple(stored[0].shape)} and {tuple(stored[1].shape)}; "
                    f"{kg.source} needs {want[0]} and {want[1]}"
                )
        self.stored = stored
        self.kg = kg
        self.seeds = list(seeds)
        from kgviz.models.ingram.scorer import (
            InGramScorer,
        )  # the forward pass runs there (kgviz.models imports this module)

        self.scorer = InGramScorer(model, seeds=self.seeds, device=device, features=self._draw, num_bin=num_bin)
        self.model, self.device = self.scorer.model, self.scorer.device
        self.graph = graph_tensors(kg, num_bin or model.num_bin, self.device)
        self.embeddings: list[tuple[Tensor, Tensor]] = self.scorer.embeddings(kg)

    def _draw(self, kg: KnowledgeGraph, seed: int) -> tuple[Tensor, Tensor]:
        return self.features(seed)

    def features(self, seed: int) -> tuple[Tensor, Tensor]:
        """The random initial features of draw ``seed`` (same on every device); −1: the stored draw."""
        if seed == STORED_DRAW:
            assert self.stored is not None  # the constructor admits STORED_DRAW only with stored features
            return self.stored[0].to(self.device), self.stored[1].to(self.device)
        return seeded_features(self.model, self.kg, seed, self.device)

    def attention(self, seed: int | None = None) -> dict[str, list[LayerAttention]]:
        """Per-layer attention of the forward pass of ``seed`` (default: the first seed)."""
        s = self.seeds[0] if seed is None else seed
        with torch.no_grad():
            *_, att = self.model(
                *self.features(s), self.graph.triplets, self.graph.relation_triplets, return_attention=True
            )
        return att

    def entity_id(self, name: str | int) -> int:
        return resolve(name, self.kg.entity_index, "entity")

    def relation_id(self, name: str | int) -> int:
        return resolve(name, self.kg.relation_index, "relation")

    def scores(self, anchor: int, relation: int, direction: str = "tail") -> Tensor:
        """Scores of every entity for ``(anchor, r, ?)`` or ``(?, r, anchor)``: ``(S, N)``, one row per seed."""
        return self.scorer.draw_scores(
            self.kg, torch.tensor([anchor]), torch.tensor([relation]), check_direction(direction)
        )[:, 0]

    def _rank(
        self, anchor: int, relation: int, direction: str, top_k: int | None, filter_known: bool
    ) -> list[Candidate]:
        """By mean score alone (no constraint), through :func:`kgviz.ranking.ranks.rank_query`."""
        ranked = rank_query(
            self, anchor, relation, direction, exclude_self=False, known_side=False, filter_known=filter_known
        )
        return list(ranked.candidates[:top_k])

    def rank(
        self,
        anchor: str | int,
        relation: str | int,
        direction: str = "tail",
        top_k: int | None = 10,
        *,
        filter_known: bool = False,
    ) -> list[Candidate]:
        """Entities ranked as answers of ``(anchor, relation, ?)`` (``direction="tail"``) or
        ``(?, relation, anchor)`` (``"head"``) by mean score over the seeds."""
        if direction not in ("tail", "head"):
            raise ValueError(f"direction must be 'tail' or 'head', not {direction!r}")
        return self._rank(self.entity_id(anchor), self.relation_id(relation), direction, top_k, filter_known)

    def rank_tails(
        self, head: str | int, relation: str | int, top_k: int | None = 10, *, filter_known: bool = False
    ) -> list[Candidate]:
        """Entities ranked as tails of ``(head, relation, ?)`` by mean score over the seeds."""
        return self.rank(head, relation, "tail", top_k, filter_known=filter_known)

    def rank_heads(
        self, relation: str | int, tail: str | int, top_k: int | None = 10, *, filter_known: bool = False
    ) -> list[Candidate]:
        """Entities ranked as heads of ``(?, relation, tail)`` by mean score over the seeds."""
        return self.rank(tail, relation, "head", top_k, filter_known=filter_known)

    def rank_of(
        self,
        anchor: str | int,
        relation: str | int,
        expected: str | int,
        direction: str = "tail",
        *,
        filtered: bool = True,
    ) -> int:
        """Rank of ``expected`` (spec §7 tie rule) under the mean score; ``filtered`` removes other known answers."""
        a, r, x = self.entity_id(anchor), self.relation_id(relation), self.entity_id(expected)
        mean = self.scores(a, r, direction).mean(0, keepdim=True)
        mask = None
        if filtered:
            mask = torch.zeros_like(mean, dtype=torch.bool)
            mask[0, torch.from_numpy(known_answers(self.kg.triples, a, r, direction))] = True
        return int(filtered_rank(mean, torch.tensor([x]), mask)[0])
