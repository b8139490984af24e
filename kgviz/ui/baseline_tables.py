"""Tables of the "Why InGram?" page, as pure functions of library results (no Streamlit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pandas as pd

from kgviz.models.baselines.common import QueryEvaluation
from kgviz.models.baselines.patterns import PATTERN_TITLES, PATTERNS, THRESHOLDS, PropertyTable, table_from_dict
from kgviz.models.baselines.split import GROUP_TITLES, GROUPS, ModelGroupScores, WhyInGramSplit
from kgviz.evaluation.intervals import hits_interval, mrr_interval
from kgviz.ui.markup import count_of, escape_markdown, name_md, short_name

SHIPPED_TABLE = Path(__file__).resolve().parents[2] / "docs" / "property_table.json"
MARK = {True: "✓", False: "✗", None: "–"}
# Why a measurement can differ from the lecture's tick (kgviz/models/baselines/patterns.py), by (model, pattern)
WHY_DIFFERS = {
    ("transr", "symmetry"): "TransR expresses symmetry with r = 0 and M_r h = M_r t; on a connected graph where "
    "each entity has several partners that collapses everything onto one point, as "
    "for TransE, so it does not even fit the training facts.",
    ("transr", "inversion"): "with 400 epochs TransR fits the training facts only in part (train MRR 0.77) and "
    "does not carry the inverse over to the held-out facts.",
    ("transr", "composition"): "with 400 epochs TransR fits the training facts only in part (train MRR 0.53).",
    ("distmult", "inversion"): "r₂ = r₁ ranks the held-out inverses, at the price of making both relations "
    "symmetric: the lecture's ✗ is about that price.",
    ("transe", "one_to_n"): "the N members cluster around h + r closely enough to be ranked first while their "
    "labels keep them apart: ranking needs less than the exact equations behind the ✗.",
    ("rotate", "one_to_n"): "as for TransE: the members cluster around h ∘ r, close enough to be ranked first.",
}


def name_list(names: Sequence[str], shown: int = 8) -> str:
    """``"a, b, c"``: the first ``shown`` names (each cut by :func:`name_md`), then ``"(and 23 more)"``."""
    more = f" (and {len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(name_md(n) for n in names[:shown]) + more


def split_summary(split: WhyInGramSplit) -> str:
    """One markdown line: the sizes of train, context and each group; the unseen names."""
    sizes = ", ".join(f"{GROUP_TITLES[g]}: **{len(split.groups[g])}**" for g in GROUPS)
    entities, relations = name_list(split.new_entities), name_list(split.new_relations)
    return (
        f"Training part **{split.train.num_triples}** triples, context {len(split.context)} (known at "
        f"prediction time, never trained on); held out {sizes} triples, each ranked as tail and as head. "
        f"New entities: {entities}; new relations: {relations}."
    )


TOO_FEW_TRIPLES = 10  # a group with fewer held-out triples is "too few to tell": no model is named best
GROUP_SHORT = {"a": "(a) seen", "b": "(b) new entity", "c": "(c) new relation"}
# Who the lecture says can score each group (by the start of the row's label; None: every model)
LECTURE_SCORERS: dict[str, tuple[str, ...] | None] = {"a": None, "b": ("RGCN", "InGram"), "c": ("InGram",)}
MODEL_NAME_LIMIT = 28  # characters of a model's label in the tables (InGram's carries its checkpoint)


def compact(x: float) -> str:
    """``0.521`` → ``".52"``, ``1.0`` → ``"1.00"``: two decimals without the leading zero (narrow columns)."""
    text = f"{x:.2f}"
    return text[1:] if text.startswith("0.") else text


def group_cell(ev: QueryEvaluation, metric: str = "MRR") -> str:
    """One figure of a group: ``".52 (.31–.74)"`` with its 95 % interval, ``"cannot score"`` or ``"–"``.

    MRR gets a bootstrap interval (:func:`kgviz.evaluation.intervals.mrr_interval`) when at least
    ``2 · TOO_FEW_TRIPLES`` query directions were ranked (below that the resamples are too few to mean
    anything); Hits@10 always gets a Wilson interval (:func:`kgviz.evaluation.intervals.hits_interval`). "†": only
    some of the group's queries could be scored.
    """
    if ev.metrics is None:
        return "cannot score" if ev.cannot_score else "–"
    value = ev.metrics[metric]
    if metric == "MRR":
        enough = len(ev.ranks) >= 2 * TOO_FEW_TRIPLES
        lo, hi = mrr_interval(ev.ranks) if enough else (None, None)
    else:
        lo, hi = hits_interval(ev.ranks, 10)
    cell = compact(value) if lo is None or hi is None else f"{compact(value)} ({compact(lo)}–{compact(hi)})"
    return cell + (" †" if ev.num_scored < ev.num_queries else "")


def table_model_name(model: str) -> str:
    """A model's row name: "InGram" for "InGram (<checkpoint>)" (the page names the checkpoint), else its
    label cut to ``MODEL_NAME_LIMIT`` characters."""
    return "InGram" if model.startswith("InGram (") else short_name(model, MODEL_NAME_LIMIT)


def split_frame(scores: Sequence[ModelGroupScores]) -> pd.DataFrame:
    """One row per model, two narrow columns per group: ``(a) MRR`` and ``(a) H@10`` (:func:`group_cell`)."""
    rows = []
    for s in scores:
        row: dict[str, object] = {"model": table_model_name(s.model)}
        for g in GROUPS:
            row[f"({g}) MRR"] = group_cell(s.groups[g], "MRR")
            row[f"({g}) H@10"] = group_cell(s.groups[g], "Hits@10")
        rows.append(row)
    return pd.DataFrame(rows)


def cost_frame(scores: Sequence[ModelGroupScores]) -> pd.DataFrame:
    """One row per model: epochs, wall time of training, CPU time of training and scoring."""
    return pd.DataFrame(
        [
            {
                "model": table_model_name(s.model),
                "epochs": s.epochs,
                "train s (wall)": round(s.train_seconds, 2),
                "CPU s": round(s.cpu_seconds, 2),
            }
            for s in scores
        ]
    )


def group_size_lines(split: WhyInGramSplit) -> list[str]:
    """Markdown bullets: each group's held-out triples and query directions, "too few to tell" when small."""
    lines = []
    for g in GROUPS:
        n = len(split.groups[g])
        few = f" — *too few to tell* (fewer than {TOO_FEW_TRIPLES})" if n < TOO_FEW_TRIPLES else ""
        lines.append(
            f"- **{GROUP_TITLES[g]}**: {count_of(n, 'held-out triple')} ({count_of(2 * n, 'query', 'queries')}){few}"
        )
    return lines


