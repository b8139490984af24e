"""Classroom page: the lecture's eight steps and a closing one (InGram → ULTRA), live on the current KG and model.

One step per screen, with prev/next buttons, the step number in the URL (``?step=3``) so a
teacher can link to it, and a presenter mode for a projector (no sidebar, larger type, each step's
figure and key number within 1280×720). Each step shows its formula next to
the live numbers of the KG and the graph with the involved nodes highlighted; the steps are in
:mod:`kgviz.ui.classroom.steps`. All widget keys start with ``cls_``.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from kgviz.classroom import walkthrough as wt
from kgviz.defaults import DEFAULT_MODEL
from kgviz.graph.samples import meta_for_kg
from kgviz.ui import state as S
from kgviz.ui.cache import default_seeds, get_attention, get_predictor
from kgviz.ui.classroom.step_kit import StepContext
from kgviz.ui.classroom.steps import RENDERERS, current_query
from kgviz.ui.context import PageContext
from kgviz.ui.side_by_side import DEFAULT_INGRAM, compared_model
from kgviz.ui.markup import escape_markdown, kg_counts, name_md

NUM_STEPS = len(wt.STEPS)
STEP_PARAM = "step"  # URL query parameter holding the 1-based step number
MODEL_STEPS = ("relattn", "entattn", "score", "bins")  # steps that need the model's forward pass

# Presenter mode, sized for a projector at 1280×720 (and up): no sidebar or toolbar, the page title
# hidden (the step title says it), type a notch larger than the app's (not more: every step's figure
# and its key number must stay above the fold), buttons at their own size so "◀ Previous" is never cut.
PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stExpandSidebarButton"] {display: none;}
[data-testid="stMainBlockContainer"] {max-width: 100%; padding: 0.6rem 1.5rem 2rem 1.5rem;}
[data-testid="stMainBlockContainer"] h1 {display: none;}
[data-testid="stVerticalBlock"] {gap: 0.55rem;}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {font-size: 1.15rem; line-height: 1.4;}
[data-testid="stHeadingWithActionElements"] h2 {font-size: 1.9rem; padding: 0;}
[data-testid="stCaptionContainer"] p {font-size: 0.95rem;}
[data-testid="stMetricValue"] p, [data-testid="stMetricValue"] div {font-size: 2rem; font-weight: 600; line-height: 1.15;}
[data-testid="stMetricLabel"] p {font-size: 1.05rem;}
[data-testid="stTable"] p, [data-testid="stTable"] td, [data-testid="stTable"] th {font-size: 1rem; line-height: 1.25;}
[data-testid="stWidgetLabel"] p {font-size: 1rem;}
[data-testid="stButton"] button p {font-size: 1.05rem; white-space: nowrap;}
.katex {font-size: 1.15em;}
</style>
"""
PRESENTER_FIGURE_HEIGHT = 420  # px: the figure whole below the navigation, the title and a two-line formula at 720 px
# Metric labels wrap instead of ending in "…" (the classroom's labels are sentences).
METRIC_CSS = """
<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {white-space: normal !important;
 overflow: visible !important; text-overflow: clip !important; height: auto !important;}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {overflow: visible !important;
 text-overflow: clip !important;}
.katex-display {overflow-x: auto; overflow-y: hidden;}
</style>
"""


def parse_step(value: object) -> int:
    """A step number from the URL, clamped to ``1 … NUM_STEPS`` (1 when it is not a number)."""
    try:
        return min(max(int(str(value)), 1), NUM_STEPS)
    except (TypeError, ValueError):
        return 1


def _set_step(n: int) -> None:
    st.session_state[S.CLS_STEP] = min(max(n, 1), NUM_STEPS)


