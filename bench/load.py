"""Load on a real `longtail serve` over loopback: N concurrent shopper sessions.

Three phases, each bounded in requests and in seconds:

    recommend     POST /v1/recommend: a demo shopper's last 20 events, a message, filters
    chat-reduced  POST /v1/chat with the server started --no-llm (every turn reduced mode)
    chat-llm      POST /v1/chat with the embedded LLM; more sessions than api.chat_concurrency,
                  so turns queue (the check: queued, not failed)

Each phase reports throughput, p50/p95/p99 latency, the status codes and the error rate
(anything but 2xx), and the 1-minute load average sampled every second during the phase
(the machine is shared). The recommend phase runs `--repeats` times and reports the median
of each figure (errors are summed). Its baselines, measured in the same run on the same
requests, are the server as it was before ranking workers and the ONNX encoder (ranking
in the server process, `api.rank_workers=0`, with the torch encoder), and the same with
the ONNX encoder: the ratios say what each change buys under load.
The server is this process's child on 127.0.0.1 with its own event log; the per-client
chat rate limit is lifted for it (one client sends everything).
Needs the demo store prepared (`longtail demo --no-serve`):

    nice -n 10 .venv/bin/python -m bench.load [--sessions 4] [--requests 1200] [--repeats 3]
        [--no-baseline] [--no-llm-phase]

`--replicas N` instead measures 1..N replicas over shared Redis, PostgreSQL and a Chroma
server behind nginx against the in-process default (bench.replicas).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
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

from bench.common import write_result
from core.offline import go_offline
from core.settings import load_settings

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
# Same-run baselines: ranking inside the server process, with each encoder.
BASELINES = {
    "recommend_in_process_torch_encoder": "sentence-transformers",
    "recommend_in_process": "onnx",
}
CHAT = ["a tent for two under $200", "cheaper please", "more like #1"]


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


def chat_calls(n: int, client: httpx.Client) -> list[Callable[[], httpx.Response]]:
    """One conversation: the first turn opens a session that the next turns continue."""
    session: dict[str, str] = {}

    def turn(message: str) -> httpx.Response:
        response = client.post("/v1/chat", json={"message": message, **session})
        if response.is_success:
            session["session_id"] = response.json()["session_id"]
        return response

    return [lambda m=m: turn(m) for m in CHAT * 10]


def demo_histories(data: Path, n: int = 200) -> list[list[str]]:
    from catalog.loading import load_dataset

    dataset = load_dataset(data)
    ids = dataset.item_ids
    return [[ids[i] for i in seq[-20:]] for seq in dataset.sequences()[:n] if len(seq)]


def main() -> None:
    go_offline()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4, help="concurrent shoppers")
    parser.add_argument("--requests", type=int, default=1200, help="recommend requests a run")
    parser.add_argument("--repeats", type=int, default=3, help="recommend runs (median kept)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the two baseline servers")
    parser.add_argument("--chat-turns", type=int, default=3, help="chat turns per session")
    parser.add_argument("--llm-sessions", type=int, default=4, help="shoppers, LLM phase")
    parser.add_argument("--llm-turns", type=int, default=1, help="turns per shopper, LLM phase")
    parser.add_argument("--max-seconds", type=float, default=120, help="cap per phase")
    parser.add_argument("--no-llm-phase", action="store_true", help="skip the embedded LLM")
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="measure 1..N replicas over Redis, PostgreSQL and a Chroma server behind nginx "
        "against the in-process default (writes load_replicas.json)",
    )
    args = parser.parse_args()
    if not 0 <= args.replicas <= 8:
        parser.error(f"--replicas {args.replicas}: give 1 to 8 (0: the usual phases)")

    from longtail.prepare import stale_models

    settings = load_settings()
    data = settings.api.data or settings.demo_dir
    from catalog.loading import load_dataset

    if stale_models(settings, load_dataset(data)):
        raise SystemExit(f"{data} is not trained: run `longtail demo --no-serve` first")
    histories = demo_histories(data)
    if args.replicas > 0:
        from bench.cluster import MissingServer
        from bench.replicas import run as run_replicas

        try:
            print(f"wrote {run_replicas(args, histories, data)}")
        except MissingServer as exc:
            raise SystemExit(f"bench.load --replicas: {exc}") from None
        return
    phases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as events:
        per = max(1, args.requests // args.sessions)

        def recommend(url: str, repeats: int) -> dict[str, Any]:
            calls = recommend_calls(histories)
            runs = [
                run_phase(args.sessions, per, args.max_seconds, calls, url, 30)
                for _ in range(repeats)
            ]
            return median_phase(runs)

        for name, kind in BASELINES.items() if not args.no_baseline else ():
            overrides = {"LONGTAIL_API__RANK_WORKERS": "0", "LONGTAIL_ENCODER__KIND": kind}
            with server(False, Path(events), overrides) as url:
                phases[name] = recommend(url, 1)
            print(name, phases[name], flush=True)
        with server(llm=False, events_dir=Path(events)) as url:
            phases["recommend"] = recommend(url, args.repeats)
            print("recommend", phases["recommend"], flush=True)
            phases["chat_reduced"] = run_phase(
                args.sessions, args.chat_turns, args.max_seconds, chat_calls, url, 60
            )
            print("chat_reduced", phases["chat_reduced"], flush=True)
        if not args.no_llm_phase:
            with server(llm=True, events_dir=Path(events)) as url:
                health = httpx.get(f"{url}/healthz").json()["llm"]
                phases["chat_llm"] = run_phase(
                    args.llm_sessions, args.llm_turns, args.max_seconds * 5, chat_calls, url, 600
                )
                phases["chat_llm"]["llm"] = health
                print("chat_llm", phases["chat_llm"], flush=True)
    rec = phases["recommend"]
    ratios = {
        f"recommend_throughput_ratio_to_{name}": (
            round(rec["throughput_rps"] / phases[name]["throughput_rps"], 2)
            if name in phases
            else None
        )
        for name in BASELINES
    }
    path = write_result(
        "load",
        {
            "data": str(data),
            "server": "longtail serve: one uvicorn process and its ranking workers, loopback",
            "encoder": settings.encoder.kind,
            "rank_workers": settings.api.rank_worker_count(),
            "chat_concurrency": settings.api.chat_concurrency,
            **ratios,
            "target": "recommend >= 50 req/s, p95 < 200 ms, zero errors",
            "target_met": rec["throughput_rps"] >= 50 and rec["p95_ms"] < 200 and not rec["errors"],
            "phases": phases,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
