"""The recommended ranking of a KG: the scorer, or a weighted sum of normalised scores, best on validation.

Normalisation (per query, over all entities, as :class:`kgviz.evaluation.leaderboard.recommended.RecommendedScorer`
scores a query it knows no answer of): ``z(e) = (s(e) − mean) / std`` (``0`` when all entities score
alike; ``-inf`` scores lowered first as in :func:`.calibration.candidate_logits`).
A combination scores ``Σ_i w_i · z_i(e)``, then a constraint variant orders it (:data:`.protocol.VARIANTS`).

Search (validation facts only): start from the best single row (scorer and variant); coordinate
ascent over the weights of the :data:`TOP` best scorers, each weight from :data:`WEIGHTS`, two sweeps,
a change kept only when it raises the best validation MRR over the variants by at least
:data:`MIN_GAIN`, and by at least ``1 / Q`` on ``Q`` validation queries — one query's answer moving from
nowhere to first — (small validation sets otherwise reward chance). So the recommendation's
validation MRR is never below the best single row's; test figures are reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from kgviz.ranking.constraints import RankContext, ranks_in
from kgviz.evaluation.leaderboard.calibration import candidate_logits
from kgviz.evaluation.leaderboard.protocol import HeldOut
from kgviz.evaluation.leaderboard.scorers import COUNTING

__all__ = ["TOP", "WEIGHTS", "Recommendation", "normalise", "combine", "choose", "scorer_best", "short", "sentence"]

TOP = 4
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
SWEEPS = 2
MIN_GAIN = 0.005  # a weight change must raise the validation MRR by this much (prefer the simpler ranking)


@dataclass
class Recommendation:
    """Weights on normalised scores (one entry: a single scorer) and the constraint variant (a suffix)."""

    weights: dict[str, float]
    variant: str
    validation_mrr: float

    @property
    def name(self) -> str:
        """``"DistMult + both constraints"``, or ``"0.5·DistMult + 1·InGram NL-0 + own entity last"``."""
        if len(self.weights) == 1:
            return next(iter(self.weights)) + self.variant
        return " + ".join(f"{w:g}·{n}" for n, w in self.weights.items()) + self.variant

    @property
    def counting_only(self) -> bool:
        return list(self.weights) == [COUNTING]


def normalise(scores: Tensor, candidates: Tensor | None = None) -> Tensor:
    """``(Q, N)`` float32 z-scores over each row's ``candidates`` (default: all entities); 0 off them."""
    if candidates is None:
        candidates = torch.ones(scores.shape, dtype=torch.bool)
    s = candidate_logits(scores, candidates).masked_fill(~candidates, 0.0)
    n = candidates.sum(1, keepdim=True).clamp(min=1)
    mean = s.sum(1, keepdim=True) / n
    var = ((s - mean) ** 2 * candidates).sum(1, keepdim=True) / n
    std = var.sqrt()
    z = torch.where(std > 0, (s - mean) / torch.where(std > 0, std, torch.ones_like(std)), torch.zeros_like(s))
    return z.masked_fill(~candidates, 0.0).float()


def combine(z: dict[str, Tensor], weights: dict[str, float]) -> Tensor:
    """``Σ_i w_i · z_i``, ``(Q, N)``."""
    parts = [w * z[n] for n, w in weights.items() if w]
    return torch.stack(parts).sum(0)


def _mrr_by_variant(scores: Tensor, answers: Tensor, contexts: dict[str, RankContext]) -> dict[str, float]:
    return {v: float((1.0 / r.double()).mean()) for v, r in ranks_in(scores, answers, contexts).items()}


def choose(held: HeldOut, z: dict[str, Tensor], single_mrr: dict[tuple[str, str], float]) -> Recommendation:
    """The recommendation from validation rows only (module docstring).

    ``z[scorer]`` normalised scores ``(Q, N)`` of all held-out queries; ``single_mrr[(scorer,
    variant)]`` each single row's validation MRR (ties: the first row wins, counting first).
    """
    (scorer, variant), best = max(single_mrr.items(), key=lambda kv: kv[1])
    val = torch.from_numpy(held.validation)
    answers = held.answers[val]
    contexts = {v: RankContext(c.before[val], c.rivals[val]) for v, c in held.contexts.items()}
    zval = {n: t[val] for n, t in z.items()}
    by_scorer = scorer_best(single_mrr)
    top = sorted(by_scorer, key=lambda n: -by_scorer[n])[:TOP]
    weights = {n: (1.0 if n == scorer else 0.0) for n in top}
    weights.setdefault(scorer, 1.0)
    improved = False
    min_gain = max(MIN_GAIN, 1.0 / max(1, len(answers)))
    for _ in range(SWEEPS):
        for n in top:
            for w in WEIGHTS:
                trial = {**weights, n: w}
                if w == weights[n] or not any(trial.values()):
                    continue
                mrr = _mrr_by_variant(combine(zval, trial), answers, contexts)
                v, m = max(mrr.items(), key=lambda kv: kv[1])
                if m >= best + min_gain:
                    weights, variant, best, improved = trial, v, m, True
    kept = {n: w for n, w in weights.items() if w}
    if not improved or len(kept) == 1:
        kept = {next(iter(kept)) if improved else scorer: 1.0}
    return Recommendation(kept, variant, best)


def short(x: float | None) -> str:
    """``0.712`` → ``".71"`` (two decimals, no leading zero); ``None`` → ``"—"``."""
    if x is None:
        return "—"
    text = f"{x:.2f}"
    return text[1:] if text.startswith("0.") else text


def sentence(
    rec: Recommendation, validation_facts: int, test_facts: int, val_best: dict[str, float], test_mrr: float
) -> str:
    """In words: what is recommended, on how many facts, against InGram's and counting's best rows.

    ``val_best``: validation MRR of the best row of each scorer (any variant).
    """
    ingram = {n: m for n, m in val_best.items() if n.startswith("InGram")}
    others = []
    if ingram:
        name = max(ingram, key=lambda n: ingram[n])
        others.append(f"{name} {short(ingram[name])}")
    if COUNTING in val_best:
        others.append(f"counting {short(val_best[COUNTING])}")
    against = f"; {', '.join(others)}" if others else ""
    head = "Nothing beats counting on this KG" if rec.counting_only else f"Recommended: {rec.name}"
    return (
        f"{head} — best on {validation_facts} held-out validation facts of this KG: "
        f"MRR {short(rec.validation_mrr)}{against}. On {test_facts} other held-out facts (test): MRR {short(test_mrr)}."
    )


def scorer_best(single_mrr: dict[tuple[str, str], float]) -> dict[str, float]:
    """Best validation MRR of each scorer over its variants."""
    out: dict[str, float] = {}
    for (n, _), m in single_mrr.items():
        out[n] = max(out.get(n, -1.0), m)
    return out
