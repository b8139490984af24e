"""The local workspace: the user's KGs and adapted models, kept on this machine across reloads and restarts.

A folder (:func:`workspace_dir`: ``$KGVIZ_WORKSPACE``, else ``$XDG_CACHE_HOME/kgviz/workspace``, else
``~/.cache/kgviz/workspace``) holding

- ``kgs/<fingerprint>.json``: one KG (entity and relation names in id order, the triples as ids, the label
  the app shows), named by :attr:`kgviz.graph.data.KnowledgeGraph.fingerprint` (40 hex digits), so a link that
  carries the fingerprint reopens the same KG with the same ids;
- ``models/<digest>/``: one adapted model in the authors' layout (``config.json`` + ``model.ckpt``) and
  ``entry.json`` (its label and the fingerprint of the KG it was adapted to).

Every write goes to a temporary name in the same folder and is renamed into place, so an entry is either
whole or absent. The folder is capped (``$KGVIZ_WORKSPACE_MB``, default :data:`DEFAULT_CAP_MB`): after a
save, the entries used longest ago (file modification time; loading an entry touches it) are removed until
the total fits. Nothing here sends anything anywhere; nothing imports Streamlit or torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kgviz.graph.data import KnowledgeGraph

ENV_DIR = "KGVIZ_WORKSPACE"  # the workspace folder
ENV_CAP_MB = "KGVIZ_WORKSPACE_MB"  # its size cap in MB (2**20 bytes)
DEFAULT_CAP_MB = 200.0
KG_KIND, MODEL_KIND, FORMAT_VERSION = "kgviz-workspace-kg", "kgviz-workspace-model", 1
ENTRY_FILE = "entry.json"  # a model entry's description; written last, so its presence marks a whole entry
FINGERPRINT = re.compile(r"[0-9a-f]{40}")  # a KG's fingerprint (SHA-1 hex)
MODEL_DIGEST = re.compile(r"[0-9a-f]{8,64}")  # a model entry's folder name


class WorkspaceError(Exception):
    """A workspace entry that is missing, damaged or cannot be kept; the message says which and why."""


class EntryMissing(WorkspaceError):
    """No entry under that name (never saved here, evicted, or cleared)."""


def workspace_dir() -> Path:
    """``$KGVIZ_WORKSPACE``, else ``$XDG_CACHE_HOME/kgviz/workspace``, else ``~/.cache/kgviz/workspace``."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "kgviz" / "workspace"


def cap_bytes() -> int:
    """The size cap: ``$KGVIZ_WORKSPACE_MB`` megabytes (a positive number), else :data:`DEFAULT_CAP_MB`."""
    text = os.environ.get(ENV_CAP_MB, "").strip()
    if not text:
        return int(DEFAULT_CAP_MB * 2**20)
    try:
        mb = float(text)
    except ValueError:
        raise WorkspaceError(f"{ENV_CAP_MB}={text!r} is not a number of megabytes") from None
    if not mb > 0:
        raise WorkspaceError(f"{ENV_CAP_MB}={text!r}: the cap must be more than 0 MB")
    return int(mb * 2**20)


