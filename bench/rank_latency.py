"""Hybrid ranking latency per request, against the semantic-visor search it builds on.

Three request kinds over a trained, ingested dataset (the demo store by default):

    history           a shopper's last 20 events, no message
    message           a short query-like message, no history (an anonymous shopper)
    history+message   both, plus a category and a price filter

The baseline, measured in the same run on the same messages, is `Retriever.search(message,
k=100)`: the dense + BM25 query that the ranker issues for its semantic candidates. Its
ratio says what the rest of the hybrid (intent encoder, CF, features, combiner, re-rank)
costs on top. Needs `longtail ingest` and `longtail train` for the dataset first:

    nice -n 10 .venv/bin/python -m bench.rank_latency [--data DIR] [--requests 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import write_result
from core.filters import Filters
from core.offline import go_offline
from core.settings import load_settings
from ranking.intent import short_query
from ranking.request import RankRequest

HISTORY = 20


def timed(calls: list[Callable[[], object]]) -> list[float]:
    """Milliseconds per call, after one untimed warm-up call."""
    calls[0]()
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append(1000 * (time.perf_counter() - started))
    return out


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "n": len(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="dataset folder (default: the demo store)")
    parser.add_argument("--requests", type=int, default=200, help="requests per kind")
    args = parser.parse_args()
    go_offline()
    from ranking.hybrid_ranker import HybridRanker

    settings = load_settings()
    data = args.data or settings.demo_dir
    ranker = HybridRanker.open(settings, data)
    dataset = ranker.dataset
    rng = np.random.default_rng(7)
    sequences = [s for s in dataset.sequences() if len(s) >= 2]
    users = rng.choice(len(sequences), size=args.requests, replace=len(sequences) < args.requests)
    items = rng.choice(dataset.n_items, size=args.requests)
    ids = dataset.item_ids
    histories = [tuple(ids[i] for i in sequences[u][-HISTORY:]) for u in users]
    messages = [short_query(dataset.products[i]) for i in items]
    filtered = [
        Filters(categories=(dataset.products[i].category,), max_price=200.0)
        if dataset.products[i].category
        else Filters()
        for i in items
    ]
    kinds = {
        "history": [RankRequest(history=h) for h in histories],
        "message": [RankRequest(message=m) for m in messages],
        "history+message": [
            RankRequest(history=h, message=m, filters=f)
            for h, m, f in zip(histories, messages, filtered, strict=True)
        ],
    }
    results: dict[str, dict[str, float]] = {}
    for kind, requests in kinds.items():
        results[kind] = summary(timed([lambda r=r: ranker.rank(r) for r in requests]))
    visor = summary(timed([lambda m=m: ranker.retriever.search(m, k=100) for m in messages]))
    ratio = results["message"]["p50_ms"] / visor["p50_ms"]
    path = write_result(
        "rank_latency",
        {
            "dataset": dataset.name,
            "items": dataset.n_items,
            "requests_per_kind": args.requests,
            "hybrid": results,
            "baseline_visor_search_k100": visor,
            "ratio_message_p50_to_visor_p50": round(ratio, 2),
        },
    )
    for kind, row in results.items():
        print(f"{kind:>16}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms")
    print(f"{'visor search':>16}: p50 {visor['p50_ms']:.1f} ms (ratio {ratio:.2f}); {path}")


if __name__ == "__main__":
    main()
