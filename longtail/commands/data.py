"""`longtail data`: convert datasets to the generic format and describe their shape."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import err, print_json, print_table

app = typer.Typer(help="Convert datasets and describe them.", no_args_is_help=True)

DataOption = Annotated[Path, typer.Option("--data", help="dataset folder (generic or amazon)")]
SkipBad = Annotated[
    bool, typer.Option("--skip-bad", help="skip rows that do not parse, and count them")
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _report_skipped(skipped: tuple[str, ...]) -> None:
    if skipped:
        err.print(f"[yellow]skipped {len(skipped)} bad row(s):[/yellow]")
        for message in skipped[:20]:
            err.print(f"  {message}", markup=False, highlight=False)
        if len(skipped) > 20:
            err.print(f"  … and {len(skipped) - 20} more")


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="the source dataset folder")],
    out: Annotated[Path, typer.Option("--out", help="folder to write the generic format to")],
    source_format: Annotated[
        str, typer.Option("--from", help="source format: amazon, generic or auto")
    ] = "auto",
    skip_bad: SkipBad = False,
    json_output: Json = False,
) -> None:
    """Write a dataset in the generic format (items.jsonl + interactions.csv)."""
    from catalog.generic import write_generic
    from catalog.loading import load_dataset

    dataset = load_dataset(source, source_format, skip_bad=skip_bad)
    write_generic(dataset, out)
    _report_skipped(dataset.skipped)
    summary = {
        "out": str(out),
        "items": dataset.n_items,
        "users": dataset.n_users,
        "interactions": dataset.n_interactions,
        "skipped_rows": dataset.skipped_rows,
    }
    if json_output:
        print_json(summary)
    else:
        err.print(
            f"wrote {dataset.n_items} items and {dataset.n_interactions} interactions "
            f"of {dataset.n_users} users to {out}"
        )


@app.command()
def stats(
    data: DataOption,
    data_format: Annotated[str, typer.Option("--format", help="auto, generic or amazon")] = "auto",
    skip_bad: SkipBad = False,
    json_output: Json = False,
) -> None:
    """Users, items, interactions and the long-tail shape of a dataset."""
    from catalog.loading import load_dataset

    dataset = load_dataset(data, data_format, skip_bad=skip_bad)
    _report_skipped(dataset.skipped)
    summary = dataset.stats()
    if json_output:
        print_json(summary)
        return
    rows = [(k, v) for k, v in summary.items() if k != "events"]
    rows += [(f"events: {k}", v) for k, v in summary["events"].items()]  # type: ignore[union-attr]
    print_table(f"dataset {summary['dataset']}", ["statistic", "value"], rows)
