"""The classroom walkthrough's numbers: one pure function per step of the lecture, no Streamlit.

The lecture builds InGram up in eight steps, and a ninth puts ULTRA beside it; :data:`STEPS` lists them (their text is in :mod:`kgviz.classroom.lecture`)
and each ``*_step`` function computes the live numbers of one step for any KG (a sample, an upload, a graph
drawn in class):

1. the KG and the task, 2. why shallow embeddings and RGCN cannot handle new entities/relations,
3. the shared entities of one relation pair and their ``1/d²`` terms, 4. the whole relation graph,
5. binning, 6. relation-level attention, 7. entity-level attention, 8. scoring and ranked answers.

Steps 3–4 use the lecture's simplified view (:func:`kgviz.graph.relgraph.lecture_relation_graph`) next
to the exact ``2R × 2R`` matrix the model uses; steps 5–8 use exactly what the model sees
(:class:`kgviz.models.ingram.predictor.Predictor`). Symbols: ``N`` entities, ``R`` relations, ``M`` triples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import Predictor
from kgviz.classroom.lecture import ENCODER_TABLE, MODEL_TABLE, STEPS, Step
from kgviz.models.ingram.network import InGram
from kgviz.graph.relgraph import (
    binned_edges,
    explain_lecture_pair,
    lecture_relation_graph,
    relation_graph,
    relation_label,
)
from kgviz.graph.samples import SampleMeta, SampleQuery
from kgviz.defaults import DEFAULTS
from kgviz.ranking.ranks import RankedCandidate, rank_query

__all__ = [
    "Step",
    "STEPS",
    "MODEL_TABLE",
    "ENCODER_TABLE",
    "Term",
    "PairStep",
    "TaskStep",
    "EncoderStep",
    "RelationGraphStep",
    "BinningStep",
    "RelationAttentionStep",
    "EntityAttentionStep",
    "RankingStep",
    "default_pair",
    "default_query",
    "task_step",
    "encoder_step",
    "pair_step",
    "relation_graph_step",
    "binning_step",
    "relation_attention_step",
    "entity_attention_step",
    "ranking_step",
    "degrees",
    "lecture_round",
    "pairs_of",
    "tex_escape",
    "SHALLOW_DIM",
]


SHALLOW_DIM = 32  # k used for the "a shallow encoder would need" numbers (InGram's default d̂)


def degrees(kg: KnowledgeGraph) -> np.ndarray:
    """``d[e]``: number of triples with ``e`` as head or tail, ``(N,)`` int64."""
    t = kg.triples
    return (np.bincount(t[:, 0], minlength=kg.num_entities) + np.bincount(t[:, 2], minlength=kg.num_entities)).astype(
        np.int64
    )


def lecture_round(x: float) -> str:
    """Two decimals, as on the slides (0.1315 → ``"0.13"``)."""
    return f"{x:.2f}"


# ----------------------------------------------------------------------------- defaults


def default_pair(kg: KnowledgeGraph, meta: SampleMeta | None = None) -> tuple[int, int]:
    """Relation ids ``(i, j)`` the β step opens on.

    The sample's ``# pair:`` if it has one, else the strongest off-diagonal pair of the lecture
    view (ties: lowest ids), else ``(0, 1)`` / ``(0, 0)`` when no two relations share an entity.
    """
    if meta is not None and meta.pair is not None:
        return kg.relation_index[meta.pair[0]], kg.relation_index[meta.pair[1]]
    if kg.num_relations == 1:
        return 0, 0
    beta = sp.triu(lecture_relation_graph(kg.triples, kg.num_entities, kg.num_relations), k=1).tocoo()
    if beta.nnz == 0:
        return 0, 1
    k = np.lexsort((beta.col, beta.row, -beta.data))[0]
    return int(beta.row[k]), int(beta.col[k])


def default_query(kg: KnowledgeGraph, meta: SampleMeta | None = None) -> SampleQuery:
    """The sample's first ``# query:``, else ``(h, r, ?)`` of the first triple with the best-connected head."""
    if meta is not None and meta.queries:
        return meta.queries[0]
    d = degrees(kg)
    h, r, _ = kg.triples[int(np.argmax(d[kg.triples[:, 0]]))].tolist()
    return SampleQuery(kg.entities[h], kg.relations[r], "tail", None)


