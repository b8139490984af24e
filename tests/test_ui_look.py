"""Issue 26, small items (AppTest): names cut in text with the full name on hover, no Deploy button,
Material icons instead of emoji, the first screen's two lines with links that open the views they name,
and the classroom's step 8 saying why a higher score is listed later."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from kgviz.catalog import UNTRAINED, UNTRAINED_LABEL, discover_presets
from kgviz.graph.samples import SampleQuery
from kgviz.serve import streamlit_command
from kgviz.ranking.ranks import TIER_NOTES, RankedCandidate
from kgviz.ui import state as S
from kgviz.ui.classroom.model_steps import constraint_note
from kgviz.ui.first_screen import lecture_links, what_to_try_html
from kgviz.ui.markup import NAME_LIMIT, name_html, name_md, short_name, text_with_short_names
from test_app import APP, SMALL, no_errors, start

ROOT = Path(__file__).resolve().parents[1]
LONG = "N" * 19_990  # + a digit: 20,000-character names that differ only at their end
EMOJI = re.compile("[\U0001f000-\U0001ffff\u2600-\u27bf\ufe0f]")
# ✓ ✗ are plain text symbols in the tables (DejaVu Sans has them), not emoji
TEXT_SYMBOLS = {"\u2713", "\u2717"}


def test_short_name_and_hover():
    assert short_name("a" * NAME_LIMIT) == "a" * NAME_LIMIT
    cut = short_name("b" * 20_000)
    assert len(cut) == NAME_LIMIT and cut.endswith("…")
    assert name_md("x*y") == r"x\*y"
    html = name_html("<b>" + "c" * 100 + '"')
    assert html.startswith('<span title="&lt;b&gt;' + "c" * 100 + '&quot;">')  # the whole name, escaped
    assert "<b>" not in html and len(html) < 250
    assert name_html("short <i>") == r"short &lt;i&gt;"  # not cut: no span
    text = text_with_short_names(
        f"the first choice '{LONG}1' is first, '{LONG}12' moves *a lot*", [LONG + "1", LONG + "12"]
    )
    assert len(text) < 300 and text.count("…") == 2 and r"\*a lot\*" in text


def test_deploy_button_hidden():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "minimal"
    cmd = streamlit_command(8501)
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"
    assert "--client.toolbarMode minimal" in (ROOT / "Makefile").read_text()


def test_no_emoji_in_the_app_sources():
    """Debian's Chromium has no colour-emoji font: an emoji shows as an empty box."""
    files = [ROOT / "app.py", *sorted((ROOT / "kgviz" / "ui").rglob("*.py"))]
    found = {
        f"{p.relative_to(ROOT)}:{k}": line.strip()
        for p in files
        for k, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if set(EMOJI.findall(line)) - TEXT_SYMBOLS
    }
    assert not found, found


def test_icons_are_material_on_predictions():
    at = start(SMALL, "Predictions")  # the default ensemble: a stability box with an icon
    no_errors(at)
    boxes = list(at.success) + list(at.warning)
    assert boxes, "no stability box"
    assert all(b.icon.startswith(":material/") for b in boxes), [b.icon for b in boxes]


def test_first_screen_links_open_the_views():
    presets = discover_presets()
    at = start(SMALL, "Data")
    no_errors(at)
    pointer = [m.value for m in at.markdown if "What to try first" in m.value]
    assert pointer == [what_to_try_html(presets)]
    assert pointer[0].count("\n") == 1  # two lines
    query_link, classroom_link = lecture_links(presets)
    assert f'href="{query_link.replace("&", "&amp;")}"' in pointer[0]
    at.radio(key="view").set_value("KG").run()
    assert not [m for m in at.markdown if "What to try first" in m.value]  # the first screen only
    # each link, opened as a page address, shows the view it names
    for link, view in ((query_link, "Predictions"), (classroom_link, "Classroom")):
        fresh = AppTest.from_file(APP, default_timeout=180)
        for k, v in parse_qsl(link.removeprefix("?")):
            fresh.query_params[k] = v
        fresh.query_params[S.MODEL] = UNTRAINED_LABEL
        fresh.run()
        no_errors(fresh)
        assert fresh.title[0].value == view
        if view == "Predictions":
            assert any(m.value == "#### (Ryan Gosling, profession, ?)" for m in fresh.markdown)
        else:
            assert any(m.value.startswith("## 1. ") for m in fresh.markdown)


