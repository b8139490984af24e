"""The explorer's session state: every key declared once, and the one record of the current KG.

Helpers take the ``session_state`` mapping as an argument (no Streamlit import), so they run in
tests without a server. Values are ids, never display labels: a preset or model by its key, a
relation by its augmented id in ``[0, 2R)``, an entity by its id, a relation pair by ``(i, j)``.
Widgets show names through ``format_func``; URL-bound widgets (``bind="query-params"``) put the
shown name in the URL, which reads back to the same id.

The current KG lives in one place, :data:`CURRENT_KG` (a :class:`CurrentKG`), and changes only
through :func:`set_current_kg`, which also carries the selections over to the new KG by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, MutableMapping, Sequence

from kgviz.graph.data import KnowledgeGraph
from kgviz.graph.relgraph import relation_label

# st.session_state (a SessionStateProxy, keyed by str | int) or a plain dict in tests; keys here are always str.
Session = MutableMapping[Any, Any]

# ------------------------------------------------------------ app state (not widgets)
CURRENT_KG = "current_kg"  # CurrentKG: the KG every view shows, its label and version
MESSAGES = "messages"  # list[str]: confirmations shown once at the top of the next run
PRESET_ERROR = "preset_error"  # str | None: why the chosen preset could not be read
KG_UPLOAD_ERROR = "kg_upload_error"  # str | None: why the last KG upload was refused
KG_UPLOAD_SEEN = "kg_upload_seen"  # file id of the last KG upload read (loaded or refused)
MODEL_UPLOAD_ERROR = "model_upload_error"  # str | None: why the last checkpoint upload was refused
UPLOADED_MODELS = "uploaded_models"  # dict[str, ModelChoice]: uploaded checkpoints by model key
FLOW_STATE = "flow_state"  # the canvas drawing last sent to the component
FLOW_VERSION = "flow_version"  # CurrentKG.version that FLOW_STATE was drawn from
FLOW_SEEN_TS = "flow_seen_ts"  # timestamp of the last canvas drawing applied
PENDING_CHANGE = "pending_kg_change"  # (previous KG, is an edit) until begin_run carries selections over
CLS_KG = "cls_kg"  # fingerprint of the KG the classroom's choices belong to
CLS_STEP = "cls_step"  # classroom step, 1-based (a widget key too)
ADAPT_JOB = "adapt_job"  # kgviz.ui.adapt_job.AdaptJob: the fine-tuning running or last run in this session
ADAPTED_MODELS = "adapted_models"  # dict[str, ModelChoice]: models adapted in this session, by model key
WS_KEPT = "ws_kept"  # fingerprint of the last KG kept in the workspace (kgviz.ui.workspace_ui)
WS_NOTICE = "ws_notice"  # str | None: what the workspace could not do (a link's KG gone, a save refused)

# ------------------------------------------------------------ sidebar widgets
PRESET = "preset"  # URL query parameter naming the preset (its label); the picker's key is preset_key()
MODEL = "model"  # model key (catalog.ModelChoice.key); URL-bound
DEVICE = "device"  # "cpu" or "cuda"
REL = "rel"  # selected relation, augmented id; URL-bound
ENT = "ent"  # selected entity id; URL-bound
VIEW = "view"  # page name (kgviz.ui.pages.PAGES); URL-bound
KG_PARAM = "kg"  # URL query parameter: the fingerprint of a KG kept in the workspace (not a preset)
WS_CLEAR = "ws_clear"  # the sidebar's "Clear the workspace" button
UPLOAD_CKPT, UPLOAD_CONFIG, LOAD_UPLOAD = "upload_ckpt", "upload_config", "load_upload"

# ------------------------------------------------------------ page widgets
# Data
KG_UPLOAD = "upload"
QUICK_ADD_TEXT, QUICK_ADD_BUTTON = "quick_add_text", "quick_add_button"
ADD_HEAD, ADD_REL, ADD_TAIL, ADD_ONE = "add_head", "add_rel", "add_tail", "add_one"
EDITOR_PREFIX, APPLY_TABLE = "editor_", "apply_table"  # the table editor's key is EDITOR_PREFIX + version
CANVAS_PREFIX = "kg_canvas_"  # canvas key: CANVAS_PREFIX + version
# The relation for new edges: the widget's key is canvas_relation_key() (one widget per KG version, whose
# options are that KG's relations); CANVAS_RELATION itself holds the last choice, carried over an edit.
CANVAS_RELATION, CANVAS_NEW_RELATION = "canvas_relation", "canvas_new_relation"
NEW_RELATION = "new relation…"  # the option that asks for a relation name not in the KG
DOWNLOAD_KG = "download_kg"
# KG
KG_MAX_NODES, KG_LEGEND, KG_ENTITY_TRIPLES, EXPORT_KG = "kg_max_nodes", "kg_legend", "kg_entity_triples", "export_kg"
# Relation graph
RG_MODE, PAIR = "rg_mode", "pair"  # PAIR: (i, j) ids in the matrix shown; URL-bound
PAIRS_TABLE, AFFINITY_HEATMAP, BETA_TABLE = "pairs_table", "affinity_heatmap", "beta_table"
EXPORT_RG, EXPORT_HEATMAP = "export_rg", "export_heatmap"
RG_TOP_N = "rg_top_n"  # relations drawn (graph and heatmap) on large relation graphs
# Attention
ATT_SEED, ATT_REL_LAYER, ATT_HEAD, ATT_ENT_LAYER = "att_seed", "att_rel_layer", "att_head", "att_ent_layer"
ATT_REL_HEATMAP, ATT_REL_TABLE = "att_rel_heatmap", "att_rel_table"
ATT_ENT_TABLE, ATT_ENT_BAR = "att_ent_table", "att_ent_bar"
EXPORT_ATT_REL, EXPORT_ATT_ENT = "export_att_rel", "export_att_ent"
ATT_TOP_N = "att_top_n"  # relations in the attention heatmap on large relation graphs
# Predictions (the query widgets are URL-bound)
Q_DIR, Q_ANCHOR, Q_REL, Q_EXPECTED = "q_dir", "q_anchor", "q_rel", "q_expected"  # "tail"/"head", ids
Q_STORED, Q_TOPK, Q_SEED, Q_ENSEMBLE, Q_FILTER = "q_stored", "q_topk", "q_seed", "q_ensemble", "q_filter"
Q_EXCLUDE_SELF, Q_KNOWN_SIDE = "q_exclude_self", "q_known_side"  # the inference-time constraints (on)
RANKING_TABLE, RANKING_BAR, RANK_SPREAD = "ranking_table", "ranking_bar", "rank_spread"
EXPORT_RANKING, EXPORT_RANKING_FIG = "export_ranking", "export_ranking_fig"
# Self-check (SC_PICK: index of a held-out triple to open in Predictions)
SC_RUN, SC_CHART, SC_TABLE, SC_PICK, SC_OPEN = "sc_run", "sc_chart", "sc_table", "sc_pick", "sc_open"
# Adapt
AD_SECONDS, AD_PARTS, AD_START, AD_STOP = "ad_seconds", "ad_parts", "ad_start", "ad_stop"
AD_LOSS, AD_DOWNLOAD, AD_CHART = "ad_loss", "ad_download", "ad_chart"
# What-if (head, relation and tail are names: the user may type new ones)
WI_OP, WI_HEAD, WI_REL, WI_TAIL, WI_REMOVE, WI_SEED = "wi_op", "wi_head", "wi_rel", "wi_tail", "wi_remove", "wi_seed"
WI_CHANGES, WI_HM_BEFORE, WI_HM_AFTER, WI_ATTENTION = "wi_changes", "wi_hm_before", "wi_hm_after", "wi_attention"
WI_RANK_TABLE_PREFIX, WI_APPLY = "wi_rank_tbl_", "wi_apply"
# Predictions: other models beside InGram (kgviz.ui.model_columns)
Q_MODELS, Q_MODELS_BUDGET = "q_models", "q_models_budget"  # model keys (kgviz.models.baselines.TRAINED_MODELS); seconds
# Predictions side by side (kgviz.ui.side_by_side) and "Why this answer?" (ULTRA's paths)
Q_COMPARE, SBS_MAIN, SBS_OTHER = "q_compare", "sbs_main", "sbs_other"  # compared model's key; the two tables
WHY_CANDIDATE, WHY_PATHS_TABLE, WHY_PATHS_KG = "why_candidate", "why_paths_table", "why_paths_kg"
WHY_QUERY = "why_query"  # the query (and model) the candidate was picked for: another query picks its first answer
# Relation graph: InGram's binned affinities or ULTRA's four interaction types
RG_KIND, ULTRA_RG_CHART = "rg_kind", "ultra_rg_chart"
# Why InGram?
WHY_SEED, WHY_BUDGET, WHY_TRAIN = "why_seed", "why_budget", "why_train"  # split seed; seconds per model; button
WHY_TABLE, WHY_QUERIES = "why_table", "why_queries"
PROP_EPOCHS, PROP_MEASURE, PROP_TABLE = "prop_epochs", "prop_measure", "prop_table"  # re-measure: epochs, button
# Classroom (a choice also lives in <key>_w, the widget that shows it)
CLS_PREV, CLS_NEXT, CLS_PRESENTER = "cls_prev", "cls_next", "cls_presenter"
CLS_ANCHOR, CLS_RELATION, CLS_PAIR_I, CLS_PAIR_J = "cls_anchor", "cls_relation", "cls_pair_i", "cls_pair_j"
CLS_FOCUS_REL, CLS_FOCUS_ENT, CLS_LAYER = "cls_focus_rel", "cls_focus_ent", "cls_layer"
CLS_GRAPH = "cls_graph"  # the closing step's relation graph: "ingram" or "ultra" (kgviz.ui.ultra_views.GRAPH_KINDS)
CLS_PER_KG = (CLS_ANCHOR, CLS_RELATION, CLS_PAIR_I, CLS_PAIR_J, CLS_FOCUS_REL, CLS_FOCUS_ENT, CLS_LAYER)

LOADED = "loaded"  # PRESET value of a KG that is not a preset (an upload, an edit)
# Widgets holding names typed by the user: forgotten when another KG (not an edit) is loaded.
TYPED_NAME_KEYS = (ADD_HEAD, ADD_REL, ADD_TAIL, CANVAS_RELATION, CANVAS_NEW_RELATION, WI_HEAD, WI_REL, WI_TAIL)


@dataclass(frozen=True)
class CurrentKG:
    """The KG every view shows.

    Attributes:
        kg: the graph.
        label: what the sidebar names it by: a preset's label, ``upload: <file>``, ``… (edited)``.
        preset: the key of the preset it is, unchanged; ``None`` for an upload or an edit.
        version: bumped on every change (editors and the canvas rebuild from it).
    """

    kg: KnowledgeGraph
    label: str
    preset: str | None
    version: int


def current(session: Session) -> CurrentKG:
    return session[CURRENT_KG]


def preset_value(cur: CurrentKG) -> str:
    """The preset picker's value naming ``cur``: its preset key, else :data:`LOADED`."""
    return cur.preset if cur.preset is not None else LOADED


