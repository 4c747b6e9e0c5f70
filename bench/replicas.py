"""`bench.load --replicas N`: the same load on 1..N replicas sharing Redis, PostgreSQL and a
Chroma server behind nginx round robin, and on the in-process default, in one run.

The default is one `longtail serve` holding sessions and buckets in memory, events in SQLite
and vectors in embedded Chroma, called directly. Each shared configuration is k replicas
(state_backend=redis, events_backend=postgres, store.mode=server) behind nginx; the replicas
start once and nginx is restarted over the first k. Every server ranks in its own process
(`api.rank_workers=0`), so a replica is one process. Two phases per configuration, each run
`--repeats` times (median kept):

    conversation  each shopper: a chat turn (reduced mode), then a view and a cart event of
                  its first suggestion, again and again (Redis session + lock, PostgreSQL)
    recommend     POST /v1/recommend with a history and usually a message (Chroma search)

Ratios are each configuration's throughput and p95 over the in-process default's. On a
small shared machine more replicas add processes, not cores: the point is correctness and
the overhead of the shared backends, and where it goes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.cluster import (
    ChromaServer,
    Nginx,
    PostgresServer,
    RedisServer,
    Replica,
    cpu_seconds,
    shared_env,
)
from bench.common import write_result
from bench.load_phases import median_phase, recommend_calls, run_phase, server

LIFTED = {  # the bench is one client: lift every per-client bucket
    f"LONGTAIL_API__{kind}_{knob}": value
    for kind in ("CHAT", "SESSIONS", "EVENTS", "RECOMMEND")
    for knob, value in (("BURST", "100000"), ("RATE_PER_MINUTE", "1000000"))
}
TURNS = ["a tent for two under $200", "cheaper please", "more like #1", "show me more"]


def conversation_calls(_n: int, client: httpx.Client) -> list[Callable[[], httpx.Response]]:
    """Chat turn, then a view and a cart of the newest suggestion, repeated: one shopper's
    session across whichever replica serves each request."""
    state: dict[str, Any] = {"session": {}, "item": None}

    def turn(message: str) -> httpx.Response:
        response = client.post("/v1/chat", json={"message": message, **state["session"]})
        if response.is_success:
            body = response.json()
            state["session"] = {"session_id": body["session_id"]}
            if body["suggestions"]:  # a turn may find nothing ("cheaper" past the cheapest)
                state["item"] = body["suggestions"][0]["item_id"]
        return response

    def event(kind: str) -> httpx.Response:
        if state["item"] is None or not state["session"]:
            return httpx.Response(599)  # nothing to click: counted as an error
        body = {**state["session"], "item_id": state["item"], "event": kind}
        return client.post("/v1/events", json=body)

    calls: list[Callable[[], httpx.Response]] = []
    for i in range(1000):
        message = TURNS[i % len(TURNS)]
        calls += [lambda m=message: turn(m), lambda: event("view"), lambda: event("cart")]
    return calls


def run(args: Any, histories: list[list[str]], data: Path) -> Path:
    """Every configuration in one run; writes bench/results/load_replicas.json."""
    phases: dict[str, dict[str, Any]] = {}

    def measure(url: str, parts: dict[str, list[int]]) -> dict[str, Any]:
        """Both phases, and the CPU seconds each part (its processes) spent on them."""
        per = max(1, args.requests // args.sessions)
        out: dict[str, Any] = {}
        before = _cpu(parts)
        for name, calls in (
            ("conversation", conversation_calls),
            ("recommend", recommend_calls(histories)),
        ):
            runs = [
                run_phase(args.sessions, per, args.max_seconds, calls, url, 120)
                for _ in range(args.repeats)
            ]
            out[name] = median_phase(runs)
        after = _cpu(parts)
        out["cpu_seconds"] = {k: round(after[k] - before[k], 1) for k in parts}
        return out

    # SIGTERM (a stopped bench) unwinds like Ctrl-C, so the servers it started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with server(False, root, {"LONGTAIL_API__RANK_WORKERS": "0"}) as url:
            # the server is this process's only child now
            phases["in_process"] = measure(url, {"server": _children(), "bench client": [-1]})
        print("in_process", _brief(phases["in_process"]), flush=True)
        redis_server, postgres = RedisServer(root), PostgresServer()
        chroma = ChromaServer(root / "chroma")
        replicas: list[Replica] = []
        try:
            env = {**LIFTED, **shared_env(redis_server.url, postgres.dsn, chroma.port)}
            _ingest_into_server(env)
            replicas = [Replica(env, root / f"replica{n}.log") for n in range(args.replicas)]
            for replica in replicas:
                replica.wait_ready()
            for k in range(1, args.replicas + 1):
                folder = root / f"nginx{k}"
                folder.mkdir()
                nginx = Nginx(folder, [r.port for r in replicas[:k]])
                parts = {
                    "replicas": [r.process.pid for r in replicas[:k]],
                    "redis": [redis_server.process.pid],
                    "postgres": [postgres.process.pid],
                    "chroma": [chroma.process.pid],
                    "nginx": [nginx.process.pid],
                    "bench client": [-1],
                }
                try:
                    phases[f"replicas_{k}"] = measure(nginx.url, parts)
                finally:
                    nginx.stop()
                print(f"replicas_{k}", _brief(phases[f"replicas_{k}"]), flush=True)
            events = _count_events(postgres.dsn)
        finally:
            for replica in replicas:
                replica.stop()
            chroma.stop()
            postgres.stop()
            redis_server.stop()
    base = phases["in_process"]
    ratios = {
        config: {
            phase: {
                "throughput_ratio": round(v["throughput_rps"] / base[phase]["throughput_rps"], 2),
                "p95_ratio": round(v["p95_ms"] / base[phase]["p95_ms"], 2),
            }
            for phase, v in figures.items()
            if phase != "cpu_seconds"
        }
        for config, figures in phases.items()
        if config != "in_process"
    }
    return write_result(
        "load_replicas",
        {
            "data": str(data),
            "command": f"python -m bench.load --replicas {args.replicas} --sessions "
            f"{args.sessions} --requests {args.requests} --repeats {args.repeats}",
            "in_process": "one longtail serve: sessions and buckets in memory, SQLite events, "
            "embedded Chroma; called directly",
            "replicas": "k longtail serve --no-llm behind nginx round robin: Redis sessions, "
            "locks and buckets, PostgreSQL events, Chroma server; all on this machine",
            "rank_workers": 0,
            "events_in_postgres": events,
            "ratios_to_in_process": ratios,
            "phases": phases,
        },
    )


def _ingest_into_server(env: dict[str, str]) -> None:
    """The demo catalog's vectors into the Chroma server (models are already trained)."""
    done = subprocess.run(
        [sys.executable, "-m", "longtail", "demo", "--no-serve", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing the demo on the Chroma server failed:\n{done.stderr}")
    print("chroma server:", json.loads(done.stdout)["store"], flush=True)


def _children() -> list[int]:
    """Pids of this process's children."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if stat[stat.rindex(")") + 2 :].split()[1] == me:
                found.append(int(entry.name))
    return found


def _cpu(parts: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each part; pid -1 is this process alone (the load client)."""
    own = sum(os.times()[:2])
    return {
        name: sum(own if pid == -1 else cpu_seconds(pid) for pid in pids)
        for name, pids in parts.items()
    }


def _count_events(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT COUNT(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def _brief(figures: dict[str, Any]) -> dict[str, Any]:
    keys = ("throughput_rps", "p95_ms", "errors")
    brief = {p: {k: v[k] for k in keys} for p, v in figures.items() if p != "cpu_seconds"}
    return {**brief, "cpu_seconds": figures["cpu_seconds"]}
