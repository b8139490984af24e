"""Session state of the explorer (kgviz.ui.state): one current KG, selections carried by name."""

from kgviz.graph.data import from_triples
from kgviz.ui import state as S


def test_selections_follow_names_across_a_kg_change():
    old = from_triples([("a", "r", "b"), ("b", "s", "c"), ("c", "r", "a")])
    session = {}
    S.init_session(session)
    S.set_current_kg(session, old, "old", preset="sample:old")
    S.begin_run(session)
    assert S.preset_value(S.current(session)) == "sample:old" and S.current(session).version == 1
    session.update(
        {
            S.ENT: 2,
            S.REL: 1 + old.num_relations,
            S.Q_REL: 1,
            S.PAIR: (0, 1 + old.num_relations),
            S.ADD_HEAD: "typed",
            S.WI_REMOVE: 1,
        }
    )
    # an edit that renumbers: "c" and "s" come first now, "b" is gone
    new = from_triples([("c", "s", "a"), ("a", "r", "c")])
    S.set_current_kg(session, new, "old (edited)", edit=True)
    S.begin_run(session)
    assert new.entities[session[S.ENT]] == "c"
    assert session[S.REL] == new.relation_index["s"] + new.num_relations  # s⁻¹ stays s⁻¹
    assert new.relations[session[S.Q_REL]] == "s"
    assert session[S.PAIR] == (new.relation_index["r"], new.relation_index["s"] + new.num_relations)
    assert session[S.ADD_HEAD] == "typed" and S.WI_REMOVE not in session
    assert S.preset_value(S.current(session)) == S.LOADED and S.current(session).label == "old (edited)"
    assert S.preset_key(S.current(session)) != "preset_1"  # a new picker: old widget values are ignored
    # a new KG (not an edit): names that are gone are dropped, typed names forgotten
    S.set_current_kg(session, from_triples([("x", "r", "y")]), "upload: x.tsv")
    S.begin_run(session)
    assert S.ENT not in session and S.ADD_HEAD not in session
    assert S.REL not in session and S.Q_REL not in session  # "s" is gone
    assert S.current(session).version == 3


def test_two_changes_before_a_run_carry_from_the_first_kg():
    a = from_triples([("a", "r", "b"), ("b", "r", "c")])
    session = {}
    S.init_session(session)
    S.set_current_kg(session, a, "a")
    S.begin_run(session)
    session[S.ENT] = a.entity_index["c"]
    S.set_current_kg(session, from_triples([("c", "r", "z")]), "b")
    S.set_current_kg(session, from_triples([("z", "r", "y"), ("c", "r", "y")]), "c")
    S.begin_run(session)
    assert S.current(session).kg.entities[session[S.ENT]] == "c"


def test_edited_label_is_marked_once():
    assert S.edited_label("movies (sample)") == "movies (sample) (edited)"
    assert S.edited_label("movies (sample) (edited)") == "movies (sample) (edited)"


def test_canvas_relation_picker_is_new_per_kg_and_keeps_its_choice_over_an_edit():
    session = {}
    S.init_session(session)
    movies = from_triples([("Emma", "acted in", "La La Land"), ("Emma", "born in", "USA")])
    S.set_current_kg(session, movies, "movies")
    S.begin_run(session)
    first = S.canvas_relation_key(S.current(session))
    session[first] = session[S.CANVAS_RELATION] = "born in"
    # an edit that keeps "born in": the new picker starts from it
    S.set_current_kg(session, from_triples([*movies.string_triples(), ("Ryan", "born in", "Canada")]), "e", edit=True)
    S.begin_run(session)
    second = S.canvas_relation_key(S.current(session))
    assert second != first and session[second] == "born in"
    # "new relation…" and its typed name are carried too
    session[S.CANVAS_RELATION], session[S.CANVAS_NEW_RELATION] = S.NEW_RELATION, "likes"
    S.set_current_kg(session, from_triples([("Emma", "acted in", "La La Land")]), "e2", edit=True)
    S.begin_run(session)
    cur = S.current(session)
    assert session[S.canvas_relation_key(cur)] == S.NEW_RELATION
    assert session[S.canvas_relation_key(cur, S.CANVAS_NEW_RELATION)] == "likes"
    # an edit that drops the chosen relation: the new picker starts at its default
    session[S.CANVAS_RELATION] = "born in"
    S.set_current_kg(session, from_triples([("Emma", "acted in", "Whiplash")]), "e3", edit=True)
    S.begin_run(session)
    assert S.canvas_relation_key(S.current(session)) not in session
    # another KG (not an edit): nothing carried, the last choice forgotten
    S.set_current_kg(session, from_triples([("Alice", "knows", "Bob")]), "upload: people.tsv")
    S.begin_run(session)
    cur = S.current(session)
    assert S.canvas_relation_key(cur) not in session and S.CANVAS_RELATION not in session
    assert S.CANVAS_NEW_RELATION not in session
