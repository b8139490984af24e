"""The Adapt page (issues 21, 29): fine-tuning in the background on every sample KG and a 1,000-triple KG,
judged on held-out facts; the adapted model listed and downloadable only when it beats its start, the
outcome in words; a KG too small says so."""

import io
import threading
import time
import zipfile

import pytest
import torch
from streamlit.testing.v1 import AppTest

from kgviz.training.adapt import AdaptResult
from kgviz.training.adapt_valid import CRITERION
from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import from_triples
from kgviz.ui import state as S
from kgviz.ui.adapt_job import AdaptJob, register
from test_app import current_kg, frames_with, no_errors
from test_ui_pages_selfcheck import SAMPLES, app_on, thousand_triples

BUDGET = 1  # seconds of fine-tuning per test


def adapt_until_done(at: AppTest, seconds: int = BUDGET, limit: float = 60.0) -> None:
    """Start a run of ``seconds`` on the Adapt page and rerun (as the page's poll does) until it is listed."""
    at.radio(key="view").set_value("Adapt").run()
    no_errors(at)
    at.number_input(key=S.AD_SECONDS).set_value(seconds).run()
    at.button(key=S.AD_START).click().run()
    no_errors(at)
    job = at.session_state[S.ADAPT_JOB]
    assert job.running or job.done
    t0 = time.perf_counter()
    while not job.done or not job.announced:
        assert time.perf_counter() - t0 < limit, "the fine-tuning did not end within its budget"
        time.sleep(0.3)
        at.run()
        no_errors(at)
    at.run()
    no_errors(at)


def check_outcome(at: AppTest, job: AdaptJob) -> None:
    """The outcome in words and the held-out figures; listed (and downloadable) only when it improved."""
    result = job.result
    words = [m.value.replace("\\", "") for m in (*at.success, *at.info)]  # markdown escapes removed
    assert result.summary() in words
    frame = frames_with(at, "MRR of the starting model")[0]
    assert list(frame["ranking"])[0] == "InGram with the app's constraints (chooses)"
    assert frame.iloc[0, 1] == result.start_mrr[CRITERION] and frame.iloc[0, 2] == result.best_mrr[CRITERION]
    assert frame.iloc[0, 2] >= frame.iloc[0, 1]  # never worse than the start on the held-out facts
    assert not any("change" in c for c in frame.columns)  # no bare difference without words
    listed = job.label in at.selectbox(key="model").options
    assert listed == result.improved == (job.model_key is not None)
    downloads = any("Download the adapted model" in d.proto.label for d in at.get("download_button"))
    assert downloads == result.improved
    assert any(f"{result.num_valid} facts of this KG were held out" in c.value for c in at.caption)


@pytest.mark.slow
@pytest.mark.parametrize("preset", SAMPLES, ids=[p.key for p in SAMPLES])
def test_adapt_on_every_sample(preset):
    at = app_on(preset.label)
    base_label = at.selectbox(key="model").options[at.selectbox(key="model").index]
    adapt_until_done(at)
    job = at.session_state[S.ADAPT_JOB]
    assert job.error is None and job.steps >= 1 and len(job.losses) == job.steps
    assert BUDGET <= job.result.seconds < BUDGET + 10
    label = f"{base_label} adapted to {preset.label}"
    assert any("Done:" in str(p.proto) for p in at.get("progress"))
    assert job.label == label
    check_outcome(at, job)
    if not job.result.improved:
        return
    # downloadable in the authors' layout: config.json + model.ckpt that load and equal the adapted weights
    folder = at.session_state[S.ADAPTED_MODELS][job.model_key].path
    model, config, extra = load_checkpoint(folder)
    assert extra["adapted"]["kg"] == preset.label and config == job.result.config and extra["adapted"]["improved"]
    for name, value in job.result.model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name].cpu(), value.cpu())
    from kgviz.ui.adapt_job import checkpoint_zip

    with zipfile.ZipFile(io.BytesIO(checkpoint_zip(folder))) as z:
        assert sorted(z.namelist()) == ["config.json", "model.ckpt"]
    # select it in the sidebar: every view uses it
    at.selectbox(key="model").set_value(label)
    at.radio(key="view").set_value("Predictions").run()
    no_errors(at)
    assert at.selectbox(key="model").value == job.model_key and frames_with(at, "freq. rank")