def preset_key(cur: CurrentKG) -> str:
    """Key of the preset picker drawn for ``cur``: a new widget for every KG change.

    The browser sends every widget's value with each rerun it asks for; one asked for before it
    saw a KG change carries the picker's old value. Were the picker one widget, that stale value
    would read as the user picking the old preset again and replace an upload just made. A stale
    value of an older picker belongs to no widget of the run and is ignored.
    """
    return f"{PRESET}_{cur.version}"


def canvas_relation_key(cur: CurrentKG, base: str = CANVAS_RELATION) -> str:
    """Key of the canvas's relation picker (``base`` = :data:`CANVAS_RELATION`) or of its new-relation name
    (:data:`CANVAS_NEW_RELATION`) drawn for ``cur``: a new widget for every KG change, so a value the
    browser still holds for an older KG's picker is never taken for a choice on this one."""
    return f"{base}_{cur.version}"


def _carry_canvas_relation(session: Session, cur: CurrentKG) -> None:
    """After an edit, the new pickers start from the last choice (when the edited KG still has it)."""
    chosen = session.get(CANVAS_RELATION)
    if chosen == NEW_RELATION or chosen in cur.kg.relation_index:
        session[canvas_relation_key(cur)] = chosen
    if session.get(CANVAS_NEW_RELATION):
        session[canvas_relation_key(cur, CANVAS_NEW_RELATION)] = session[CANVAS_NEW_RELATION]


