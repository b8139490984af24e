"""The Adapt page (issue 21): fine-tuning in the background on every sample KG and a 1,000-triple KG,
the adapted model listed, downloadable and checked before and after; a KG too small says so."""

import io
import time
import zipfile

import pytest
import torch
from streamlit.testing.v1 import AppTest

from kgviz.checkpoint import load_checkpoint
from kgviz.ui import state as S
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
    while job.model_key is None or not job.done:
        assert time.perf_counter() - t0 < limit, "the fine-tuning did not end within its budget"
        time.sleep(0.3)
        at.run()
        no_errors(at)
    at.run()
    no_errors(at)


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
    assert label in at.selectbox(key="model").options  # a session model like any other
    assert any("Done:" in str(p.proto) for p in at.get("progress"))
    # the self-check before and after, side by side
    both = frames_with(at, "MRR after")[0]
    assert {"InGram", "InGram + both constraints", "relation-tail frequency"} <= set(both["method"])
    freq = both[both["method"] == "relation-tail frequency"].iloc[0]
    assert freq["MRR before"] == freq["MRR after"]  # the baseline does not depend on the model
    assert (both["MRR change"] == both["MRR after"] - both["MRR before"]).all()
    # downloadable in the authors' layout: config.json + model.ckpt that load and equal the adapted weights
    assert any("Download the adapted model" in d.proto.label for d in at.get("download_button"))
    folder = at.session_state[S.ADAPTED_MODELS][job.model_key].path
    model, config, extra = load_checkpoint(folder)
    assert extra["adapted"]["kg"] == preset.label and config == job.result.config
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
def test_adapt_on_a_thousand_triples_with_a_stop_and_a_fair_check():
    at = app_on(upload=thousand_triples())
    assert current_kg(at).num_triples == 1000
    at.radio(key="view").set_value("Adapt").run()
    at.checkbox(key=S.AD_FAIR).check().run()  # the self-check's triples are left out of the fine-tuning
    at.number_input(key=S.AD_SECONDS).set_value(60).run()
    at.button(key=S.AD_START).click().run()
    job = at.session_state[S.ADAPT_JOB]
    time.sleep(1.0)
    at.run()
    assert job.running
    at.button(key=S.AD_STOP).click().run()  # the page stays responsive; the run ends at its next step
    t0 = time.perf_counter()
    while job.model_key is None:
        assert time.perf_counter() - t0 < 30
        time.sleep(0.3)
        at.run()
    at.run()
    no_errors(at)
    assert job.result.stopped and job.result.seconds < 30
    assert "self-check triples held out" in job.label
    assert any("a fair comparison" in c.value for c in at.caption)
    assert frames_with(at, "MRR after")


def test_a_kg_too_small_to_adapt_says_why():
    at = app_on(upload=b"a\tr\tb\nb\ts\tc\nc\tt\td\n")
    at.radio(key="view").set_value("Adapt").run()
    assert not at.exception
    assert any("none is left to learn from" in e.value for e in at.error)
    assert S.AD_START not in [b.key for b in at.button]
