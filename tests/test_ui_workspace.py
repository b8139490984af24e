"""Issue 26 (items 2 and 3), run with AppTest: the canvas offers the current KG's relations, and uploads,
edits and adapted models are kept in the workspace and reopened by the URL (``?kg=<fingerprint>``)."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kgviz.catalog import default_preset, discover_presets
from kgviz.workspace import Workspace
from kgviz.ui import state as S
from test_app import APP, SMALL, current_kg, no_errors, start
from test_ui_pages_adapt import adapt_until_done

PEOPLE = b"Alice\tknows\tBob\nBob\tlives_in\tParis\nCarol\tknows\tAlice\n"
ROOT = Path(__file__).resolve().parents[1]


def relation_picker(at: AppTest):
    [box] = [b for b in at.selectbox if b.label == "Relation for new edges"]
    return box


def draw_edge(at: AppTest, head: str, tail: str) -> None:
    """What the canvas component sends when the user connects ``head`` to ``tail``: the drawing shown,
    plus an unlabelled edge, under the canvas of the current KG version."""
    shown = at.session_state[S.FLOW_STATE].asdict()
    ids = {n["data"]["name"]: n["id"] for n in shown["nodes"]}
    edge = {"id": f"drawn-{head}-{tail}", "source": ids[head], "target": ids[tail], "label": ""}
    version = at.session_state[S.CURRENT_KG].version
    at.session_state[f"{S.CANVAS_PREFIX}{version}"] = {
        "nodes": shown["nodes"],
        "edges": shown["edges"] + [edge],
        "selectedId": None,
        "timestamp": 10**12 + version,
    }
    at.run()
    no_errors(at)


def url_param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def reopened(query: dict[str, str]) -> AppTest:
    """A new session (a reload, or the link opened later) on the URL ``query``."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_canvas_relations_come_from_the_current_kg():
    at = start(SMALL, "Data")
    assert "acted in" in relation_picker(at).options
    relation_picker(at).set_value("acted in").run()
    picked_before = relation_picker(at).key
    at.file_uploader(key=S.KG_UPLOAD).upload("people.tsv", PEOPLE, "text/tab-separated-values").run()
    no_errors(at)
    # The browser still holds the picker it showed before the upload and sends its value with the next
    # rerun: that value must not become the relation of new edges on the new KG (it did: issue 26).
    at.session_state[picked_before] = "acted in"
    at.run()
    box = relation_picker(at)
    assert box.options == ["knows", "lives_in", S.NEW_RELATION] and box.value == "knows"
    box.set_value("lives_in").run()
    draw_edge(at, "Alice", "Carol")
    assert ("Alice", "lives_in", "Carol") in current_kg(at).string_triples()
    assert relation_picker(at).value == "lives_in"  # kept across the edit it made
    # a relation the KG does not have yet: "new relation…" and its name
    relation_picker(at).set_value(S.NEW_RELATION).run()
    name_key = S.canvas_relation_key(at.session_state[S.CURRENT_KG], S.CANVAS_NEW_RELATION)
    at.text_input(key=name_key).input("likes").run()
    draw_edge(at, "Bob", "Carol")
    kg = current_kg(at)
    assert ("Bob", "likes", "Carol") in kg.string_triples() and kg.num_triples == 5
    assert "acted in" not in kg.relations


def test_an_upload_and_an_edit_reopen_from_the_link():
    at = reopened({})
    at.file_uploader(key=S.KG_UPLOAD).upload("people.tsv", PEOPLE, "text/tab-separated-values").run()
    no_errors(at)
    uploaded = current_kg(at)
    assert url_param(at, S.KG_PARAM) == uploaded.fingerprint
    link = {S.KG_PARAM: uploaded.fingerprint}
    again = reopened(link)
    no_errors(again)
    assert current_kg(again).fingerprint == uploaded.fingerprint
    assert again.session_state[S.CURRENT_KG].label == "upload: people.tsv"
    # an edit is kept too, under its own fingerprint; the first link still opens the upload
    at.text_area(key=S.QUICK_ADD_TEXT).input("Dan, knows, Carol").run()
    at.button(key=S.QUICK_ADD_BUTTON).click().run()
    no_errors(at)
    edited = current_kg(at)
    assert edited.num_triples == 4
    edited_again = reopened({S.KG_PARAM: edited.fingerprint})
    assert current_kg(edited_again).fingerprint == edited.fingerprint
    assert edited_again.session_state[S.CURRENT_KG].label == "upload: people.tsv (edited)"
    assert current_kg(reopened(link)).fingerprint == uploaded.fingerprint


