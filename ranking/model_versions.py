"""Model versions: every `train --with-events` run is kept, and one version serves.

    <home>/artifacts/<dataset>/versions/<id>/<model>/   a trained model, as Scorer.save wrote it
    <home>/artifacts/<dataset>/versions/<id>/version.json   what it was trained on, its gate
    <home>/artifacts/<dataset>/serving.json   {"version": id, "history": [older ids]}
    <home>/artifacts/<dataset>/<model>/   the serving copy every loader reads

Promoting copies the version's models over the serving folders, each as one step
(core.atomic), then rewrites serving.json (also atomically): a server checking
serving.json sees the new version only once every model is in place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from core.atomic import current, replaced_folder
from core.errors import LongtailError
from ranking.artifacts import artifacts_dir


class VersionError(LongtailError):
    """An unknown version, or nothing to roll back to."""


def versions_dir(home: Path, dataset_name: str) -> Path:
    return artifacts_dir(home, dataset_name) / "versions"


def serving_file(home: Path, dataset_name: str) -> Path:
    return artifacts_dir(home, dataset_name) / "serving.json"


def new_version_id() -> str:
    """Sortable by time and unique within a host: `v20261201-160501-ab12`."""
    return time.strftime("v%Y%m%d-%H%M%S-", time.gmtime()) + os.urandom(2).hex()


def write_version(folder: Path, info: dict[str, Any]) -> None:
    _write_json(folder / "version.json", info)


def read_version(home: Path, dataset_name: str, version: str) -> dict[str, Any]:
    path = versions_dir(home, dataset_name) / version / "version.json"
    if not path.is_file():
        known = ", ".join(list_versions(home, dataset_name)) or "none"
        raise VersionError(f"no model version {version!r} for {dataset_name!r} (known: {known})")
    return json.loads(path.read_text())


def list_versions(home: Path, dataset_name: str) -> list[str]:
    folder = versions_dir(home, dataset_name)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "version.json").is_file())


def serving(home: Path, dataset_name: str) -> dict[str, Any]:
    """{"version": id or None, "history": [...]}; None before any promotion."""
    path = serving_file(home, dataset_name)
    if not path.is_file():
        return {"version": None, "history": []}
    return json.loads(path.read_text())


def promote(home: Path, dataset_name: str, version: str, *, rollback: bool = False) -> None:
    """Make `version` the serving one; the one it replaces joins the history (unless this is
    a rollback, which pops it)."""
    info = read_version(home, dataset_name, version)
    source = versions_dir(home, dataset_name) / version
    target = artifacts_dir(home, dataset_name)
    for model in info["models"]:
        with replaced_folder(target / model) as staging:
            shutil.copytree(current(source / model), staging, dirs_exist_ok=True)
    state = serving(home, dataset_name)
    history = list(state["history"])
    if rollback:
        history = history[:-1]
    elif state["version"] is not None:
        history.append(state["version"])
    _write_json(
        serving_file(home, dataset_name),
        {"version": version, "history": history, "promoted_at": time.time()},
    )


def rollback(home: Path, dataset_name: str) -> str:
    """Serve the version that served before the current one; returns its id."""
    state = serving(home, dataset_name)
    if not state["history"]:
        raise VersionError(f"{dataset_name}: no earlier promoted version to roll back to")
    previous = state["history"][-1]
    promote(home, dataset_name, previous, rollback=True)
    return previous


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Written to a temporary file, synced and renamed: readers see old or new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as f:
        f.write(json.dumps(value, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
