"""Query latency at 10k and 100k products: k=50 with a price and a category filter.

Times, per query, each part of a search and the whole of it, against the floor: a
brute-force numpy scan (filter mask, dot products, top-k) over the same vectors:

    encode        the query text through the configured encoder (default: MiniLM on ONNX)
    dense         Retriever.search(vector, k=50, filters): the filtered Chroma query as
                  search runs it (embedded PersistentClient), mask and bookkeeping
    chroma_where  the same query through Chroma's metadata `where` filter instead
    sparse        BM25 scores of every product, masked by the filter
    hybrid        Retriever.search(text, k=50, filters): encode, dense, sparse, fusion
    numpy_scan    the floor for `dense`

Product vectors come from the bench cache (see bench/common.py); `--fill-missing` fills
chunks that are not cached yet with jittered real vectors of the same product type, and
the result records how many vectors were real. Run it with `nice`:

    nice -n 10 .venv/bin/python -m bench.query_latency --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from bench.common import (
    PrecomputedEncoder,
    bench_catalog,
    cache_dir,
    cached_vectors,
    fill_missing,
    write_result,
)
from catalog.demo_vocabulary import CATEGORIES
from core.filters import Filters
from core.offline import go_offline
from core.settings import Settings
from retrieval.encoder_factory import build_encoder
from retrieval.encoders import Encoder, product_text
from retrieval.ingest import ingest
from retrieval.layout import StoreLayout
from retrieval.search import Retriever

K = 50


def queries(n: int, seed: int = 7) -> list[tuple[str, Filters]]:
    """Shopper-like queries ("waterproof hiking backpack") with the type's category and a
    price cap at the middle of the type's price range."""
    rng = np.random.default_rng(seed)
    kinds = [(c["name"], t) for c in CATEGORIES for t in c["types"]]
    made = []
    for _ in range(n):
        category, kind = kinds[rng.integers(len(kinds))]
        feature = str(rng.choice(kind["features"]))
        cap = round(sum(kind["price"]) / 2, 2)
        made.append((f"{feature} {kind['name']}", Filters(categories=(category,), max_price=cap)))
    return made


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def bench_size(
    n_items: int, encoder: Encoder, settings: Settings, args: argparse.Namespace
) -> dict:
    dataset = bench_catalog(n_items)
    texts = [product_text(p, settings.encoder.template) for p in dataset.products]
    chunks = cached_vectors(encoder, texts, cache_dir(settings, encoder), compute=not args.fill)
    vectors, real = fill_missing(chunks, dataset.products)
    store_home = settings.home / "cache" / "bench" / "stores"
    run = settings.model_copy(update={"home": store_home})
    data_dir = store_home / f"catalog-{n_items}"
    started = time.perf_counter()
    report = ingest(
        dataset,
        run,
        StoreLayout.for_data(run, data_dir),
        PrecomputedEncoder(encoder, texts, vectors),
        progress=True,
    )
    print(f"{n_items}: store ready in {time.perf_counter() - started:.0f}s ({report.embedded} new)")
    retriever = Retriever.open(run, data_dir, encoder)

    categories = np.array([p.category for p in dataset.products])
    prices = np.array([np.nan if p.price is None else p.price for p in dataset.products])

    def numpy_scan(vector: np.ndarray, filters: Filters) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            keep = np.isin(categories, filters.categories) & (prices <= filters.max_price)
        scores = np.where(keep, vectors @ vector, -np.inf)
        top = np.argpartition(-scores, K)[:K]
        return top[np.argsort(-scores[top])]

    workload = queries(args.queries)
    samples: dict[str, list[float]] = {
        name: [] for name in ("encode", "dense", "chroma_where", "sparse", "hybrid", "numpy_scan")
    }
    overlap = []
    for n, (text, filters) in enumerate(workload):
        vector = encoder.encode([text])[0]
        if n < args.warmup:
            retriever.search(text, k=K, filters=filters)
            continue
        samples["encode"].append(timed(lambda text=text: encoder.encode([text])))
        samples["dense"].append(timed(lambda v=vector, f=filters: retriever.search(v, K, f)))
        samples["chroma_where"].append(
            timed(lambda v=vector, f=filters: retriever.store.query(v, K, filters=f))
        )
        mask = retriever.snapshot.mask(filters)
        samples["sparse"].append(
            timed(lambda t=text, m=mask: np.where(m, retriever.snapshot.sparse.scores(t), 0))
        )
        samples["hybrid"].append(
            timed(lambda t=text, f=filters: retriever.search(t, k=K, filters=f))
        )
        samples["numpy_scan"].append(timed(lambda v=vector, f=filters: numpy_scan(v, f)))
        exact = {dataset.products[i].item_id for i in numpy_scan(vector, filters)}
        found = {c.item_id for c in retriever.search(vector, k=K, filters=filters)}
        overlap.append(len(exact & found) / len(exact))
    result = {name: percentiles(values) for name, values in samples.items()}
    return {
        "items": n_items,
        "real_vectors": real,
        "queries_timed": len(samples["hybrid"]),
        **result,
        "dense_recall_at_50_vs_exact": round(float(np.mean(overlap)), 4),
        "dense_p50_over_numpy_p50": round(
            result["dense"]["p50_ms"] / result["numpy_scan"]["p50_ms"], 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=220)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--fill-missing",
        dest="fill",
        action="store_true",
        help="do not embed uncached chunks: fill them (see bench/common.py)",
    )
    args = parser.parse_args()
    go_offline()
    settings = Settings()
    encoder = build_encoder(settings.encoder)  # the configured encoder (default: onnx)
    rows = [bench_size(n, encoder, settings, args) for n in args.sizes]
    for row in rows:
        print(
            f"{row['items']:>7} items: hybrid p50 {row['hybrid']['p50_ms']} ms, "
            f"p95 {row['hybrid']['p95_ms']} ms; dense p50 {row['dense']['p50_ms']} ms; "
            f"numpy p50 {row['numpy_scan']['p50_ms']} ms"
        )
    path = write_result(
        "query_latency",
        {
            "k": K,
            "filters": "category + max_price",
            "encoder_kind": settings.encoder.kind,
            "sizes": rows,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
