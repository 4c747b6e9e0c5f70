"""The hybrid ranker's combination for requests with a chat message, learned on validation.

`longtail train` fits the hybrid's combiner on validation requests without words (a logged
history, the next item), so the message features (its cosine to each item, BM25, the
semantic visor's search) never vary there and keep hand-set weights (ranking/combiner.py).
A shopper who says what they want is another request. Here each validation request also
carries a message naming its target's kind in the catalog's words (the caller's
`messages`; `longtail train` passes evaluation/kinds.py's, what simulated shoppers say),
is featurised exactly as the ranker serves it, and a second combiner is fitted on all
features. It is kept only if it beats the hand-set weights on a
part of the validation requests it was not fitted on. The tail knob for these requests is
chosen on them as well, by the rule the model's own knob is chosen with (the learned
weights favour the history's popular neighbours, so a hand-set knob exposed fewer tail
items than the history knob does). Test targets are never read: the
requests are the served data's validation targets (each user's last interaction, which
`longtail train` holds out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.dataset import Dataset
from catalog.models import EVENTS, Product
from ranking.combiner import Combiner, Featurised, training_batch
from ranking.hybrid_features import FEATURES
from ranking.request import RankRequest

if TYPE_CHECKING:
    from core.settings import Settings
    from ranking.hybrid import HybridScorer
    from ranking.hybrid_ranker import HybridRanker

MESSAGE_REQUESTS = 2000  # validation requests featurised (one ranker request each)
CHECK_SHARE = 0.25  # of them, held back to decide between learned and hand-set weights
SEED = 0
K = 10


def message_requests(
    dataset: Dataset, messages: Mapping[str, str], n: int = MESSAGE_REQUESTS, seed: int = SEED
) -> list[tuple[RankRequest, int]]:
    """Up to `n` seeded validation requests (history before each user's last interaction,
    that item's message from `messages`, item id -> words naming its kind; '' = none) and
    their target item indices. Users whose last item has no message are passed over."""
    ids = dataset.item_ids
    sequences, events = dataset.sequences(), dataset.event_sequences()
    users = [u for u, s in enumerate(sequences) if len(s) >= 2 and messages.get(ids[int(s[-1])])]
    chosen = np.random.default_rng(seed).permutation(len(users))[:n]
    out = []
    for position in chosen:
        user = users[int(position)]
        sequence, codes = sequences[user], events[user]
        target = int(sequence[-1])
        request = RankRequest(
            history=tuple(ids[int(i)] for i in sequence[:-1]),
            events=tuple(EVENTS[int(c)] for c in codes[:-1]),
            message=messages[ids[target]],
            kind=messages[ids[target]],
            k=K,
        )
        out.append((request, target))
    return out


def featurise(
    ranker: HybridRanker,
    requests: list[tuple[RankRequest, int]],
    progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
) -> list[Featurised]:
    """Each request's candidate features, as `HybridRanker.rank` computes them."""
    out = []
    for request, target in progress(requests):
        rows = ranker.request_rows(request)
        candidates, features = ranker.scorer.candidate_features(rows)
        out.append(Featurised(candidates, features, target))
    return out


def target_share(featurised: list[Featurised]) -> float:
    """The share of requests whose target is among their candidates (what any order can hit)."""
    if not featurised:
        return 0.0
    return round(float(np.mean([(f.candidates == f.target).any() for f in featurised])), 4)


def fit_message_combiner(
    current: Combiner, featurised: list[Featurised], check_share: float = CHECK_SHARE
) -> tuple[Combiner | None, dict[str, Any]]:
    """A combiner learned on these requests, against `current` (the history combiner with
    hand-set message weights), by `fit_if_it_wins`; None when the current one does as well."""
    active = tuple(n for n, a in zip(FEATURES, current.active, strict=True) if a)
    final, report = fit_if_it_wins(current, featurised, partial(_fit, active), check_share)
    if final is not None:
        report["weights"] = {row["feature"]: row["weight"] for row in final.describe()}
    return final, report


def fit_if_it_wins(
    current: Combiner,
    featurised: list[Featurised],
    fit: Callable[[list[Featurised]], Combiner | None],
    check_share: float = CHECK_SHARE,
    also: Mapping[str, Combiner] | None = None,
    min_check: int = 0,
) -> tuple[Combiner | None, dict[str, Any]]:
    """`fit` on the first part, compared with `current` on the held-back part by hit@10 of
    the combiner's order (tail re-ranking comes after either; `also` are reported beside).
    Returns `fit` on all requests if it wins on at least `min_check` held-back requests,
    else None; and the report of the choice."""
    n_check = round(check_share * len(featurised))
    fit_part, check_part = featurised[n_check:], featurised[:n_check]
    learned = fit(fit_part)
    hits = {
        "hand_set": hit_rate(current, check_part),
        "learned": hit_rate(learned, check_part) if learned else None,
        **{name: hit_rate(combiner, check_part) for name, combiner in (also or {}).items()},
    }
    report: dict[str, Any] = {
        "requests": len(featurised),
        "target_among_candidates": target_share(featurised),
        "check_requests": n_check,
        "check_hit@10": hits,
    }
    if n_check < min_check:
        reason = f"{n_check} held-back requests, fewer than {min_check}"
        return None, {**report, "chosen": "hand_set", "reason": reason}
    if learned is None or not hits["learned"] or hits["learned"] <= hits["hand_set"]:
        return None, {**report, "chosen": "hand_set"}
    final = fit(featurised)
    assert final is not None
    return final, {**report, "chosen": "learned"}


def _fit(active: tuple[str, ...], featurised: list[Featurised]) -> Combiner | None:
    """Listwise logistic regression over the requests whose target is a candidate."""
    batch = training_batch(featurised)
    return None if batch is None else Combiner(active).fit(*batch)


def hit_rate(combiner: Combiner, featurised: list[Featurised]) -> float:
    if not featurised:
        return 0.0
    hits = 0
    for f in featurised:
        top = f.candidates[np.argsort(-combiner.score(f.features), kind="stable")[:K]]
        hits += bool((top == f.target).any())
    return round(hits / len(featurised), 4)


def choose_message_knob(
    scorer: HybridScorer, combiner: Combiner, featurised: list[Featurised]
) -> tuple[float, list[dict[str, float]]]:
    """The tail knob for requests that name a kind, by the rule `longtail train` chooses the
    model's knob with (ranking/hybrid.py): the largest knob whose hit@10 on these validation
    requests stays within KNOB_RECALL_TOLERANCE of knob 0's; and the sweep."""
    from ranking.hybrid import KNOB_GRID, KNOB_RECALL_TOLERANCE

    scored = [(f, combiner.score(f.features)) for f in featurised]
    tail_targets = max(sum(bool(scorer.tail[f.target]) for f in featurised), 1)
    sweep = []
    for knob in KNOB_GRID:
        hits = tail_hits = 0
        for f, scores in scored:
            top = f.candidates[scorer.final_order(f.candidates, scores, knob, K)[:K]]
            hit = bool((top == f.target).any())
            hits += hit
            tail_hits += hit and bool(scorer.tail[f.target])
        sweep.append(
            {
                "tail_knob": knob,
                "hit@10": round(hits / max(len(featurised), 1), 4),
                "tail_hit@10": round(tail_hits / tail_targets, 4),
            }
        )
    floor = (1.0 - KNOB_RECALL_TOLERANCE) * sweep[0]["hit@10"]
    return max(p["tail_knob"] for p in sweep if p["hit@10"] >= floor), sweep


def learn_message_weights(
    settings: Settings, data_dir: Path, messages: Callable[[list[Product]], Mapping[str, str]]
) -> dict[str, Any]:
    """Fit the message combiner of the trained hybrid model of `data_dir` (after `longtail
    ingest`: messages are searched in its store) on the validation requests with
    `messages(products)` as their words, and save the model with it; the report."""
    from tqdm import tqdm

    from ranking.artifacts import artifacts_dir
    from ranking.hybrid_ranker import HybridRanker

    ranker = HybridRanker.open(settings, data_dir)
    scorer = ranker.scorer
    requests = message_requests(ranker.dataset, messages(ranker.dataset.products))
    featurised = featurise(
        ranker, requests, lambda xs: tqdm(xs, desc="hybrid: message weights", unit="request")
    )
    scorer.message_combiner = None  # a refit compares against the hand-set weights
    combiner, report = fit_message_combiner(scorer.combiner, featurised)
    scorer.message_combiner = combiner
    knob, sweep = choose_message_knob(scorer, combiner or scorer.combiner, featurised)
    scorer.message_tail_knob = knob
    report["tail_knob"] = {"chosen": knob, "sweep": sweep}
    fingerprint = ranker.dataset.fingerprint()
    scorer.save(artifacts_dir(settings.home, ranker.dataset.name) / "hybrid", fingerprint)
    return report
