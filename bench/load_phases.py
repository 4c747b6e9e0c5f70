"""The parts of a load run that `bench.load` and `bench.replicas` share: a loopback server, one
bounded phase of concurrent calls with the load average sampled, and the recommend calls."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

MESSAGES = [
    "a warm sleeping bag",
    "waterproof hiking backpack under $80",
    "quiet coffee grinder",
    "dog bed for a large dog",
    "ergonomic office chair",
    "cheap resistance bands",
    "a gift for a board game fan",
    "travel pillow",
    "",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(llm: bool, events_dir: Path, overrides: dict[str, str] | None = None) -> Iterator[str]:
    """`longtail serve` on a free loopback port; yields its base URL once /healthz answers.
    `overrides` are extra LONGTAIL_* environment settings."""
    port = free_port()
    env = {
        **os.environ,
        "LONGTAIL_API__EVENTS_DB": str(events_dir / f"events-{port}.sqlite3"),
        # The bench is one client: lift every per-client bucket.
        **{
            f"LONGTAIL_API__{kind}_{knob}": value
            for kind in ("CHAT", "SESSIONS", "EVENTS", "RECOMMEND")
            for knob, value in (("BURST", "100000"), ("RATE_PER_MINUTE", "1000000"))
        },
        **(overrides or {}),
    }
    args = [sys.executable, "-m", "longtail", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*args] + ([] if llm else ["--no-llm"]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"longtail serve exited with {process.returncode}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("longtail serve did not answer /healthz within 600 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


class LoadSampler:
    """The 1-minute load average, every second, in a background thread."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(1.0)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        values = self.samples or [os.getloadavg()[0]]
        return {"mean": round(float(np.mean(values)), 2), "max": round(max(values), 2)}


def run_phase(
    sessions: int,
    per_session: int,
    max_seconds: float,
    make_calls: Callable[[int, httpx.Client], list[Callable[[], httpx.Response]]],
    url: str,
    timeout_s: float,
) -> dict[str, Any]:
    """`sessions` threads, each sending its calls in order; stops starting new calls past
    `max_seconds`. Latency is per call, queueing in the server included."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    started = time.perf_counter()

    def shopper(n: int) -> None:
        with httpx.Client(base_url=url, timeout=timeout_s) as client:
            for call in make_calls(n, client)[:per_session]:
                if time.perf_counter() - started > max_seconds:
                    return
                t = time.perf_counter()
                try:
                    status = str(call().status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    latencies.append((time.perf_counter() - t) * 1000)
                    statuses[status] += 1

    with LoadSampler() as load, ThreadPoolExecutor(sessions) as pool:
        list(pool.map(shopper, range(sessions)))
    wall = time.perf_counter() - started
    done = len(latencies)
    errors = sum(c for s, c in statuses.items() if not s.startswith("2"))
    ms = np.array(latencies) if latencies else np.zeros(1)
    return {
        "sessions": sessions,
        "requests": done,
        "seconds": round(wall, 2),
        "throughput_rps": round(done / wall, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
        "errors": errors,
        "error_rate": round(errors / done, 4) if done else None,
        "statuses": dict(statuses),
        "load_avg_1m": load.summary(),
    }


def median_phase(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One phase's figures as the median over repeated runs; errors and statuses summed."""
    out = dict(runs[len(runs) // 2])
    for key in ("seconds", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "max_ms"):
        out[key] = round(float(np.median([r[key] for r in runs])), 2)
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    out["error_rate"] = round(out["errors"] / out["requests"], 4) if out["requests"] else None
    statuses: Counter[str] = Counter()
    for r in runs:
        statuses.update(r["statuses"])
    out["statuses"] = dict(statuses)
    out["runs"] = [
        {k: r[k] for k in ("throughput_rps", "p95_ms", "errors", "load_avg_1m")} for r in runs
    ]
    return out


def recommend_calls(histories: list[list[str]]) -> Callable[..., list[Callable[[], Any]]]:
    def make(n: int, client: httpx.Client) -> list[Callable[[], httpx.Response]]:
        rng = np.random.default_rng(n)
        calls = []
        for i in range(10_000):
            history = histories[(n * 7919 + i) % len(histories)]
            body: dict[str, Any] = {"history": history, "k": 10}
            message = MESSAGES[int(rng.integers(len(MESSAGES)))]
            if message:
                body["message"] = message
            if i % 3 == 0:
                body["filters"] = {"max_price": 150}
            calls.append(lambda body=body: client.post("/v1/recommend", json=body))
        return calls

    return make
