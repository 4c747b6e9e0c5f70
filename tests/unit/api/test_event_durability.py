"""A server killed with SIGKILL during a burst of events loses none it acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_kill_9_during_a_burst_loses_no_acknowledged_event(tmp_path: Path) -> None:
    port, db = _free_port(), tmp_path / "events.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.api.event_server", str(port), str(db)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    acknowledged: list[int] = []
    lock = threading.Lock()
    try:
        _wait_up(url, process)
        session_id = httpx.post(f"{url}/v1/sessions").json()["session_id"]
        item = "D00001"  # the first demo product

        def burst() -> None:
            with httpx.Client(timeout=5) as client:
                while True:
                    try:
                        r = client.post(
                            f"{url}/v1/events", json={"session_id": session_id, "item_id": item}
                        )
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 201:
                        with lock:
                            acknowledged.append(r.json()["id"])

        workers = [threading.Thread(target=burst) for _ in range(4)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        for w in workers:
            w.join(10)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM events")}
    assert len(acknowledged) >= 200
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged events lost"