# ----------------------------------------------------------------------------- step 1, 2


@dataclass(frozen=True)
class TaskStep:
    num_entities: int
    num_relations: int
    num_triples: int
    query: SampleQuery
    anchor: int
    relation: int
    answer: int | None
    known_answers: tuple[int, ...]  # tails (or heads) already in the KG for the query


def task_step(kg: KnowledgeGraph, query: SampleQuery) -> TaskStep:
    a, r = kg.entity_index[query.anchor], kg.relation_index[query.relation]
    t, tail = kg.triples, query.direction == "tail"
    known = t[(t[:, 0 if tail else 2] == a) & (t[:, 1] == r), 2 if tail else 0]
    ans = kg.entity_index.get(query.answer) if query.answer else None
    return TaskStep(kg.num_entities, kg.num_relations, kg.num_triples, query, a, r, ans, tuple(int(x) for x in known))


@dataclass(frozen=True)
class EncoderStep:
    shallow_params: int  # (N + R) · k: one trained vector per entity and relation
    rgcn_relation_params: int  # R · D² per layer: one W_r per relation (D = InGram's hidden size)
    ingram_params: int  # independent of N and R
    hidden_rel: int


def encoder_step(kg: KnowledgeGraph, model: InGram) -> EncoderStep:
    hidden = model.rel_proj1.out_features
    return EncoderStep(
        (kg.num_entities + kg.num_relations) * SHALLOW_DIM,
        kg.num_relations * hidden * hidden,
        sum(p.numel() for p in model.parameters()),
        hidden,
    )


# ----------------------------------------------------------------------------- step 3


@dataclass(frozen=True)
class Term:
    entity: int
    name: str
    degree: int
    value: float  # 1 / d² (lecture view: 0/1 incidence)


@dataclass(frozen=True)
class PairStep:
    i: int
    j: int
    beta: float
    terms: tuple[Term, ...]

    def latex(self, names, per_line: int = 3, max_terms: int = 6) -> str:
        """``β(i, j) = (1/3)² + (1/7)² = 0.13`` with the live numbers, on several lines so that
        it fits a half-width column in presenter mode: ``β(i, j)``, then ``per_line`` terms a
        line (the first ``max_terms``, then ``+ … (k more)``), the value after the last term."""
        lhs = rf"\beta(\text{{{tex_escape(names[self.i])}}},\ \text{{{tex_escape(names[self.j])}}})"
        if not self.terms:
            return lhs + " = 0"
        parts = [rf"\left(\tfrac{{1}}{{{t.degree}}}\right)^2" for t in self.terms[:max_terms]]
        lines = [" + ".join(parts[k : k + per_line]) for k in range(0, len(parts), per_line)]
        if len(self.terms) > max_terms:
            lines[-1] += rf" + \dots\ \text{{({len(self.terms) - max_terms} more)}}"
        body = r" \\ &\qquad + ".join(lines)
        return (
            rf"\begin{{aligned}} &{lhs} \\ &\quad = {body} = {lecture_round(self.beta)} "
            r"\end{aligned}"
        )

    def text(self) -> str:
        """Plain-text sum, e.g. ``(1/3)² + (1/7)²``."""
        return " + ".join(f"(1/{t.degree})²" for t in self.terms) or "0"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}", **{c: "\\" + c for c in "{}_#$%&"}}


def tex_escape(s: str) -> str:
    """``s`` safe inside ``\\text{...}``."""
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in s)


