"""KG page: the knowledge graph as an interactive graph, relations coloured, with a legend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from kgviz.graph.neighbourhood import default_centre, neighbourhood_entities, triples_among
from kgviz.ui.figures import views as F
from kgviz.ui import state as S
from kgviz.ui.context import PageContext
from kgviz.ui.widgets import page_intro, show_html

MAX_DRAW_NODES = 40  # KG drawings above this show the neighbourhood of the selection (a slider moves it)


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    rel = ctx.rel % kg.num_relations if ctx.rel is not None else None
    page_intro(
        "The knowledge graph: entities are nodes, each triple "
        "(head, relation, tail) an arrow coloured by its relation (legend below). Hover an arrow "
        "to see its triple, a node for its full name. The selected entity is outlined in red"
        + (
            "; the selected relation's arrows are drawn thick, in their colour and labelled, the other relations faded."
            if rel is not None
            else "."
        )
    )
    ids = None
    if kg.num_entities > MAX_DRAW_NODES:
        limit = st.slider("Entities to draw", 10, 200, MAX_DRAW_NODES, step=5, key=S.KG_MAX_NODES)
        centre = default_centre(kg, ctx.ent, rel)
        ids = triples_among(kg, neighbourhood_entities(kg, centre, limit))
        st.info(F.neighbourhood_summary(kg, centre, ids))
    html = F.kg_network_html(kg, ids, entity=ctx.ent, relation=rel, height=560)
    show_html(html, 560, file_name="kg.html", key=S.EXPORT_KG)
    st.markdown("**Relations**" + (" (▶ selected)" if rel is not None else ""))
    legend = F.relation_legend(kg, ids, selected=rel)
    st.dataframe(
        legend.style.apply(lambda s: [f"background-color: {c}; color: {c}" for c in s], subset=["colour"]),
        hide_index=True,
        key=S.KG_LEGEND,
        height=250,
        column_config={
            "relation": st.column_config.TextColumn(
                help="Names shortened when long (the arrows' tooltips give them in full)"
            ),
            "colour": st.column_config.TextColumn(width="small"),
            "triples": st.column_config.NumberColumn(width="small", help="triples in the KG"),
            "drawn": st.column_config.NumberColumn(width="small", help="triples drawn above"),
        },
    )
    if ctx.ent is not None:
        t = kg.triples
        sel = (t[:, 0] == ctx.ent) | (t[:, 2] == ctx.ent)
        st.markdown(f"**Triples of the selected entity** ({int(sel.sum())})")
        triples = kg.string_triples()
        st.dataframe(
            pd.DataFrame([triples[k] for k in np.nonzero(sel)[0][:500]], columns=["head", "relation", "tail"]),
            hide_index=True,
            key=S.KG_ENTITY_TRIPLES,
        )
