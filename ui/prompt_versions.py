"""Prompt versions as files: list, validate a draft, save it as the next version with a note,
publish a version, diff two versions, roll back (publish an older version again).

Saving a draft does not change what shoppers get: the agent uses the version pinned in
`published.json`, and saving pins the current live version first when the prompt had no pin.
Publishing and rolling back are separate steps, each appended to an audit log (who, when,
template, version, action). A draft is tried first in a scratch copy of the folder
(`draft_library`), never in the live one.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from serving.prompts import (
    FILE_PATTERN,
    PUBLISHED_FILE,
    Prompt,
    PromptError,
    PromptLibrary,
    parse_prompt,
)

NOTE_KEY = "note"
log = logging.getLogger("longtail.prompts")


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: int
    description: str
    note: str
    variables: tuple[str, ...]


@dataclass(frozen=True)
class AuditEntry:
    at: str  # UTC, ISO 8601
    who: str
    action: str  # publish | rollback
    template: str
    version: int
    previous: int  # the version that was live before


class PromptStore:
    def __init__(self, library: PromptLibrary, audit_log: Path) -> None:
        self.library = library
        self.audit_log = Path(audit_log)
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self.library.folder

    def names(self) -> list[str]:
        matches = (FILE_PATTERN.match(p.name) for p in self.folder.glob("*.jinja"))
        return sorted({m["name"] for m in matches if m})

    def versions(self, name: str) -> list[VersionInfo]:
        return [self.info(name, v) for v in self.library.versions(name)]

    def info(self, name: str, version: int) -> VersionInfo:
        text = self.source(name, version)
        meta = _front_matter(text)
        prompt = self.library.get(name, version)
        return VersionInfo(
            name, version, prompt.description, str(meta.get(NOTE_KEY, "")), prompt.variables
        )

    def source(self, name: str, version: int) -> str:
        path = self._path(name, version)
        if not path.is_file():
            raise PromptError(f"no prompt {name!r} version {version}")
        return path.read_text(encoding="utf-8")

    def validate(self, name: str, text: str) -> Prompt:
        """Parse `text` as the next version of `name`; a PromptError says what is wrong."""
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"{name}.v{self._next(name)}.jinja"
            path.write_text(text, encoding="utf-8")
            return parse_prompt(path)

    def save(self, name: str, text: str, note: str) -> int:
        """Write `text` (with `note` in its front matter) as the next version, a draft that
        is not live until published; returns its number."""
        if not FILE_PATTERN.match(f"{name}.v1.jinja"):
            raise PromptError(f"bad prompt name {name!r}")
        if not note.strip():
            raise PromptError("a new version needs a note saying what changed")
        text = with_note(text, note.strip())
        self.validate(name, text)
        with self._lock:
            if name in self.names() and name not in self.library.published():
                self.library.pin(name, self.library.live_version(name))
            version = self._next(name)
            path = self._path(name, version)
            with open(path, "x", encoding="utf-8") as out:  # never overwrite a version
                out.write(text)
        return version

    def live(self, name: str) -> int:
        return self.library.live_version(name)

    def publish(self, name: str, version: int, who: str) -> AuditEntry:
        """Make `version` live for every turn from now on, and record who did it."""
        return self._pin(name, version, who, "publish")

    def rollback(self, name: str, version: int, who: str) -> AuditEntry:
        """Make an older `version` live again (its file is unchanged), and record it."""
        return self._pin(name, version, who, "rollback")

    def audit(self, limit: int = 100) -> list[AuditEntry]:
        """The newest `limit` publish and rollback records, newest first."""
        if not self.audit_log.is_file():
            return []
        lines = self.audit_log.read_text(encoding="utf-8").splitlines()
        return [AuditEntry(**json.loads(line)) for line in reversed(lines[-limit:])]

    def _pin(self, name: str, version: int, who: str, action: str) -> AuditEntry:
        if not who.strip():
            raise PromptError(f"{action} needs the name of the staff member doing it")
        with self._lock:
            previous = self.library.live_version(name)
            self.library.pin(name, int(version))
            entry = AuditEntry(
                at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                who=who,
                action=action,
                template=name,
                version=int(version),
                previous=previous,
            )
            self.audit_log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.audit_log, "a", encoding="utf-8") as out:
                out.write(json.dumps(asdict(entry)) + "\n")
        log.info("prompt %s: %s v%d by %s (was v%d)", name, action, version, who, previous)
        return entry

    def diff(self, name: str, a: int, b: int) -> str:
        lines = difflib.unified_diff(
            self.source(name, a).splitlines(keepends=True),
            self.source(name, b).splitlines(keepends=True),
            fromfile=f"{name}.v{a}",
            tofile=f"{name}.v{b}",
        )
        return "".join(lines) or "(no differences)"

    def draft_library(self, name: str, text: str, scratch: Path) -> PromptLibrary:
        """A copy of the folder in `scratch` with `text` as `name`'s newest version."""
        for path in self.folder.glob("*.jinja"):
            shutil.copy2(path, scratch / path.name)
        version = self._next(name)
        (scratch / f"{name}.v{version}.jinja").write_text(text, encoding="utf-8")
        pins = {other: self.library.live_version(other) for other in self.names()}
        pins[name] = version  # the others as they are live now, the draft for `name`
        (scratch / PUBLISHED_FILE).write_text(json.dumps(pins), encoding="utf-8")
        return PromptLibrary(scratch)

    def _next(self, name: str) -> int:
        versions = self.library.versions(name)
        return (versions[-1] if versions else 0) + 1

    def _path(self, name: str, version: int) -> Path:
        return self.folder / f"{name}.v{version}.jinja"


def _front_matter(text: str) -> dict:
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        return {}
    try:
        meta = yaml.safe_load(text[4:].split("\n---\n", 1)[0])
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def with_note(text: str, note: str) -> str:
    """`text` with `note:` set in its front matter (replacing an older note)."""
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        return text  # validation will say what is missing
    head, body = text[4:].split("\n---\n", 1)
    head = re.sub(rf"(?m)^{NOTE_KEY}:.*\n?", "", head).rstrip("\n")
    line = f"{NOTE_KEY}: {yaml.safe_dump(note, default_style=None, width=10_000).strip()}"
    line = line.removesuffix("\n...")
    return f"---\n{head}\n{line}\n---\n{body}"
