"""Loading the current KG and uploaded models: the only code that replaces the KG wholesale.

The KG upload and the preset picker act in widget callbacks, which Streamlit runs before the
script: the run that follows an upload already draws the uploaded KG everywhere, the sidebar
included, whatever else happened while the file was on its way (an upload cannot be dropped
or overwritten by a run that started before it).
"""

from __future__ import annotations

import streamlit as st

from kgviz.catalog import BUILTIN_KEY, ModelChoice, Preset, builtin_kg, discover_presets
from kgviz.graph.data import KGFormatError, KnowledgeGraph, read_kg
from kgviz.ui import state as S
from kgviz.ui.cache import load_kg_file, load_model, store_upload

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # KG uploads above this are refused with a message
MAX_UPLOAD_TRIPLES = 300_000


def read_preset(preset: Preset) -> KnowledgeGraph:
    """The KG of ``preset`` (cached per file and modification time)."""
    if preset.path is None:
        return builtin_kg()
    return load_kg_file(str(preset.path), preset.path.stat().st_mtime, preset.label)


def load_preset(key: str) -> None:
    """Make preset ``key`` the current KG; an unreadable preset loads the built-in KG instead."""
    by_key = {p.key: p for p in discover_presets()}
    preset = by_key.get(key) or by_key[BUILTIN_KEY]
    try:
        kg = read_preset(preset)
    except KGFormatError as exc:
        st.session_state[S.PRESET_ERROR] = f"Could not read the preset: {exc}"
        preset = by_key[BUILTIN_KEY]
        kg = builtin_kg()
    S.set_current_kg(st.session_state, kg, preset.label, preset=preset.key)


def on_preset_change(widget_key: str) -> None:
    """Callback of the preset picker ``widget_key``: load the chosen preset (not what is loaded).

    A picker drawn for an earlier KG is stale (see :func:`kgviz.ui.state.preset_key`): Streamlit
    still calls its callback when a rerun asked for before the change carries its old value, and
    that value must not replace what was loaded since.
    """
    if widget_key != S.preset_key(S.current(st.session_state)):
        return
    key = st.session_state.get(widget_key)
    if key is not None and key != S.LOADED:
        load_preset(key)


def on_kg_upload() -> None:
    """Callback of the KG file uploader: read the file and make it the current KG, or say why not."""
    up = st.session_state.get(S.KG_UPLOAD)
    if up is None:
        return
    st.session_state[S.KG_UPLOAD_SEEN] = up.file_id
    data = up.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        st.session_state[S.KG_UPLOAD_ERROR] = (
            f"{up.name}: {len(data) / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB limit."
        )
        return
    try:
        kg = read_kg(data, name=up.name, max_triples=MAX_UPLOAD_TRIPLES)
    except KGFormatError as exc:
        st.session_state[S.KG_UPLOAD_ERROR] = (
            f"Could not read {exc.source}" + (f", line {exc.line}" if exc.line else "") + f": {exc.reason}"
        )
        return
    st.session_state[S.KG_UPLOAD_ERROR] = None
    S.set_current_kg(st.session_state, kg, f"upload: {up.name}")
    st.session_state[S.MESSAGES].append(f"Loaded {up.name}: {kg.num_triples:,} triples.")


def apply_missed_upload() -> None:
    """Read a KG upload whose callback did not run (at the start of every run; idempotent).

    An upload that reaches the server while the page's first run is still going can miss its
    ``on_change`` callback; the file is then in the uploader's state but was never read. Comparing
    its file id with the last one read catches that, so an upload is never silently dropped.
    """
    up = st.session_state.get(S.KG_UPLOAD)
    if up is not None and st.session_state.get(S.KG_UPLOAD_SEEN) != up.file_id:
        on_kg_upload()


def on_model_upload() -> None:
    """Callback of "Load uploaded model": store the checkpoint, load it, select it (or say why not)."""
    from kgviz.models.ingram.checkpoint import CheckpointError  # torch: imported once a model is uploaded

    ck, cf = st.session_state.get(S.UPLOAD_CKPT), st.session_state.get(S.UPLOAD_CONFIG)
    if ck is None or cf is None:
        st.session_state[S.MODEL_UPLOAD_ERROR] = "Upload both the checkpoint and its config.json."
        return
    key, folder = store_upload(ck.getvalue(), cf.getvalue())
    try:
        load_model(key, str(folder), st.session_state.get(S.DEVICE, "cpu"), names=(ck.name, cf.name))
    except CheckpointError as exc:
        st.session_state[S.MODEL_UPLOAD_ERROR] = str(exc)
        return
    st.session_state[S.MODEL_UPLOAD_ERROR] = None
    st.session_state[S.UPLOADED_MODELS][key] = ModelChoice(key, f"{ck.name} (uploaded, {key[7:15]})", folder)
    st.session_state[S.MODEL] = key
