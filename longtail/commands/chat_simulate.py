"""`longtail eval-chat --simulate N --data DIR`: simulated shoppers of DIR's test split,
served from the held-out copy of DIR (see evaluation/simulate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from longtail.console import err, print_json, print_table

if TYPE_CHECKING:
    from core.settings import Settings


def heldout_folder(settings: Settings, dataset_name: str) -> Path:
    return settings.home / "simulate" / f"{dataset_name}-heldout"


def run_simulation(
    settings: Settings,
    data: Path,
    n: int,
    seed: int,
    mode: str,
    llm_url: str | None,
    no_llm: bool,
    json_output: bool,
) -> None:
    from tqdm import tqdm

    from agent.build import build_agent, open_services
    from catalog.loading import load_dataset
    from core.errors import LongtailError
    from evaluation.kinds import MESSAGE_TEMPLATE
    from evaluation.simulate import (
        CONDITIONS,
        K_LIST,
        REFERENCES,
        SimulationError,
        check_heldout,
        draw_shoppers,
        ratios,
        simulate,
        write_heldout,
    )
    from evaluation.split import leave_last_out
    from longtail.commands.llm import chosen_llm

    dataset = load_dataset(data)
    split = leave_last_out(dataset)
    shoppers, skipped = draw_shoppers(dataset, split, n, seed)
    heldout = write_heldout(dataset, split, heldout_folder(settings, dataset.name))
    try:
        services = open_services(settings, heldout)
    except LongtailError as exc:
        raise SimulationError(
            f"{exc}\nThe simulation serves the held-out copy {heldout} (no test target in "
            f"it); prepare it once: `longtail ingest --data {heldout}` and "
            f"`longtail train --data {heldout}`"
        ) from exc
    check_heldout(services.ranker.dataset, dataset, shoppers)
    with chosen_llm(settings, no_llm=no_llm, url=llm_url) as llm_config:
        agent = build_agent(
            services, llm_config, settings.agent.model_copy(update={"mode": mode, "k": K_LIST})
        )
        err.print(f"{len(shoppers)} simulated shoppers of {dataset.name} (seed {seed})")
        conditions = simulate(
            agent, shoppers, progress=lambda xs: tqdm(xs, desc="shoppers", unit="shopper")
        )
    report: dict[str, Any] = {
        "dataset": dataset.name,
        "served": str(heldout),
        "protocol": "loo",
        "seed": seed,
        "shoppers": len(shoppers),
        "tail_shoppers": sum(s.tail for s in shoppers),
        "passed_over_without_kind": skipped,
        "message_template": MESSAGE_TEMPLATE,
        "mode": mode,
        "llm": "none" if llm_config is None else llm_config.base_url,
        "conditions": {name: conditions[name] for name in CONDITIONS},
        "references": {name: conditions[name] for name in REFERENCES},
        "hit@10_ratio": ratios(conditions),
        "examples": [
            {"user": s.user_id, "message": s.message, "target": s.target} for s in shoppers[:5]
        ],
    }
    if json_output:
        print_json(report)
        return
    keys = ["hit@3", "hit@10", "tail_hit@3", "tail_hit@10", "latency_p50_s"]
    print_table(
        f"simulated shoppers: {dataset.name}, N={len(shoppers)}, {report['llm']}",
        ["condition", *keys],
        [(name, *(c[k] for k in keys)) for name, c in conditions.items()],
    )