def pair_step(kg: KnowledgeGraph, i: int, j: int) -> PairStep:
    """β(i, j) of the lecture view and its terms, in order of the entities' ids (as on the slides)."""
    beta = lecture_relation_graph(kg.triples, kg.num_entities, kg.num_relations)[i, j]
    contribs = explain_lecture_pair(kg.triples, kg.num_entities, kg.num_relations, i, j)
    terms = sorted((Term(c.entity, kg.entities[c.entity], c.degree, c.value) for c in contribs), key=lambda t: t.entity)
    return PairStep(i, j, float(beta), tuple(terms))


def pairs_of(kg: KnowledgeGraph, i: int) -> list[PairStep]:
    """β(i, j) for every other relation ``j`` (the slides' panels for one relation), largest first."""
    steps = [pair_step(kg, i, j) for j in range(kg.num_relations) if j != i]
    return sorted(steps, key=lambda s: (-s.beta, s.j))


# ----------------------------------------------------------------------------- step 4


@dataclass(frozen=True)
class RelationGraphStep:
    beta: np.ndarray  # (R, R) lecture view, dense
    affinity: sp.csr_matrix  # (2R, 2R) exact
    labels: tuple[str, ...]  # 2R names, inverses as "r⁻¹"
    num_lecture_edges: int  # off-diagonal pairs i < j with β > 0
    num_edges: int  # nnz of A (both directions and self-loops, as the model uses)

    def strongest(self, top: int = 10) -> list[tuple[int, int, float]]:
        """Strongest lecture pairs ``(i, j, β)``, ``i < j``."""
        iu, ju = np.triu_indices(len(self.beta), k=1)
        w = self.beta[iu, ju]
        order = np.lexsort((ju, iu, -w))
        return [(int(iu[k]), int(ju[k]), float(w[k])) for k in order[:top] if w[k] > 0]


def relation_graph_step(kg: KnowledgeGraph) -> RelationGraphStep:
    beta = lecture_relation_graph(kg.triples, kg.num_entities, kg.num_relations).toarray()
    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    labels = tuple(relation_label(r, kg.relations) for r in range(2 * kg.num_relations))
    n_lecture = int(np.count_nonzero(np.triu(beta, k=1)))
    return RelationGraphStep(beta, a, labels, n_lecture, int(a.nnz))


# ----------------------------------------------------------------------------- step 5


@dataclass(frozen=True)
class BinningStep:
    num_bins: int
    edges: np.ndarray  # (E, 3) [i, j, bin] over augmented ids, the model's input
    weights: np.ndarray  # (E,) A[i, j]
    ranks: np.ndarray  # (E,) 1 = strongest
    per_bin: np.ndarray  # (B,) edge counts

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    def bin_ranges(self) -> list[tuple[int, float, float]]:
        """``(count, min weight, max weight)`` per bin (NaNs for an empty bin)."""
        per_bin, nan = [self.weights[self.edges[:, 2] == b] for b in range(self.num_bins)], float("nan")
        return [(len(w), float(w.min()) if len(w) else nan, float(w.max()) if len(w) else nan) for w in per_bin]


def binning_step(kg: KnowledgeGraph, num_bins: int, affinity: sp.csr_matrix | None = None) -> BinningStep:
    """Binned edges exactly as :func:`kgviz.models.ingram.predictor.graph_tensors` builds them."""
    a = affinity if affinity is not None else relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    edges = binned_edges(a, num_bins)
    w = np.asarray(a[edges[:, 0], edges[:, 1]]).ravel()
    ranks = np.argsort(np.argsort(-w, kind="stable"), kind="stable").astype(np.int64) + 1  # 1 = strongest
    return BinningStep(num_bins, edges, w, ranks, np.bincount(edges[:, 2], minlength=num_bins))


# ----------------------------------------------------------------------------- step 6


