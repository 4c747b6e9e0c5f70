"""Prompt versions as files: list, validate a draft, save it as the next version with a note,
diff two versions, roll back (a new version with an old one's text, so history is kept).

The agent always uses a prompt's highest valid version, so saving publishes. A draft is
tried first in a scratch copy of the folder (`draft_library`), never in the live one.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from serving.prompts import FILE_PATTERN, Prompt, PromptError, PromptLibrary, parse_prompt

NOTE_KEY = "note"


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: int
    description: str
    note: str
    variables: tuple[str, ...]


class PromptStore:
    def __init__(self, library: PromptLibrary) -> None:
        self.library = library

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
        """Write `text` (with `note` in its front matter) as the next version; returns it."""
        if not FILE_PATTERN.match(f"{name}.v1.jinja"):
            raise PromptError(f"bad prompt name {name!r}")
        if not note.strip():
            raise PromptError("a new version needs a note saying what changed")
        text = with_note(text, note.strip())
        self.validate(name, text)
        version = self._next(name)
        path = self._path(name, version)
        with open(path, "x", encoding="utf-8") as out:  # never overwrite a version
            out.write(text)
        return version

    def rollback(self, name: str, version: int) -> int:
        """Publish version `version`'s text again as the newest version."""
        text = self.source(name, version)
        return self.save(name, text, f"rollback to v{version}")

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
        (scratch / f"{name}.v{self._next(name)}.jinja").write_text(text, encoding="utf-8")
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
