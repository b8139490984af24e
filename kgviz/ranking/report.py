"""What ``kgviz predict`` prints and writes: the Predictions view's table as text and as JSON.

Both come from one :class:`kgviz.ranking.ranks.QueryRanking` (rank, name, probability, score, spread over the
draws, frequency rank, known, marks). The JSON file::

    {"query": {"anchor", "relation", "direction"}, "model": str, "settings": {...},
     "candidates": [{"rank": int, "name": str, "score": float, "marks": [str, ...]}, ...]}

lists the candidates in the order shown; ``marks`` names each constraint that moved a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kgviz.defaults import DEFAULTS, RankDefaults
from kgviz.ranking.ranks import QueryRanking

__all__ = ["PredictSettings", "header", "ranking_table", "ranking_json"]


@dataclass(frozen=True)
class PredictSettings:
    """The settings of one ``predict`` run and which of them are the defaults (:mod:`kgviz.defaults`)."""

    model: str
    seeds: tuple[int, ...]  # empty: a scorer without draws; (-1,): a stored draw
    exclude_self: bool
    known_side: bool
    filter_known: bool
    top_k: int
    device: str
    model_is_default: bool
    stored_seed: int | str | None = None  # with a stored draw: the seed the checkpoint says it kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": list(self.seeds),
            "draws": len(self.seeds),
            "exclude_self": self.exclude_self,
            "known_side": self.known_side,
            "filter_known": self.filter_known,
            "top_k": self.top_k,
            "device": self.device,
            "defaults": self.defaults_used(),
        }

    def defaults_used(self) -> list[str]:
        """The settings that are the defaults, named."""
        used = ["model"] if self.model_is_default else []
        if self.seeds and self.seeds == DEFAULTS.seeds():
            used.append(f"{DEFAULTS.draws} draws from seed {DEFAULTS.seed}")
        if (self.exclude_self, self.known_side) == (DEFAULTS.exclude_self, DEFAULTS.known_side):
            used.append("constraints")
        return used


def _draw_words(seeds: tuple[int, ...], stored_seed: int | str | None) -> str:
    if not seeds:
        return "no random draws"
    if seeds == (-1,):
        return f"the draw stored in the checkpoint (seed {stored_seed}, chosen on valid)"
    return f"mean of {len(seeds)} draw(s), seeds {seeds[0]}–{seeds[-1]}"


def header(title: str, kg: Any, settings: PredictSettings) -> str:
    """Two lines: the query, the model, the draws, the constraints; then which defaults were used."""
    words = RankDefaults.constraint_words(settings.exclude_self, settings.known_side)
    used = settings.defaults_used()
    return (
        f"{title} on {kg}: model {settings.model}, {_draw_words(settings.seeds, settings.stored_seed)}, {words}, device {settings.device}\n"
        f"defaults used (kgviz.defaults): {', '.join(used) if used else 'none'}"
    )


def ranking_table(ranking: QueryRanking, top_k: int, direction: str, relation: str) -> str:
    """The first ``top_k`` candidates as the Predictions view shows them, then the frequency verdict."""
    rows = ranking.candidates[:top_k]
    width = max([len(c.name) for c in rows] + [6])
    lines = [
        f"{'rank':>4}  {'entity':<{width}}  {'prob.':>6}  {'score':>9}  {'± std':>7}  {'ranks over draws':>16}  "
        f"{'freq. rank':>12}  {'known':>5}  marks"
    ]
    for c in rows:
        spread = f"{c.rank_min}–{c.rank_max}" if c.rank_min != c.rank_max else str(c.rank_min)
        lines.append(
            f"{c.rank:>4}  {c.name:<{width}}  {c.probability:>6.3f}  {c.score:>9.4f}  {c.score_std:>7.4f}  "
            f"{spread:>16}  {f'{c.frequency_rank} ({c.frequency_count}×)':>12}  {'yes' if c.known else '':>5}  "
            f"{', '.join(c.marks)}"
        )
    lines.append(
        f"prob.: softmax of the scores averaged over the draws, over the candidates the constraints keep in front; "
        f"freq. rank: rank under relation-{direction} frequency (how often each entity is a {direction} of "
        f"'{relation}' in the KG)\n{ranking.frequency.verdict}."
    )
    return "\n".join(lines)


def ranking_json(
    ranking: QueryRanking, anchor: str, relation: str, direction: str, settings: PredictSettings
) -> dict[str, Any]:
    """The JSON document of the ranking printed (see the module docstring)."""
    return {
        "query": {"anchor": anchor, "relation": relation, "direction": direction},
        "model": settings.model,
        "settings": settings.to_dict(),
        "candidates": [
            {"rank": c.rank, "name": c.name, "score": c.score, "marks": c.marks}
            for c in ranking.candidates[: settings.top_k]
        ],
    }
