"""Why InGram? page: the lecture's models on three held-out groups of the current KG; the property table."""

from __future__ import annotations

import streamlit as st

from kgviz.models.baselines.patterns import PATTERN_EPOCHS
from kgviz.ui import state as S
from kgviz.ui.baseline_tables import (
    TOO_FEW_TRIPLES,
    cannot_score_lines,
    cost_frame,
    disagreement_lines,
    group_size_lines,
    group_queries_frame,
    load_shipped_table,
    property_frame,
    split_frame,
    split_summary,
    symmetric_head_note,
)
from kgviz.ui.cache import why_split
from kgviz.ui.context import PageContext
from kgviz.ui.markup import escape_markdown
from kgviz.ui.model_runs import WHY_MODELS, measured_property_table, why_scores
from kgviz.ui.widgets import page_intro
from kgviz.ui.why_verdict import verdict

INTRO = (
    "The lecture's argument, made by numbers on this KG: shallow "
    "embeddings cannot score an entity they were not trained on, R-GCN cannot score a relation it "
    "was not trained on, InGram scores both. Below, the lecture's table of which model can express "
    "which relation pattern, measured."
)

GROUPS_EXPLAINED = """\
The KG is split (with the seed below) into a **training part**, a **context** and three groups of
**held-out triples**. Every model is trained on the training part only; at prediction time it sees the
training part plus the context (facts about the new entities and relations, never trained on) and ranks
each held-out triple's tail and head among all entities (filtered: other true answers removed).

- **(a) seen entities and relations** — head, relation and tail all occur in training. Every model can
  score these: the classic *transductive* test.
- **(b) an entity unseen in training** — a new entity, e.g. a new film or drug, known only through the
  context. A shallow model (TransE, TransR, DistMult, ComplEx, RotatE) learned one vector per entity it
  was trained on, so it has none for it: *cannot score*. R-GCN and InGram compute an entity's vector from
  its neighbourhood in the graph, so they can.
- **(c) a relation unseen in training** — a new relation. R-GCN has weights per relation seen in
  training, so it has none for it either; only InGram, which computes relation vectors from the
  relation graph, can score it.

InGram is the current model, applied zero-shot (it was trained on another KG, never on this one).
MRR is the mean of 1/rank; H@k the share of answers ranked in the top k. On a small KG the groups hold
a handful of triples: the figures are noisy, the *cannot score* cells are not.
"""


def _split_section(ctx: PageContext) -> None:
    c1, c2, c3 = st.columns([1, 1, 2])
    seed = int(c1.number_input("split seed", 0, 10_000, 0, key=S.WHY_SEED))
    budget = float(
        c2.number_input(
            "training budget (s per model)",
            0.5,
            120.0,
            3.0,
            step=0.5,
            key=S.WHY_BUDGET,
            help="Each trained model stops after the epoch during which this much "
            "time has passed (or after 1,000 epochs).",
        )
    )
    try:
        split = why_split(ctx.kg, seed)
    except ValueError as exc:
        st.warning(f"This KG cannot be split into the three groups: {exc}")
        return
    st.markdown(split_summary(split))
    with st.expander("The held-out triples"):
        st.dataframe(group_queries_frame(split), hide_index=True, key=S.WHY_QUERIES)
    c3.write("")
    train = c3.button(f"Train and score the {len(WHY_MODELS)} models", key=S.WHY_TRAIN, type="primary")
    scores = why_scores(split, budget, ctx.model, ctx.model_label, train=train)
    if scores is None:
        st.info(
            f"Press **Train and score**: TransE, TransR, DistMult, ComplEx, RotatE and R-GCN each train for "
            f"about {budget:g} s on the training part; InGram ({escape_markdown(ctx.model_label)}) is "
            "applied as it is. Results are kept for this KG, seed, budget and model."
        )
        return
    st.markdown(verdict(split, scores))
    st.markdown("\n".join(group_size_lines(split)))
    st.dataframe(split_frame(scores), hide_index=True, key=S.WHY_TABLE)
    st.caption(
        "Filtered MRR and Hits@10 over each group's tail and head queries; in brackets the 95 % interval: "
        f"bootstrap for MRR (from {2 * TOO_FEW_TRIPLES} queries up), Wilson for Hits@10. Fewer than "
        f"{TOO_FEW_TRIPLES} held-out triples in a group is *too few to tell*: no model is named best on it. "
        f"† only some of the group's queries could be scored. InGram: {escape_markdown(ctx.model_label)}."
    )
    reasons = cannot_score_lines(scores)
    if reasons:
        st.markdown("**Cannot score** (no vector for a name training never saw):\n" + "\n".join(reasons))
    with st.expander("Training cost"):
        st.dataframe(cost_frame(scores), hide_index=True)
        st.caption(
            "*train s*: wall time of training (within the budget); *CPU s*: CPU time of training and "
            "scoring, on one torch thread; InGram is not trained here (0 epochs), its CPU time is its "
            "forward passes over the known graph (5 random draws) and the scoring."
        )


def _property_section(ctx: PageContext) -> None:
    st.subheader("The lecture's property table, measured")
    st.caption(
        "Each model is trained on a tiny synthetic KG built around one relation pattern and tested on "
        "instances of it: held-out reverses (symmetry), facts scored above their reverses "
        "(antisymmetry), held-out inverses (inversion), held-out r₃ = r₁ ∘ r₂ facts (composition), "
        "a hub's N members all ranked in its top N (1-to-N). A cell reads *measured figure, "
        "measured ✓/✗ (the lecture's tick)*; ≠ marks a difference. How each KG is built: "
        "`kgviz/models/baselines/patterns.py`."
    )
    c1, c2 = st.columns([1, 3])
    epochs = int(c1.number_input("epochs per model and pattern", 5, 2000, PATTERN_EPOCHS, step=5, key=S.PROP_EPOCHS))
    c2.write("")
    measure = c2.button(
        f"Re-measure with {ctx.model_label} as InGram (≈ 3 min at {PATTERN_EPOCHS} epochs)", key=S.PROP_MEASURE
    )
    table = measured_property_table(ctx.model, ctx.model_label, epochs, measure=measure)
    if table is not None:
        st.markdown(f"Measured here: {epochs} epochs per cell, InGram = {escape_markdown(ctx.model_label)}.")
    else:
        try:
            table, about = load_shipped_table()
        except ValueError as exc:
            st.warning(f"No shipped table ({exc}); press **Re-measure**.")
            return
        st.markdown(
            f"Shipped table, made by `{about.get('command', 'scripts/property_table.py')}` "
            f"({about.get('epochs', '?')} epochs per cell, InGram = `{about.get('checkpoint', '?')}`, "
            f"{about.get('seconds', '?')} s); **Re-measure** to measure it here."
        )
    st.dataframe(property_frame(table), hide_index=True, key=S.PROP_TABLE)
    lines = disagreement_lines(table)
    if lines:
        st.markdown("**Where the measurement differs from the lecture**\n\n" + "\n".join(lines))
    note = symmetric_head_note(table)
    if note:
        st.info(note)


def render(ctx: PageContext) -> None:
    page_intro(INTRO)
    if not ctx.model.is_ingram:
        st.info(
            f"**{escape_markdown(ctx.model_label)}** takes InGram's row below: like InGram it is applied as it is "
            "(zero-shot), with no vector learned per entity or relation."
        )
    with st.expander("What am I looking at? The split and its three groups"):
        st.markdown(GROUPS_EXPLAINED)
    _split_section(ctx)
    st.divider()
    _property_section(ctx)
