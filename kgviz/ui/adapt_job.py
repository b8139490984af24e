"""Fine-tuning in the background: :class:`AdaptJob` runs :func:`kgviz.training.adapt.adapt` in a thread.

The thread touches no Streamlit API: it records steps and losses on the job, and stops at the
next step once :meth:`AdaptJob.stop` is called. The page polls the job (a fragment that reruns
itself) and, when it is done and the adaptation improved on the KG's held-out validation facts,
stores the adapted model in the authors' layout (:func:`store_adapted`) and lists it with the
session's models. When it did not improve, the starting model is kept and nothing new is listed.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

from kgviz.training.adapt import DEFAULT_PARTS, AdaptResult, adapt
from kgviz.catalog import ModelChoice
from kgviz.models.ingram.checkpoint import save_checkpoint
from kgviz.graph.data import KGFormatError, KnowledgeGraph
from kgviz.models.ingram.predictor import weights_fingerprint
from kgviz.workspace import Workspace, WorkspaceError
from kgviz.ui import state as S
from kgviz.ui.background import BackgroundJob
from kgviz.ui.cache import LoadedModel
from kgviz.ui.workspace_ui import ADAPTED_PREFIX


@dataclass(eq=False)
class AdaptJob(BackgroundJob):
    """One fine-tuning run of ``base`` on ``kg`` for ``seconds``; read its fields while it runs."""

    thread_name: ClassVar[str] = "kgviz-adapt"

    base: LoadedModel
    base_label: str
    kg: KnowledgeGraph
    kg_label: str
    seconds: float
    parts: str = DEFAULT_PARTS
    steps: int = 0
    losses: list[float] = field(default_factory=list)
    result: AdaptResult | None = None
    error: str | None = None
    model_key: str | None = None  # set once the adapted model is stored and listed (:func:`register`)
    folder: Path | None = None  # where it was stored (:func:`register`)
    announced: bool = False  # the page has redrawn the whole app once the run ended

    @property
    def label(self) -> str:
        return f"{self.base_label} adapted to {self.kg_label}"

    @property
    def elapsed(self) -> float:
        if self.result is not None:
            return self.result.seconds
        return time.perf_counter() - self.started if self.started else 0.0

    @property
    def fraction(self) -> float:
        return 1.0 if self.done else min(1.0, self.elapsed / self.seconds)

    def _on_step(self, step: int, loss: float) -> bool:
        self.steps = step
        self.losses.append(loss)
        return not self.stopping()

    def _run(self) -> None:
        try:
            self.result = adapt(
                self.base.model,
                self.base.config,
                self.kg,
                seconds=self.seconds,
                parts=self.parts,
                device=self.base.device,
                on_step=self._on_step,
            )
        except (KGFormatError, ValueError, RuntimeError) as exc:
            self.error = str(exc)


def store_adapted(job: AdaptJob) -> tuple[str, Path, str | None]:
    """Keep the adapted model of ``job`` in the workspace (:mod:`kgviz.workspace`) in the authors' layout
    (``config.json`` + ``model.ckpt``, with what was done in ``"adapted"``), with the fingerprint of the KG it
    was adapted to. Returns its model key, its folder, and why it is not in the workspace (then it is in a
    private temporary folder, for this session only) or ``None``."""
    assert job.result is not None
    result = job.result
    digest = weights_fingerprint(result.model)[:16]
    extra = {
        "adapted": {
            "from": job.base_label,
            "kg": job.kg_label,
            "triples": job.kg.num_triples,
            "steps": result.steps,
            "seconds": round(result.seconds, 1),
            "parts": job.parts,
            **result.record(),
        }
    }

    def write(folder: Path) -> None:
        save_checkpoint(folder, result.model, result.config, extra=extra)

    try:
        entry = Workspace().save_model(digest, job.label, job.kg.fingerprint, job.kg_label, write)
        return f"{ADAPTED_PREFIX}{digest}", entry.path, None
    except (WorkspaceError, OSError) as exc:
        folder = Path(tempfile.gettempdir()) / f"kgviz-adapted-{digest}"
        if not (folder / "model.ckpt").is_file():
            write(folder)
        return f"{ADAPTED_PREFIX}{digest}", folder, str(exc)


def register(session: S.Session) -> None:
    """Once the session's run has ended: if it improved on the held-out facts, store the model kept and list it
    with the session's models; either way, say what happened in the session's messages. A model that did not
    beat its start on those facts is never listed (the start is kept)."""
    job: AdaptJob | None = session.get(S.ADAPT_JOB)
    if job is None or not job.done or job.result is None or job.model_key is not None or job.announced:
        return
    if not job.result.improved:
        session[S.MESSAGES].append(f"{job.label}: {job.result.summary()} No new model is listed.")
        return
    key, folder, not_kept = store_adapted(job)
    session[S.ADAPTED_MODELS][key] = ModelChoice(key, job.label, folder)
    job.model_key, job.folder = key, folder
    where = "kept in the workspace" if not_kept is None else f"for this session only ({not_kept})"
    session[S.MESSAGES].append(f"{job.label}: listed with the models in the sidebar, {where}.")


def checkpoint_zip(folder: Path) -> bytes:
    """``config.json`` and ``model.ckpt`` of ``folder`` in a zip archive (the authors' layout)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("config.json", "model.ckpt"):
            z.write(folder / name, arcname=name)
    return buf.getvalue()


def archive_name(label: str) -> str:
    """A file name for ``label``'s archive: letters, digits, ``-`` and ``_`` only."""
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label).strip("_")[:80]
    return f"{slug or 'adapted'}-{hashlib.sha1(label.encode()).hexdigest()[:6]}.zip"
