"""Edits of a KG and what-if comparisons: the same model and seeds before and after one edit.

InGram's predictions depend on the random initial features (spec §3). Drawing them afresh for
the edited KG would change every entity's features when ``N`` or ``R`` changes (``z⁰`` is drawn
after ``x⁰`` from one generator), so a comparison would mix the effect of the edit with the
effect of a new draw. :class:`AlignedPredictor` therefore gives every entity and relation of
the edited KG the feature row it had before (matched by name); only new names get new rows.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import Tensor

from kgviz.graph.data import KGFormatError, KnowledgeGraph, from_triples
from kgviz.models.ingram.predictor import Predictor, seeded_features
from kgviz.models.ingram.network import InGram, initial_features

NEW_NAME_SEED_OFFSET = 7_919  # new names draw from seed + this, away from the base draws


def add_triples(kg: KnowledgeGraph, triples: Iterable[Sequence[str]], *, source: str | None = None) -> KnowledgeGraph:
    """A new KG with ``triples`` appended; existing ids are kept, new names get new ids."""
    return from_triples(
        list(kg.string_triples()) + [tuple(t) for t in triples],
        source=source or kg.source,
        entities=kg.entities,
        relations=kg.relations,
    )


def remove_triples(kg: KnowledgeGraph, triples: Iterable[Sequence[str]]) -> KnowledgeGraph:
    """A new KG without ``triples``; names left without any triple are dropped."""
    drop = {tuple(s.strip() for s in t) for t in triples}
    kept = [t for t in kg.string_triples() if t not in drop]
    if not kept:
        raise KGFormatError("removing these triples would leave the KG empty", source=kg.source)
    used_e = {x for h, _, t in kept for x in (h, t)}
    used_r = {r for _, r, _ in kept}
    # Surviving names keep their relative order, so ids only close the gaps.
    return from_triples(
        kept,
        source=kg.source,
        entities=[e for e in kg.entities if e in used_e],
        relations=[r for r in kg.relations if r in used_r],
    )


def used_vocabulary(kg: KnowledgeGraph, triples: Sequence[Sequence[str]]) -> tuple[list[str], list[str]]:
    """The KG's entity and relation names, in id order, restricted to those ``triples`` use —
    so edited KGs keep their ids (and random features) where they can."""
    ents = {x for h, _, t in triples for x in (h, t)}
    rels = {r for _, r, _ in triples}
    return [e for e in kg.entities if e in ents], [r for r in kg.relations if r in rels]


def replaced_kg(kg: KnowledgeGraph, triples: Sequence[Sequence[str]]) -> KnowledgeGraph:
    """A KG of ``triples`` (names) that keeps ``kg``'s ids for the names it still uses.

    Raises :class:`kgviz.graph.data.KGFormatError` for an empty name."""
    ents, rels = used_vocabulary(kg, triples)
    return from_triples(triples, source=kg.source, entities=ents, relations=rels)


def edited_kg(kg: KnowledgeGraph, op: str, triple: Sequence[str]) -> KnowledgeGraph:
    """``kg`` with ``triple`` added (``op="add"``) or removed (``op="remove"``)."""
    if op == "add":
        return add_triples(kg, [tuple(triple)], source=f"{kg.source} + what-if")
    if op == "remove":
        return remove_triples(kg, [tuple(triple)])
    raise ValueError(f"op must be 'add' or 'remove', not {op!r}")


def aligned_features(
    model: InGram, base: KnowledgeGraph, kg: KnowledgeGraph, seed: int, device: torch.device | str = "cpu"
) -> tuple[Tensor, Tensor]:
    """Initial features of ``kg`` whose rows copy ``base``'s draw ``seed`` for shared names.

    Returns ``x⁰ (N, d̂)`` and ``z⁰ (2R, d)``; relation ``r`` and its inverse ``r + R`` are
    matched together. Rows of new names come from draw ``seed + NEW_NAME_SEED_OFFSET``.
    """
    bx, bz = seeded_features(model, base, seed, "cpu")
    g = torch.Generator().manual_seed(int(seed) + NEW_NAME_SEED_OFFSET)
    fx, fz = initial_features(kg.num_entities, kg.num_relations, model.dim_ent, model.dim_rel, g, "cpu")
    x, z = fx.clone(), fz.clone()
    for i, name in enumerate(kg.entities):
        j = base.entity_index.get(name)
        if j is not None:
            x[i] = bx[j]
    R, bR = kg.num_relations, base.num_relations
    for r, name in enumerate(kg.relations):
        s = base.relation_index.get(name)
        if s is not None:
            z[r], z[r + R] = bz[s], bz[s + bR]
    return x.to(device), z.to(device)


class AlignedPredictor(Predictor):
    """A :class:`Predictor` on ``kg`` using :func:`aligned_features` against ``base``."""

    def __init__(
        self,
        model: InGram,
        kg: KnowledgeGraph,
        base: KnowledgeGraph,
        *,
        seeds: Sequence[int] = (0,),
        device: str | torch.device = "auto",
    ):
        self.base = base
        super().__init__(model, kg, seeds=seeds, device=device)

    def features(self, seed: int) -> tuple[Tensor, Tensor]:
        return aligned_features(self.model, self.base, self.kg, seed, self.device)
