"""Where the explorer's KGs and models come from (kgviz.catalog)."""

from kgviz.catalog import BUILTIN_KEY, discover_models, discover_presets
from kgviz.ui.figures import views as F


def test_presets_models_and_keys(tmp_path):
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "movies.tsv").write_text("a\tr\tb\n")
    (tmp_path / "data" / "NL-1").mkdir(parents=True)
    (tmp_path / "data" / "NL-1" / "msg.txt").write_text("a\tr\tb\n")
    keys = [p.key for p in discover_presets(tmp_path / "samples", tmp_path / "data")]
    assert keys == ["sample:movies", BUILTIN_KEY, "bench:NL-1"]
    (tmp_path / "pre" / "NL-1").mkdir(parents=True)
    (tmp_path / "pre" / "NL-1" / "config.json").write_text("{}")
    assert [m.key for m in discover_models(tmp_path / "pre")] == ["pretrained:NL-1", "untrained"]
    for name in ("NL-100", "NL-0", "WK-100", "WK-50"):  # kgviz.models.pretrained.DEFAULT_MODELS first, in order
        (tmp_path / "pre" / name).mkdir()
        (tmp_path / "pre" / name / "config.json").write_text("{}")
    assert [m.key for m in discover_models(tmp_path / "pre")] == [
        "pretrained:NL-0",
        "pretrained:NL-100",
        "pretrained:NL-1",
        "pretrained:WK-100",
        "pretrained:WK-50",
        "untrained",
    ]
    (tmp_path / "pre" / "universal").mkdir()  # listed right after the default (NL-0: better zero-shot)
    (tmp_path / "pre" / "universal" / "config.json").write_text("{}")
    assert [m.key for m in discover_models(tmp_path / "pre")][:3] == [
        "pretrained:NL-0",
        "pretrained:universal",
        "pretrained:NL-100",
    ]
    assert [m.key for m in discover_models(tmp_path / "none")] == ["untrained"]
    assert F.bin_colour(0, 10) != F.bin_colour(9, 10)
    assert len(F.PALETTE) == 20