@pytest.mark.slow
def test_adapt_on_a_thousand_triples_with_a_stop():
    at = app_on(upload=thousand_triples())
    assert current_kg(at).num_triples == 1000
    base_label = at.selectbox(key="model").options[at.selectbox(key="model").index]
    at.radio(key="view").set_value("Adapt").run()
    at.number_input(key=S.AD_SECONDS).set_value(60).run()
    at.button(key=S.AD_START).click().run()
    job = at.session_state[S.ADAPT_JOB]
    time.sleep(1.0)
    at.run()
    assert job.running
    at.button(key=S.AD_STOP).click().run()  # the page stays responsive; the run ends at its next step
    t0 = time.perf_counter()
    while not job.announced:
        assert time.perf_counter() - t0 < 30
        time.sleep(0.3)
        at.run()
    at.run()
    no_errors(at)
    assert job.result.stopped and job.result.seconds < 30
    assert job.result.num_valid == 100 and job.result.num_train == 900  # 10 % held out, never trained on
    assert job.label.startswith(f"{base_label} adapted to ")
    check_outcome(at, job)


def finished_job(result: AdaptResult) -> AdaptJob:
    job = AdaptJob(None, "NL-0", from_triples([("a", "r", "b")]), "my.tsv", 1.0)  # type: ignore[arg-type]
    job._thread = threading.Thread(target=lambda: None)
    job._thread.start()
    job._thread.join()
    job.result = result
    return job


def test_a_run_that_did_not_improve_is_not_listed_and_says_so():
    """``register`` on a finished run whose best state is its start: no model is added, the message says why."""
    mrr = {"raw": 0.2, CRITERION: 0.3}
    job = finished_job(AdaptResult(None, None, 40, 1.0, num_valid=12, num_train=100, start_mrr=mrr, best_mrr=mrr))  # type: ignore[arg-type]
    job.result.frequency_mrr = {"raw": 0.25, CRITERION: 0.28}
    session: dict = {S.ADAPT_JOB: job, S.ADAPTED_MODELS: {}, S.MESSAGES: []}
    register(session)
    assert session[S.ADAPTED_MODELS] == {} and job.model_key is None
    (message,) = session[S.MESSAGES]
    assert "did not improve on 12 held-out facts of this KG; the starting model is kept" in message
    assert "No new model is listed" in message


def test_a_run_that_improved_is_listed_with_its_judgement():
    from test_adapt import TINY, tiny_model

    result = AdaptResult(
        tiny_model(1),
        TINY,
        40,
        1.0,
        num_valid=12,
        num_train=100,
        start_mrr={"raw": 0.2, CRITERION: 0.3},
        best_mrr={"raw": 0.25, CRITERION: 0.4},
        frequency_mrr={"raw": 0.25, CRITERION: 0.28},
        best_step=30,
    )
    job = finished_job(result)
    session: dict = {S.ADAPT_JOB: job, S.ADAPTED_MODELS: {}, S.MESSAGES: []}
    register(session)
    assert list(session[S.ADAPTED_MODELS]) == [job.model_key] and "listed with the models" in session[S.MESSAGES][0]
    _, _, extra = load_checkpoint(session[S.ADAPTED_MODELS][job.model_key].path)
    record = extra["adapted"]
    assert record["improved"] and record["best_step"] == 30 and record["held_out"] == 12
    assert record["held_out_mrr_kept"][CRITERION] == 0.4 and "from 0.300 to 0.400 MRR on 12" in record["summary"]


def test_a_kg_too_small_to_adapt_says_why():
    at = app_on(upload=b"a\tr\tb\nb\ts\tc\nc\tt\td\n")
    at.radio(key="view").set_value("Adapt").run()
    assert not at.exception
    assert any("too few both to hold one out to judge the adaptation" in e.value for e in at.error)
    assert S.AD_START not in [b.key for b in at.button]
