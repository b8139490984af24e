"""The leaderboard's choice on a benchmark folder, judged on its test split; plain-text tables.

:func:`recommend_on_benchmark`: the choice is made from ``msg.txt`` alone (its held-out facts,
:func:`.board.leaderboard`, filtered by ``msg.txt`` only — never ``valid.txt`` or ``test.txt``).
Then every scorer is fit on all of ``msg.txt`` (trained ones within ``budget_s`` shared among them)
and ranks ``test.txt`` (both directions, filtered by msg ∪ valid ∪ test, tiers from msg): one row
per scorer and variant with split ``"test.txt"``, and the row ``recommended`` — the chosen
combination's weights and variant, fixed on the folds, applied to these scores.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kgviz.ranking.constraints import ranks_in
from kgviz.graph.data import BenchmarkDataset
from kgviz.evaluation.leaderboard.board import DEFAULT_BUDGET_S, Leaderboard, leaderboard
from kgviz.evaluation.leaderboard.metrics import summarise
from kgviz.models.registry import ULTRA_NAMES
from kgviz.evaluation.leaderboard.protocol import (
    BATCH,
    SLOW_BATCH,
    Cancel,
    Cancelled,
    Progress,
    fold_queries,
    score_queries,
)
from kgviz.evaluation.leaderboard.recommend import combine, normalise
from kgviz.evaluation.leaderboard.scorers import ScorerSpec, default_specs

__all__ = ["recommend_on_benchmark", "format_rows", "scenario_lines", "calibration_lines"]

TEST_SPLIT = "test.txt"


def recommend_on_benchmark(
    data: BenchmarkDataset,
    specs: Sequence[ScorerSpec] | None = None,
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> tuple[Leaderboard, dict]:
    """The leaderboard of ``data``'s msg.txt and its JSON with the ``test.txt`` rows added (module docstring)."""
    specs = list(default_specs() if specs is None else specs)
    report = progress or (lambda f, m: None)
    msg = data.inference
    if len(data.test) == 0:
        raise ValueError(f"{data.name}: test.txt holds no triples to rank")
    board = leaderboard(
        msg, specs, budget_s=budget_s, seed=seed, progress=lambda f, m: report(0.6 * f, m), cancel=cancel
    )
    specs = [spec for spec in specs if spec.name not in board.skipped]
    true = np.concatenate([msg.triples, data.valid, data.test])
    facts, anchors, relations, answers, contexts = fold_queries(msg, data.test, msg.triples, true)
    is_tail = np.arange(len(facts)) < len(data.test)
    per_model = budget_s / max(1, sum(s.trains for s in specs))
    rows, scores = [], {}
    for i, spec in enumerate(specs):
        if cancel is not None and cancel():
            raise Cancelled("leaderboard cancelled")
        report(0.6 + 0.4 * i / len(specs), f"{TEST_SPLIT}: {'training' if spec.trains else 'scoring'} {spec.name}")
        scorer = spec.make(msg, per_model, None)
        batch = SLOW_BATCH if spec.max_scoring_s is not None or spec.key in ULTRA_NAMES else BATCH
        scores[spec.name] = score_queries(scorer, msg, anchors, relations, is_tail, batch=batch, cancel=cancel)
        for variant, ranks in ranks_in(scores[spec.name], answers, contexts).items():
            rows.append({"method": spec.name + variant, "split": TEST_SPLIT, **summarise(ranks.numpy(), seed=seed)})
    rec = board.recommendation
    if len(rec.weights) > 1:
        rec_scores = combine({n: normalise(scores[n]) for n in rec.weights}, rec.weights)
    else:
        rec_scores = scores[next(iter(rec.weights))]
    rec_ranks = ranks_in(rec_scores, answers, {rec.variant: contexts[rec.variant]})[rec.variant]
    rows.append({"method": "recommended", "split": TEST_SPLIT, **summarise(rec_ranks.numpy(), seed=seed)})
    report(1.0, "done")
    out = board.to_json()
    out["rows"] = out["rows"] + rows
    out["kg"] = data.name
    return board, out


def format_rows(result: dict) -> str:
    """Plain text: protocol, the sentence, then one line per row (method, split, MRR [interval], Hits@1, Hits@10)."""
    rows = result["rows"]
    width = max(len(r["method"]) for r in rows) + 2
    lines = [
        f"{result['kg']}: {result['protocol']}",
        result["sentence"],
        f"recommended: {result['recommended']}",
        f"{'method':<{width}}{'split':<12}{'MRR':>7}{'95% interval':>16}{'Hits@1':>8}{'Hits@10':>9}{'queries':>9}",
    ]
    for r in rows:
        interval = f"{r['mrr_low']:.3f}–{r['mrr_high']:.3f}"
        lines.append(
            f"{r['method']:<{width}}{r['split']:<12}{r['mrr']:>7.3f}{interval:>16}"
            f"{r['hits1']:>8.3f}{r['hits10']:>9.3f}{r['queries']:>9}"
        )
    for name, runs in result.get("trained", {}).items():
        total = sum(x["seconds"] for x in runs)
        lines.append(f"{name}: trained {len(runs)}× on the folds, {total:.1f} s in all")
    for name, why in result.get("skipped", {}).items():
        lines.append(f"{name}: {why}")
    return "\n".join(lines + scenario_lines(result) + calibration_lines(result))


def scenario_lines(result: dict, method: str = "recommended", split: str = "test") -> list[str]:
    """Per half-link scenario of ``method`` on ``split`` facts: query count and MRR."""
    table = result.get("scenarios", {}).get(method, {}).get(split)
    if not table:
        return []
    lines = [f"half-link scenarios, {method}, {split} facts:"]
    for label, cell in table.items():
        mrr = "—" if cell["mrr"] is None else f"{cell['mrr']:.3f}"
        lines.append(f"  {label:<36}{cell['queries']:>6} queries  MRR {mrr}")
    return lines


def calibration_lines(result: dict) -> list[str]:
    """Temperature (fit on validation facts) and expected calibration error (test facts) of each scorer."""
    calibration = result.get("calibration", {})
    if not calibration:
        return []
    width = max(len(n) for n in calibration) + 2
    lines = [f"{'calibration':<{width}}{'temperature':>12}{'ECE (test)':>12}"]
    for name, c in calibration.items():
        lines.append(f"{name:<{width}}{c['temperature']:>12.3g}{c['test_ece']:>12.3f}")
    return lines