def edited_label(label: str) -> str:
    """``label`` marked as edited (once)."""
    return label if label.endswith("(edited)") else f"{label} (edited)"


def _remap(session: Session, key: str, convert: Callable[[Any], Any]) -> None:
    """Replace ``session[key]`` by ``convert(value)``; drop it when that is ``None``."""
    value = session.get(key)
    if value is None:
        return
    new = convert(value)
    if new is None:
        session.pop(key, None)
    else:
        session[key] = new


def _carry_selection(session: Session, old: KnowledgeGraph, new: KnowledgeGraph) -> None:
    """Move the id-valued selections from ``old``'s ids to ``new``'s, by name (dropped if gone)."""
    R_old, R_new = old.num_relations, new.num_relations

    def entity(e: Any) -> int | None:
        return new.entity_index.get(old.entities[e]) if isinstance(e, int) and 0 <= e < old.num_entities else None

    def relation(r: Any) -> int | None:
        return new.relation_index.get(old.relations[r]) if isinstance(r, int) and 0 <= r < R_old else None

    def augmented(r: Any) -> int | None:
        if not isinstance(r, int) or not 0 <= r < 2 * R_old:
            return None
        base = relation(r % R_old)
        return None if base is None else base + (R_new if r >= R_old else 0)

    def pair(p: Any) -> tuple[int, int] | None:
        if not (isinstance(p, tuple) and len(p) == 2):
            return None
        conv = augmented if session.get(RG_MODE, "exact") == "exact" else relation  # the matrix shown
        i, j = conv(p[0]), conv(p[1])
        return None if i is None or j is None else (min(i, j), max(i, j))

    for key in (ENT, Q_ANCHOR, Q_EXPECTED):
        _remap(session, key, entity)
    _remap(session, Q_REL, relation)
    _remap(session, REL, augmented)
    _remap(session, PAIR, pair)
    session.pop(WI_REMOVE, None)  # a triple index: no stable meaning across KGs


