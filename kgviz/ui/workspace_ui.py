"""The workspace in the app (:mod:`kgviz.workspace`): the user's KGs and adapted models outlive the page.

Every KG that is not a preset (an upload, an edit) is kept in the workspace once per change and named in
the URL by its fingerprint (``?kg=<fingerprint>``), so a reload, a restart of the server or the same link
opened later on this machine shows it again. Adapted models are kept there by :mod:`kgviz.ui.adapt_job`
and listed with the models on every run.
"""

from __future__ import annotations

import streamlit as st

from kgviz.catalog import ModelChoice
from kgviz.workspace import EntryMissing, Workspace, WorkspaceError
from kgviz.ui import state as S
from kgviz.ui.markup import count_of, escape_markdown

ADAPTED_PREFIX = "adapted:"  # model key of an adapted model: ADAPTED_PREFIX + its workspace entry's name


def open_workspace() -> Workspace | None:
    """The workspace, or ``None`` after noting why it cannot be used (a bad ``$KGVIZ_WORKSPACE_MB``)."""
    try:
        return Workspace()
    except WorkspaceError as exc:
        st.session_state[S.WS_NOTICE] = f"The workspace is off: {exc}."
        return None


def open_linked_kg() -> bool:
    """First run: make the KG named by ``?kg=`` the current KG; ``False`` (after saying why) when the
    link names no KG kept here, so the caller loads the default KG."""
    fingerprint = st.query_params.get(S.KG_PARAM)
    if not fingerprint:
        return False
    ws = open_workspace()
    if ws is None:
        return False
    try:
        kg, label = ws.load_kg(fingerprint)
    except EntryMissing:
        st.session_state[S.WS_NOTICE] = (
            f"The KG of this link ({S.KG_PARAM}={fingerprint[:12]}…) is not in this machine's workspace "
            f"({ws.root}): it was cleared, removed to keep the workspace under its size cap, or kept on "
            "another machine. Showing the default KG instead."
        )
    except (WorkspaceError, OSError) as exc:
        st.session_state[S.WS_NOTICE] = f"The KG of this link cannot be opened: {exc}. Showing the default KG instead."
    else:
        S.set_current_kg(st.session_state, kg, label)
        st.session_state[S.WS_KEPT] = kg.fingerprint
        return True
    st.query_params.pop(S.KG_PARAM, None)
    return False


def keep_current(cur: S.CurrentKG) -> None:
    """Keep ``cur`` in the workspace when it is not a preset (once per KG) and name it in the URL."""
    if cur.preset is not None:
        st.query_params.pop(S.KG_PARAM, None)
        return
    fingerprint = cur.kg.fingerprint
    if st.session_state.get(S.WS_KEPT) != fingerprint:
        st.session_state[S.WS_KEPT] = fingerprint  # tried once, kept or not
        ws = open_workspace()
        if ws is None:
            return
        try:
            ws.save_kg(cur.kg, cur.label)
        except (WorkspaceError, OSError) as exc:
            st.session_state[S.WS_NOTICE] = f"This KG is not kept in the workspace ({ws.root}): {exc}"
            return
    if st.query_params.get(S.KG_PARAM) != fingerprint:
        st.query_params[S.KG_PARAM] = fingerprint


def kept_models() -> list[ModelChoice]:
    """The adapted models kept in the workspace, most recently used first; a label shown already gets the
    start of the entry's name (the URL names a model by its label, so labels must differ)."""
    try:  # listing needs no cap (cap=0): a bad cap setting must not hide the models
        entries = Workspace(cap=0).models()
    except OSError:
        return []
    out, seen = [], set()
    for e in entries:
        label = e.label if e.label not in seen else f"{e.label} · {e.name[:8]}"
        seen.add(label)
        out.append(ModelChoice(f"{ADAPTED_PREFIX}{e.name}", label, e.path))
    return out


def on_clear() -> None:
    """Callback of "Clear the workspace": remove every entry; forget this session's adapted models."""
    ws = Workspace(cap=0)
    try:
        n = ws.clear()
    except OSError as exc:
        st.session_state[S.WS_NOTICE] = f"Could not clear the workspace {ws.root}: {exc}"
        return
    gone = [k for k, m in st.session_state[S.ADAPTED_MODELS].items() if m.path is None or not m.path.exists()]
    for key in gone:
        del st.session_state[S.ADAPTED_MODELS][key]
    if st.session_state.get(S.MODEL) in gone:
        del st.session_state[S.MODEL]
    st.session_state[S.MESSAGES].append(f"Workspace cleared: {n} entr{'y' if n == 1 else 'ies'} removed.")


def sidebar_workspace() -> None:
    """What the workspace holds, where, its cap, and the button that clears it."""
    notice = st.session_state.pop(S.WS_NOTICE, None)
    if notice:
        st.sidebar.warning(escape_markdown(notice))
    with st.sidebar.expander("Workspace (kept on this machine)"):
        ws = Workspace(cap=0)
        try:
            entries = ws.entries()
        except OSError as exc:
            st.error(f"{ws.root} cannot be read: {exc}")
            return
        kgs = sum(e.kind == "kg" for e in entries)
        damaged = [e for e in entries if e.problem]
        cap = open_workspace()
        st.caption(
            f"Uploaded and edited KGs and adapted models are kept in {escape_markdown(str(ws.root))} "
            f"(`KGVIZ_WORKSPACE`), so a reload or the same link opens them again: {count_of(kgs, 'KG')}, "
            f"{count_of(len(entries) - kgs, 'model')}, {sum(e.size for e in entries) / 2**20:.1f} MB"
            + ("" if cap is None else f" of {cap.cap / 2**20:.0f} MB (`KGVIZ_WORKSPACE_MB`)")
            + ". Nothing leaves this machine."
        )
        for e in damaged:
            st.warning(f"Damaged entry, skipped: {escape_markdown(e.problem or '')}")
        st.button("Clear the workspace", key=S.WS_CLEAR, on_click=on_clear, disabled=not entries)
