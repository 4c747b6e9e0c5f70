"""Simulated shoppers from the test split: does the agent find what a real shopper bought
next when the shopper names only its kind?

Each shopper is a test user of the leave-last-out split (evaluation/split.py, as `longtail
eval` uses): their history is everything before the target, their message names the
target's kind in the catalog's words (evaluation/kinds.py), never its title or brand. Three
conditions are scored by hit@3 (what the shopper sees) and hit@10 of the target:
history + message through the agent, the message alone through the agent, and the history
alone through the hybrid ranker.

The models must not have seen the targets, so they are served from a held-out copy of the
dataset: every test user's last interaction removed. Trained on that copy, `longtail train`
holds out each user's new last item (the split's validation target) for early stopping and
learns from the split's training part, exactly as `longtail eval` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.agent import ShoppingAgent
from catalog.dataset import Dataset
from catalog.generic import write_generic
from catalog.models import EVENTS
from core.errors import LongtailError
from evaluation.kinds import message_for, product_kinds
from evaluation.split import Split
from ranking.request import RankRequest

TEMPLATE_WORDS = frozenset({"i'm", "looking", "for"})
CONDITIONS = ("history_and_message", "message_only", "history_only")
REFERENCES = ("ranker_history_and_message", "ranker_message_only")
K_SEEN, K_LIST = 3, 10


class SimulationError(LongtailError):
    """The served data cannot score simulated shoppers (not held out, or not trained)."""


@dataclass(frozen=True)
class Shopper:
    user_id: str
    history: tuple[str, ...]  # item ids before the target, oldest first
    events: tuple[str, ...]
    target: str
    kind: str
    message: str
    tail: bool


@dataclass
class ConditionResult:
    hits3: list[bool] = field(default_factory=list)
    hits10: list[bool] = field(default_factory=list)
    tails: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    reduced: int = 0

    def add(self, ranked: list[str], shopper: Shopper, seconds: float) -> None:
        self.hits3.append(shopper.target in ranked[:K_SEEN])
        self.hits10.append(shopper.target in ranked[:K_LIST])
        self.tails.append(shopper.tail)
        self.seconds.append(seconds)

    def summary(self) -> dict[str, Any]:
        hits3, hits10, tails = map(np.array, (self.hits3, self.hits10, self.tails))
        n, n_tail = len(hits3), int(tails.sum()) if len(tails) else 0
        rate = lambda h, mask: round(float(h[mask].mean()), 4) if mask.any() else 0.0  # noqa: E731
        everyone = np.ones(n, dtype=bool)
        return {
            "shoppers": n,
            "tail_shoppers": n_tail,
            "hit@3": rate(hits3, everyone),
            "hit@10": rate(hits10, everyone),
            "tail_hit@3": rate(hits3, tails.astype(bool)),
            "tail_hit@10": rate(hits10, tails.astype(bool)),
            "latency_p50_s": round(float(np.percentile(self.seconds, 50)), 3) if n else 0.0,
            "latency_p95_s": round(float(np.percentile(self.seconds, 95)), 3) if n else 0.0,
            "reduced_mode_turns": self.reduced,
        }


def heldout_dataset(dataset: Dataset, split: Split) -> Dataset:
    """The dataset without any test target: what the served models may learn from."""
    order = dataset.order
    keep = np.ones(dataset.n_interactions, dtype=bool)
    test_users = {q.user for q in split.test}
    last_of_user: dict[int, int] = {}
    for position in order:
        last_of_user[int(dataset.users[position])] = int(position)
    for user in test_users:
        keep[last_of_user[user]] = False
    return Dataset(
        name=f"{dataset.name}-heldout",
        products=dataset.products,
        user_ids=dataset.user_ids,
        users=dataset.users[keep],
        items=dataset.items[keep],
        timestamps=dataset.timestamps[keep],
        events=dataset.events[keep],
    )


def write_heldout(dataset: Dataset, split: Split, folder: Path) -> Path:
    """Write the held-out copy (generic format) unless it is already there."""
    if not (folder / "interactions.csv").is_file():
        write_generic(heldout_dataset(dataset, split), folder)
    return folder


def check_heldout(served: Dataset, dataset: Dataset, shoppers: list[Shopper]) -> None:
    """The served data must be the held-out copy: each shopper's logged history there is
    exactly their split history, so no served model saw a target."""
    ids = served.item_ids
    users = {u: i for i, u in enumerate(served.user_ids)}
    sequences = served.sequences()
    for shopper in shoppers:
        user = users.get(shopper.user_id)
        logged = [ids[i] for i in sequences[user]] if user is not None else []
        if logged != list(shopper.history):
            raise SimulationError(
                f"served data {served.name!r} does not hold exactly the history of shopper "
                f"{shopper.user_id} before their target {shopper.target}: serve the held-out "
                f"copy of {dataset.name!r} (not the dataset itself, nor a stale copy)"
            )


def draw_shoppers(dataset: Dataset, split: Split, n: int, seed: int) -> tuple[list[Shopper], int]:
    """N seeded test users whose target has a kind; also how many were passed over
    because the catalog's text gives their target no kind."""
    kinds = product_kinds(dataset.products)
    ids = dataset.item_ids
    order = np.random.default_rng(seed).permutation(len(split.test))
    event_sequences = dataset.event_sequences()
    shoppers: list[Shopper] = []
    skipped = 0
    for index in order:
        if len(shoppers) == n:
            break
        query = split.test[int(index)]
        target = ids[int(query.targets[0])]
        kind = kinds.get(target, "")
        if not kind:
            skipped += 1
            continue
        codes = event_sequences[query.user][: len(query.history)]
        shoppers.append(
            Shopper(
                user_id=dataset.user_ids[query.user],
                history=tuple(ids[int(i)] for i in query.history),
                events=tuple(EVENTS[int(c)] for c in codes),
                target=target,
                kind=kind,
                message=message_for(kind),
                tail=bool(split.tail[int(query.targets[0])]),
            )
        )
    return shoppers, skipped


