"""Adapt page: fine-tune the current model on the current KG for a time budget, in the background.

The run (:class:`kgviz.ui.adapt_job.AdaptJob`) goes on in a thread; a fragment redraws its progress
every half second and offers a stop button, so the rest of the app stays usable. The adapted model
joins the sidebar's models as "<model> adapted to <KG>", downloadable in the authors' layout, and
the self-check before and after is shown side by side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from ...adapt import DEFAULT_PARTS, PARTS, check_adaptable
from ...data import KGFormatError, KnowledgeGraph
from ...selfcheck import LOO_LIMIT
from .. import state as S
from ..adapt_job import AdaptJob, archive_name, checkpoint_zip, register, store_adapted
from ..cache import LoadedModel, load_model, self_check_seeds
from ..context import PageContext
from ..ultra_views import scorer_notice
from ..markup import escape_markdown, name_md
from ..trust_figures import before_after_frame, loss_figure, self_check_bar
from ..widgets import page_intro
from .selfcheck import self_check_with_progress

INTRO = (
    "Fine-tuning the current model on this KG with the authors' "
    "self-supervised procedure: each step re-splits (a connected part of) the KG into message and "
    "supervision triples, draws fresh random features and lowers a margin loss on the supervision "
    "triples. The result is a new model, listed in the sidebar, in the authors' format."
)

POLL_SECONDS = 0.5
COMPARED = ("InGram", "InGram + both constraints", "relation-tail frequency")


def _start(model: LoadedModel, model_label: str, kg: KnowledgeGraph, kg_label: str) -> None:
    """Callback of "Adapt": start a run with the budget and parts chosen (one run at a time)."""
    job = st.session_state.get(S.ADAPT_JOB)
    if job is not None and job.running:
        return
    st.session_state[S.ADAPT_JOB] = AdaptJob(
        model,
        model_label,
        kg,
        kg_label,
        float(st.session_state.get(S.AD_SECONDS, 30)),
        parts=st.session_state.get(S.AD_PARTS, DEFAULT_PARTS),
        hold_out_check=bool(st.session_state.get(S.AD_FAIR)),
    ).start()


def _status(job: AdaptJob) -> str:
    recent = job.losses[-10:]
    loss = f", loss {np.mean(recent):.4f} (mean of the last {len(recent)} steps)" if recent else ""
    return f"{job.elapsed:.1f} of {job.seconds:g} s, {job.steps} steps{loss}"


def _live(job: AdaptJob) -> None:
    """Progress, loss and the stop button; reruns itself while the job runs, then the whole app once."""

    @st.fragment(run_every=POLL_SECONDS if job.running else None)
    def live() -> None:
        if job.done and not job.announced:
            register(st.session_state)
            job.announced = True
            st.rerun(scope="app")  # the sidebar lists the new model
        st.progress(job.fraction, text=("Adapting: " if job.running else "Done: ") + _status(job))
        if job.running:
            st.button("Stop", key=S.AD_STOP, on_click=job.stop, help="end after the current step; keep the model")
        if job.losses:
            st.plotly_chart(loss_figure(job.losses), key=S.AD_LOSS)

    live()


def _before_after(job: AdaptJob, model_key: str, folder: Path) -> None:
    adapted = load_model(model_key, str(folder), job.base.device)
    seeds = self_check_seeds(job.base, job.kg)  # the same draws, hence the same folds, for both
    before = self_check_with_progress(job.base, job.kg, job.base_label, seeds)
    after = self_check_with_progress(adapted, job.kg, job.label, seeds)
    if before is None or after is None:
        return
    st.markdown("**Self-check before and after**")
    frame = before_after_frame(before, after)
    st.dataframe(
        frame,
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in frame.columns[1:]},
    )
    st.plotly_chart(self_check_bar({"before": before, "after": after}, COMPARED), key=S.AD_CHART)
    if job.hold_out_check and job.kg.num_triples >= LOO_LIMIT:
        st.caption("The self-check's held-out triples were left out of the fine-tuning: a fair comparison.")
    else:
        st.caption(
            "The fine-tuning saw every triple of this KG, the self-check's held-out ones included: the "
            "'after' figures say how well the adapted model fits this KG, and overstate how well it would "
            "predict facts missing from it."
            + (
                " Tick 'hold out the self-check's triples' for a fair comparison."
                if job.kg.num_triples >= LOO_LIMIT
                else ""
            )
        )


def render(ctx: PageContext) -> None:
    if scorer_notice(ctx, "Adapt"):  # ULTRA: no attention, no fine-tuning here
        return
    kg = ctx.kg
    page_intro(INTRO)
    try:
        check_adaptable(kg)
    except KGFormatError as exc:
        st.error(f"Cannot adapt to {name_md(ctx.kg_label)}: {escape_markdown(exc.reason)}")
        return
    job: AdaptJob | None = st.session_state.get(S.ADAPT_JOB)
    busy = job is not None and job.running
    c1, c2, c3 = st.columns(3)
    c1.number_input("time budget (s)", 1, 600, 30, key=S.AD_SECONDS, disabled=busy)
    c2.selectbox(
        "weights to fine-tune", list(PARTS), index=list(PARTS).index(DEFAULT_PARTS), key=S.AD_PARTS, disabled=busy
    )
    c3.checkbox(
        "hold out the self-check's triples",
        key=S.AD_FAIR,
        disabled=busy or kg.num_triples < LOO_LIMIT,
        help=f"Fine-tune without the triples the self-check holds out, so that 'after' is a fair test. "
        f"Only for KGs of {LOO_LIMIT} triples or more (smaller ones hold out every triple).",
    )
    st.button(
        f"Adapt {ctx.model_label} to this KG",
        key=S.AD_START,
        type="primary",
        disabled=busy,
        on_click=_start,
        args=(ctx.model, ctx.model_label, kg, ctx.kg_label),
    )
    if job is None:
        return
    st.markdown(f"**{escape_markdown(job.label)}**")
    _live(job)
    if job.error:
        st.error(f"The fine-tuning stopped: {job.error}")
    elif job.done and job.model_key is not None:
        folder = job.folder if job.folder is not None and job.folder.is_dir() else store_adapted(job)[1]
        st.download_button(
            "Download the adapted model (config.json + model.ckpt, zip)",
            checkpoint_zip(folder),
            file_name=archive_name(job.label),
            mime="application/zip",
            key=S.AD_DOWNLOAD,
            on_click="ignore",
        )
        if job.kg.fingerprint == kg.fingerprint:
            _before_after(job, job.model_key, folder)
        else:
            st.info("The KG changed since this run: load it again to see the self-check before and after.")
