"""Ingest throughput against the raw encoder on the same texts, in the same run.

The ratio (ingest items/s ÷ encoder texts/s) is what the store and its bookkeeping cost:
target ≥ 0.85. Runs alternate (encoder, ingest, encoder, ...) so that load from other
processes hits both sides alike; medians are reported. Run it with `nice`:

    nice -n 10 .venv/bin/python -m bench.ingest_throughput --items 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import bench_catalog, write_result
from core.offline import go_offline
from core.settings import Settings
from retrieval.encoder_factory import build_encoder
from retrieval.encoders import product_text
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    go_offline()

    dataset = bench_catalog(args.items)
    settings = Settings()
    encoder = build_encoder(settings.encoder)  # the configured encoder (default: onnx)
    texts = [product_text(p, settings.encoder.template) for p in dataset.products]
    encoder.encode(texts[:64])  # warm-up: first-call allocations are nobody's cost

    raw: list[float] = []
    stored: list[float] = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        encoder.encode(texts)
        raw.append(len(texts) / (time.perf_counter() - started))
        with tempfile.TemporaryDirectory() as home:
            run = settings.model_copy(update={"home": Path(home)})
            layout = StoreLayout.for_data(run, Path(home) / "bench-data")
            report = ingest(dataset, run, layout, encoder, progress=False)
        stored.append(report.items / report.seconds)
        print(f"repeat {repeat + 1}: encoder {raw[-1]:.1f}/s, ingest {stored[-1]:.1f}/s")

    ratios = [s / r for s, r in zip(stored, raw, strict=True)]
    result = {
        "items": len(texts),
        "repeats": args.repeats,
        "encoder": encoder.name,
        "encoder_kind": settings.encoder.kind,
        "encoder_batch_size": settings.encoder.batch_size,
        "store_batch_size": settings.store.batch_size,
        "encoder_texts_per_second": [round(v, 1) for v in raw],
        "ingest_items_per_second": [round(v, 1) for v in stored],
        "ratio_per_repeat": [round(v, 3) for v in ratios],
        "encoder_texts_per_second_median": round(statistics.median(raw), 1),
        "ingest_items_per_second_median": round(statistics.median(stored), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "target_ratio": 0.85,
    }
    print(f"ratio (median of {args.repeats}): {result['ratio_median']}")
    print(f"wrote {write_result('ingest_throughput', result)}")


if __name__ == "__main__":
    main()