def simulate(
    agent: ShoppingAgent,
    shoppers: list[Shopper],
    progress: Callable[[Iterable[Shopper]], Iterable[Shopper]] = iter,
) -> dict[str, dict[str, Any]]:
    """Score every shopper under the three conditions, plus two references that send the
    message to the hybrid ranker directly (what `/v1/recommend` does), which show how much
    of the words the agent's understanding step loses; one summary per condition."""
    results = {name: ConditionResult() for name in (*CONDITIONS, *REFERENCES)}
    agent.turn(agent.new_session(), "warm-up: a pen")  # loads the models once, untimed
    agent.gate.reset()
    for shopper in progress(shoppers):
        for name, user in (("history_and_message", shopper.user_id), ("message_only", None)):
            session = agent.new_session(user_id=user)
            started = time.perf_counter()
            turn = agent.turn(session, shopper.message)
            seconds = time.perf_counter() - started
            results[name].add([s.item_id for s in turn.suggestions], shopper, seconds)
            results[name].reduced += turn.reduced_mode
        for name, history, message in (
            ("history_only", shopper.history, ""),
            ("ranker_history_and_message", shopper.history, shopper.message),
            ("ranker_message_only", (), shopper.message),
        ):
            events = shopper.events if history else ()
            started = time.perf_counter()
            ranked = agent.services.ranker.rank(
                RankRequest(history=history, events=events, message=message, k=K_LIST)
            )
            seconds = time.perf_counter() - started
            results[name].add([i.item_id for i in ranked.items], shopper, seconds)
    return {name: result.summary() for name, result in results.items()}


def ratios(conditions: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """hit@10 of history + message over each single source (None when the divisor is 0)."""
    both = conditions["history_and_message"]["hit@10"]

    def over(name: str) -> float | None:
        other = conditions[name]["hit@10"]
        return round(both / other, 3) if other else None

    return {"vs_message_only": over("message_only"), "vs_history_only": over("history_only")}
