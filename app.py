"""kgviz explorer — `make run` (streamlit run app.py).

Layout only: the sidebar picks the KG, the model, the device, the shared selection and the
view; the view is drawn by ``render(ctx)`` of its page in :mod:`kgviz.ui.pages`.
"""

from __future__ import annotations

import streamlit as st

from kgviz.catalog import UNTRAINED, ModelChoice, default_preset, discover_models, discover_presets
from kgviz.graph.data import KnowledgeGraph
from kgviz.ui import state as S
from kgviz.ui.cache import available_devices, configure_torch, load_model, warm_up_imports
from kgviz.ui.context import ModelInUse, PageContext
from kgviz.ui.favicon import favicon
from kgviz.ui.first_screen import what_to_try
from kgviz.ui.loading import apply_missed_upload, load_preset, on_model_upload, on_preset_change
from kgviz.ui.markup import kg_counts, name_html
from kgviz.ui.pages import PAGES, page
from kgviz.ui.upload_replies import keep_upload_replies
from kgviz.ui.workspace_ui import keep_current, kept_models, open_linked_kg, sidebar_workspace


def sidebar_kg() -> S.CurrentKG:
    """The KG picker: presets, plus what is loaded when it is not one; ``?preset=`` names the preset."""
    presets = discover_presets()
    labels = {p.key: p.label for p in presets}
    if S.CURRENT_KG not in st.session_state:  # first run: the kept KG or preset of the URL, else the default
        by_label = {p.label: p.key for p in presets}
        if not open_linked_kg():
            load_preset(by_label.get(st.query_params.get(S.PRESET, ""), default_preset(presets).key))
        S.begin_run(st.session_state)
    cur = S.current(st.session_state)
    if cur.preset is None:
        labels[S.LOADED] = cur.label
    options = list(labels)
    key = S.preset_key(cur)
    st.sidebar.selectbox(
        "Knowledge graph",
        options,
        index=options.index(S.preset_value(cur)),
        key=key,
        format_func=labels.__getitem__,
        on_change=on_preset_change,
        args=(key,),
    )
    keep_current(cur)  # an upload or edit is kept in the workspace and named in the URL (?kg=)
    if cur.preset is None:
        st.query_params.pop(S.PRESET, None)
    elif st.query_params.get(S.PRESET) != labels[cur.preset]:
        st.query_params[S.PRESET] = labels[cur.preset]
    st.sidebar.caption(
        f"Loaded: **{name_html(cur.label)}** — {kg_counts(cur.kg.num_entities, cur.kg.num_relations, cur.kg.num_triples)}",
        unsafe_allow_html=True,  # name_html: escaped, the whole name on hover
    )
    if st.session_state.get(S.PRESET_ERROR):
        st.sidebar.error(st.session_state.pop(S.PRESET_ERROR))
    return cur


def sidebar_model() -> tuple[ModelChoice, ModelChoice, str]:
    """Device and model pickers (and the checkpoint upload); returns the model picked, the untrained
    model (used when the one picked cannot be loaded) and the device."""
    devices = available_devices()
    device = st.sidebar.selectbox("Device", devices, key=S.DEVICE)
    if st.session_state.get(S.ADAPT_JOB) is not None:  # a fine-tuning that ended since the last run joins the models
        from kgviz.ui.adapt_job import register as register_adapted  # only the Adapt page starts one

        register_adapted(st.session_state)
    session_models = (
        list(st.session_state[S.UPLOADED_MODELS].values())
        + list(st.session_state[S.ADAPTED_MODELS].values())
        + kept_models()  # adapted models kept in the workspace (this session's too: their labels win)
    )
    choices = {c.key: c for c in discover_models() + session_models}
    S.forget_invalid(st.session_state, S.MODEL, list(choices))
    key = st.sidebar.selectbox(
        "Model", list(choices), key=S.MODEL, format_func=lambda k: choices[k].label, bind="query-params"
    )
    with st.sidebar.expander("Upload an authors'-format checkpoint"):
        st.file_uploader("checkpoint (.ckpt / .pt / .pth)", type=["ckpt", "pt", "pth"], key=S.UPLOAD_CKPT)
        st.file_uploader("config.json", type=["json"], key=S.UPLOAD_CONFIG)
        st.button("Load uploaded model", key=S.LOAD_UPLOAD, on_click=on_model_upload)
        if st.session_state.get(S.MODEL_UPLOAD_ERROR):
            st.error(st.session_state[S.MODEL_UPLOAD_ERROR])
    return choices[key], choices[UNTRAINED], device


