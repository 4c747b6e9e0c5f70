"""Item 4, access: a default `longtail serve` (a real server process; with the embedded LLM
too, marker llm) listens on loopback only. Secrets: tests/unit/reliability/test_secrets.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


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