@dataclass(frozen=True)
class Entry:
    """One thing kept in the workspace.

    Attributes:
        kind: ``"kg"`` or ``"model"``.
        name: the KG's fingerprint, or the model's folder name (a digest of its weights).
        label: what the app calls it; for a damaged entry, why it cannot be read.
        path: its file (KG) or folder (model).
        size: bytes on disk.
        used: when it was last saved or opened (seconds since the epoch).
        kg_fingerprint: the KG it is (kind ``"kg"``) or was adapted to (kind ``"model"``).
        problem: why it cannot be read, or ``None`` when it is whole.
    """

    kind: str
    name: str
    label: str
    path: Path
    size: int
    used: float
    kg_fingerprint: str = ""
    problem: str | None = None


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    """The JSON object of an entry file of ``kind``; raises WorkspaceError saying what is wrong with it."""
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkspaceError(f"{path}: damaged (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        raise WorkspaceError(f"{path}: damaged (not a {kind} entry)")
    if doc.get("version") != FORMAT_VERSION:
        raise WorkspaceError(f"{path}: written by another kgviz version (format {doc.get('version')!r})")
    return doc


def kg_from_entry(doc: dict[str, Any], path: Path) -> KnowledgeGraph:
    """The KG of a KG entry; raises WorkspaceError when a field is missing or does not fit."""
    try:
        entities, relations = doc["entities"], doc["relations"]
        if not all(isinstance(x, str) for x in entities) or not all(isinstance(x, str) for x in relations):
            raise ValueError("names must be strings")
        triples = np.asarray(doc["triples"], dtype=np.int64).reshape(-1, 3)
        kg = KnowledgeGraph(tuple(entities), tuple(relations), triples, source=str(doc.get("source", path.name)))
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkspaceError(f"{path}: damaged ({exc})") from None
    if kg.fingerprint != path.stem:
        raise WorkspaceError(f"{path}: damaged (its content does not match its name)")
    return kg


class Workspace:
    """The workspace folder ``root`` with a size cap of ``cap`` bytes (defaults: :func:`workspace_dir`,
    :func:`cap_bytes`). Creating one touches no file; the folders are made on the first save."""

    def __init__(self, root: Path | str | None = None, cap: int | None = None):
        self.root = Path(root) if root is not None else workspace_dir()
        self.cap = cap if cap is not None else cap_bytes()

    @property
    def kg_dir(self) -> Path:
        return self.root / "kgs"

    @property
    def model_dir(self) -> Path:
        return self.root / "models"

    # ------------------------------------------------------------ KGs
    def kg_path(self, fingerprint: str) -> Path:
        if not FINGERPRINT.fullmatch(fingerprint):
            raise EntryMissing(f"{fingerprint[:60]!r} is not a KG fingerprint (40 hex digits)")
        return self.kg_dir / f"{fingerprint}.json"

    def save_kg(self, kg: KnowledgeGraph, label: str) -> Entry:
        """Keep ``kg`` (shown as ``label``) under its fingerprint; then apply the cap (:meth:`evict`)."""
        path = self.kg_path(kg.fingerprint)
        doc = {
            "kind": KG_KIND,
            "version": FORMAT_VERSION,
            "label": label,
            "source": kg.source,
            "saved": time.time(),
            "entities": list(kg.entities),
            "relations": list(kg.relations),
            "triples": kg.triples.reshape(-1).tolist(),  # (3M,): h0, r0, t0, h1, …
        }
        self.kg_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        return self._kept(Entry("kg", kg.fingerprint, label, path, path.stat().st_size, time.time(), kg.fingerprint))

    def load_kg(self, fingerprint: str) -> tuple[KnowledgeGraph, str]:
        """The KG kept under ``fingerprint`` and its label; raises EntryMissing, or WorkspaceError if damaged."""
        path = self.kg_path(fingerprint)
        if not path.is_file():
            raise EntryMissing(f"no KG {fingerprint[:12]}… in the workspace {self.root}")
        doc = _read_json(path, KG_KIND)
        kg = kg_from_entry(doc, path)
        os.utime(path)  # used now: evicted last
        return kg, str(doc.get("label") or f"saved KG {fingerprint[:8]}")

    # ------------------------------------------------------------ models
    def save_model(
        self, name: str, label: str, kg_fingerprint: str, kg_label: str, write: Callable[[Path], object]
    ) -> Entry:
        """Keep a model under ``name`` (a digest of its weights): ``write(folder)`` writes its files (the
        authors' layout) into a temporary folder that is renamed into place once ``entry.json`` is written.
        A model already kept under ``name`` is kept as is (same weights)."""
        if not MODEL_DIGEST.fullmatch(name):
            raise WorkspaceError(f"{name!r} is not a model entry name (hex digits)")
        final = self.model_dir / name
        if not (final / ENTRY_FILE).is_file():
            self.model_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.model_dir))
            try:
                write(tmp)
                doc = {"kind": MODEL_KIND, "version": FORMAT_VERSION, "label": label}
                doc |= {"kg_fingerprint": kg_fingerprint, "kg_label": kg_label, "saved": time.time()}
                (tmp / ENTRY_FILE).write_text(json.dumps(doc, ensure_ascii=False, indent=1))
                shutil.rmtree(final, ignore_errors=True)  # a partial folder of an older kgviz
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        os.utime(final / ENTRY_FILE)
        return self._kept(self._model_entry(final))

    def _model_entry(self, folder: Path) -> Entry:
        meta = folder / ENTRY_FILE
        used = meta.stat().st_mtime if meta.is_file() else folder.stat().st_mtime
        try:
            doc = _read_json(meta, MODEL_KIND)
            label, kg_fp = str(doc["label"]), str(doc.get("kg_fingerprint", ""))
            if not (folder / "config.json").is_file() or not (folder / "model.ckpt").is_file():
                raise WorkspaceError(f"{folder}: damaged (config.json or model.ckpt is missing)")
        except (WorkspaceError, KeyError) as exc:
            problem = str(exc) if isinstance(exc, WorkspaceError) else f"{meta}: damaged (no label)"
            return Entry("model", folder.name, problem, folder, _folder_size(folder), used, problem=problem)
        return Entry("model", folder.name, label, folder, _folder_size(folder), used, kg_fp)

    def models(self) -> list[Entry]:
        """The whole model entries, most recently used first."""
        return [e for e in self.entries() if e.kind == "model" and e.problem is None]

    # ------------------------------------------------------------ all entries
    def entries(self, read_kgs: bool = False) -> list[Entry]:
        """Every entry, most recently used first; damaged ones too, with ``problem`` saying why. A KG entry's
        file is only read (for its label, and to find damage) with ``read_kgs``: listing stays cheap."""
        out: list[Entry] = []
        if self.kg_dir.is_dir():
            for path in self.kg_dir.glob("*.json"):
                if FINGERPRINT.fullmatch(path.stem):
                    out.append(self._kg_entry(path, read_kgs))
        if self.model_dir.is_dir():
            for folder in self.model_dir.iterdir():
                if folder.is_dir() and MODEL_DIGEST.fullmatch(folder.name):
                    out.append(self._model_entry(folder))
        return sorted(out, key=lambda e: -e.used)

    def _kg_entry(self, path: Path, read: bool) -> Entry:
        st = path.stat()
        try:
            label = f"KG {path.stem[:12]}"
            if read:
                doc = _read_json(path, KG_KIND)
                kg_from_entry(doc, path)
                label = str(doc.get("label") or label)
            return Entry("kg", path.stem, label, path, st.st_size, st.st_mtime, path.stem)
        except WorkspaceError as exc:
            return Entry("kg", path.stem, str(exc), path, st.st_size, st.st_mtime, path.stem, problem=str(exc))

    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries())

    def evict(self, keep: Path | None = None) -> list[Entry]:
        """Remove the entries used longest ago until the total is within the cap (never ``keep``)."""
        entries = self.entries()
        total, removed = sum(e.size for e in entries), []
        for e in reversed(entries):  # oldest first
            if total <= self.cap:
                break
            if e.path != keep:
                self._remove(e)
                total -= e.size
                removed.append(e)
        return removed

    def _kept(self, entry: Entry) -> Entry:
        """Apply the cap after saving ``entry``; an entry larger than the cap on its own is not kept."""
        if entry.size > self.cap:
            self._remove(entry)
            raise WorkspaceError(
                f"{entry.label}: {entry.size / 2**20:.1f} MB is more than the workspace's cap of "
                f"{self.cap / 2**20:.0f} MB ({ENV_CAP_MB}); not kept"
            )
        self.evict(keep=entry.path)
        return entry

    @staticmethod
    def _remove(entry: Entry) -> None:
        if entry.path.is_dir():
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            entry.path.unlink(missing_ok=True)

    def clear(self) -> int:
        """Remove every entry (and leftovers of interrupted writes); returns how many entries were removed.
        Only the workspace's own files are touched, whatever else the folder holds."""
        entries = self.entries()
        for e in entries:
            self._remove(e)
        for folder in (self.kg_dir, self.model_dir):
            for tmp in folder.glob(".tmp-*") if folder.is_dir() else ():
                shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        return len(entries)


def cmd_workspace(args: Any) -> None:
    """``kgviz workspace [--list | --clear]``: what the workspace holds (the default), or empty it."""
    ws = Workspace(cap=0)
    if args.clear:
        print(f"{ws.root}: removed {ws.clear()} entries.")
        return
    entries = ws.entries(read_kgs=True)
    try:
        cap = f" of {cap_bytes() / 2**20:.0f} MB"
    except WorkspaceError as exc:
        cap = f" ({exc})"
    print(f"{ws.root}: {len(entries)} entries, {sum(e.size for e in entries) / 2**20:.1f} MB{cap}")
    for e in entries:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.used))
        print(f"{e.kind:<5}  {e.name[:12]}  {e.size / 2**20:>7.2f} MB  {used}  {e.problem or e.label}")
