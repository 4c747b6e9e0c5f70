"""The `longtail` command line. Subcommands live in longtail/commands/, one per capability."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from core import __version__
from core.offline import go_offline

go_offline()

from core.errors import LongtailError  # noqa: E402
from longtail.commands import data as data_commands  # noqa: E402
from longtail.commands import llm as llm_commands  # noqa: E402
from longtail.commands import models as models_commands  # noqa: E402
from longtail.commands.chat_eval import eval_chat  # noqa: E402
from longtail.commands.demo import demo  # noqa: E402
from longtail.commands.evaluate import evaluate  # noqa: E402
from longtail.commands.ingest import ingest  # noqa: E402
from longtail.commands.search import search  # noqa: E402
from longtail.commands.serve import serve  # noqa: E402
from longtail.commands.train import train  # noqa: E402

app = typer.Typer(
    help="longtail: a conversational shopping assistant that finds the right lesser-known "
    "products.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_commands.app, name="data")
app.add_typer(llm_commands.app, name="llm")
app.add_typer(models_commands.app, name="models")
app.command()(demo)
app.command()(ingest)
app.command()(search)
app.command()(serve)
app.command("eval")(evaluate)
app.command("eval-chat")(eval_chat)
app.command()(train)


def _version(value: bool) -> None:
    if value:
        print(f"longtail {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    """Run `longtail COMMAND --help` for each command's options."""


def main() -> None:
    """Entry point: user errors print one clear line and exit 2, never a traceback."""
    from pydantic import ValidationError

    try:
        app()
    except LongtailError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ValidationError as exc:
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