def test_a_link_whose_kg_is_gone_says_so():
    default = default_preset(discover_presets()).key
    gone = reopened({S.KG_PARAM: "0123456789" * 4})
    no_errors(gone)
    assert any("is not in this machine's workspace" in w.value for w in gone.sidebar.warning)
    assert gone.session_state[S.CURRENT_KG].preset == default and S.KG_PARAM not in gone.query_params
    # a damaged entry: the message says so, no traceback, the default KG
    at = reopened({})
    at.file_uploader(key=S.KG_UPLOAD).upload("people.tsv", PEOPLE, "text/tab-separated-values").run()
    fingerprint = current_kg(at).fingerprint
    Workspace(cap=0).kg_path(fingerprint).write_text('{"kind": "kgviz-workspace-kg", "version": 1, "entit')
    damaged = reopened({S.KG_PARAM: fingerprint})
    no_errors(damaged)
    assert any("damaged" in w.value and "cannot be opened" in w.value for w in damaged.sidebar.warning)
    assert damaged.session_state[S.CURRENT_KG].preset == default
    assert "hack" not in repr([w.value for w in damaged.sidebar.warning])
    bad = reopened({S.KG_PARAM: "../../hack"})
    assert bad.session_state[S.CURRENT_KG].preset == default and bad.sidebar.warning


@pytest.mark.slow
def test_an_adapted_model_reappears_after_a_reload(monkeypatch):
    import kgviz.training.adapt

    # every run accepted: a short run on movies is (rightly) refused, and acceptance is tested in test_adapt.py
    monkeypatch.setattr(kgviz.training.adapt.AdaptResult, "improved", property(lambda self: True))
    at = reopened({})
    movies = (ROOT / "sample_kgs" / "movies.tsv").read_bytes()
    at.file_uploader(key=S.KG_UPLOAD).upload("my movies.tsv", movies, "text/tab-separated-values").run()
    no_errors(at)
    adapt_until_done(at)
    job = at.session_state[S.ADAPT_JOB]
    assert job.folder is not None and Path(os.environ["KGVIZ_WORKSPACE"]) in job.folder.parents
    [entry] = [e for e in Workspace(cap=0).models() if e.path == job.folder]
    assert entry.kg_fingerprint == current_kg(at).fingerprint and entry.label == job.label
    at.selectbox(key=S.MODEL).set_value(job.model_key).run()
    no_errors(at)
    # the page's URL: the KG's fingerprint (set by the app) and the model's label (a URL-bound widget,
    # which the browser writes; AppTest does not, so the test writes it)
    query = {S.KG_PARAM: url_param(at, S.KG_PARAM), S.MODEL: job.label}
    assert query[S.KG_PARAM] == current_kg(at).fingerprint
    again = reopened(query)
    no_errors(again)
    models = again.selectbox(key=S.MODEL)
    assert job.label in models.options and models.value == job.model_key  # listed, and still selected
    assert current_kg(again).fingerprint == current_kg(at).fingerprint
    # cleared: the KG and the model are gone, and a reload says so
    again.button(key=S.WS_CLEAR).click().run()
    no_errors(again)
    assert Workspace(cap=0).entries() == [] and job.label not in again.selectbox(key=S.MODEL).options
    assert any("not in this machine's workspace" in w.value for w in reopened(query).sidebar.warning)
