"""The hostile-input corpus through the app's upload widgets (AppTest, widgets reached by key): no
exception element ever; each file loads, or an error element names the file (and the line)."""

import time
from pathlib import Path

from hostile_corpus import KG_CASES, MODEL_CASES, PAYLOAD_MARKER
from streamlit.testing.v1 import AppTest

from kgviz.catalog import UNTRAINED_LABEL
from kgviz.ui import state as S

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIME_LIMIT_S = 120.0  # per upload, a guard against hangs (AppTest runs the whole page each time)


def started(view: str = "Data") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key="model").set_value(UNTRAINED_LABEL)
    at.radio(key="view").set_value(view).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_kg_uploads():
    refusing = started("Data")  # refusals leave the KG as it was: one session for all of them
    for case in KG_CASES:
        # A load replaces the KG; AppTest would then replay stale widget values: a fresh session each.
        at = refusing if case.words is not None else started("Data")
        start = time.perf_counter()
        at.file_uploader(key="upload").upload(case.name, case.content(), "text/plain").run()
        assert time.perf_counter() - start < TIME_LIMIT_S, case.name
        assert not at.exception, (case.name, [e.value for e in at.exception])
        if case.words is None:
            assert not errors(at), (case.name, errors(at))
            assert at.session_state[S.CURRENT_KG].kg.num_triples == case.triples, case.name
            continue
        where = case.name if case.line is None else f"{case.name}, line {case.line}"
        assert any(where in e for e in errors(at)), (case.name, errors(at))


def test_checkpoint_uploads(tmp_path):
    at = started("Data")
    for case in MODEL_CASES:
        folder = tmp_path / case.name
        folder.mkdir()
        ckpt, config = case.write(folder)
        start = time.perf_counter()
        at.file_uploader(key="upload_ckpt").upload(ckpt.name, ckpt.read_bytes())
        at.file_uploader(key="upload_config").upload(config.name, config.read_bytes()).run()
        at.button(key="load_upload").click().run()
        assert time.perf_counter() - start < TIME_LIMIT_S, case.name
        assert not at.exception, (case.name, [e.value for e in at.exception])
        assert not (folder / PAYLOAD_MARKER).exists(), "a pickled payload ran"
        if case.words is None:
            assert not errors(at), (case.name, errors(at))
            box = at.selectbox(key="model")
            assert box.options[box.index].startswith(f"{ckpt.name} (uploaded"), case.name
            continue
        blamed = ckpt.name if case.blame == "checkpoint" else config.name
        assert any(e.startswith(f"{blamed}: ") and case.words in e for e in errors(at)), (case.name, errors(at))
        assert not any("weights_only" in e or "/tmp" in e for e in errors(at)), errors(at)
