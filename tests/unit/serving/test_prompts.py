from __future__ import annotations

import os
from pathlib import Path

import pytest

from serving.prompts import PROMPTS_DIR, PromptError, PromptLibrary, parse_prompt

GOOD = """---
description: test
variables: [message, items]
---
### system
Be brief.
### user
{{ message }} {% for i in items %}{{ i }}{% endfor %}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_prompt_validates() -> None:
    prompts = PromptLibrary(PROMPTS_DIR).validate_all()
    assert {p.name for p in prompts} >= {"intent", "answer", "tools"}


def test_render_gives_chat_messages(tmp_path: Path) -> None:
    write(tmp_path, "demo.v1.jinja", GOOD)
    messages = PromptLibrary(tmp_path).get("demo").render(message="hi", items=["a", "b"])
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi ab"},
    ]


def test_missing_and_extra_variables_are_clear_errors(tmp_path: Path) -> None:
    write(tmp_path, "demo.v1.jinja", GOOD)
    prompt = PromptLibrary(tmp_path).get("demo")
    with pytest.raises(PromptError, match=r"needs variable.*items"):
        prompt.render(message="hi")
    with pytest.raises(PromptError, match=r"does not declare.*extra"):
        prompt.render(message="hi", items=[], extra=1)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (GOOD.replace("variables: [message, items]", "variables: [message]"), "undeclared.*items"),
        (GOOD.replace("[message, items]", "[message, items, unused]"), "never uses.*unused"),
        (GOOD.replace("{% endfor %}", ""), "syntax error"),
        (GOOD.replace("---\ndescription", "description"), "front matter"),
        (GOOD.replace("### system\n", "").replace("### user\n", ""), "text before the first"),
    ],
)
def test_bad_files_are_refused_at_load(tmp_path: Path, text: str, error: str) -> None:
    path = write(tmp_path, "demo.v1.jinja", text)
    with pytest.raises(PromptError, match=error):
        parse_prompt(path)


def test_versions_latest_by_default_and_by_number(tmp_path: Path) -> None:
    write(tmp_path, "demo.v1.jinja", GOOD)
    write(tmp_path, "demo.v2.jinja", GOOD.replace("Be brief.", "Be kind."))
    library = PromptLibrary(tmp_path)
    assert library.versions("demo") == [1, 2]
    assert library.get("demo").version == 2
    assert library.get("demo", 1).render(message="", items=[])[0]["content"] == "Be brief."
    with pytest.raises(PromptError, match="version 7"):
        library.get("demo", 7)
    with pytest.raises(PromptError, match="no prompt 'other'"):
        library.get("other")


def test_edits_are_picked_up_without_restart(tmp_path: Path) -> None:
    path = write(tmp_path, "demo.v1.jinja", GOOD)
    library = PromptLibrary(tmp_path)
    assert library.get("demo").render(message="", items=[])[0]["content"] == "Be brief."
    write(tmp_path, "demo.v1.jinja", GOOD.replace("Be brief.", "Be very brief."))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert library.get("demo").render(message="", items=[])[0]["content"] == "Be very brief."


def test_a_broken_edit_keeps_the_last_good_version(tmp_path: Path) -> None:
    path = write(tmp_path, "demo.v1.jinja", GOOD)
    library = PromptLibrary(tmp_path)
    library.get("demo")
    write(tmp_path, "demo.v1.jinja", GOOD.replace("{{ message }}", "{{ mesage }}"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    prompt = library.get("demo")
    assert prompt.variables == ("message", "items")
    assert "mesage" in library.errors["demo.v1.jinja"]
