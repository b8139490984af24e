"""kgviz explorer — `make run` (streamlit run app.py).

A dispatcher: the sidebar picks the KG, the model, the device, the shared selection and the
view; each view is drawn by a function of :mod:`kgviz.ui.views` (or the classroom page).
"""
from __future__ import annotations

import streamlit as st
import torch

from kgviz.checkpoint import CheckpointError
from kgviz.data import KGFormatError, KnowledgeGraph
from kgviz.draws import stored_draw_for
from kgviz.ui import state as S
from kgviz.ui import views as V
from kgviz.ui.cache import configure_torch, load_kg_file, load_model, store_upload
from kgviz.ui.classroom import render_classroom

VIEWS = {
    "Data": V.render_data,
    "KG": V.render_kg,
    "Relation graph": V.render_relation_graph,
    "Attention": V.render_attention,
    "Predictions": V.render_predictions,
    "What-if": V.render_whatif,
    "Classroom": None,
}


def load_preset(preset: S.Preset) -> KnowledgeGraph:
    if preset.path is None:
        return S.builtin_kg()
    return load_kg_file(str(preset.path), preset.path.stat().st_mtime, preset.label)


def sidebar_kg() -> None:
    """Preset picker (bound to ``?preset=``); loads the preset when the choice changes."""
    presets = S.discover_presets()
    by_label = {p.label: p for p in presets}  # labels are the values, so URLs read ?preset=movies+(sample)
    default = S.default_preset(presets).label
    index = V.ensure_option("preset", list(by_label), default)
    choice = st.sidebar.selectbox("Knowledge graph", list(by_label), index=index, key="preset",
                                  bind="query-params")
    if st.session_state["loaded_preset"] != choice or "kg" not in st.session_state:
        try:
            kg = load_preset(by_label[choice])
        except KGFormatError as exc:
            st.sidebar.error(f"Could not read the preset: {exc}")
            kg = S.builtin_kg()
        S.set_kg(st.session_state, kg, choice)
        st.session_state["loaded_preset"] = choice
        for key in S.PER_KG_KEYS:
            st.session_state.pop(key, None)


def _load_upload() -> None:
    ck, cf = st.session_state.get("upload_ckpt"), st.session_state.get("upload_config")
    if ck is None or cf is None:
        st.session_state["upload_error"] = "Upload both the checkpoint and its config.json."
        return
    key, folder = store_upload(ck.getvalue(), cf.getvalue())
    try:
        load_model(key, str(folder), st.session_state.get("device", "cpu"), names=(ck.name, cf.name))
    except CheckpointError as exc:
        st.session_state["upload_error"] = str(exc)
        return
    st.session_state["upload_error"] = None
    choice = S.ModelChoice(key, f"{ck.name} (uploaded, {key[7:15]})", folder)
    st.session_state.setdefault("uploaded_models", {})[key] = choice
    st.session_state["model"] = choice.label


def sidebar_model() -> tuple:
    """Device and model pickers; returns ``(model, config, key, label, device)``."""
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    device = st.sidebar.selectbox("Device", devices, key="device")
    choices = S.discover_models() + list(st.session_state.get("uploaded_models", {}).values())
    by_label = {c.label: c for c in choices}
    index = V.ensure_option("model", list(by_label), choices[0].label)
    label = st.sidebar.selectbox("Model", list(by_label), index=index, key="model", bind="query-params")
    with st.sidebar.expander("Upload an authors'-format checkpoint"):
        st.file_uploader("checkpoint (.ckpt / .pt / .pth)", type=["ckpt", "pt", "pth"], key="upload_ckpt")
        st.file_uploader("config.json", type=["json"], key="upload_config")
        st.button("Load uploaded model", key="load_upload", on_click=_load_upload)
        if st.session_state.get("upload_error"):
            st.error(st.session_state["upload_error"])
    choice = by_label[label]
    try:
        model, config, extra = load_model(choice.key, None if choice.path is None else str(choice.path), device)
    except CheckpointError as exc:
        st.sidebar.error(f"Could not load {choice.label}: {exc}. Using the untrained model.")
        choice = by_label[S.UNTRAINED_LABEL]
        model, config, extra = load_model(choice.key, None, device)
    # The key names this model object: a reloaded checkpoint gets new cached predictions.
    return model, config, extra, f"{choice.key}#{id(model):x}", choice.label, device


def sidebar_selection(kg: KnowledgeGraph) -> tuple[int | None, int | None]:
    """The relation and entity every view highlights (bound to ``?rel=`` and ``?ent=``)."""
    st.sidebar.markdown("**Selection** (highlighted in every view)")
    labels = V.relation_labels(kg)
    st.session_state["_rel_options"] = labels
    V.ensure_option("rel", labels)
    V.ensure_option("ent", kg.entities)
    rel = st.sidebar.selectbox("Relation", labels, index=None, key="rel", bind="query-params",
                               placeholder="none")
    ent = st.sidebar.selectbox("Entity", kg.entities, index=None, key="ent", bind="query-params",
                               placeholder="none")
    return (None if rel is None else labels.index(rel),
            None if ent is None else kg.entity_index[ent])


def main() -> None:
    st.set_page_config(page_title="kgviz — InGram explorer", page_icon="🕸️", layout="wide")
    S.init_session(st.session_state)
    configure_torch()
    st.sidebar.title("kgviz")
    sidebar_kg()
    model, config, extra, model_key, model_label, device = sidebar_model()
    kg = st.session_state["kg"]
    try:
        stored = stored_draw_for(extra, model, kg)
    except CheckpointError as exc:
        st.sidebar.warning(f"{model_label}: its stored draw is unusable ({exc}); random draws only.")
        stored = None
    rel, ent = sidebar_selection(kg)
    view = st.sidebar.radio("View", list(VIEWS), key="view", bind="query-params")

    st.title(view)
    st.caption(f"KG: **{st.session_state['kg_label']}** — {kg.num_entities:,} entities, "
               f"{kg.num_relations:,} relations, {kg.num_triples:,} triples · model: **{model_label}** · "
               f"device: {device}")
    if model_key.startswith(S.UNTRAINED + "#"):
        st.warning("Untrained model (random weights, seed 0): attention and rankings show how "
                   "InGram computes, not what a trained model predicts.", icon="⚠️")
    for msg in st.session_state["messages"]:
        st.success(msg)
    st.session_state["messages"] = []

    if view == "Classroom":
        render_classroom(kg, model, model_label=model_label)
        return
    ctx = V.ViewContext(kg=kg, kg_key=st.session_state["kg_key"], kg_label=st.session_state["kg_label"],
                        model=model, model_key=model_key, model_label=model_label, config=config,
                        device=device, rel=rel, ent=ent, stored=stored,
                        stored_info=None if stored is None else {
                            "seed": extra.get("inf_emb_seed"), "pool": extra.get("inf_emb_pool"),
                            "valid": extra.get("inf_emb_valid") or {}})
    VIEWS[view](ctx)


main()
