"""Issue 17: a prompt template is not a way into the server. The studio's Validate refuses a
template that walks Python internals (the finding: one reached `os` and ran `os.getpid()`),
a name built at render time is stopped by the sandbox, saving a draft changes nothing live,
and secrets and session ids stay out of reprs and logs."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.web import create_app
from core.log_ids import log_id
from runtime.auth import StaffAuth
from runtime.container import Runtime
from serving.prompts import PROMPTS_DIR, PromptError, PromptLibrary
from tests.support.runtime import STAFF
from ui.prompt_versions import PromptStore

HEAD = "---\ndescription: probe\nvariables: [message]\n---\n### user\n"
ESCAPES = [
    "{{ cycler.__init__.__globals__.os.getpid() }} {{ message }}",
    "{{ message.__class__.__mro__[1].__subclasses__() }}",
    "{{ message['__class__'] }}",
    "{{ message|attr('__class__') }}",
    "{{ lipsum._TemplateReference__context }} {{ message }}",
]


@pytest.fixture
def store(tmp_path: Path) -> PromptStore:
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    return PromptStore(PromptLibrary(folder), tmp_path / "audit.jsonl")


@pytest.mark.parametrize("body", ESCAPES)
def test_validate_refuses_a_template_that_reaches_for_python_internals(
    store: PromptStore, body: str
) -> None:
    with pytest.raises(PromptError, match="is not allowed in a prompt template") as refused:
        store.validate("answer", HEAD + body + "\n")
    assert "_" in str(refused.value).split("access to ")[1]  # names what it refused
    before = sorted(p.name for p in store.folder.iterdir())
    with pytest.raises(PromptError):
        store.save("answer", HEAD + body + "\n", "sneaky")
    assert sorted(p.name for p in store.folder.iterdir()) == before


def test_a_name_built_at_render_time_is_stopped_by_the_sandbox(tmp_path: Path) -> None:
    """Names assembled from pieces pass the static check; the sandbox refuses them."""
    for n, body in enumerate(
        [
            "{{ message|attr('__cl' ~ 'ass__') }}",
            "{{ message[('__cl' ~ 'ass__')] }}",
            "{{ message.upper|attr('__glo' ~ 'bals__') }}",
        ]
    ):
        (tmp_path / f"probe.v{n + 1}.jinja").write_text(HEAD + body + "\n")
        prompt = PromptLibrary(tmp_path).get("probe", n + 1)
        with pytest.raises(PromptError, match=r"sandbox|has no attribute|is undefined"):
            prompt.render(message="hi")


def test_a_sandboxed_template_cannot_change_what_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "probe.v1.jinja").write_text(
        "---\ndescription: probe\nvariables: [items]\n---\n### user\n"
        "{{ items.append('x') }}{{ items|length }}\n"
    )
    items = ["a"]
    with pytest.raises(PromptError, match="sandbox"):
        PromptLibrary(tmp_path).get("probe").render(items=items)
    assert items == ["a"]


def test_saving_a_draft_does_not_publish_it(store: PromptStore) -> None:
    live = store.live("answer")
    text = store.source("answer", live).replace("friendly", "curt")
    draft = store.save("answer", text, "curt tone")
    assert draft > live
    assert store.library.get("answer").version == live
    assert PromptLibrary(store.folder).get("answer").version == live  # a restart too
    with pytest.raises(PromptError, match="needs the name"):
        store.publish("answer", draft, "")  # nobody: refused, nothing changes
    assert store.live("answer") == live


def test_staff_secrets_are_never_in_a_repr() -> None:
    auth = StaffAuth(user="staff", password="hunter2-pass", token="tok-123456")
    for text in (repr(auth), str(auth), f"{auth!r}"):
        assert "hunter2-pass" not in text and "tok-123456" not in text
    assert "staff" in repr(auth)


def test_session_ids_are_hashed_in_logs(
    make_runtime: Callable[..., Runtime], caplog: pytest.LogCaptureFixture, item_ids: list[str]
) -> None:
    rt = make_runtime()
    client = TestClient(create_app(rt, screens=False))
    sid = client.post("/v1/sessions").json()["session_id"]
    rt.events.close()  # the log cannot store anything now
    with caplog.at_level(logging.INFO):
        refused = client.post("/v1/events", json={"session_id": sid, "item_id": item_ids[0]})
    assert refused.status_code == 503
    assert log_id(sid) in caplog.text
    assert sid not in caplog.text
    assert STAFF.password and STAFF.password not in repr(rt)


def test_turn_traces_name_sessions_by_hash(
    make_runtime: Callable[..., Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(create_app(make_runtime(), screens=False))
    with caplog.at_level(logging.INFO, logger="longtail.agent.turns"):
        sid = client.post("/v1/chat", json={"message": "a desk lamp"}).json()["session_id"]
    traces = [r.getMessage() for r in caplog.records if r.name == "longtail.agent.turns"]
    assert traces and all(f'"session_id":"{log_id(sid)}"' in t for t in traces)
    assert sid not in caplog.text
