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
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import write_result
from bench.load_phases import median_phase, recommend_calls, run_phase, server
from core.offline import go_offline
from core.settings import load_settings

# Same-run baselines: ranking inside the server process, with each encoder.
BASELINES = {
    "recommend_in_process_torch_encoder": "sentence-transformers",
    "recommend_in_process": "onnx",
}
CHAT = ["a tent for two under $200", "cheaper please", "more like #1"]


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
