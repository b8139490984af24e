"""The Data page and the current KG (issue 17, "Data never lost or swapped"), run with AppTest."""

from streamlit.testing.v1 import AppTest

from kgviz.ui import state as S
from test_app import APP, PRESETS, SMALL, current_kg, kg_picker, no_errors, shown, start

UPLOAD = b"x\tlikes\ty\ny\tlikes\tz\nz\tknows\tx\n"


def sidebar_names(at: AppTest, label: str) -> bool:
    return shown(at, "preset") == label and any(label in c.value.replace("\\", "") for c in at.sidebar.caption)


def test_upload_right_after_load_lands_and_the_sidebar_names_it():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()  # the page has just loaded: the upload is the first thing the user does
    at.file_uploader(key="upload").upload("mine.tsv", UPLOAD, "text/tab-separated-values").run()
    no_errors(at)
    kg = current_kg(at)
    assert kg.num_triples == 3 and set(kg.relations) == {"likes", "knows"}
    assert sidebar_names(at, "upload: mine.tsv")
    assert at.session_state[S.CURRENT_KG].preset is None
    for view in ("KG", "Data"):  # other runs keep it
        at.radio(key="view").set_value(view).run()
        assert current_kg(at).num_triples == 3 and sidebar_names(at, "upload: mine.tsv")


def test_edit_is_named_and_a_preset_reloads_unedited():
    at = start(SMALL, "Data")
    preset_label = PRESETS[SMALL].label
    assert sidebar_names(at, preset_label)
    n = current_kg(at).num_triples
    at.text_area(key="quick_add_text").input("Ryan Gosling, born in, Canada").run()
    at.button(key="quick_add_button").click().run()
    no_errors(at)
    assert sidebar_names(at, f"{preset_label} (edited)") and current_kg(at).num_triples == n + 1
    kg_picker(at).set_value(preset_label).run()
    no_errors(at)
    assert sidebar_names(at, preset_label) and current_kg(at).num_triples == n
    assert not at.session_state[S.CURRENT_KG].label.endswith("(edited)")


def test_refused_upload_keeps_the_kg_and_says_why():
    at = start(SMALL, "Data")
    before = current_kg(at)
    at.file_uploader(key="upload").upload("bad.tsv", b"a\tr\n", "text/tab-separated-values").run()
    assert not at.exception
    assert any("bad.tsv, line 1" in e.value for e in at.error)
    assert current_kg(at).fingerprint == before.fingerprint and sidebar_names(at, PRESETS[SMALL].label)


def test_a_relation_named_with_the_pair_separator():
    """A pair is a pair of ids: a relation called "a — b" selects and explains like any other."""
    at = start(SMALL, "Data")
    kg_text = "u\ta — b\tv\nu\tc\tw\nu\ta — b\tw\n".encode()
    at.file_uploader(key="upload").upload("dash.tsv", kg_text, "text/tab-separated-values").run()
    at.radio(key="view").set_value("Relation graph").run()
    at.radio(key="rg_mode").set_value("lecture").run()
    at.selectbox(key="pair").set_value("a — b — c").run()
    no_errors(at)
    assert shown(at, "rel") == "a — b"
    assert any("β breakdown: a — b — c" in m.value.replace("\\", "") for m in at.markdown)
    assert at.metric[0].value == f"{1 / 9 + 1 / 4:.4f}"  # shared: u (3 triples) and w (2)
