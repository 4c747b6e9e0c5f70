"""Prompt templates as versioned files in `prompts/`, validated at load, reloaded on change.

A prompt file is `prompts/<name>.v<version>.jinja`: a front matter block that declares the
variables, then a Jinja body split into chat messages by `### system` / `### user` lines.

    ---
    description: what the prompt is for
    variables: [message, items]
    ---
    ### system
    ...
    ### user
    {{ message }}

Validation at load: the body parses, and the variables it uses are exactly the declared ones
(an undeclared or unused variable is a PromptError naming it). Rendering with a missing
variable is a PromptError too. A file edited on disk is re-read on the next `get`, so a
running app (and the prompt studio) picks up changes without a restart; an edit that does
not validate keeps the last good version in use and is reported in `errors`.

Templates are written by staff but rendered inside the server, so they run in Jinja's
immutable sandbox, and validation refuses any `_name` attribute or key (the way out of a
sandbox starts with `__class__`, `__globals__` and the like): editing prompts is not a shell.

Which version is live: `published.json` in the folder pins a prompt to a version (the
studio's Publish and Roll back write it); a prompt it does not name uses its highest version.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
import jinja2.sandbox
import yaml

from core.errors import LongtailError

log = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
FILE_PATTERN = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\.v(?P<version>\d+)\.jinja$")
ROLES = ("system", "user", "assistant")
PUBLISHED_FILE = "published.json"
_SECTION = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)


class PromptError(LongtailError):
    """A prompt file is missing, malformed, or rendered without its variables."""


@dataclass(frozen=True)
class Prompt:
    """One validated prompt version: declared variables and one template per message."""

    name: str
    version: int
    description: str
    variables: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]  # (role, template source)
    path: Path
    mtime_ns: int
    _templates: tuple[jinja2.Template, ...] = field(repr=False, compare=False, default=())

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"

    def render(self, **values: Any) -> list[dict[str, str]]:
        """The chat messages, [{"role", "content"}]; every declared variable is required."""
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise PromptError(f"prompt {self.key} needs variable(s) {', '.join(missing)}")
        extra = [v for v in values if v not in self.variables]
        if extra:
            raise PromptError(f"prompt {self.key} does not declare variable(s) {', '.join(extra)}")
        try:
            return [
                {"role": role, "content": template.render(**values).strip()}
                for (role, _), template in zip(self.sections, self._templates, strict=True)
            ]
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt {self.key}: {exc}") from exc
        except jinja2.sandbox.SecurityError as exc:
            raise PromptError(f"prompt {self.key}: refused by the template sandbox: {exc}") from exc


_ENV = jinja2.sandbox.ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False
)


def _private_access(template: jinja2.nodes.Template) -> tuple[int, str] | None:
    """The first `x._name`, `x['_name']` or `x|attr('_name')` in a parsed template:
    (line, name), else None."""
    kinds = (jinja2.nodes.Getattr, jinja2.nodes.Getitem, jinja2.nodes.Filter)
    for node in template.find_all(kinds):
        if isinstance(node, jinja2.nodes.Getattr):
            key: object = node.attr
        elif isinstance(node, jinja2.nodes.Getitem):
            key = node.arg.value if isinstance(node.arg, jinja2.nodes.Const) else None
        elif node.name == "attr" and node.args and isinstance(node.args[0], jinja2.nodes.Const):
            key = node.args[0].value
        else:
            continue
        if isinstance(key, str) and key.startswith("_"):
            return node.lineno, key
    return None


def parse_prompt(path: Path) -> Prompt:
    """Read and validate one prompt file."""
    match = FILE_PATTERN.match(path.name)
    if not match:
        raise PromptError(f"{path}: prompt files are named <name>.v<version>.jinja")
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise PromptError(f"{path}: missing the front matter block (--- ... ---)")
    head, body = text[4:].split("\n---\n", 1)
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: front matter is not YAML: {exc}") from exc
    declared = meta.get("variables")
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        raise PromptError(f"{path}: front matter needs `variables:` as a list of names")
    sections = _split_sections(path, body)
    try:
        used: set[str] = set()
        for _, source in sections:
            tree = _ENV.parse(source)
            private = _private_access(tree)
            if private is not None:
                raise PromptError(
                    f"{path}: section line {private[0]}: access to {private[1]!r} is not "
                    "allowed in a prompt template (no attribute or key that starts with '_')"
                )
            used |= jinja2.meta.find_undeclared_variables(tree)
        templates = tuple(_ENV.from_string(source) for _, source in sections)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"{path}:{exc.lineno}: template syntax error: {exc.message}") from exc
    undeclared = sorted(used - set(declared))
    if undeclared:
        raise PromptError(f"{path}: uses undeclared variable(s) {', '.join(undeclared)}")
    unused = sorted(set(declared) - used)
    if unused:
        raise PromptError(f"{path}: declares variable(s) it never uses: {', '.join(unused)}")
    return Prompt(
        name=match["name"],
        version=int(match["version"]),
        description=str(meta.get("description", "")),
        variables=tuple(declared),
        sections=sections,
        path=path,
        mtime_ns=path.stat().st_mtime_ns,
        _templates=templates,
    )


def _split_sections(path: Path, body: str) -> tuple[tuple[str, str], ...]:
    parts = _SECTION.split(body)
    if parts[0].strip():
        raise PromptError(f"{path}: text before the first `### system|user` line")
    sections = tuple((parts[i], parts[i + 1]) for i in range(1, len(parts), 2))
    if not sections:
        raise PromptError(f"{path}: no `### system` or `### user` section")
    return sections


class PromptLibrary:
    """Prompts by name and version from one folder, re-read when a file changes."""

    def __init__(self, folder: Path = PROMPTS_DIR) -> None:
        self.folder = Path(folder)
        self._cache: dict[Path, Prompt] = {}
        self.errors: dict[str, str] = {}  # file name -> why its latest edit is not in use

    def versions(self, name: str) -> list[int]:
        found = [
            int(m["version"])
            for p in self.folder.glob(f"{name}.v*.jinja")
            if (m := FILE_PATTERN.match(p.name)) and m["name"] == name
        ]
        return sorted(found)

    def published(self) -> dict[str, int]:
        """Prompt name -> the version pinned live in `published.json` (empty: none pinned)."""
        path = self.folder / PUBLISHED_FILE
        if not path.is_file():
            return {}
        try:
            pins = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PromptError(f"{path}: not JSON: {exc}") from exc
        if not isinstance(pins, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in pins.items()
        ):
            raise PromptError(f"{path}: must map prompt names to version numbers")
        return pins

    def live_version(self, name: str) -> int:
        """The version the agent uses: the pinned one, else the highest on disk."""
        pinned = self.published().get(name)
        if pinned is not None:
            return pinned
        versions = self.versions(name)
        if not versions:
            raise PromptError(f"no prompt {name!r} in {self.folder}")
        return versions[-1]

    def pin(self, name: str, version: int) -> None:
        """Make `version` of `name` the live one (written to a temp file, then renamed)."""
        self.get(name, version)  # exists and validates
        pins = {**self.published(), name: version}
        path = self.folder / PUBLISHED_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def get(self, name: str, version: int | None = None) -> Prompt:
        """The prompt `name` at `version` (default: the live version, see `live_version`)."""
        if version is None:
            version = self.live_version(name)
        path = self.folder / f"{name}.v{version}.jinja"
        if not path.is_file():
            raise PromptError(f"no prompt {name!r} version {version} ({path} does not exist)")
        cached = self._cache.get(path)
        if cached is not None and cached.mtime_ns == path.stat().st_mtime_ns:
            return cached
        try:
            prompt = parse_prompt(path)
        except PromptError as exc:
            if cached is None:
                raise
            self.errors[path.name] = str(exc)
            log.error("prompt edit rejected, keeping the last good version: %s", exc)
            return cached
        self.errors.pop(path.name, None)
        self._cache[path] = prompt
        return prompt

    def validate_all(self) -> list[Prompt]:
        """Every prompt file in the folder, parsed (the first bad one raises)."""
        return [parse_prompt(p) for p in sorted(self.folder.glob("*.jinja"))]
