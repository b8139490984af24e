"""ULTRA in the explorer (issue 28 §2): the model picker, every page with ULTRA selected, Predictions side by side
(ranks under the other model checked against rank_query of each), the relation-graph toggle, "Why this answer?"."""

import pytest
from streamlit.testing.v1 import AppTest

from kgviz.catalog import discover_models, discover_ultra, ultra_label
from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import read_kg
from kgviz.defaults import DEFAULT_MODEL, DEFAULTS
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.registry import resolve_scorer
from kgviz.models.ultra.paths import ExplainedPath, PathStep
from kgviz.models.pretrained import pretrained_dir
from kgviz.ranking.ranks import rank_query
from kgviz.ui import state as S
from kgviz.ui.pages import PAGES
from kgviz.classroom.walkthrough import STEPS
from kgviz.ui.side_by_side import other_rank_column, side_by_side_frames
from kgviz.ui.figures.ultra import KIND_COLOURS, path_text, path_triples, step_text, ultra_relation_figure
from kgviz.models.ultra.graph import inverse_name, named_relation_graph
from test_app import APP, PRESETS, SMALL, current_kg, kg_picker, no_errors

ULTRA = "ultra:ultra-3g"
HAVE_ULTRA = (pretrained_dir() / "ultra-3g" / "weights.pt").is_file()
pytestmark = [
    pytest.mark.skipif(SMALL != "sample:movies", reason="the movies sample is not installed"),
    pytest.mark.skipif(not HAVE_ULTRA, reason="pretrained/ultra-3g is not shipped"),
]