def test_a_20000_character_name_is_cut_in_the_stability_box():
    at = start(SMALL, "Data")
    names = [f"{LONG}{k}" for k in range(5)]
    tsv = "".join(f"A\tlikes\t{n}\n" for n in names[:3]) + "".join(f"{n}\tnear\tB\n" for n in names)
    at.file_uploader(key=S.KG_UPLOAD).upload("long.tsv", tsv.encode(), "text/plain").run()
    at.radio(key="view").set_value("Predictions").run()
    at.selectbox(key=S.Q_ANCHOR).set_value("A")
    at.selectbox(key=S.Q_REL).set_value("likes").run()
    no_errors(at)
    boxes = [b.value for b in list(at.success) + list(at.warning) if "draws" in b.value]
    assert boxes, "no stability box"
    for body in boxes:
        assert len(body) < 600 and "…" in body and LONG not in body
    top1 = at.metric[0]
    assert len(top1.value) == NAME_LIMIT and top1.help in names  # the whole name on hover
    # a long head in the query's heading: cut, the whole name in its title (hover), escaped
    at.selectbox(key=S.Q_ANCHOR).set_value(names[0])
    at.selectbox(key=S.Q_REL).set_value("near").run()
    no_errors(at)
    header = next(m.value for m in at.markdown if m.value.startswith("#### ("))
    assert header.startswith(f'#### (<span title="{names[0]}">{"N" * (NAME_LIMIT - 1)}…</span>, near, ?)')
    assert header.count(LONG) == 1  # the title only


def candidate(entity: int, name: str, score: float, rank: int, tier: int) -> RankedCandidate:
    return RankedCandidate(rank=rank, entity=entity, name=name, score=score, score_std=0.0, known=False, tier=tier)


def test_constraint_note_names_the_higher_score_listed_later():
    q = SampleQuery("Ryan Gosling", "profession", "tail", "actor")
    ranked = [
        candidate(0, "actor", -31.736, 1, 0),
        candidate(1, "director", -40.0, 2, 0),
        candidate(2, "La La Land", 1.5, 3, 1),
        candidate(3, "Emma Stone", 2.622, 4, 1),
    ]
    note = constraint_note(ranked, ranked[0], q)
    assert note is not None
    assert note.startswith("**Emma Stone scores higher (+2.62) but is listed after actor (-31.74):**")
    assert "never appears as a tail of *profession*" in note and TIER_NOTES[1] in note
    assert "1 more candidate scored above actor" in note
    assert constraint_note(ranked[:2], ranked[0], q) is None  # nothing moved by a constraint


def test_classroom_step8_score_of_the_expected_answer_and_its_note():
    import kgviz.classroom.walkthrough as wt
    from kgviz.graph.samples import meta_for_kg
    from kgviz.ui.cache import default_seeds, get_predictor, load_model

    at = start(SMALL, "Classroom")
    at.selectbox(key=S.CLS_STEP).set_value(8).run()
    no_errors(at)
    cur = at.session_state[S.CURRENT_KG]
    model = load_model(UNTRAINED, None, "cpu")
    q = wt.default_query(cur.kg, meta_for_kg(cur.kg))
    rk = wt.ranking_step(get_predictor(model, cur.kg, default_seeds(model, cur.kg)), q)
    actor = next(c for c in rk.candidates if c.name == q.answer)
    metric = next(m for m in at.metric if m.label == f"Score f of {q.answer}")
    assert metric.value == f"{actor.score:+.3f}"
    expected = constraint_note(rk.candidates, actor, q)
    notes = [m.value for m in at.markdown if "but is listed after" in m.value]
    assert notes == ([expected] if expected else [])


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
