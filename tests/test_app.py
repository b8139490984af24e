"""The explorer run headless with Streamlit's AppTest: every view on two presets, real values.

Presets: ``sample:movies`` (or the built-in lecture KG when the samples are absent) and a
benchmark inference graph from ``$KGVIZ_DATA`` (NELL-995-v1, 833 triples; falls back to the
built-in KG when the data are absent). The model is the untrained one (seed 0), so values can
be recomputed here with the library and compared with what the app shows.
"""

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.catalog import BUILTIN_KEY, UNTRAINED_LABEL, discover_presets
from kgviz.ui import state as S

APP = str(Path(__file__).resolve().parents[1] / "app.py")
VIEWS = [
    "Data",
    "KG",
    "Relation graph",
    "Attention",
    "Predictions",
    "Self-check",
    "Adapt",
    "What-if",
    "Classroom",
    "Why InGram?",
]
PRESETS = {p.key: p for p in discover_presets()}
SMALL = "sample:movies" if "sample:movies" in PRESETS else BUILTIN_KEY
BENCH = "bench:NELL-995-v1" if "bench:NELL-995-v1" in PRESETS else BUILTIN_KEY


def start(preset: str = SMALL, view: str = "Data") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="model").set_value(UNTRAINED_LABEL)
    kg_picker(at).set_value(PRESETS[preset].label)
    at.radio(key="view").set_value(view)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def kg_picker(at: AppTest):
    """The sidebar's KG picker (its key changes with every KG change: kgviz.ui.state.preset_key)."""
    return at.selectbox(key=S.preset_key(at.session_state[S.CURRENT_KG]))


def plain_ranking(at: AppTest) -> None:
    """Predictions: one draw and no constraints (the defaults are an ensemble and both constraints)."""
    at.number_input(key="q_ensemble").set_value(1)
    at.checkbox(key="q_exclude_self").uncheck()
    at.checkbox(key="q_known_side").uncheck().run()


def untrained_model() -> InGram:
    torch.manual_seed(0)
    return InGram.from_config(InGramConfig()).eval()


def current_kg(at: AppTest):
    return at.session_state[S.CURRENT_KG].kg


def shown(at: AppTest, key: str) -> str:
    """The label a selectbox shows (widgets hold ids; the label is what the user sees)."""
    box = kg_picker(at) if key == "preset" else at.selectbox(key=key)
    return box.options[box.index]


