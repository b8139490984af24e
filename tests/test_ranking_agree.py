"""One ranking path (issue 27): the Predictions view, What-if's "before" column and `kgviz predict --json`
show the same top 10, in the same order, with the same scores, for the same KG, model, query and seed."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from kgviz.cli.parser import main
from kgviz.models.pretrained import DEFAULT_MODELS, pretrained_dir
from kgviz.ui import state as S
from test_app import APP, PRESETS, SMALL, frames_with, no_errors

SHIPPED = [m for m in DEFAULT_MODELS if (pretrained_dir() / m / "config.json").is_file()]
pytestmark = [
    pytest.mark.skipif(SMALL != "sample:movies", reason="the movies sample is not installed"),
    pytest.mark.skipif(not SHIPPED, reason="none of the default models is shipped in pretrained/"),
]
QUERY = ("Ryan Gosling", "born in")  # 'born in' has 4 known tails: constraints move 7 of 12 candidates


def cli_top10(tmp_path, seed: int) -> list[dict]:
    out = tmp_path / f"ranking-{seed}.json"
    kg = str(PRESETS[SMALL].path)
    args = ["predict", "--kg", kg, "--head", QUERY[0], "--relation", QUERY[1], "--seed", str(seed)]
    assert main(args + ["--device", "cpu", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["model"] == SHIPPED[0] and doc["settings"]["defaults"][0] == "model"
    return doc["candidates"]


def cli_defaults(tmp_path, seed: int) -> list[str]:
    return json.loads((tmp_path / f"ranking-{seed}.json").read_text())["settings"]["defaults"]


def test_predictions_whatif_and_cli_show_the_same_top_10(tmp_path):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    no_errors(at)
    assert at.selectbox(key="model").value == f"pretrained:{SHIPPED[0]}"
    at.radio(key="view").set_value("Predictions").run()
    at.selectbox(key="q_anchor").set_value(QUERY[0])
    at.selectbox(key="q_rel").set_value(QUERY[1]).run()
    for seed in (0, 3):
        at.number_input(key=S.Q_SEED).set_value(seed).run()
        no_errors(at)
        table = frames_with(at, "freq. rank")[0]
        cli = cli_top10(tmp_path, seed)
        assert list(table["entity"]) == [c["name"] for c in cli]
        assert list(table["rank"]) == [c["rank"] for c in cli] == list(range(1, 11))
        assert table["score"].tolist() == pytest.approx([c["score"] for c in cli], rel=1e-9, abs=1e-9)
        assert list(table["note"]) == [", ".join(c["marks"]) for c in cli]
        assert any(c["marks"] for c in cli) and not all(c["marks"] for c in cli)  # the constraints did move some
        said = next(c.value for c in at.caption if c.value.startswith("Defaults in use"))
        cli_said = f"Defaults in use (kgviz.defaults, as `kgviz predict`): {', '.join(cli_defaults(tmp_path, seed))}."
        assert said == cli_said  # the page and the CLI header name the same defaults
    # What-if ranks the query as Predictions did (same draws from the same first seed, same constraints)
    at.number_input(key=S.Q_SEED).set_value(0).run()
    at.radio(key="view").set_value("What-if").run()
    at.selectbox(key=S.WI_HEAD).set_value(QUERY[0])
    at.selectbox(key=S.WI_REL).set_value(QUERY[1])
    at.selectbox(key=S.WI_TAIL).set_value("Greece").run()
    no_errors(at)
    before, after = frames_with(at, "known")
    cli = cli_top10(tmp_path, 0)
    assert list(before["entity"]) == [c["name"] for c in cli]
    assert before["score"].tolist() == pytest.approx([c["score"] for c in cli], rel=1e-9, abs=1e-9)
    assert len(after) == 10 and "Greece" in set(after["entity"])
