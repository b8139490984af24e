"""What the "Why InGram?" figures show on the current KG, in words (pure: no Streamlit).

:func:`verdict` gives one sentence over the three held-out groups (who can score each, which model
is best and where InGram stands) and, when the figures go against what the lecture leads one to expect,
a comment on why. A group with fewer than :data:`~kgviz.ui.baseline_tables.TOO_FEW_TRIPLES` triples
is "too few to tell": no model is named best on it. A model is "clearly" best when the lower end of its
MRR interval lies above the upper end of the runner-up's (:func:`kgviz.evaluation.intervals.mrr_interval`).
"""

from __future__ import annotations

from typing import Sequence

from kgviz.models.baselines.common import QueryEvaluation
from kgviz.models.baselines.split import GROUP_TITLES, GROUPS, ModelGroupScores, WhyInGramSplit
from kgviz.evaluation.intervals import mrr_interval
from kgviz.ui.baseline_tables import GROUP_SHORT, LECTURE_SCORERS, MODEL_NAME_LIMIT, TOO_FEW_TRIPLES, compact
from kgviz.ui.markup import count_of, name_md

INGRAM = "InGram"


def _label(model: str) -> str:
    """A model's name in the sentence: "InGram" for InGram (the table names its checkpoint), else its label."""
    return INGRAM if _is(model, INGRAM) else name_md(model, MODEL_NAME_LIMIT)


def _too_few(n_triples: int) -> str:
    return f"{count_of(n_triples, 'triple')} {'is' if n_triples == 1 else 'are'} too few to tell"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _is(model: str, family: str) -> bool:
    return model == family or model.startswith(family + " ")


def lecture_agrees(g: str, scores: Sequence[ModelGroupScores]) -> list[str]:
    """The models whose ability to score group ``g`` differs from the lecture's (empty: it agrees)."""
    allowed = LECTURE_SCORERS[g]
    wrong = []
    for s in scores:
        expected = allowed is None or any(_is(s.model, f) for f in allowed)
        if (s.groups[g].metrics is not None) != expected:
            wrong.append(s.model)
    return wrong


def _clearly_ahead(best: QueryEvaluation, second: QueryEvaluation) -> bool:
    """Best's MRR interval lies wholly above the runner-up's."""
    return mrr_interval(best.ranks)[0] > mrr_interval(second.ranks)[1]


def group_phrase(g: str, n_triples: int, scores: Sequence[ModelGroupScores]) -> tuple[str, str | None]:
    """What group ``g`` shows (a clause) and, when it goes against the lecture's expectation, a comment."""
    title = GROUP_SHORT[g]
    scored = sorted(
        ((s.model, s.groups[g]) for s in scores if s.groups[g].metrics is not None),
        key=lambda pair: -pair[1].metrics["MRR"],  # type: ignore[index]
    )
    wrong = lecture_agrees(g, scores)
    who = (
        "as the lecture says"
        if not wrong
        else f"unlike the lecture for {', '.join(_label(m) for m in wrong)} (see the cells marked *cannot score*)"
    )
    if not scored:
        return f"{title}: no model can score it", None
    if len(scored) == 1:
        model, ev = scored[0]
        only = f"{title}: only {_label(model)} can score it ({who}), MRR {compact(ev.metrics['MRR'])}"  # type: ignore[index]
        return only + (f", but {_too_few(n_triples)} how well" if n_triples < TOO_FEW_TRIPLES else ""), None
    if n_triples < TOO_FEW_TRIPLES:
        return (
            f"{title}: {len(scored)} models can score it ({who}), but {_too_few(n_triples)} which is best",
            None,
        )
    (best, best_ev), (second, second_ev) = scored[0], scored[1]
    mrr = best_ev.metrics["MRR"]  # type: ignore[index]
    lead = (
        f"clearly ahead of {_label(second)} ({compact(second_ev.metrics['MRR'])})"  # type: ignore[index]
        if _clearly_ahead(best_ev, second_ev)
        else f"not clearly ahead of {_label(second)} ({compact(second_ev.metrics['MRR'])})"  # type: ignore[index]
    )
    clause = f"{title}: {_label(best)} best (MRR {compact(mrr)}), {lead}"
    place = next((k for k, (m, _) in enumerate(scored) if _is(m, INGRAM)), None)
    if place is None or place == 0:
        return clause, None
    ingram_ev = scored[place][1]
    if place > 1:  # (InGram as the runner-up is named already)
        clause += f", InGram {ordinal(place + 1)} of {len(scored)} ({compact(ingram_ev.metrics['MRR'])})"  # type: ignore[index]
    if not _clearly_ahead(best_ev, ingram_ev):
        return clause, None
    if "untrained" in scored[place][0]:
        comment = (
            "InGram here is the untrained model (random weights): its figures say how a random InGram "
            "ranks, nothing about the lecture's claims; pick a trained model in the sidebar."
        )
    elif g == "a":
        comment = (
            f"On {GROUP_TITLES[g]} InGram is behind models trained on this KG's training part: it is applied zero-shot "
            "(trained on another KG). The lecture claims every model can score seen entities, not that InGram "
            "ranks them best."
        )
    else:
        comment = (
            f"On {GROUP_TITLES[g]} {_label(best)}, trained on this KG, ranks better than InGram applied zero-shot: "
            "the lecture's claim is about which models can score such triples at all, which the table confirms, "
            "not that InGram ranks them best."
        )
    return clause, comment


def verdict(split: WhyInGramSplit, scores: Sequence[ModelGroupScores]) -> str:
    """Markdown: one sentence over the three groups, then a comment for each group against the lecture."""
    parts = [group_phrase(g, len(split.groups[g]), scores) for g in GROUPS]
    sentence = "**On this KG:** " + "; ".join(clause for clause, _ in parts) + "."
    comments = list(dict.fromkeys(comment for _, comment in parts if comment))  # each once
    return " ".join([sentence, *comments])