def cannot_score_lines(scores: Sequence[ModelGroupScores]) -> list[str]:
    """Markdown bullets: per group, the models that cannot score it and why (the vector they lack)."""
    lines = []
    for g in GROUPS:
        reasons: dict[str, list[str]] = {}
        for s in scores:
            why = s.groups[g].cannot_score
            if why:
                reasons.setdefault(why.removeprefix("cannot score: "), []).append(s.model)
        for why, models in reasons.items():
            lines.append(f"- {GROUP_SHORT[g]}: {', '.join(name_md(m) for m in models)} — {name_md(why, 90)}")
    return lines


def group_queries_frame(split: WhyInGramSplit) -> pd.DataFrame:
    """The held-out triples with their group and what in them training never saw."""
    kg = split.kg
    new_e, new_r = set(split.new_entities), set(split.new_relations)
    rows = []
    for g in GROUPS:
        for h, r, t in split.groups[g]:
            names = (kg.entities[h], kg.relations[r], kg.entities[t])
            unseen = [n for n in (names[0], names[2]) if n in new_e] + [n for n in names[1:2] if n in new_r]
            rows.append(
                {
                    "group": GROUP_TITLES[g],
                    "head": names[0],
                    "relation": names[1],
                    "tail": names[2],
                    "unseen in training": ", ".join(dict.fromkeys(unseen)) or "—",
                }
            )
    return pd.DataFrame(rows)


def property_cell(value: float, success: bool, lecture: bool | None) -> str:
    """``0.95 ✓ (lecture ✓)``; ``≠`` marks a measurement that differs from the lecture's tick."""
    differs = lecture is not None and lecture != success
    return f"{value:.2f} {MARK[success]} (lecture {MARK[lecture]}){' ≠' if differs else ''}"


def property_frame(table: PropertyTable) -> pd.DataFrame:
    """Models × patterns: the measured figure, measured ✓/✗ and the lecture's tick in each cell."""
    pats = [p for p in PATTERNS if any((m, p) in table.cells for m in table.models)]
    rows = []
    for m in table.models:
        row = {"model": table.labels.get(m, m)}
        for p in pats:
            c = table.cells.get((m, p))
            row[f"{PATTERN_TITLES[p]} (≥ {THRESHOLDS[p]})"] = (
                "" if c is None else property_cell(c.value, c.success, c.lecture)
            )
        rows.append(row)
    return pd.DataFrame(rows)


def symmetric_head_note(table: PropertyTable) -> str | None:
    """What InGram's and R-GCN's symmetric (DistMult-like) heads cost on antisymmetry, from the table."""
    cells = [table.cells.get((m, "antisymmetry")) for m in ("ingram", "rgcn")]
    measured = [f"{table.labels.get(c.model, c.model)} {c.value:.2f}" for c in cells if c is not None]
    if not measured:
        return None
    return (
        "InGram's scoring head is DistMult-like, f(h, r, t) = Σ x_h ⊙ W z_r ⊙ x_t, which is symmetric in "
        "h and t: f(a, r, b) = f(b, r, a) for every pair, so no training can rank *(a, before, b)* above "
        "*(b, before, a)*. Measured share of antisymmetric facts scored above their reverses: "
        f"{', '.join(measured)} (threshold {THRESHOLDS['antisymmetry']}). R-GCN uses the same DistMult "
        "decoder, with the same cost."
    )


def disagreement_lines(table: PropertyTable) -> list[str]:
    """Markdown bullets: each cell where measurement and lecture differ, with why when it is known."""
    lines = []
    for (m, p), c in table.cells.items():
        if c.lecture is None or c.lecture == c.success:
            continue
        verb = "succeeds" if c.success else "fails"
        line = (
            f"- **{escape_markdown(table.labels.get(m, m))}** {verb} on {PATTERN_TITLES[p]} (measured "
            f"{c.value:.2f}, threshold {THRESHOLDS[p]}) where the lecture says it "
            f"{'can' if c.lecture else 'cannot'}"
        )
        lines.append(line + (f": {WHY_DIFFERS[(m, p)]}" if (m, p) in WHY_DIFFERS else "."))
    return lines


def load_shipped_table(path: Path = SHIPPED_TABLE) -> tuple[PropertyTable, dict]:
    """The precomputed table (``scripts/property_table.py``) and how it was made; ``ValueError`` if unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: cannot be read ({exc})") from exc
    try:
        return table_from_dict(data), dict(data.get("about", {}))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc
