"""`longtail eval`: judge models offline on a dataset, with long-tail metrics and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longtail.console import err, print_json, print_table

DEFAULT_MODELS = "pop,itemknn,als,content"
SUMMARY_METRICS = ("recall@10", "ndcg@10", "tail_recall@10", "coverage@10", "aplt@10")


def evaluate(
    data: Annotated[Path, typer.Option("--data", help="dataset folder (generic or amazon)")],
    out: Annotated[Path, typer.Option("--out", help="folder for metrics.json, report.md, plots")],
    models: Annotated[
        str, typer.Option("--models", help="comma-separated model names, e.g. pop,itemknn")
    ] = DEFAULT_MODELS,
    protocol: Annotated[
        str, typer.Option("--protocol", help="loo (leave-last-out) or temporal (global cut)")
    ] = "loo",
    users: Annotated[
        int | None, typer.Option("--users", help="evaluate N random test users (default: all)")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="sampling and training seed (default: the settings seed)"),
    ] = None,
    llm_users: Annotated[
        int,
        typer.Option(
            "--llm-users",
            min=0,
            help="give the hybrid models LLM-generated candidates for N seeded test users, "
            "and for N seeded validation requests to learn their weight (slow on CPU: ~5 s "
            "a request with the embedded LLM); 0 = no LLM",
        ),
    ] = 0,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit/--no-refit",
            help="refit each model, its validation choices kept, on the training part plus "
            "the validation targets before it ranks the test users (--no-refit: score test "
            "with the models as tuned, as the ANCHORS reference rows do)",
        ),
    ] = True,
    json_output: Annotated[
        bool, typer.Option("--json", help="print metrics.json to stdout")
    ] = False,
) -> None:
    """Tune each model on validation, rank every test user's full catalog, report the metrics."""
    from catalog.loading import load_dataset
    from core.settings import load_settings
    from evaluation.plots import write_plots
    from evaluation.report import metrics_document, render_report, write_metrics
    from evaluation.runner import run_evaluation
    from evaluation.split import check_protocol
    from ranking import registry

    names = [name.strip() for name in models.split(",") if name.strip()]
    if not names:
        known = ", ".join(registry.names())
        raise registry.UnknownModelError(f"--models names no model; known models: {known}")
    for name in names:  # bad names and protocols fail before any data is read
        registry.get(name)
    check_protocol(protocol)
    settings = load_settings()
    seed = settings.seed if seed is None else seed
    dataset = load_dataset(data)
    if llm_users and any(name.startswith("hybrid") for name in names):
        from evaluation.llm_candidates import describe_fitting_products
        from serving.client import ensure_llm

        with ensure_llm(settings) as llm:
            result = run_evaluation(
                dataset, names, protocol=protocol, users=users, seed=seed, llm_users=llm_users,
                describe=lambda titles: describe_fitting_products(llm.config, titles),
                refit=refit,
            )  # fmt: skip
    else:
        result = run_evaluation(
            dataset, names, protocol=protocol, users=users, seed=seed, refit=refit
        )
    out.mkdir(parents=True, exist_ok=True)
    write_metrics(result, out / "metrics.json")
    plots = write_plots(result, out)
    (out / "report.md").write_text(render_report(result, plots))
    if json_output:
        print_json(metrics_document(result))
        return
    print_table(
        f"{result.dataset} ({result.protocol}, {result.test_queries} test queries)",
        ["model", *SUMMARY_METRICS, "seconds"],
        [[m.name, *(m.metrics[k] for k in SUMMARY_METRICS), m.seconds] for m in result.models],
    )
    err.print(f"wrote metrics.json, report.md and {len(plots)} plots to {out}")
