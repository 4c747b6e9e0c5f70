"""Item 4, access: secrets come only from the environment, and a default `longtail serve`
(with the embedded LLM too, marker llm) listens on loopback only. Session isolation, staff
login and the chat rate limit: tests/api/test_isolation_and_limits.py, tests/ui/test_screens.py."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from core.settings import Settings, load_settings
from runtime.auth import StaffAuth

SECRET_NAME = re.compile(r"(key|password|token|secret)$")


def _field_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _field_names(annotation, f"{prefix}{name}.")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_no_setting_holds_a_secret_only_the_name_of_its_variable() -> None:
    names = _field_names(Settings)
    assert {"llm.api_key_env", "encoder.api_key_env", "api.staff_password_env"} <= set(names)
    assert [n for n in names if SECRET_NAME.search(n)] == []


@pytest.mark.parametrize(
    ("table", "key"),
    [("llm", "api_key"), ("encoder", "api_key"), ("api", "staff_password"), ("api", "staff_token")],
)
def test_a_secret_in_the_config_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, key: str
) -> None:
    config = tmp_path / "longtail.toml"
    config.write_text(f'[{table}]\n{key} = "hunter2"\n')
    monkeypatch.setenv("LONGTAIL_CONFIG", str(config))
    with pytest.raises(ValidationError, match=f"{table}.{key} is not a setting|staff secrets"):
        load_settings()


def test_staff_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGTAIL_STAFF_PASSWORD", "from-the-env")
    auth = StaffAuth.from_settings(Settings().api)
    assert auth.password == "from-the-env" and not auth.generated


def test_every_default_address_is_loopback() -> None:
    settings = Settings()
    assert settings.api.host == settings.store.host == "127.0.0.1"


def _listening(pids: set[int]) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket owned by these processes."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            family = socket.AF_INET if width == 8 else socket.AF_INET6
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add((socket.inet_ntop(family, words), int(port, 16)))
    return found


def _tree(pid: int) -> set[int]:
    pids, frontier = {pid}, [pid]
    while frontier:
        children = Path(f"/proc/{frontier.pop()}/task")
        for task in children.glob("*/children"):
            for child in task.read_text().split():
                pids.add(int(child))
                frontier.append(int(child))
    return pids


@pytest.mark.slow
@pytest.mark.parametrize("llm", [False, pytest.param(True, marks=pytest.mark.llm)])
def test_a_default_server_listens_on_loopback_only(
    monkeypatch: pytest.MonkeyPatch, llm: bool
) -> None:
    if not Path("/proc/net/tcp").is_file():
        pytest.skip("needs /proc/net (Linux)")
    monkeypatch.setenv("LONGTAIL_DEMO__ITEMS", "200")
    monkeypatch.setenv("LONGTAIL_DEMO__USERS", "60")
    cli = [sys.executable, "-m", "longtail"]
    prepared = subprocess.run([*cli, "demo", "--no-serve"], capture_output=True, text=True)
    assert prepared.returncode == 0, prepared.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["serve", "--port", str(port)] + ([] if llm else ["--no-llm"])
    server = subprocess.Popen(
        [*cli, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        for _ in range(600):
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                if health.is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health.json()["llm"]["ok"] is llm
        sockets = _listening(_tree(server.pid))
        assert ("127.0.0.1", port) in sockets
        assert len(sockets) == (2 if llm else 1)  # the API, and the embedded LLM's port
        assert {address for address, _ in sockets} == {"127.0.0.1"}, sockets
    finally:
        server.terminate()
        server.wait(timeout=60)
