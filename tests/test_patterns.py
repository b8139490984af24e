"""kgviz.models.baselines.patterns: the generators make what they claim; measurements; the property table."""

import numpy as np
import pytest
import torch

from kgviz.models.baselines import TrainOptions
from kgviz.models.baselines.common import TrainedModel, TrainingInfo
from kgviz.models.baselines.patterns import (
    LECTURE_TICKS,
    ONE_TO_N,
    PATTERNS,
    format_property_table,
    measure_pattern,
    pattern_kg,
    property_table,
    table_from_dict,
    table_to_dict,
)


def named(kg, rows) -> set[tuple[str, str, str]]:
    return {(kg.entities[h], kg.relations[r], kg.entities[t]) for h, r, t in np.asarray(rows).reshape(-1, 3)}


@pytest.mark.parametrize("seed", [0, 1])
def test_symmetry_kg(seed):
    p = pattern_kg("symmetry", seed)
    train, held = named(p.kg, p.kg.triples), named(p.kg, p.instances)
    assert held and not held & train and p.kg.relations == ("similar_to",)
    for h, r, t in train | held:
        assert (t, r, h) in train | held
    for h, r, t in held:
        assert (t, r, h) in train  # the other direction is given
    assert sum((t, r, h) in train for h, r, t in train) >= len(train) // 2


@pytest.mark.parametrize("seed", [0, 1])
def test_antisymmetry_kg(seed):
    p = pattern_kg("antisymmetry", seed)
    train = named(p.kg, p.kg.triples)
    assert not any((t, r, h) in train for h, r, t in train)
    assert named(p.kg, p.instances) == train


@pytest.mark.parametrize("seed", [0, 1])
def test_inversion_kg(seed):
    p = pattern_kg("inversion", seed)
    train, held = named(p.kg, p.kg.triples), named(p.kg, p.instances)
    parent = {(h, t) for h, r, t in train if r == "parent_of"}
    child = {(h, t) for h, r, t in train | held if r == "child_of"}
    assert child == {(t, h) for h, t in parent}
    assert held and all(r == "child_of" for _, r, _ in held) and not held & train
    assert not any((t, h) in parent for h, t in parent)  # parent_of itself is not symmetric


@pytest.mark.parametrize("seed", [0, 1])
def test_composition_kg(seed):
    p = pattern_kg("composition", seed)
    train, held = named(p.kg, p.kg.triples), named(p.kg, p.instances)
    r1 = {h: t for h, r, t in train if r == "r1"}
    r2 = {h: t for h, r, t in train if r == "r2"}
    r3 = [(h, t) for h, r, t in train | held if r == "r3"]
    assert len(r3) == len(r1) and all(r2[r1[a]] == c for a, c in r3)
    assert held and all(r == "r3" for _, r, _ in held) and not held & train


def test_one_to_n_kg():
    p = pattern_kg("one_to_n")
    t = p.kg.triples
    member = p.kg.relation_index["has_member"]
    for h, r, _ in p.instances:
        assert r == member and ((t[:, 0] == h) & (t[:, 1] == r)).sum() == ONE_TO_N
    labels = t[t[:, 1] == p.kg.relation_index["label"]]
    assert len(set(labels[:, 0].tolist())) == len(set(labels[:, 2].tolist())) == len(labels)  # one label each


def test_unknown_pattern():
    with pytest.raises(ValueError, match="unknown pattern"):
        pattern_kg("transitivity")


class Oracle(TrainedModel):
    """Scores 1 for a triple of ``truth`` (and, when ``symmetric``, of its reverse), else 0."""

    name = "oracle"

    def __init__(self, truth: np.ndarray, num_entities: int, symmetric: bool = False):
        self.table = torch.zeros(num_entities, 8, num_entities)  # (anchor, relation, candidate)
        for h, r, t in truth:
            self.table[h, r, t] = 1.0
            if symmetric:
                self.table[t, r, h] = 1.0
        self.info = TrainingInfo()

    def entity_map(self, known):
        return torch.arange(known.num_entities)

    def relation_map(self, known):
        return torch.arange(known.num_relations)

    def _scores(self, known, anchors, relations, direction):
        if direction == "tail":
            return self.table[anchors, relations]
        return self.table[:, relations, anchors].T  # (B, N): f(e, r, anchor)


