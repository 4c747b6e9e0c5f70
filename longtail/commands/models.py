"""`longtail models list|promote|rollback`: the trained model versions of a dataset and
which one serves (ranking.model_versions). A running server picks up a promotion itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import print_json, print_table

app = typer.Typer(help="List, promote and roll back model versions.", no_args_is_help=True)

DataOption = Annotated[
    Path | None, typer.Option("--data", help="dataset folder (default: the demo store)")
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _dataset_name(data: Path | None) -> tuple[Path, str]:
    from catalog.loading import load_dataset
    from core.settings import load_settings

    settings = load_settings()
    if data is None:
        from longtail.prepare import prepare_demo

        data = prepare_demo(settings)
    return settings.home, load_dataset(data).name


@app.command("list")
def list_(data: DataOption = None, json_output: Json = False) -> None:
    """Every version, newest last, with its gate verdict; the serving one is marked."""
    from ranking import model_versions as mv

    home, name = _dataset_name(data)
    state = mv.serving(home, name)
    rows = []
    for version in mv.list_versions(home, name):
        info = mv.read_version(home, name, version)
        rows.append(
            {
                "version": version,
                "serving": version == state["version"],
                "models": info["models"],
                "events_used": info["events_used"],
                "gate_passed": info["gate"]["promote"],
                "gate_reasons": info["gate"]["reasons"],
            }
        )
    if json_output:
        print_json({"dataset": name, "serving": state["version"], "versions": rows})
        return
    print_table(
        f"model versions of {name}",
        ["version", "serving", "models", "events", "gate"],
        [
            (
                r["version"],
                "*" if r["serving"] else "",
                ",".join(r["models"]),
                r["events_used"],
                "passed" if r["gate_passed"] else "refused: " + "; ".join(r["gate_reasons"]),
            )
            for r in rows
        ],
    )


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="the version id (see `longtail models list`)")],
    data: DataOption = None,
    json_output: Json = False,
) -> None:
    """Serve `version` (a staff override: the gate's verdict is not rechecked)."""
    from ranking import model_versions as mv

    home, name = _dataset_name(data)
    mv.promote(home, name, version)
    _done(home, name, json_output)


@app.command()
def rollback(data: DataOption = None, json_output: Json = False) -> None:
    """Serve the version that served before the current one."""
    from ranking import model_versions as mv

    home, name = _dataset_name(data)
    mv.rollback(home, name)
    _done(home, name, json_output)


def _done(home: Path, name: str, json_output: bool) -> None:
    from ranking import model_versions as mv

    state = mv.serving(home, name)
    if json_output:
        print_json({"dataset": name, **state})
    else:
        print(f"{name}: serving {state['version']}")
