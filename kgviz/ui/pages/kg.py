"""KG page: the knowledge graph as an interactive graph, relations coloured, with a legend."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ...neighbourhood import default_centre, neighbourhood_entities, triples_among
from .. import figures as F
from .. import state as S
from ..context import PageContext
from ..markup import escape_markdown
from ..widgets import show_html

MAX_DRAW_NODES = 120  # KG drawings above this show the neighbourhood of the selection


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** The knowledge graph: entities are nodes, each triple "
               "(head, relation, tail) an arrow coloured by its relation. Hover an arrow to see "
               "its triple. The relation and entity selected in the sidebar are highlighted.")
    rel = ctx.rel % kg.num_relations if ctx.rel is not None else None
    ids = None
    if kg.num_entities > MAX_DRAW_NODES:
        limit = st.slider("Entities to draw", 20, 400, MAX_DRAW_NODES, step=10, key=S.KG_MAX_NODES)
        centre = default_centre(kg, ctx.ent, rel)
        ids = triples_among(kg, neighbourhood_entities(kg, centre, limit))
        shown = len(set(kg.triples[ids][:, [0, 2]].ravel().tolist())) if len(ids) else 0
        st.info(f"Large KG ({kg.num_entities:,} entities, {kg.num_triples:,} triples): drawing the "
                f"neighbourhood of **{escape_markdown(kg.entities[centre[0]])}** — {shown} entities, "
                f"{len(ids)} triples. "
                "Select another entity or relation in the sidebar to move it.")
    html = F.kg_network_html(kg, ids, entity=ctx.ent, relation=rel, height=560)
    show_html(html, 560, file_name="kg.html", key=S.EXPORT_KG)
    c1, c2 = st.columns([1, 2])
    with c1:
        st.markdown("**Relations**")
        legend = F.relation_legend(kg)
        st.dataframe(legend.style.apply(
            lambda s: [f"background-color: {c}; color: {c}" for c in s], subset=["colour"]),
            hide_index=True, key=S.KG_LEGEND)
    with c2:
        if ctx.ent is not None:
            t = kg.triples
            sel = (t[:, 0] == ctx.ent) | (t[:, 2] == ctx.ent)
            st.markdown(f"**Triples of the selected entity** ({int(sel.sum())})")
            triples = kg.string_triples()
            st.dataframe(pd.DataFrame([triples[k] for k in np.nonzero(sel)[0][:500]],
                                      columns=["head", "relation", "tail"]),
                         hide_index=True, key=S.KG_ENTITY_TRIPLES)