def model_in_use(choice: ModelChoice, untrained: ModelChoice, device: str, kg: KnowledgeGraph) -> ModelInUse:
    """Load the model picked (its messages go to the sidebar): called by the first page that needs it."""
    from kgviz.models.ingram.checkpoint import CheckpointError  # torch: only for pages that use the model
    from kgviz.models.ingram.draws import stored_draw_for, stored_draw_info

    configure_torch()
    try:
        model = load_model(choice.key, None if choice.path is None else str(choice.path), device)
    except CheckpointError as exc:
        st.sidebar.error(f"Could not load {choice.label}: {exc}. Using the untrained model.")
        choice = untrained
        model = load_model(UNTRAINED, None, device)
    try:
        stored = stored_draw_for(model.extra, model.model, kg) if model.is_ingram else None  # ULTRA: no draws
    except CheckpointError as exc:
        st.sidebar.warning(f"{choice.label}: its stored draw is unusable ({exc}); random draws only.")
        stored = None
    return ModelInUse(model, choice.label, stored, None if stored is None else stored_draw_info(model.extra))


def sidebar_selection(cur: S.CurrentKG) -> tuple[int | None, int | None]:
    """The relation and entity every view highlights (bound to ``?rel=`` and ``?ent=``), as ids."""
    kg = cur.kg
    st.sidebar.markdown("**Selection** (highlighted in every view)")
    labels = S.relation_labels(kg)
    S.forget_invalid(st.session_state, S.REL, range(len(labels)))
    S.forget_invalid(st.session_state, S.ENT, range(kg.num_entities))
    rel = st.sidebar.selectbox(
        "Relation",
        list(range(len(labels))),
        index=None,
        key=S.REL,
        format_func=labels.__getitem__,
        bind="query-params",
        placeholder="none",
    )
    ent = st.sidebar.selectbox(
        "Entity",
        list(range(kg.num_entities)),
        index=None,
        key=S.ENT,
        format_func=kg.entities.__getitem__,
        bind="query-params",
        placeholder="none",
    )
    return rel, ent


def main() -> None:
    st.set_page_config(page_title="kgviz — InGram explorer", page_icon=favicon(), layout="wide")
    keep_upload_replies()  # an upload right after load must not lose its reply (kgviz.ui.upload_replies)
    S.init_session(st.session_state)
    apply_missed_upload()  # an upload whose callback a first run swallowed
    S.begin_run(st.session_state)  # before any widget: selections follow a KG change
    st.sidebar.title("kgviz")
    cur = sidebar_kg()
    choice, untrained, device = sidebar_model()
    rel, ent = sidebar_selection(cur)
    view = st.sidebar.radio("View", list(PAGES), key=S.VIEW, bind="query-params")
    sidebar_workspace()

    st.title(view)
    kg = cur.kg
    st.caption(
        f"KG: **{name_html(cur.label)}** — {kg_counts(kg.num_entities, kg.num_relations, kg.num_triples)}"
        f" · model: **{name_html(choice.label)}** · "
        f"device: {device}",
        unsafe_allow_html=True,  # name_html: escaped, the whole name on hover
    )
    if choice.key == UNTRAINED:
        st.warning(
            "Untrained model (random weights, seed 0): attention and rankings show how "
            "InGram computes, not what a trained model predicts.",
            icon=":material/warning:",
        )
    if view == next(iter(PAGES)):  # the first screen: what to try, with links
        what_to_try(discover_presets())
    for msg in st.session_state[S.MESSAGES]:
        st.success(msg)
    st.session_state[S.MESSAGES] = []
    ctx = PageContext(current=cur, load_model=lambda: model_in_use(choice, untrained, device, kg), rel=rel, ent=ent)
    page(view).render(ctx)
    warm_up_imports()  # the other views' imports, in the background once the first screen is drawn


main()