def _navigation() -> int:
    """Previous / next / step picker / presenter toggle; returns the step shown (URL follows)."""
    nav = st.columns([1.1, 1.1, 3.5, 1.6])
    step = st.session_state[S.CLS_STEP]
    nav[0].button(
        "◀ Previous", key=S.CLS_PREV, on_click=_set_step, args=(step - 1,), disabled=step <= 1, width="stretch"
    )
    nav[1].button(
        "Next ▶",
        key=S.CLS_NEXT,
        on_click=_set_step,
        args=(step + 1,),
        disabled=step >= NUM_STEPS,
        type="primary",
        width="stretch",
    )
    nav[2].selectbox(
        "Step",
        list(range(1, NUM_STEPS + 1)),
        key=S.CLS_STEP,
        label_visibility="collapsed",
        format_func=lambda n: f"Step {n} of {NUM_STEPS}: {wt.STEPS[n - 1].title}",
    )
    nav[3].toggle("Presenter mode", key=S.CLS_PRESENTER)
    step = st.session_state[S.CLS_STEP]
    if st.query_params.get(STEP_PARAM) != str(step):
        st.query_params[STEP_PARAM] = str(step)
    return step


def render(ctx: PageContext) -> None:
    """Draw the classroom walkthrough for the current KG and model."""
    ultra = None
    if not ctx.model.is_ingram:  # the lecture's steps are InGram's: the default InGram, the model beside it last
        ingram = compared_model(DEFAULT_INGRAM, ctx.model.device)
        if ingram is None:
            st.info("The classroom walks through InGram, and no InGram checkpoint is shipped here.")
            return
        st.info(
            f"The classroom walks through InGram: its steps use the default InGram ({DEFAULT_MODEL}); the last "
            f"step puts {escape_markdown(ctx.model_label)} beside it."
        )
        ultra = ctx.model
        ctx = PageContext.with_model(ctx.current, ingram, f"{DEFAULT_MODEL} (trained)", ctx.rel, ctx.ent)
    kg = ctx.kg
    if st.session_state.get(S.CLS_KG) != kg.fingerprint:  # choices of another KG no longer apply
        for key in S.CLS_PER_KG:
            st.session_state.pop(key, None)
            st.session_state.pop(key + "_w", None)
        st.session_state[S.CLS_KG] = kg.fingerprint
    if S.CLS_STEP not in st.session_state:
        st.session_state[S.CLS_STEP] = parse_step(st.query_params.get(STEP_PARAM))

    meta = meta_for_kg(kg)
    presenter = bool(st.session_state.get(S.CLS_PRESENTER, False))
    if presenter:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    step = _navigation()
    info = wt.STEPS[step - 1]
    st.markdown(f"## {step}. {info.title}")
    st.markdown(METRIC_CSS, unsafe_allow_html=True)
    title = meta.title if meta else str(kg.source)
    if not presenter:  # the page's caption above names the KG and model already
        st.caption(
            f"KG: {name_md(title)} · {kg_counts(kg.num_entities, kg.num_relations, kg.num_triples)}"
            f" · model: {escape_markdown(ctx.model_label)}"
        )

    try:
        predictor, attention = get_predictor(ctx.model, kg, (0,)), get_attention(ctx.model, kg, 0)
        ensemble = get_predictor(ctx.model, kg, default_seeds(ctx.model, kg)) if info.key == "score" else None
    except (RuntimeError, ValueError) as exc:  # a KG the model cannot run on: structural steps only
        predictor, attention, ensemble = None, None, None
        if info.key in MODEL_STEPS:
            st.error(f"The model could not run on this KG: {exc}")
            return
    default_pair = wt.default_pair(kg, meta)
    pair = (st.session_state.get(S.CLS_PAIR_I, default_pair[0]), st.session_state.get(S.CLS_PAIR_J, default_pair[1]))
    sc = StepContext(
        kg=kg,
        model=ctx.model,
        model_label=ctx.model_label,
        predictor=predictor,
        attention=attention,
        default_query=wt.default_query(kg, meta),
        query=current_query(kg, meta),
        pair=pair,
        presenter=presenter,
        ensemble=ensemble,
        ultra=ultra,
    )
    st.latex(info.formula)
    left, right = st.columns([1, 1.15], gap="medium" if presenter else "large")
    with left:
        shown = RENDERERS[info.key](sc)
    with right:
        if not presenter:
            st.markdown(info.text)
        if shown is not None:
            figure = (
                go.Figure(shown.figure).update_layout(height=PRESENTER_FIGURE_HEIGHT) if presenter else shown.figure
            )
            st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
            st.caption(shown.caption)
        if presenter:  # the figure first, above the fold; the step's text under it
            st.markdown(info.text)