def set_current_kg(
    session: Session, kg: KnowledgeGraph, label: str, *, preset: str | None = None, edit: bool = False
) -> CurrentKG:
    """Make ``kg`` the KG of every view.

    ``preset``: the preset key when ``kg`` is that preset as loaded. ``edit``: ``kg`` is an edit of
    the current KG (names the user typed are kept). Widgets follow at the start of the next run
    (:func:`begin_run`): a widget's value cannot change once it is drawn, so a change made by a
    page is followed by ``st.rerun()``; one made by a callback is seen by the run that follows it.
    """
    before: CurrentKG | None = session.get(CURRENT_KG)
    pending = session.get(PENDING_CHANGE)
    old = pending[0] if pending is not None else (None if before is None else before.kg)
    session[PENDING_CHANGE] = (old, edit and (pending is None or pending[1]))
    cur = CurrentKG(kg, label, preset, 1 if before is None else before.version + 1)
    session[CURRENT_KG] = cur
    return cur


def begin_run(session: Session) -> None:
    """At the start of a run, before any widget: after a KG change, carry the selections over to
    the new KG by name and forget typed names (unless it was an edit)."""
    pending = session.pop(PENDING_CHANGE, None)
    cur: CurrentKG | None = session.get(CURRENT_KG)
    if cur is None or pending is None:
        return
    old, edit = pending
    if old is not None:
        _carry_selection(session, old, cur.kg)
    if not edit:
        for key in TYPED_NAME_KEYS:
            session.pop(key, None)
    else:
        _carry_canvas_relation(session, cur)


def init_session(session: Session) -> None:
    """Set the app-state keys that are not widget keys, once per session."""
    session.setdefault(MESSAGES, [])
    session.setdefault(UPLOADED_MODELS, {})
    session.setdefault(ADAPTED_MODELS, {})
    session.setdefault(KG_UPLOAD_ERROR, None)
    session.setdefault(MODEL_UPLOAD_ERROR, None)


def forget_invalid(session: Session, key: str, options: Sequence[Any]) -> None:
    """Forget ``session[key]`` when it is no longer one of ``options`` (the KG changed), so the
    widget falls back to its default."""
    value = session.get(key)
    if value is not None and value not in options:
        del session[key]


def open_query(session: Session, triple: Sequence[int], view: str = "Predictions") -> None:
    """Open the tail query of ``triple = (h, r, t)`` (ids of the current KG) in ``view``, ``t`` as the
    expected answer. Call it from a widget callback: the view picker is drawn before any page."""
    h, r, t = (int(x) for x in triple)
    session[Q_DIR], session[Q_ANCHOR], session[Q_REL], session[Q_EXPECTED] = "tail", h, r, t
    session.pop(Q_STORED, None)
    session[VIEW] = view


def relation_labels(kg: KnowledgeGraph) -> list[str]:
    """Names of the ``2R`` augmented relations: ``r`` then ``r⁻¹``."""
    return [relation_label(r, kg.relations) for r in range(2 * kg.num_relations)]
