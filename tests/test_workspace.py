"""The local workspace (kgviz.workspace): KGs and models kept across reloads, atomically, under a size cap."""

import json
import os
import time

import numpy as np
import pytest

from kgviz.graph.data import KnowledgeGraph, from_triples
from kgviz.graph.whatif import replaced_kg
from kgviz.workspace import (
    ENTRY_FILE,
    EntryMissing,
    Workspace,
    WorkspaceError,
    cap_bytes,
    workspace_dir,
)


def random_kg(seed: int, n_entities: int = 40, n_relations: int = 5, n_triples: int = 120) -> KnowledgeGraph:
    """Names with spaces, accents, HTML and tabs-free punctuation; ids in first-appearance order."""
    rng = np.random.default_rng(seed)
    ents = [f"e{i} <é> “{seed}”" for i in range(n_entities)]
    rels = [f"r{i} & co" for i in range(n_relations)]
    return from_triples(
        [
            (ents[rng.integers(n_entities)], rels[rng.integers(n_relations)], ents[rng.integers(n_entities)])
            for _ in range(n_triples)
        ]
    )


def age(path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def write_model(folder):
    (folder / "config.json").write_text("{}")
    (folder / "model.ckpt").write_bytes(b"w" * 1000)


@pytest.mark.parametrize("seed", range(5))
def test_kg_round_trip_keeps_ids_and_fingerprint(tmp_path, seed):
    ws = Workspace(tmp_path, cap=10**9)
    kg = random_kg(seed)
    # an edit keeps the ids of surviving names: ids are not first-appearance order any more
    kg = replaced_kg(kg, kg.string_triples()[5:] + [("new one", "r0 & co", kg.entities[0])])
    entry = ws.save_kg(kg, f"upload: kg{seed}.tsv (edited)")
    back, label = ws.load_kg(kg.fingerprint)
    assert back.fingerprint == kg.fingerprint == entry.name
    assert back.entities == kg.entities and back.relations == kg.relations
    assert np.array_equal(back.triples, kg.triples)
    assert label == f"upload: kg{seed}.tsv (edited)"
    assert [e.name for e in ws.entries()] == [kg.fingerprint]
    assert not list(ws.kg_dir.glob(".tmp-*"))  # the temporary file was renamed into place


def test_missing_and_malformed_names_are_missing_entries(tmp_path):
    ws = Workspace(tmp_path, cap=10**9)
    with pytest.raises(EntryMissing, match="no KG"):
        ws.load_kg("0" * 40)
    with pytest.raises(EntryMissing, match="not a KG fingerprint"):
        ws.load_kg("../../etc/passwd")  # a URL value never becomes a path outside the workspace


def test_corrupt_entries_give_a_message(tmp_path):
    ws = Workspace(tmp_path, cap=10**9)
    kgs = [random_kg(s) for s in range(4)]
    paths = [ws.save_kg(kg, f"kg{i}").path for i, kg in enumerate(kgs)]
    paths[0].write_bytes(paths[0].read_bytes()[:50])  # cut short
    doc = json.loads(paths[1].read_text())
    doc["triples"][0] = 10**6  # an entity id out of range
    paths[1].write_text(json.dumps(doc))
    doc = json.loads(paths[2].read_text())
    doc["entities"][0] = "someone else"  # content no longer matches the name
    paths[2].write_text(json.dumps(doc))
    paths[3].write_bytes(b"\xff\xfe not json")
    for kg, reason in zip(kgs, ("not JSON", "out of range", "does not match", "not JSON")):
        with pytest.raises(WorkspaceError, match=reason) as err:
            ws.load_kg(kg.fingerprint)
        assert str(ws.kg_dir) in str(err.value) and not isinstance(err.value, EntryMissing)
    entries = ws.entries(read_kgs=True)
    assert len(entries) == 4 and all(e.problem for e in entries)  # listed, with the reason
    assert sum(bool(e.problem) for e in ws.entries()) == 0  # a plain listing reads no KG file


def test_models_round_trip_and_damage(tmp_path):
    ws = Workspace(tmp_path, cap=10**9)
    kg = random_kg(0)
    entry = ws.save_model("ab" * 8, "base adapted to kg", kg.fingerprint, "kg", write_model)
    assert (entry.path / "model.ckpt").read_bytes() == b"w" * 1000
    [listed] = ws.models()
    assert (listed.name, listed.label, listed.kg_fingerprint) == ("ab" * 8, "base adapted to kg", kg.fingerprint)
    # the same weights again: kept as they are, not written twice
    ws.save_model("ab" * 8, "again", kg.fingerprint, "kg", lambda f: pytest.fail("written twice"))
    # a write that fails leaves nothing behind
    with pytest.raises(RuntimeError):
        ws.save_model("cd" * 8, "broken", kg.fingerprint, "kg", lambda f: (_ for _ in ()).throw(RuntimeError("x")))
    assert [e.name for e in ws.entries()] == ["ab" * 8] and not list(ws.model_dir.glob(".tmp-*"))
    (entry.path / "model.ckpt").unlink()
    assert ws.models() == [] and "model.ckpt is missing" in ws.entries()[0].problem
    (entry.path / ENTRY_FILE).write_text("{")
    assert "not JSON" in ws.entries()[0].problem


@pytest.mark.parametrize("seed", range(4))
def test_cap_evicts_the_entries_used_longest_ago(tmp_path, seed):
    rng = np.random.default_rng(seed)
    kgs = [random_kg(100 * seed + i, n_triples=int(rng.integers(20, 200))) for i in range(8)]
    ws = Workspace(tmp_path, cap=10**9)
    for i, kg in enumerate(kgs):
        age(ws.save_kg(kg, f"kg{i}").path, 1000 - 10 * i)  # kg0 is the oldest
    ws.load_kg(kgs[0].fingerprint)  # opened now: the most recently used
    sizes = {e.name: e.size for e in ws.entries()}
    cap = int(rng.integers(sizes[kgs[0].fingerprint] + 1, sum(sizes.values())))
    ws.cap = cap
    new = random_kg(999)
    ws.save_kg(new, "new")
    kept = {e.name for e in ws.entries()}
    assert ws.total_bytes() <= cap and new.fingerprint in kept
    # what was removed is exactly the oldest prefix, in order of last use
    order = [kg.fingerprint for kg in kgs[1:]] + [kgs[0].fingerprint]
    removed = [f for f in order if f not in kept]
    assert removed == order[: len(removed)]
    if removed:  # and no more than needed: the last one removed was needed to fit
        assert ws.total_bytes() + sizes[removed[-1]] > cap


def test_an_entry_larger_than_the_cap_is_refused(tmp_path):
    ws = Workspace(tmp_path, cap=10**9)
    small = random_kg(1, n_triples=10)
    ws.save_kg(small, "small")
    ws.cap = 3000
    with pytest.raises(WorkspaceError, match="more than the workspace's cap"):
        ws.save_kg(random_kg(2, n_triples=400), "big")
    assert [e.name for e in ws.entries()] == [small.fingerprint]  # the rest is untouched


def test_clear_removes_only_workspace_entries(tmp_path):
    ws = Workspace(tmp_path, cap=10**9)
    for s in range(3):
        ws.save_kg(random_kg(s), f"kg{s}")
    ws.save_model("ef" * 8, "m", "", "", write_model)
    (ws.kg_dir / ".tmp-left.json.123").write_text("partial")
    (tmp_path / "notes.txt").write_text("the user's own file")
    (ws.kg_dir / "readme.json").write_text("not an entry")
    assert ws.clear() == 4
    assert ws.entries() == [] and ws.total_bytes() == 0
    assert (tmp_path / "notes.txt").is_file() and (ws.kg_dir / "readme.json").is_file()
    assert not list(ws.kg_dir.glob(".tmp-*"))


def test_folder_and_cap_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("KGVIZ_WORKSPACE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert workspace_dir() == tmp_path / "xdg" / "kgviz" / "workspace"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert workspace_dir() == tmp_path / "home" / ".cache" / "kgviz" / "workspace"
    monkeypatch.setenv("KGVIZ_WORKSPACE", str(tmp_path / "ws"))
    assert workspace_dir() == tmp_path / "ws"
    monkeypatch.delenv("KGVIZ_WORKSPACE_MB", raising=False)
    assert cap_bytes() == 200 * 2**20
    monkeypatch.setenv("KGVIZ_WORKSPACE_MB", "1.5")
    assert cap_bytes() == int(1.5 * 2**20)
    for bad in ("lots", "0", "-3"):
        monkeypatch.setenv("KGVIZ_WORKSPACE_MB", bad)
        with pytest.raises(WorkspaceError, match="KGVIZ_WORKSPACE_MB"):
            cap_bytes()


def test_cli_lists_and_clears(monkeypatch, tmp_path, capsys):
    from kgviz.cli.parser import main

    monkeypatch.setenv("KGVIZ_WORKSPACE", str(tmp_path))
    ws = Workspace(cap=10**9)
    kg = random_kg(3)
    ws.save_kg(kg, "upload: people.tsv")
    ws.save_model("12" * 8, "NL-100 adapted to upload: people.tsv", kg.fingerprint, "people", write_model)
    assert main(["workspace", "--list"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path}: 2 entries" in out and "of 200 MB" in out
    assert f"kg     {kg.fingerprint[:12]}" in out and "upload: people.tsv" in out
    assert "model  121212121212" in out and "NL-100 adapted to upload: people.tsv" in out
    assert main(["workspace"]) == 0 and capsys.readouterr().out == out  # listing is the default
    assert main(["workspace", "--clear"]) == 0
    assert capsys.readouterr().out == f"{tmp_path}: removed 2 entries.\n" and ws.entries() == []
