"""Fine-tuning in the background: :class:`AdaptJob` runs :func:`kgviz.adapt.adapt` in a thread.

The thread touches no Streamlit API: it records steps and losses on the job, and stops at the
next step once :meth:`AdaptJob.stop` is called. The page polls the job (a fragment that reruns
itself) and, when it is done, stores the adapted model in the authors' layout
(:func:`store_adapted`) and lists it with the session's models.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..adapt import DEFAULT_PARTS, AdaptResult, adapt
from ..catalog import ModelChoice
from ..checkpoint import save_checkpoint
from ..data import KGFormatError, KnowledgeGraph
from ..inference import weights_fingerprint
from ..selfcheck import LOO_LIMIT, held_out_triples
from ..workspace import Workspace, WorkspaceError
from . import state as S
from .cache import LoadedModel
from .workspace_ui import ADAPTED_PREFIX


def training_graph(kg: KnowledgeGraph, hold_out_check: bool) -> KnowledgeGraph:
    """``kg``, or ``kg`` without the self-check's held-out triples (only for KGs the self-check samples:
    :data:`kgviz.selfcheck.LOO_LIMIT` triples or more; smaller ones hold out every triple)."""
    if not hold_out_check or kg.num_triples < LOO_LIMIT:
        return kg
    held, _ = held_out_triples(kg)
    return KnowledgeGraph(
        kg.entities,
        kg.relations,
        np.delete(kg.triples, held, axis=0),
        source=f"{kg.source} without the self-check's triples",
    )


@dataclass(eq=False)
class AdaptJob:
    """One fine-tuning run of ``base`` on ``kg`` for ``seconds``; read its fields while it runs."""

    base: LoadedModel
    base_label: str
    kg: KnowledgeGraph
    kg_label: str
    seconds: float
    parts: str = DEFAULT_PARTS
    hold_out_check: bool = False
    steps: int = 0
    losses: list[float] = field(default_factory=list)
    started: float = 0.0
    result: AdaptResult | None = None
    error: str | None = None
    model_key: str | None = None  # set once the adapted model is stored and listed (:func:`register`)
    folder: Path | None = None  # where it was stored (:func:`register`)
    announced: bool = False  # the page has redrawn the whole app once the run ended
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        held = " (self-check triples held out)" if self.hold_out_check and self.kg.num_triples >= LOO_LIMIT else ""
        return f"{self.base_label} adapted to {self.kg_label}{held}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    @property
    def elapsed(self) -> float:
        if self.result is not None:
            return self.result.seconds
        return time.perf_counter() - self.started if self.started else 0.0

    @property
    def fraction(self) -> float:
        return 1.0 if self.done else min(1.0, self.elapsed / self.seconds)

    def start(self) -> AdaptJob:
        self.started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="kgviz-adapt", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end after its current step (the model trained so far is kept)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _on_step(self, step: int, loss: float) -> bool:
        self.steps = step
        self.losses.append(loss)
        return not self._stop.is_set()

    def _run(self) -> None:
        try:
            self.result = adapt(
                self.base.model,
                self.base.config,
                training_graph(self.kg, self.hold_out_check),
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
            "self_check_held_out": job.hold_out_check,
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
    """Once the session's run has ended with a model: store it and list it with the session's models."""
    job: AdaptJob | None = session.get(S.ADAPT_JOB)
    if job is None or not job.done or job.result is None or job.model_key is not None:
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