def frames_with(at: AppTest, column: str) -> list:
    """The tables on the page that have ``column`` (display-only tables carry no key)."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted({SMALL, BENCH}))
def test_every_view_runs(preset):
    at = start(preset)
    kg = current_kg(at)
    assert kg.num_triples > 0
    assert at.title[0].value == "Data"
    for view in VIEWS:
        at.radio(key="view").set_value(view).run()
        no_errors(at)
        assert at.title[0].value == view
        assert any("What am I looking at" in c.value for c in at.caption) or view == "Classroom"
    if kg.num_entities > 120:  # a large KG draws the neighbourhood of the selection and says so
        at.radio(key="view").set_value("KG").run()
        assert any("Large KG" in i.value for i in at.info)


def test_relation_pair_beta_breakdown():
    at = start(SMALL, "Relation graph")
    at.selectbox(key="pair").set_value("acted in — born in").run()
    no_errors(at)
    # InGram's exact weight: Olivia Colman (1 film, 3 triples) + Emma Stone (3 films, 7 triples).
    assert at.metric[0].value == f"{1 / 9 + 3 / 49:.4f}"
    assert any("(1/3)² + 3·1/7² = 0.17" in m.value for m in at.markdown)
    table = frames_with(at, "contribution")[0]
    assert list(table["entity"]) == ["Olivia Colman", "Emma Stone"]
    assert table["contribution"].sum() == pytest.approx(1 / 9 + 3 / 49)
    # The lecture's simplified view gives the slides' number.
    at.radio(key="rg_mode").set_value("lecture").run()
    at.selectbox(key="pair").set_value("acted in — born in").run()
    no_errors(at)
    assert any("(1/3)² + (1/7)² = 0.13" in m.value for m in at.markdown)
    assert at.metric[0].value == f"{1 / 9 + 1 / 49:.4f}"
    # Selecting the pair selected its first relation for the other views.
    assert shown(at, "rel") == "acted in"


def test_prediction_top1_and_expected_rank():
    at = start(SMALL, "Predictions")
    at.selectbox(key="q_anchor").set_value("Ryan Gosling")
    at.selectbox(key="q_rel").set_value("profession").run()
    plain_ranking(at)
    no_errors(at)
    kg = current_kg(at)
    expected = Predictor(untrained_model(), kg, seeds=[0], device="cpu").rank_tails("Ryan Gosling", "profession", 10)
    assert at.metric[0].value == expected[0].name
    table = frames_with(at, "best rank")[0]
    assert list(table["entity"]) == [c.name for c in expected]
    assert table["score"].tolist() == pytest.approx([c.score for c in expected], rel=1e-5)
    at.selectbox(key="q_expected").set_value("actor").run()
    rank = Predictor(untrained_model(), kg, seeds=[0], device="cpu").rank_of("Ryan Gosling", "profession", "actor")
    assert any(f"rank **{rank}** filtered" in m.value for m in at.markdown)
    # An ensemble of 3 draws reports each candidate's spread of ranks.
    at.number_input(key="q_ensemble").set_value(3).run()
    no_errors(at)
    ens = Predictor(untrained_model(), kg, seeds=[0, 1, 2], device="cpu").rank_tails("Ryan Gosling", "profession", 10)
    table = frames_with(at, "best rank")[0]
    assert list(table["entity"]) == [c.name for c in ens]
    assert list(table["worst rank"]) == [c.rank_max for c in ens]


def test_attention_view_values():
    at = start(SMALL, "Attention")
    at.selectbox(key="ent").set_value("Emma Stone").run()
    no_errors(at)
    frame = frames_with(at, "mean α")[0]
    heads = [c for c in frame.columns if c.startswith("head ")]
    assert len(heads) == InGramConfig().num_head
    assert frame[heads].sum().tolist() == pytest.approx([1.0] * len(heads), rel=1e-5)
    assert len(frame) == 7 + 1  # Emma Stone's 7 triples and her self-loop


def test_edits_quick_add_table_and_whatif():
    at = start(SMALL, "Data")
    n = current_kg(at).num_triples
    at.text_area(key="quick_add_text").input("Ryan Gosling, born in, Canada\nbad line").run()
    at.button(key="quick_add_button").click().run()
    assert any("line 2" in e.value for e in at.error)
    assert current_kg(at).num_triples == n
    at.text_area(key="quick_add_text").input("Ryan Gosling, born in, Canada").run()
    at.button(key="quick_add_button").click().run()
    no_errors(at)
    assert current_kg(at).num_triples == n + 1
    assert "Canada" in current_kg(at).entity_index
    # What-if: removing the new triple changes the relation graph and reports both ranks.
    at.radio(key="view").set_value("What-if").run()
    at.radio(key="wi_op").set_value("remove a triple").run()
    at.selectbox(key="wi_remove").set_value("Ryan Gosling | born in | Canada").run()
    no_errors(at)
    changed = frames_with(at, "change")[0]
    assert len(changed) > 0 and (changed["after"] < changed["before"] + 1e-12).any()
    before, after = frames_with(at, "known")
    assert len(before) == len(after) == 10


def test_bad_upload_shows_file_and_line():
    at = start(SMALL, "Data")
    at.file_uploader(key="upload").upload(
        "broken.tsv", b"a\tr\tb\nonly two\tfields\n", "text/tab-separated-values"
    ).run()
    assert not at.exception
    assert any("broken.tsv, line 2" in e.value for e in at.error), [e.value for e in at.error]
    at.file_uploader(key="upload").upload("ok.tsv", b"x\tlikes\ty\ny\tlikes\tz\n", "text/tab-separated-values").run()
    no_errors(at)
    assert current_kg(at).num_triples == 2


def test_whatif_add_and_apply():
    """(A brand-new relation is covered in test_figures: AppTest cannot type a new option.)"""
    at = start(SMALL, "What-if")
    n = current_kg(at).num_triples
    at.selectbox(key="wi_head").set_value("Ryan Gosling")
    at.selectbox(key="wi_rel").set_value("born in")
    at.selectbox(key="wi_tail").set_value("USA").run()
    no_errors(at)
    changed = frames_with(at, "change")[0]
    assert len(changed) > 0 and (changed["change"] > 0).any()
    ranks = [m.value for m in at.metric if m.label.startswith("filtered rank of USA")]
    assert len(ranks) == 2 and all(str(r).isdigit() for r in ranks)
    assert current_kg(at).num_triples == n  # not applied yet
    at.button(key="wi_apply").click().run()
    assert current_kg(at).num_triples == n + 1


def test_upload_checkpoint(tmp_path):
    from kgviz.models.ingram.checkpoint import save_checkpoint
    from conftest import SMALL_CONFIG

    torch.manual_seed(1)
    model = InGram.from_config(SMALL_CONFIG).eval()
    save_checkpoint(tmp_path, model, SMALL_CONFIG)
    at = start(SMALL, "Predictions")
    at.file_uploader(key="upload_ckpt").upload("mine.ckpt", (tmp_path / "model.ckpt").read_bytes())
    at.file_uploader(key="upload_config").upload("config.json", b'{"num_head": 3}').run()
    at.button(key="load_upload").click().run()
    assert any(e.value.startswith("config.json: ") for e in at.error)  # a config that does not fit: a message
    assert shown(at, "model") == UNTRAINED_LABEL
    at.file_uploader(key="upload_config").upload("config.json", (tmp_path / "config.json").read_bytes()).run()
    at.button(key="load_upload").click().run()
    no_errors(at)
    assert shown(at, "model").startswith("mine.ckpt (uploaded")
    at.selectbox(key="q_anchor").set_value("Ryan Gosling")
    at.selectbox(key="q_rel").set_value("profession").run()
    plain_ranking(at)
    top = Predictor(model, current_kg(at), seeds=[0], device="cpu").rank_tails("Ryan Gosling", "profession", 10)
    assert list(frames_with(at, "best rank")[0]["entity"]) == [c.name for c in top]


def test_stored_draw_of_an_uploaded_checkpoint(tmp_path):
    """A checkpoint that keeps a draw for the loaded KG offers it; the ranking is that draw's."""
    from kgviz.models.ingram.checkpoint import save_checkpoint
    from kgviz.models.ingram.draws import stored_draw_entries
    from conftest import SMALL_CONFIG

    torch.manual_seed(2)
    model = InGram.from_config(SMALL_CONFIG).eval()
    at = start(SMALL, "Predictions")
    kg = current_kg(at)
    assert "q_stored" not in [c.key for c in at.checkbox]  # the untrained model keeps no draw
    entries = stored_draw_entries(model, kg, {"seed": 5, "valid": {"MRR": 0.5}, "pool": [3, 4, 5]}, data_name="movies")
    save_checkpoint(tmp_path, model, SMALL_CONFIG, extra=entries)
    at.file_uploader(key="upload_ckpt").upload("drawn.ckpt", (tmp_path / "model.ckpt").read_bytes())
    at.file_uploader(key="upload_config").upload("config.json", (tmp_path / "config.json").read_bytes()).run()
    at.button(key="load_upload").click().run()
    no_errors(at)
    at.selectbox(key="q_anchor").set_value("Ryan Gosling")
    at.selectbox(key="q_rel").set_value("profession").run()
    plain_ranking(at)
    at.checkbox(key="q_stored").check().run()
    no_errors(at)
    top = Predictor(model, kg, seeds=[5], device="cpu").rank_tails("Ryan Gosling", "profession", 10)
    table = frames_with(at, "best rank")[0]
    assert list(table["entity"]) == [c.name for c in top]
    assert table["score"].tolist() == pytest.approx([c.score for c in top], rel=1e-5)
    # another KG: the draw does not belong to it, so the option is gone
    if SMALL != BUILTIN_KEY:
        kg_picker(at).set_value(PRESETS[BUILTIN_KEY].label).run()
        no_errors(at)
        assert "q_stored" not in [c.key for c in at.checkbox]


