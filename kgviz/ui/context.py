"""What every page receives: :class:`PageContext`, built once per run by ``app.py``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Sequence

from kgviz.graph.data import KnowledgeGraph
from kgviz.ui.cache import LoadedModel, get_predictor
from kgviz.ui.state import CurrentKG, relation_labels

if TYPE_CHECKING:
    from torch import Tensor

    from kgviz.models.ingram.draws import StoredDrawInfo
    from kgviz.models.ingram.predictor import Predictor


@dataclass(frozen=True)
class ModelInUse:
    """The model the sidebar picked, loaded.

    Attributes:
        model: the loaded model (weights, config, device, fingerprint).
        label: how the sidebar names the model.
        stored: the checkpoint's stored draw for this KG (``kgviz.models.ingram.draws.stored_draw_for``), if any.
        stored_info: its seed, pool and validation figures.
    """

    model: LoadedModel
    label: str
    stored: tuple[Tensor, Tensor] | None = None
    stored_info: StoredDrawInfo | None = None


@dataclass(frozen=True)
class PageContext:
    """The current KG, the model, and the selection shared by every page.

    The model is loaded when a page first asks for it (``model``, ``model_label``, ``stored``,
    ``stored_info``), once per run: the views that do not need it (Data, KG) do not wait for
    torch and the checkpoint.

    Attributes:
        current: the current KG with its label and version (:class:`kgviz.ui.state.CurrentKG`).
        load_model: loads the model (called at most once); see :meth:`with_model` for a loaded one.
        rel: selected relation, augmented id in ``[0, 2R)``, or ``None``.
        ent: selected entity id, or ``None``.
    """

    current: CurrentKG
    load_model: Callable[[], ModelInUse]
    rel: int | None = None
    ent: int | None = None

    @classmethod
    def with_model(
        cls,
        current: CurrentKG,
        model: LoadedModel,
        model_label: str,
        rel: int | None = None,
        ent: int | None = None,
        stored: tuple[Tensor, Tensor] | None = None,
        stored_info: StoredDrawInfo | None = None,
    ) -> PageContext:
        """A context around a model already loaded."""
        in_use = ModelInUse(model, model_label, stored, stored_info)
        return cls(current, lambda: in_use, rel, ent)

    @cached_property
    def in_use(self) -> ModelInUse:
        """The model, loaded on first access."""
        return self.load_model()

    @property
    def model(self) -> LoadedModel:
        return self.in_use.model

    @property
    def model_label(self) -> str:
        return self.in_use.label

    @property
    def stored(self) -> tuple[Tensor, Tensor] | None:
        return self.in_use.stored

    @property
    def stored_info(self) -> StoredDrawInfo | None:
        return self.in_use.stored_info

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
        """The stored draw when ``seeds`` asks for it (:data:`kgviz.models.ingram.predictor.STORED_DRAW`)."""
        from kgviz.models.ingram.predictor import STORED_DRAW

        return self.stored if STORED_DRAW in seeds else None

    def predictor(self, seeds: Sequence[int]) -> Predictor:
        """The (cached) forward passes of the model over the KG, one per seed."""
        return get_predictor(self.model, self.kg, tuple(seeds), self.stored_for(seeds))
