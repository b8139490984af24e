"""Adapt page: fine-tune the current model on the current KG for a time budget, in the background.

The run (:class:`kgviz.ui.adapt_job.AdaptJob`) goes on in a thread; a fragment redraws its progress
every half second and offers a stop button, so the rest of the app stays usable. The adaptation holds out
validation facts of the KG, never trains on them, and keeps its best state on them
(:func:`kgviz.training.adapt.adapt`). When that state beats the start, it joins the sidebar's models as
"<model> adapted to <KG>", downloadable in the authors' layout; when not, the start is kept and the
page says so. The figures before and after are on the held-out facts only, in words and a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from kgviz.training.adapt import DEFAULT_PARTS, DEFAULT_SECONDS, PARTS, AdaptResult, check_adaptable
from kgviz.training.adapt_valid import CRITERION, VALID_LEAST
from kgviz.graph.data import KGFormatError, KnowledgeGraph
from kgviz.ui import state as S
from kgviz.ui.adapt_job import AdaptJob, archive_name, checkpoint_zip, register, store_adapted
from kgviz.ui.cache import LoadedModel
from kgviz.ui.context import PageContext
from kgviz.ui.ultra_views import scorer_notice
from kgviz.ui.markup import escape_markdown, name_md
from kgviz.ui.figures.ranking import loss_figure
from kgviz.ui.widgets import page_intro

INTRO = (
    "Fine-tuning the current model on this KG with the authors' "
    "self-supervised procedure: each step re-splits (a connected part of) the KG into message and "
    "supervision triples, draws fresh random features and lowers a margin loss on the supervision "
    "triples. A few facts of the KG are held out first and never trained on; the model is scored on them "
    "before and during the fine-tuning, and the best state is kept. Only if it beats the start is it "
    "listed in the sidebar as a new model, in the authors' format."
)

POLL_SECONDS = 0.5


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
        float(st.session_state.get(S.AD_SECONDS, DEFAULT_SECONDS)),
        parts=st.session_state.get(S.AD_PARTS, DEFAULT_PARTS),
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


def held_out_frame(result: AdaptResult) -> pd.DataFrame:
    """MRR on the held-out facts of the starting model and of the model kept, per way of ranking, in words."""
    kept = "model kept (adapted)" if result.improved else "model kept (the start)"
    rows = [
        ("InGram with the app's constraints (chooses)", result.start_mrr[CRITERION], result.best_mrr[CRITERION]),
        ("InGram without constraints", result.start_mrr["raw"], result.best_mrr["raw"]),
        ("relation-tail frequency with the constraints", *[result.frequency_mrr[CRITERION]] * 2),
    ]
    return pd.DataFrame(rows, columns=["ranking", "MRR of the starting model", f"MRR of the {kept}"])


def _outcome(result: AdaptResult) -> None:
    """What the run did, in words, and the figures on the facts it never trained on."""
    (st.success if result.improved else st.info)(escape_markdown(result.summary()))
    frame = held_out_frame(result)
    st.dataframe(
        frame,
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in frame.columns[1:]},
        key=S.AD_CHART,
    )
    st.caption(
        f"{result.num_valid} facts of this KG were held out and never trained on; the fine-tuning used the other "
        f"{result.num_train}. Each held-out fact is asked both ways, its answer ranked among all entities (other "
        "known answers removed) from the KG without the held-out facts. The state kept was chosen on these "
        "same facts."
        + (
            f" With fewer than {VALID_LEAST} held-out facts no fine-tuned state is accepted: on so few a gain "
            "cannot be told from chance."
            if result.num_valid < VALID_LEAST
            else ""
        )
    )
    if not result.improved:
        st.caption("The starting model is kept: no new model is listed in the sidebar.")


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
    c1, c2 = st.columns(2)
    c1.number_input("time budget (s)", 1, 600, int(DEFAULT_SECONDS), key=S.AD_SECONDS, disabled=busy)
    c2.selectbox(
        "weights to fine-tune", list(PARTS), index=list(PARTS).index(DEFAULT_PARTS), key=S.AD_PARTS, disabled=busy
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
    elif job.done and job.result is not None:
        _outcome(job.result)
        if job.model_key is None:
            return
        folder = job.folder if job.folder is not None and job.folder.is_dir() else store_adapted(job)[1]
        st.download_button(
            "Download the adapted model (config.json + model.ckpt, zip)",
            checkpoint_zip(folder),
            file_name=archive_name(job.label),
            mime="application/zip",
            key=S.AD_DOWNLOAD,
            on_click="ignore",
        )
