"""Attention page: relation-level attention per layer and head; the selected entity's messages."""

from __future__ import annotations

import streamlit as st

from kgviz.graph.neighbourhood import cluster_order, default_centre, short_labels, top_relations
from kgviz.ui.figures import views as F
from kgviz.ui import state as S
from kgviz.ui.cache import get_attention, relation_matrices
from kgviz.ui.context import PageContext
from kgviz.ui.ultra_views import scorer_notice
from kgviz.ui.markup import name_md
from kgviz.ui.widgets import export_plotly, layer_name, page_intro, seed_widget, show_html

INTRO = (
    "How much each node listens to each neighbour. Relation "
    "layers: relation i (row) attends over the relations j it is linked to in the "
    "relation graph; the score adds a learned bias per bin. Entity layers: an entity "
    "attends over the triples pointing into it (and itself). Each head has its own α; "
    "α over one receiver's neighbours sums to 1."
)

TOP_N = 30  # relations in the heatmap by default when there are more


def render(ctx: PageContext) -> None:
    if scorer_notice(ctx, "Attention"):  # ULTRA: no attention, no fine-tuning here
        return
    kg = ctx.kg
    page_intro(INTRO)
    c1, c2, c3 = st.columns(3)
    seed = seed_widget(S.ATT_SEED)
    att = get_attention(ctx.model, kg, seed)
    heads = ["mean"] + [str(h) for h in range(ctx.model.config.num_head)]
    layer = c1.selectbox(
        "Relation layer", list(range(len(att["relation"]))), key=S.ATT_REL_LAYER, format_func=layer_name
    )
    head = c2.selectbox("Head", heads, key=S.ATT_HEAD)
    head_id = None if head == "mean" else int(head)
    labels = ctx.relation_labels
    st.markdown("#### Relation-level attention")
    ids, short = list(range(len(labels))), labels
    if len(labels) > TOP_N:
        affinity = relation_matrices(kg)["exact"]
        n = st.slider(
            "Relations in the heatmap (the strongest, plus the selection and its neighbours)",
            10,
            min(len(labels), 120),
            TOP_N,
            step=5,
            key=S.ATT_TOP_N,
        )
        ids = top_relations(affinity, n, [] if ctx.rel is None else [ctx.rel])
        ids, short = cluster_order(affinity, ids), short_labels(labels)
        st.caption(
            f"{len(labels)} relations (with inverses): showing {len(ids)}, ordered by hierarchical "
            "clustering of their affinities. Hover a cell for the full names."
        )
    fig = F.relation_attention_heatmap(
        att["relation"][layer],
        labels,
        head_id,
        selected=ctx.rel,
        title=f"{layer_name(layer)}, head {head}",
        ids=ids,
        short=short,
    )
    st.plotly_chart(fig, key=S.ATT_REL_HEATMAP)
    export_plotly(fig, file_name="relation_attention.html", key=S.EXPORT_ATT_REL)
    if ctx.rel is not None:
        s = F.attention_of_relation(att["relation"][layer], ctx.rel, labels)
        st.markdown(f"Selected relation **{name_md(labels[ctx.rel])}** attends to (mean over heads):")
        st.dataframe(
            s.rename_axis("sender").reset_index(),
            hide_index=True,
            key=S.ATT_REL_TABLE,
            column_config={"α": st.column_config.NumberColumn(format="%.3f")},
        )

    st.markdown("#### Entity-level attention")
    ent = ctx.ent if ctx.ent is not None else default_centre(kg, None, None)[0]
    e_layer = c3.selectbox("Entity layer", list(range(len(att["entity"]))), key=S.ATT_ENT_LAYER, format_func=layer_name)
    frame = F.entity_attention_frame(att["entity"][e_layer], ent, kg)
    name = name_md(kg.entities[ent])
    st.markdown(
        f"Messages into **{name}** (entity {layer_name(e_layer)}; pick another entity "
        f"in the sidebar). {len(frame)} incoming, including the self-loop."
    )
    show = frame.drop(columns=["sender id", "relation id"])
    st.dataframe(
        show,
        hide_index=True,
        key=S.ATT_ENT_TABLE,
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in show.columns
            if c.startswith("head") or c == "mean α"
        },
    )
    st.plotly_chart(F.entity_attention_bar(frame), key=S.ATT_ENT_BAR)
    col = "mean α" if head_id is None else f"head {head_id}"
    html = F.entity_attention_html(frame, ent, kg, column=col)
    st.caption(f"Neighbourhood of {name}: edge width ∝ α ({col}); up to 30 largest.")
    show_html(html, 460, file_name="entity_attention.html", key=S.EXPORT_ATT_ENT)