LARGE = "bench:NL-100"


@pytest.mark.slow
@pytest.mark.skipif(LARGE not in PRESETS, reason="needs $KGVIZ_DATA with NL-100/msg.txt (106 relations with inverses)")
def test_large_relation_graph_is_cut_to_the_top_relations():
    at = start(LARGE, "Relation graph")
    no_errors(at)
    assert any("Large relation graph (106 relations): drawing 30" in i.value for i in at.info)
    table = frames_with(at, "relation i")[0]
    assert list(table.columns) == ["relation i", "relation j", "weight", "bin"]
    assert not any(n.startswith("concept:") for n in table["relation i"])  # short labels
    assert max(map(len, table["relation i"])) <= 32  # 24, more where two names would read the same
    at.slider(key=S.RG_TOP_N).set_value(20).run()
    no_errors(at)
    assert any("drawing 20" in i.value for i in at.info)
    kg = current_kg(at)
    r = kg.relation_index["concept:athleteplaysinleague"]
    at.selectbox(key="rel").set_value(r).run()  # the selection is always drawn
    assert any("drawing 20" in i.value for i in at.info)
    legend = [m.value for m in at.markdown if "colour = bin" in m.value]
    assert legend and "red outline: the selected relation" in legend[0]


def test_layers_are_numbered_from_one():
    at = start(SMALL, "Attention")
    no_errors(at)
    assert at.selectbox(key=S.ATT_REL_LAYER).options[0] == "layer 1"
    assert at.selectbox(key=S.ATT_ENT_LAYER).options[0] == "layer 1"
