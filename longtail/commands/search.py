"""`longtail search`: hybrid (dense + BM25) product search over an ingested dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import err, print_json, print_table


def search(
    query: Annotated[str, typer.Argument(help="what the shopper is looking for")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="an ingested dataset folder; default: the demo store"),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="how many results")] = 10,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="only this category (repeatable)")
    ] = None,
    brand: Annotated[
        list[str] | None, typer.Option("--brand", help="only this brand (repeatable)")
    ] = None,
    exclude_brand: Annotated[
        list[str] | None, typer.Option("--exclude-brand", help="not this brand (repeatable)")
    ] = None,
    min_price: Annotated[float | None, typer.Option("--min-price", help="lowest price")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", help="highest price")] = None,
    exclude_id: Annotated[
        list[str] | None, typer.Option("--exclude-id", help="not this item id (repeatable)")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """Find products by meaning (embeddings in Chroma) and by words (BM25), fused by rank;
    every result passes every filter."""
    from core.settings import load_settings
    from retrieval.search import Retriever

    settings = load_settings()
    folder = data if data is not None else settings.demo_dir
    filters = {
        "categories": category or [],
        "brands": brand or [],
        "exclude_brands": exclude_brand or [],
        "min_price": min_price,
        "max_price": max_price,
        "exclude_ids": exclude_id or [],
    }
    retriever = Retriever.open(settings, folder)
    if not retriever.complete:
        err.print(
            "[yellow]the last ingest of this store did not finish: results come from the "
            f"products stored so far; run `longtail ingest --data {folder}` to finish[/yellow]"
        )
    results = retriever.search(query, k=k, filters=filters)
    if json_output:
        print_json([r.as_dict() for r in results])
    else:
        rows = [
            (
                n,
                r.item_id,
                r.item.title[:70],
                r.item.category,
                r.item.brand,
                "" if r.item.price is None else f"{r.item.price:.2f}",
                r.score,
                "" if r.dense is None else r.dense,
                "" if r.sparse is None else r.sparse,
            )
            for n, r in enumerate(results, 1)
        ]
        columns = ["#", "item", "title", "category", "brand", "price", "score", "dense", "bm25"]
        print_table(f"{query!r} in {folder}", columns, rows)
    if not results:
        err.print("no product matches this query with these filters")