class _AttentionSummary:
    """Shared read-outs of an ``alpha (n, H)`` array: mean over heads, and Σ α (1 by softmax)."""

    alpha: np.ndarray

    @property
    def alpha_mean(self) -> np.ndarray:
        return self.alpha.mean(1)

    @property
    def alpha_sum(self) -> float:
        """Σ_j α_ij, mean over heads (1 by construction of the softmax)."""
        return float(self.alpha.sum(0).mean())


@dataclass(frozen=True)
class RelationAttentionStep(_AttentionSummary):
    relation: int  # augmented id of the receiving relation
    layer: int
    neighbours: tuple[int, ...]  # augmented ids j with an edge (relation, j)
    weights: np.ndarray  # A[relation, j]
    bins: np.ndarray
    bin_bias: np.ndarray  # c[bin], mean over heads
    alpha: np.ndarray  # (n, H)


def relation_attention_step(
    predictor: Predictor, attention: dict, relation: int, layer: int = 0
) -> RelationAttentionStep:
    """Attention of relation ``relation`` (augmented id) over its relation-graph neighbours."""
    att = attention["relation"][layer]
    recv, send = att.edge_index[0].cpu().numpy(), att.edge_index[1].cpu().numpy()
    sel = np.nonzero(recv == relation)[0]
    alpha = att.alpha.cpu().numpy()[sel]
    bins, neigh = att.edge_type.cpu().numpy()[sel], send[sel]
    weights = np.asarray(predictor.graph.affinity[np.full(len(neigh), relation), neigh]).ravel()
    bias = predictor.model.relation_layers[layer][0].attn_bin.detach().cpu().numpy()[:, :, 0].mean(1)
    order = np.lexsort((neigh, -alpha.mean(1))) if len(sel) else np.zeros(0, dtype=np.int64)
    return RelationAttentionStep(
        relation,
        layer,
        tuple(int(x) for x in neigh[order]),
        weights[order],
        bins[order],
        bias[bins[order]],
        alpha[order],
    )


# ----------------------------------------------------------------------------- step 7


@dataclass(frozen=True)
class EntityAttentionStep(_AttentionSummary):
    entity: int
    layer: int
    senders: tuple[int, ...]  # head entity u of each message, the entity itself for the self-loop
    relations: tuple[int, ...]  # augmented relation id, -1 for the self-loop
    alpha: np.ndarray  # (n, H)

    @property
    def num_messages(self) -> int:
        return len(self.senders)


def entity_attention_step(attention: dict, entity: int, layer: int = 0) -> EntityAttentionStep:
    """Attention of ``entity`` over the triples into it (inverses included) and its self-loop."""
    att = attention["entity"][layer]
    recv, send = att.edge_index[0].cpu().numpy(), att.edge_index[1].cpu().numpy()
    sel = np.nonzero(recv == entity)[0]
    alpha = att.alpha.cpu().numpy()[sel]
    order = np.lexsort((send[sel], -alpha.mean(1)))
    sel = sel[order]
    return EntityAttentionStep(
        entity,
        layer,
        tuple(int(x) for x in send[sel]),
        tuple(int(x) for x in att.edge_type.cpu().numpy()[sel]),
        alpha[order],
    )


# ----------------------------------------------------------------------------- step 8


@dataclass(frozen=True)
class RankingStep:
    candidates: tuple[RankedCandidate, ...]  # every entity, best first (known answers included, flagged)
    answer_rank: int | None  # rank of the expected answer among all candidates

    @property
    def num_candidates(self) -> int:
        return len(self.candidates)


def ranking_step(
    predictor: Predictor,
    query: SampleQuery,
    *,
    exclude_self: bool = DEFAULTS.exclude_self,
    known_side: bool = DEFAULTS.known_side,
) -> RankingStep:
    """The query ranked as the Predictions view ranks it (:func:`kgviz.ranking.ranks.rank_query`, same defaults)."""
    ranked = rank_query(
        predictor, query.anchor, query.relation, query.direction, exclude_self=exclude_self, known_side=known_side
    )
    return RankingStep(tuple(ranked.candidates), None if query.answer is None else ranked.position_of(query.answer))
