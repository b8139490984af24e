"""The defaults every entry point ranks with — the app's Predictions, What-if, Classroom and Self-check
views and ``kgviz predict/selfcheck/compare`` — written once. No torch here: the CLI reads it to build
its parser.

- :data:`DEFAULT_MODEL`: the first of :data:`kgviz.models.pretrained.DEFAULT_MODELS` that is shipped (NL-0 today).
- :data:`DRAWS`: InGram's scores are averaged over this many random draws, seeds
  ``seed, seed + 1, … seed + DRAWS − 1`` (``seed`` = :data:`SEED` unless the user picks one). Fixed, never
  timed: the same link gives the same ranking on every machine. 16 draws put ``actor`` in the top 3 of
  ``(Ryan Gosling, profession, ?)`` on movies for every first seed 0–9 (tests/test_defaults.py).
- :data:`EXCLUDE_SELF`, :data:`KNOWN_SIDE`: the inference-time constraints of :mod:`kgviz.ranking.constraints`, on.
- :data:`EVALUATION_SEED` (= :data:`SELF_CHECK_SEED`): the self-check's and ``kgviz compare``'s :data:`DRAWS`
  draws start here (the reporting draws 100…, never used to choose weights); the self-check's folds do not
  depend on the number of draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgviz.models.pretrained import DEFAULT_MODELS

__all__ = [
    "DEFAULT_MODEL",
    "DRAWS",
    "SEED",
    "EXCLUDE_SELF",
    "KNOWN_SIDE",
    "SELF_CHECK_SEED",
    "EVALUATION_SEED",
    "RankDefaults",
    "DEFAULTS",
]

DEFAULT_MODEL = DEFAULT_MODELS[0]  # NL-0; kgviz.models.pretrained.default_checkpoint falls back to the next shipped one
DRAWS = 16
SEED = 0
EXCLUDE_SELF = True
KNOWN_SIDE = True
EVALUATION_SEED = 100  # figures (self-check, compare, Why InGram?) use the draws from here: the reporting draws
SELF_CHECK_SEED = EVALUATION_SEED


@dataclass(frozen=True)
class RankDefaults:
    """What a ranking uses unless told otherwise; :meth:`header` says it in one line."""

    draws: int = DRAWS
    seed: int = SEED
    exclude_self: bool = EXCLUDE_SELF
    known_side: bool = KNOWN_SIDE

    def seeds(self, first: int | None = None) -> tuple[int, ...]:
        """The draws: ``first … first + draws − 1`` (``first`` default :attr:`seed`)."""
        start = self.seed if first is None else first
        return tuple(range(start, start + self.draws))

    @staticmethod
    def constraint_words(exclude_self: bool, known_side: bool) -> str:
        on = [w for w, f in (("own entity last", exclude_self), ("known side first", known_side)) if f]
        return "constraints: " + (", ".join(on) if on else "none")


DEFAULTS = RankDefaults()
