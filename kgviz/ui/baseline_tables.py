"""Tables of the "Why InGram?" page, as pure functions of library results (no Streamlit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pandas as pd

from ..baselines.common import QueryEvaluation
from ..baselines.patterns import PATTERN_TITLES, PATTERNS, THRESHOLDS, PropertyTable, table_from_dict
from ..baselines.split import GROUP_TITLES, GROUPS, ModelGroupScores, WhyInGramSplit
from .markup import escape_markdown, name_md

SHIPPED_TABLE = Path(__file__).resolve().parents[2] / "docs" / "property_table.json"
MARK = {True: "✓", False: "✗", None: "–"}
# Why a measurement can differ from the lecture's tick (kgviz/baselines/patterns.py), by (model, pattern)
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


def split_summary(split: WhyInGramSplit) -> str:
    """One markdown line: the sizes of train, context and each group; the unseen names."""
    sizes = ", ".join(f"{GROUP_TITLES[g]}: **{len(split.groups[g])}**" for g in GROUPS)
    entities = ", ".join(name_md(n) for n in split.new_entities)
    relations = ", ".join(name_md(n) for n in split.new_relations)
    return (
        f"Training part **{split.train.num_triples}** triples, context {len(split.context)} (known at "
        f"prediction time, never trained on); held out {sizes} triples, each ranked as tail and as head. "
        f"New entities: {entities}; new relations: {relations}."
    )


def group_cell(ev: QueryEvaluation) -> str:
    """``MRR 0.521 · H@1 0.17 · H@10 1.00`` (with the share scored when not all), or "cannot score: …"."""
    if ev.metrics is None:
        return ev.cannot_score or "no queries"
    m = ev.metrics
    cell = f"MRR {m['MRR']:.3f} · H@1 {m['Hits@1']:.2f} · H@10 {m['Hits@10']:.2f}"
    if ev.num_scored < ev.num_queries:
        cell += f" ({ev.num_scored}/{ev.num_queries} scored)"
    return cell


def split_frame(scores: Sequence[ModelGroupScores]) -> pd.DataFrame:
    """One row per model: each group's figures or "cannot score: no embedding for ⟨name⟩", times, epochs."""
    rows = []
    for s in scores:
        row: dict[str, object] = {"model": s.model}
        row.update({GROUP_TITLES[g]: group_cell(s.groups[g]) for g in GROUPS})
        row.update({"epochs": s.epochs, "train s (wall)": round(s.train_seconds, 2), "CPU s": round(s.cpu_seconds, 2)})
        rows.append(row)
    return pd.DataFrame(rows)


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
