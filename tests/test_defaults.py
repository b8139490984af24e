"""The one defaults record (kgviz.defaults) and the bar of issue 27: `kgviz predict` with no checkpoint ranks
`actor` in the top 3 of (Ryan Gosling, profession, ?) on movies for every --seed 0–9."""

import ast
import json
from pathlib import Path

import pytest

from kgviz.cli.parser import main
from kgviz.defaults import DEFAULTS, DRAWS
from kgviz.models.pretrained import DEFAULT_MODELS, pretrained_dir

SHIPPED = [m for m in DEFAULT_MODELS if (pretrained_dir() / m / "config.json").is_file()]


def test_defaults_import_no_torch():
    tree = ast.parse((Path(__file__).resolve().parents[1] / "kgviz" / "defaults.py").read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any("torch" in m or "numpy" in m for m in imported)
    assert DEFAULTS.seeds(3) == tuple(range(3, 3 + DRAWS)) and DEFAULTS.exclude_self and DEFAULTS.known_side


@pytest.mark.skipif(not SHIPPED, reason="none of the default models is shipped in pretrained/")
def test_predict_without_checkpoint_ranks_actor_in_the_top_3_for_every_seed(tmp_path, capsys):
    out = tmp_path / "r.json"
    positions = []
    for seed in range(10):
        args = ["predict", "--kg", "sample_kgs/movies.tsv", "--head", "Ryan Gosling", "--relation", "profession"]
        assert main(args + ["--seed", str(seed), "--device", "cpu", "--json", str(out)]) == 0
        doc = json.loads(out.read_text())
        assert doc["model"] == SHIPPED[0] and doc["settings"]["draws"] == DRAWS
        assert doc["settings"]["seeds"] == list(DEFAULTS.seeds(seed))
        positions.append([c["name"] for c in doc["candidates"]].index("actor") + 1)
    header = capsys.readouterr().out.splitlines()[1]
    assert header.startswith("defaults used (kgviz.defaults): model") and "constraints" in header
    assert all(p <= 3 for p in positions), positions