def start_ultra(view: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.selectbox(key="model").set_value(ULTRA)
    kg_picker(at).set_value(PRESETS[SMALL].label)
    at.radio(key="view").set_value(view).run()
    no_errors(at)
    return at


def test_catalog_lists_ultra_folders(tmp_path):
    (tmp_path / "NL-0").mkdir()
    (tmp_path / "NL-0" / "config.json").write_text("{}")
    for name in ("ultra-4g", "ultra-3g", "ultra-empty"):
        (tmp_path / name).mkdir()
    (tmp_path / "ultra-3g" / "weights.pt").write_bytes(b"x")
    (tmp_path / "ultra-4g" / "weights.pt").write_bytes(b"x")
    keys = [m.key for m in discover_models(tmp_path)]
    assert keys == ["pretrained:NL-0", "ultra:ultra-3g", "ultra:ultra-4g", "untrained"]  # no weights.pt: not listed
    assert [m.label for m in discover_ultra(tmp_path)] == ["ULTRA 3g", "ULTRA 4g"]
    assert ultra_label("ultra-50g") == "ULTRA 50g" and all(m.is_ultra for m in discover_ultra(tmp_path))


def test_side_by_side_frames_give_each_candidate_its_rank_under_the_other():
    kg = read_kg(PRESETS[SMALL].path)
    ultra = rank_query(resolve_scorer("ultra-3g"), "Ryan Gosling", "profession", graph=kg)
    freq = rank_query(resolve_scorer("frequency"), "Ryan Gosling", "profession", graph=kg)
    left, right = side_by_side_frames(ultra, freq, "ULTRA 3g", "frequency", 12)
    assert list(left["entity"]) == [c.name for c in ultra.candidates]
    under_freq = {c.name: c.rank for c in freq.candidates}
    assert list(left[other_rank_column("frequency")]) == [under_freq[n] for n in left["entity"]]
    under_ultra = {c.name: c.rank for c in ultra.candidates}
    assert list(right[other_rank_column("ULTRA 3g")]) == [under_ultra[n] for n in right["entity"]]
    assert left["entity"][0] == "actor"


def test_ultra_relation_figure_and_path_text():
    kg = read_kg(PRESETS[SMALL].path)
    names = list(kg.relations) + [inverse_name(r) for r in kg.relations]
    edges = named_relation_graph(kg)
    fig = ultra_relation_figure(names, edges, highlight=["profession"])
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert len(legend) == 4 and [t.line.color for t in fig.data if t.showlegend is not False] == list(
        KIND_COLOURS.values()
    )
    assert fig.layout.meta["relations_drawn"] == 10
    small = ultra_relation_figure(names, edges, highlight=["profession"], max_nodes=4)
    assert small.layout.meta["relations_drawn"] == 4
    assert any(h.startswith("profession:") for h in small.data[-1].hovertext)  # the highlighted one is kept
    step = PathStep("Emma Stone", "costarred", "Ryan Gosling", inverse=True)
    path = ExplainedPath((step, PathStep("Emma Stone", "profession", "actor", False)), 0.5)
    assert step_text(step) == "(Emma Stone, costarred, Ryan Gosling) read backwards"
    assert path_text(path, "Ryan Gosling") == "Ryan Gosling —costarred⁻¹→ Emma Stone —profession→ actor"
    rows = path_triples(kg, [path])
    assert [tuple(kg.string_triples()[k]) for k in rows] == [
        ("Emma Stone", "costarred", "Ryan Gosling"),
        ("Emma Stone", "profession", "actor"),
    ]


@pytest.mark.slow
def test_predictions_side_by_side_and_why_this_answer_with_ultra():
    at = start_ultra("Predictions")
    assert at.session_state[S.CURRENT_KG].preset == SMALL
    assert not any(w.key in (S.Q_SEED, S.Q_ENSEMBLE) for w in at.number_input)  # no draws: no seed widgets
    at.selectbox(key="q_anchor").set_value("Ryan Gosling")
    at.selectbox(key="q_rel").set_value("profession").run()
    no_errors(at)
    assert at.selectbox(key=S.Q_COMPARE).value == f"pretrained:{DEFAULT_MODEL}"  # the default InGram beside ULTRA
    tables = [d.value for d in at.dataframe if any(c.startswith("rank under") for c in d.value.columns)]
    assert len(tables) == 2
    left, right = tables
    kg = current_kg(at)
    ultra = rank_query(resolve_scorer("ultra-3g"), "Ryan Gosling", "profession", graph=kg)
    model, _, _ = load_checkpoint(pretrained_dir() / DEFAULT_MODEL)
    ingram = rank_query(Predictor(model, kg, seeds=DEFAULTS.seeds(), device="cpu"), "Ryan Gosling", "profession")
    assert list(left["entity"]) == [c.name for c in ultra.candidates[: len(left)]]
    assert list(right["entity"]) == [c.name for c in ingram.candidates[: len(right)]]
    under_ingram = {c.name: c.rank for c in ingram.candidates}
    under_ultra = {c.name: c.rank for c in ultra.candidates}
    column_left = next(c for c in left.columns if c.startswith("rank under"))
    column_right = next(c for c in right.columns if c.startswith("rank under"))
    assert list(left[column_left]) == [under_ingram[n] for n in left["entity"]]
    assert list(right[column_right]) == [under_ultra[n] for n in right["entity"]]
    assert left["entity"][0] == "actor"
    # Why this answer? for ULTRA's first answer: the paths as triples, the KG figure
    assert at.selectbox(key=S.WHY_CANDIDATE).value == kg.entity_index["actor"]
    paths = next(d.value for d in at.dataframe if "walk" in d.value.columns)
    assert paths["walk"][0] == "Ryan Gosling —costarred⁻¹→ Emma Stone —profession→ actor"
    assert "(Emma Stone, costarred, Ryan Gosling) read backwards" in paths["triples"][0]
    assert (paths["weight"].diff().dropna() <= 0).all()  # best first
    assert any(c.value.startswith("The KG with the paths") for c in at.caption)


@pytest.mark.slow
def test_every_page_works_or_says_why_with_ultra():
    at = start_ultra("Data")
    for view in PAGES:
        at.radio(key="view").set_value(view).run()
        no_errors(at)
        if view == "Attention":
            assert any("ULTRA has no attention weights" in i.value for i in at.info)
        if view == "Adapt":
            assert any("ULTRA is used as released" in i.value for i in at.info)
        if view == "Relation graph":  # ULTRA's graph first; the toggle goes to InGram's and back
            assert at.radio(key=S.RG_KIND).value == "ultra"
            assert [m.value for m in at.metric][1:] == ["36", "36", "36", "36"]  # movies: 36 of each type
            at.radio(key=S.RG_KIND).set_value("ingram").run()
            no_errors(at)
            assert at.selectbox(key="pair") is not None
            at.radio(key=S.RG_KIND).set_value("ultra").run()
        if view == "Why InGram?":
            assert any("takes InGram's row" in i.value for i in at.info)
    at.radio(key="view").set_value("Classroom").run()
    assert any("the last step puts ULTRA 3g beside it" in i.value for i in at.info)
    at.selectbox(key=S.CLS_STEP).set_value(len(STEPS)).run()
    no_errors(at)
    ranks = {m.label: m.value for m in at.metric}
    assert ranks["Rank of actor, ULTRA 3g"] == "1"  # ULTRA 3g ranks actor first with the default constraints
    assert "Rank of actor, InGram" in ranks
    at.radio(key="view").set_value("Self-check").run()
    at.button(key=S.SC_RUN).click().run()
    no_errors(at)
    methods = list(next(d.value for d in at.dataframe if "MRR" in d.value.columns)["method"])
    assert "ULTRA 3g + both constraints" in methods and "relation-tail frequency + both constraints" in methods
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Verdict"))
    assert "ULTRA 3g \\+ both constraints predicts this KG" in verdict  # escaped Markdown
    at.radio(key="view").set_value("What-if").run()
    at.radio(key=S.WI_OP).set_value("remove").run()
    kg = current_kg(at)
    k = next(i for i, t in enumerate(kg.string_triples()) if tuple(t) == ("Emma Stone", "profession", "actor"))
    at.selectbox(key=S.WI_REMOVE).set_value(k).run()
    no_errors(at)
    ranks = {m.label: m.value for m in at.metric}
    assert "filtered rank of actor, before" in ranks and "filtered rank of actor, after" in ranks


def test_ultra_is_the_default_comparison_beside_ingram_and_explains_its_answers():
    from test_app import start

    at = start(SMALL, "Predictions")  # the untrained InGram
    at.selectbox(key="q_anchor").set_value("Ryan Gosling")
    at.selectbox(key="q_rel").set_value("profession").run()
    no_errors(at)
    assert at.selectbox(key=S.Q_COMPARE).value == ULTRA
    assert any(m.value == "#### Why this answer? (ULTRA 3g)" for m in at.markdown)
    ultra_table = [d.value for d in at.dataframe if "rank under untrained (random weights, seed 0)" in d.value.columns]
    assert list(ultra_table[0]["entity"])[0] == "actor"
    at.selectbox(key=S.Q_COMPARE).set_value("none").run()  # nothing to compare: one ranking, no paths
    assert not [d for d in at.dataframe if any(c.startswith("rank under") for c in d.value.columns)]
    assert not any("Why this answer?" in m.value for m in at.markdown)


@pytest.mark.slow
@pytest.mark.skipif("bench:FB-100" not in PRESETS, reason="$KGVIZ_DATA (FB-100) is not available")
def test_ultra_views_on_a_benchmark_graph():
    """At users' scale (FB-100's inference graph, 4,000+ entities): Predictions side by side with paths, ULTRA's relation graph
    cut to 16 relations around the selected one."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.selectbox(key="model").set_value(ULTRA)
    kg_picker(at).set_value(PRESETS["bench:FB-100"].label)
    at.radio(key="view").set_value("Predictions").run()
    no_errors(at)
    kg = current_kg(at)
    assert kg.num_entities > 1000
    tables = [d.value for d in at.dataframe if any(c.startswith("rank under") for c in d.value.columns)]
    assert len(tables) == 2 and len(tables[0]) == 10
    assert any(m.value.startswith("#### Why this answer? (ULTRA 3g)") for m in at.markdown)
    at.selectbox(key="rel").set_value(0)
    at.radio(key="view").set_value("Relation graph").run()
    no_errors(at)
    chart = next(c for c in at.get("plotly_chart"))
    meta = __import__("json").loads(chart.proto.spec)["layout"]["meta"]
    assert meta["relations_drawn"] == 16 and meta["relations"] == 2 * kg.num_relations
