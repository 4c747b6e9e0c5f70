"""`longtail demo`: prepare the embedded demo store."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from longtail.console import err, print_json


def demo(
    regenerate: Annotated[
        bool, typer.Option("--regenerate", help="rebuild the demo store even if it exists")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Prepare the demo store (a seeded multi-category catalog and shopper logs)."""
    from catalog.demo import DemoConfig, write_demo
    from catalog.generic import is_generic
    from longtail.settings import load_settings

    settings = load_settings()
    folder = settings.demo_dir
    started = time.perf_counter()
    created = regenerate or not is_generic(folder)
    if created:
        with err.status(f"generating the demo store in {folder}"):
            dataset = write_demo(folder, DemoConfig(seed=settings.seed))
        summary = dataset.stats()
    else:
        from catalog.loading import load_dataset

        summary = load_dataset(folder).stats()
    result = {
        "demo_dir": str(folder),
        "created": created,
        "items": summary["items"],
        "users": summary["users"],
        "interactions": summary["interactions"],
        "tail_interaction_share": summary["tail_interaction_share"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    if json_output:
        print_json(result)
    else:
        verb = "prepared" if created else "already prepared"
        err.print(
            f"demo store {verb} in {folder}: {result['items']} products, "
            f"{result['interactions']} interactions of {result['users']} shoppers"
        )