@pytest.mark.parametrize("pattern", ["symmetry", "inversion", "composition"])
def test_measure_is_one_for_an_oracle_and_low_for_a_memoriser(pattern):
    p = pattern_kg(pattern)
    everything = np.concatenate([p.kg.triples, p.instances])
    assert measure_pattern(Oracle(everything, p.kg.num_entities), p) == 1.0
    assert measure_pattern(Oracle(p.kg.triples, p.kg.num_entities), p) < 0.5  # knows only the training facts


def test_antisymmetry_measure_is_zero_for_a_symmetric_scorer():
    p = pattern_kg("antisymmetry")
    assert measure_pattern(Oracle(p.kg.triples, p.kg.num_entities), p) == 1.0
    assert measure_pattern(Oracle(p.kg.triples, p.kg.num_entities, symmetric=True), p) == 0.0


def test_one_to_n_measure():
    p = pattern_kg("one_to_n")
    assert measure_pattern(Oracle(p.kg.triples, p.kg.num_entities), p) == 1.0
    first_member_only = p.instances  # the others tie with every non-member: ranked by the tie rule, not by id
    assert measure_pattern(Oracle(first_member_only, p.kg.num_entities), p) == pytest.approx(1 / ONE_TO_N)


def test_property_table_distmult_and_ingram_cannot_do_antisymmetry():
    options = TrainOptions(max_epochs=30, time_budget_s=float("inf"), progress_bar=False)
    table = property_table(("distmult", "ingram-untrained"), options, patterns=("antisymmetry",))
    cell = table.cells[("distmult", "antisymmetry")]
    assert cell.value == 0.0 and not cell.success and cell.lecture is False
    assert table.cells[("ingram-untrained", "antisymmetry")].value == 0.0
    assert table.disagreements() == []
    text = format_property_table(table)
    assert "DistMult" in text and "Antisym." in text and "0.00 ✗ (✗)" in text


def test_lecture_ticks_cover_the_five_shallow_models():
    assert set(LECTURE_TICKS) == {"transe", "transr", "distmult", "complex", "rotate"}
    assert all(len(t) == len(PATTERNS) for t in LECTURE_TICKS.values())


def test_property_table_round_trips_through_json_and_takes_a_given_ingram():
    import json

    options = TrainOptions(max_epochs=5, time_budget_s=float("inf"), progress_bar=False)

    class Constant(TrainedModel):
        name = "constant"
        info = TrainingInfo()

        def entity_map(self, known):
            return torch.arange(known.num_entities)

        def relation_map(self, known):
            return torch.arange(known.num_relations)

        def _scores(self, known, anchors, relations, direction):
            return torch.zeros(len(anchors), known.num_entities)

    table = property_table(("transe", "ingram"), options, patterns=("antisymmetry", "one_to_n"), ingram=Constant())
    assert table.labels["ingram"] == "constant"  # the given model, not the shipped checkpoint
    assert table.cells[("ingram", "antisymmetry")].value == 0.0
    data = json.loads(json.dumps(table_to_dict(table, epochs=5)))
    back = table_from_dict(data)
    assert data["about"] == {"epochs": 5} and back.models == table.models and back.labels == table.labels
    for key, cell in table.cells.items():
        assert back.cells[key].value == pytest.approx(cell.value, abs=1e-4)
        assert (back.cells[key].success, back.cells[key].lecture) == (cell.success, cell.lecture)
    with pytest.raises(ValueError, match="not a property table"):
        table_from_dict({"models": []})
