"""The classroom's model steps: relation attention, entity attention and the scores of the answers.

Each is a function of a :class:`~kgviz.ui.classroom.step_kit.StepContext` returning a
:class:`~kgviz.ui.classroom.step_kit.StepFigure`; the numbers come from :mod:`kgviz.classroom.walkthrough`.
"""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from kgviz.classroom import walkthrough as wt
from kgviz.graph.relgraph import relation_label
from kgviz.graph.samples import SampleQuery
from kgviz.ui import state as S
from kgviz.ui.figures.classroom import kg_figure, relation_figure
from kgviz.ranking.ranks import TIER_NOTES, RankedCandidate
from kgviz.ui.markup import name_md, short_name
from kgviz.ui.widgets import layer_name, stored_select
from kgviz.ui.classroom.step_kit import (
    StepContext,
    StepFigure,
    query_widgets,
    original_triple_index,
    step_table,
    sum_terms,
    tex_name,
)


def _layer_widget(sc: StepContext, kind: str) -> int:
    n = len(sc.model_attention[kind])
    if n == 1:
        return 0
    return stored_select("Layer", list(range(n)), S.CLS_LAYER, 0, format_func=layer_name)


def step_relattn(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    R = kg.num_relations
    labels = [relation_label(r, kg.relations) for r in range(2 * R)]
    c = st.columns(2)
    with c[0]:
        r = stored_select("Relation", list(range(2 * R)), S.CLS_FOCUS_REL, sc.pair[0], format_func=labels.__getitem__)
    with c[1]:
        layer = _layer_widget(sc, "relation")
    ra = wt.relation_attention_step(sc.model_predictor, sc.model_attention, r, layer)
    c = st.columns(2)
    c[0].metric(f"Neighbours of {name_md(labels[r])}", len(ra.neighbours))
    c[1].metric("Σ α (mean over heads)", f"{ra.alpha_sum:.3f}")
    if ra.neighbours:
        terms = sum_terms(ra.alpha_mean)
        st.latex(rf"\sum_j \alpha_{{ij}} = {terms} = {ra.alpha_sum:.2f}")
        step_table(
            [
                {
                    "neighbour j": labels[j],
                    "A[i, j]": f"{w:.3f}",
                    "bin": int(bn),
                    "bin bias c": f"{cb:+.2f}",
                    "α (mean of heads)": f"{a:.3f}",
                }
                for j, w, bn, cb, a in zip(ra.neighbours, ra.weights, ra.bins, ra.bin_bias, ra.alpha_mean)
            ]
        )
    st.caption(f"Model: {sc.model_label} · {ra.alpha.shape[1] if ra.neighbours else 0} heads")
    dense = sc.model_predictor.graph.affinity.toarray()
    pairs = [(min(r, j), max(r, j)) for j in ra.neighbours if j != r]
    amax = float(ra.alpha_mean.max()) if ra.neighbours else 1.0
    widths = {(min(r, j), max(r, j)): 1.0 + 8.0 * a / amax for j, a in zip(ra.neighbours, ra.alpha_mean) if j != r}
    text = {(min(r, j), max(r, j)): f"α={a:.2f}" for j, a in zip(ra.neighbours, ra.alpha_mean) if j != r}
    caption = f"Edges into {labels[r]}, width ∝ attention α ({layer_name(layer)}, mean of heads)."
    figure = relation_figure(
        labels, dense, highlight=[r], highlight_pairs=pairs, edge_width=widths, edge_text=text, font_size=sc.font_size
    )
    return StepFigure(figure, caption)


def step_entattn(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    R = kg.num_relations
    anchor = kg.entity_index[sc.query.anchor]
    c = st.columns(2)
    with c[0]:
        v = stored_select(
            "Entity", list(range(kg.num_entities)), S.CLS_FOCUS_ENT, anchor, format_func=kg.entities.__getitem__
        )
    with c[1]:
        layer = _layer_widget(sc, "entity")
    ea = wt.entity_attention_step(sc.model_attention, v, layer)
    name = kg.entities[v]
    c = st.columns(2)
    c[0].metric(f"Messages into {name_md(name)} (incl. self-loop)", ea.num_messages)
    c[1].metric("Σ α (mean over heads)", f"{ea.alpha_sum:.3f}")
    rows = []
    index = original_triple_index(kg)
    widths: dict[int, float] = {}  # by triple index
    hover: dict[int, str] = {}
    amax = float(ea.alpha_mean.max()) if ea.num_messages else 1.0
    for u, r, a in zip(ea.senders, ea.relations, ea.alpha_mean):
        if r < 0:
            rows.append(
                {
                    "message from": f"{name} (self-loop)",
                    "relation": "mean of incoming z_r",
                    "α (mean of heads)": f"{a:.3f}",
                }
            )
            continue
        rows.append(
            {
                "message from": kg.entities[u],
                "relation": relation_label(r, kg.relations),
                "α (mean of heads)": f"{a:.3f}",
            }
        )
        k = index.get((u, r, v)) if r < R else index.get((v, r - R, u))
        if k is not None:
            widths[k] = max(widths.get(k, 0.0), 1.0 + 8.0 * a / amax)
            hover[k] = f"α = {a:.3f} ({relation_label(r, kg.relations)} → {name})"
    terms = sum_terms(ea.alpha_mean)
    st.latex(rf"\sum_{{(u,r) \to v}} \alpha_{{urv}} = {terms} = {ea.alpha_sum:.2f}")
    step_table(rows)
    st.caption(f"Model: {sc.model_label}")
    senders = [u for u, r in zip(ea.senders, ea.relations) if r >= 0]
    caption = f"Triples into {name} (inverses included), width ∝ attention α ({layer_name(layer)}, mean of heads)."
    figure = kg_figure(
        kg,
        highlight_nodes=[v] + senders,
        highlight_edges=list(widths),
        edge_width=widths,
        edge_hover=hover,
        font_size=sc.font_size,
    )
    return StepFigure(figure, caption)


def constraint_note(candidates: Sequence[RankedCandidate], focus: RankedCandidate, q: SampleQuery) -> str | None:
    """Markdown saying why a candidate scored above ``focus`` is listed after it (its constraint tier), or ``None``.

    The candidate named is the highest-scored of those with ``rank > focus.rank`` and ``score > focus.score``
    (only a constraint tier, :data:`kgviz.ranking.stability.TIER_NOTES`, can put them there).
    """
    above = [c for c in candidates if c.rank > focus.rank and c.score > focus.score and c.tier > focus.tier]
    if not above:
        return None
    first = max(above, key=lambda c: c.score)
    name, shown, rel = name_md(first.name), name_md(focus.name), name_md(q.relation)
    side = "tail" if q.direction == "tail" else "head"
    if first.tier == 2:
        why = "it is the query's own entity, which the own-entity constraint puts last"
    else:
        why = (
            f"{name} never appears as a {side} of *{rel}* in this KG, and the known-side constraint puts "
            f"such candidates after those that do (marked *{TIER_NOTES[first.tier]}*)"
        )
    more = len(above) - 1
    rest = (
        f" {more} more candidate{'s' if more > 1 else ''} scored above {shown} moved down the same way." if more else ""
    )
    return (
        f"**{name} scores higher ({first.score:+.2f}) but is listed after {shown} ({focus.score:+.2f}):** {why}.{rest}"
    )


def step_score(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    q: SampleQuery = sc.query
    pred = sc.ensemble or sc.model_predictor
    rk = wt.ranking_step(pred, q)  # as the Predictions view ranks it by default
    by_name = {cand.name: cand for cand in rk.candidates}
    focus = by_name.get(q.answer or "", rk.candidates[0])  # the expected answer, else the top one
    c = st.columns(3)
    c[0].metric("Candidates", rk.num_candidates)
    c[1].metric(
        f"Rank of {name_md(q.answer)}" if q.answer else "Top answer",
        rk.answer_rank if q.answer and rk.answer_rank else short_name(focus.name),
    )
    c[2].metric(f"Score f of {name_md(focus.name)}", f"{focus.score:+.3f}")
    note = constraint_note(rk.candidates, focus, q)
    if note:
        st.markdown(note)
    top = rk.candidates[0]
    head = tex_name(q.anchor) if q.direction == "tail" else tex_name(top.name)
    tail = tex_name(top.name) if q.direction == "tail" else tex_name(q.anchor)
    st.latex(rf"f({head},\ {tex_name(q.relation)},\ {tail}) = {top.score:.3f}")
    with st.expander("Choose the query", expanded=False):
        query_widgets(sc)
    rows = [
        {
            "rank": cand.rank,
            "entity": cand.name,
            "score f": f"{cand.score:.3f}",
            "": "expected" if cand.name == q.answer else ("already in KG" if cand.known else cand.note),
        }
        for cand in rk.candidates
    ]
    step_table(rows, limit=10)
    seeds = pred.seeds
    st.caption(
        f"Model: {sc.model_label} · mean of {len(seeds)} draws of random initial features (seeds "
        f"{seeds[0]}–{seeds[-1]}), the query's own entity excluded and entities never on the asked side "
        "of the relation placed last: the Predictions view's defaults, so it shows the same ranks"
    )
    anchor = kg.entity_index[q.anchor]
    top3 = [cand.entity for cand in rk.candidates[:3]]
    caption = "Orange: the three best-scored tails; dashed red: the query, to the top answer."
    figure = kg_figure(
        kg,
        highlight_nodes=top3,
        query=(anchor, q.relation, top3[0]),
        node_hover={cand.entity: f"rank {cand.rank}: {cand.name}, f = {cand.score:.3f}" for cand in rk.candidates[:10]},
        font_size=sc.font_size,
    )
    return StepFigure(figure, caption)
