"""Issue 17, storage: a full disk under the event log (a file-size limit on a real server
process, so writes fail as on a full disk) answers 503, never 201, and /healthz says
degraded; low free space alone is reported too; a retrain killed between writing
`arrays.npz` and `config.json` leaves the old model whole and serving."""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
from fastapi.testclient import TestClient

from app.web import create_app
from catalog.demo import DemoConfig, write_demo
from catalog.loading import load_dataset
from ranking.artifacts import artifacts_dir, load_trained
from runtime.container import Runtime
from tests.unit.api.test_event_durability import REPO, _free_port, _wait_up

FILE_LIMIT = 256_000  # bytes any file of the server may reach: the event log's WAL hits it


def test_a_full_disk_event_log_answers_503_and_healthz_is_degraded(tmp_path: Path) -> None:
    port, db = _free_port(), tmp_path / "events.sqlite3"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))

    process = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.api.event_server", str(port), str(db), "{}"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
    )
    url = f"http://127.0.0.1:{port}"
    acknowledged: list[int] = []
    codes: list[int] = []
    try:
        _wait_up(url, process)
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        sid = httpx.post(f"{url}/v1/sessions").json()["session_id"]
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(400):  # far more than the limit lets the log hold
                r = client.post("/v1/events", json={"session_id": sid, "item_id": "D00001"})
                codes.append(r.status_code)
                if r.status_code == 201:
                    acknowledged.append(r.json()["id"])
                else:
                    assert r.status_code == 503, r.text
                    assert "could not be stored" in r.json()["detail"]
                    assert r.headers["retry-after"]
            health = client.get("/healthz").json()
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
    assert set(codes) == {201, 503}, "the file-size limit was never reached"
    assert codes.index(503) > 0 and set(codes[codes.index(503) :]) == {503}  # none after
    assert health["status"] == "degraded" and health["events_db"] is False
    assert "write failed" in health["events_problem"]
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM events")}
    assert set(acknowledged) <= stored  # every 201 is on disk
    assert b"Traceback" not in stderr


def test_low_free_space_or_a_failed_probe_is_degraded_health(
    make_runtime: Callable[..., Runtime],
) -> None:
    client = TestClient(create_app(make_runtime(events_min_free_mb=1e12), screens=False))
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and health["events_db"] is False
    assert "MB free on the event log's disk" in health["events_problem"]
    rt = make_runtime(events_min_free_mb=0)
    fine = TestClient(create_app(rt, screens=False))
    assert fine.get("/healthz").json()["status"] == "ok"
    rt.events.close()  # the log cannot take the probe write
    closed = fine.get("/healthz").json()
    assert closed["status"] == "degraded" and "write probe failed" in closed["events_problem"]


RETRAIN_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from catalog.loading import load_dataset
    from ranking.artifacts import artifacts_dir, load_trained

    home, data, die = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "die"
    dataset = load_dataset(data)
    scorer = load_trained(home, dataset, "pop")
    scorer.counts = scorer.counts + 1000.0  # the retrained model
    write_text = Path.write_text

    def killed_before_config(self, *args, **kwargs):
        if self.name == "config.json":  # arrays.npz is written: die before the second file
            os.kill(os.getpid(), signal.SIGKILL)
        return write_text(self, *args, **kwargs)

    if die:
        Path.write_text = killed_before_config
    scorer.save(artifacts_dir(home, dataset.name) / "pop", fingerprint=dataset.fingerprint())
    """
)


def test_a_retrain_killed_between_the_two_writes_keeps_the_old_model(
    tmp_path: Path, isolated_home: Path
) -> None:
    data = tmp_path / "shop"
    write_demo(data, DemoConfig(items=150, users=40))
    trained = subprocess.run(
        [sys.executable, "-m", "longtail", "train", "--data", str(data), "--models", "pop"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert trained.returncode == 0, trained.stderr
    dataset = load_dataset(data)
    before = load_trained(isolated_home, dataset, "pop").counts.copy()
    folder = artifacts_dir(isolated_home, dataset.name) / "pop"
    files_before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def retrain(mode: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", RETRAIN_KILLED, str(isolated_home), str(data), mode],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )

    killed = retrain("die")
    assert killed.returncode == -9, killed.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files_before
    np.testing.assert_array_equal(load_trained(isolated_home, dataset, "pop").counts, before)
    assert json.loads((folder / "config.json").read_text())["name"] == "pop"

    finished = retrain("finish")  # the next retrain completes and replaces it
    assert finished.returncode == 0, finished.stderr
    np.testing.assert_array_equal(load_trained(isolated_home, dataset, "pop").counts, before + 1000)
    assert not [p.name for p in folder.parent.iterdir() if p.name.startswith(".pop.")]
