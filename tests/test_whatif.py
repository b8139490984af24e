"""Edits of a KG and aligned what-if features (kgviz.graph.whatif)."""

import pytest
import torch

from kgviz.catalog import LECTURE_TRIPLES, builtin_kg
from kgviz.graph.data import KGFormatError, from_triples
from kgviz.models.ingram.predictor import seeded_features
from kgviz.graph.relgraph import relation_graph
from kgviz.ui.figures import views as F
from kgviz.graph.whatif import aligned_features, edited_kg, remove_triples, replaced_kg, used_vocabulary


def test_whatif_changes_and_aligned_features(small_model):
    lecture, small_model = builtin_kg(), small_model()
    after = edited_kg(lecture, "add", ("Ryan Gosling", "won", "Oscar"))
    x, z = aligned_features(small_model, lecture, after, seed=3)
    bx, bz = seeded_features(small_model, lecture, 3)
    R, R2 = lecture.num_relations, after.num_relations
    for name, i in lecture.entity_index.items():
        assert torch.equal(x[after.entity_index[name]], bx[i])
    for name, r in lecture.relation_index.items():
        assert torch.equal(z[after.relation_index[name]], bz[r])
        assert torch.equal(z[after.relation_index[name] + R2], bz[r + R])
    labels = F.matrix_labels(lecture.relations, 2 * R)
    labels2 = F.matrix_labels(after.relations, 2 * R2)
    before_w = F.pair_weights(relation_graph(lecture.triples, lecture.num_entities, R), labels)
    after_w = F.pair_weights(relation_graph(after.triples, after.num_entities, R2), labels2)
    changes = F.affinity_changes(before_w, after_w)
    assert ("acted in", "won") in set(zip(changes["relation i"], changes["relation j"]))
    assert (changes["change"].abs() > 0).all()
    removed = edited_kg(lecture, "remove", LECTURE_TRIPLES[0])
    assert removed.num_triples == lecture.num_triples - 1


def test_replaced_kg_keeps_ids_of_surviving_names():
    lecture = builtin_kg()
    ents, rels = used_vocabulary(lecture, [("Emma Stone", "born in", "USA")])
    assert ents == ["Emma Stone", "USA"] and rels == ["born in"]
    kept = replaced_kg(lecture, [("USA", "born in", "Emma Stone"), ("Emma Stone", "won", "Oscar")])
    assert kept.entities == ("Emma Stone", "USA", "Oscar") and kept.relations == ("born in", "won")
    with pytest.raises(KGFormatError):
        replaced_kg(lecture, [("a", " ", "b")])


def test_remove_triples_keeps_order_of_surviving_names():
    kg = from_triples([("a", "b", "c"), ("c", "d", "a"), ("x", "b", "a")])
    smaller = remove_triples(kg, [("a", "b", "c")])
    assert smaller.entities == ("a", "c", "x") and smaller.relations == ("b", "d")
    assert smaller.string_triples() == [("c", "d", "a"), ("x", "b", "a")]
    gone = remove_triples(kg, [("x", "b", "a")])
    assert gone.entities == ("a", "c")
