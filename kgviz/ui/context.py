"""What every page receives: :class:`PageContext`, built once per run by ``app.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from torch import Tensor

from ..data import KnowledgeGraph
from ..draws import StoredDrawInfo
from ..inference import STORED_DRAW, Predictor
from .cache import LoadedModel, get_predictor
from .state import CurrentKG, relation_labels


@dataclass(frozen=True)
class PageContext:
    """The current KG, the model, and the selection shared by every page.

    Attributes:
        current: the current KG with its label and version (:class:`kgviz.ui.state.CurrentKG`).
        model: the loaded model (weights, config, device, fingerprint).
        model_label: how the sidebar names the model.
        rel: selected relation, augmented id in ``[0, 2R)``, or ``None``.
        ent: selected entity id, or ``None``.
        stored: the checkpoint's stored draw for this KG (``kgviz.draws.stored_draw_for``), if any.
        stored_info: its seed, pool and validation figures.
    """

    current: CurrentKG
    model: LoadedModel
    model_label: str
    rel: int | None = None
    ent: int | None = None
    stored: tuple[Tensor, Tensor] | None = None
    stored_info: StoredDrawInfo | None = None

    @property
    def kg(self) -> KnowledgeGraph:
        return self.current.kg

    @property
    def kg_label(self) -> str:
        return self.current.label

    @property
    def relation_labels(self) -> list[str]:
        """Names of the ``2R`` augmented relations: ``r`` then ``r⁻¹``."""
        return relation_labels(self.kg)

    def stored_for(self, seeds: Sequence[int]) -> tuple[Tensor, Tensor] | None:
        """The stored draw when ``seeds`` asks for it (:data:`kgviz.inference.STORED_DRAW`)."""
        return self.stored if STORED_DRAW in seeds else None

    def predictor(self, seeds: Sequence[int]) -> Predictor:
        """The (cached) forward passes of the model over the KG, one per seed."""
        return get_predictor(self.model, self.kg, tuple(seeds), self.stored_for(seeds))
