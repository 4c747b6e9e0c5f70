"""The hybrid ranker's weight for LLM-written candidate texts, learned on validation.

At serving time the agent turns an indirect need ("my plants keep dying when I travel")
into product kinds with the LLM and sends them as `RankRequest.llm_texts` (agent/
retrieve.py); the `llm_z` / `llm_rank` features then carry the texts' cosine to each item.
Validation requests without words never have those features, so their weights were fixed
by hand (ranking/combiner.py). Here each of a few hundred seeded validation requests (the
served data's held-out last interactions, as in ranking/message_combiner.py) gets a
message and LLM texts made the way serving makes them, from its target's kind: the
caller's `texts` (agent/need_texts.py: the LLM writes a need that the kind serves without
naming it, then the served expansion prompt turns the need into kinds). Only `llm_z` and
`llm_rank` are fitted, on top of the combination such requests are ranked with (the
hand-set message weights: a need names no kind); the result is kept only if it beats the
hand-set weights on the held-back part. Test targets are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.dataset import Dataset
from catalog.models import EVENTS
from ranking.combiner import Combiner, Featurised, training_batch
from ranking.hybrid_features import FEATURES
from ranking.message_combiner import (
    CHECK_SHARE,
    SEED,
    K,
    featurise,
    fit_if_it_wins,
)
from ranking.request import RankRequest

if TYPE_CHECKING:
    from ranking.hybrid_ranker import HybridRanker

LLM_FEATURES = ("llm_z", "llm_rank")
KINDS_PER_REQUEST = 5  # distinct kinds at most n / 5: each kind costs two LLM calls
# Fewer held-back requests than this decide nothing (one hit more is 1/6 of the rate on six):
# the hand-set weights stay.
MIN_CHECK_REQUESTS = 50


@dataclass(frozen=True)
class LLMText:
    """What serving sends the ranker for one indirect need."""

    need: str  # what the shopper says
    message: str  # RankRequest.message: the need's words and the LLM's kinds
    texts: tuple[str, ...]  # RankRequest.llm_texts: the LLM's kinds


TextsFor = Callable[[list[str]], Mapping[str, LLMText | None]]


def llm_requests(
    dataset: Dataset,
    kinds: Mapping[str, str],
    texts: TextsFor,
    n: int,
    seed: int = SEED,
) -> tuple[list[tuple[RankRequest, int]], dict[str, Any]]:
    """Up to `n` seeded validation requests (history before each user's last interaction,
    whose item's kind is `kinds[item_id]`), over at most n / KINDS_PER_REQUEST distinct
    kinds, each with `texts(kinds)[kind]`; kinds without a text are passed over, counted."""
    ids = dataset.item_ids
    sequences, events = dataset.sequences(), dataset.event_sequences()
    users = [u for u, s in enumerate(sequences) if len(s) >= 2 and kinds.get(ids[int(s[-1])])]
    max_kinds = max(1, n // KINDS_PER_REQUEST)
    chosen: list[int] = []
    wanted: list[str] = []
    for position in np.random.default_rng(seed).permutation(len(users)):
        if len(chosen) >= n:
            break
        user = users[int(position)]
        kind = kinds[ids[int(sequences[user][-1])]]
        if kind not in wanted and len(wanted) >= max_kinds:
            continue
        if kind not in wanted:
            wanted.append(kind)
        chosen.append(user)
    written = texts(wanted)
    out = []
    for user in chosen:
        sequence, codes = sequences[user], events[user]
        target = int(sequence[-1])
        text = written.get(kinds[ids[target]])
        if text is None:
            continue
        request = RankRequest(
            history=tuple(ids[int(i)] for i in sequence[:-1]),
            events=tuple(EVENTS[int(c)] for c in codes[:-1]),
            message=text.message,
            llm_texts=text.texts,
            k=K,
        )
        out.append((request, target))
    report = {
        "kinds": len(wanted),
        "kinds_with_text": sum(written.get(k) is not None for k in wanted),
        "drawn_requests": len(chosen),
        "examples": [
            {"kind": k, "need": t.need, "llm_texts": list(t.texts)}
            for k in wanted
            if (t := written.get(k)) is not None
        ][:8],
    }
    return out, report


def fit_llm_combiner(
    current: Combiner, featurised: list[Featurised], check_share: float = CHECK_SHARE
) -> tuple[Combiner | None, dict[str, Any]]:
    """`current` with its LLM weights fitted on these requests, by `fit_if_it_wins` (at
    least MIN_CHECK_REQUESTS held back; LLM weights of zero reported beside); None when
    `current` does as well."""
    off = current.copy()
    off.weights = np.where([n in LLM_FEATURES for n in FEATURES], 0.0, off.weights).astype(
        np.float32
    )
    final, report = fit_if_it_wins(
        current,
        featurised,
        partial(_fit, current),
        check_share,
        also={"llm_weight_zero": off},
        min_check=MIN_CHECK_REQUESTS,
    )
    report["hand_set_weights"] = _llm_weights(current)
    if final is not None:
        report["weights"] = _llm_weights(final)
    return final, report


def _llm_weights(combiner: Combiner) -> dict[str, float]:
    return {
        str(row["feature"]): float(row["weight"])
        for row in combiner.describe()
        if row["feature"] in LLM_FEATURES
    }


def _fit(current: Combiner, featurised: list[Featurised]) -> Combiner | None:
    """`current` with only the LLM features learned, on the requests whose target is a
    candidate."""
    batch = training_batch(featurised)
    return None if batch is None else current.copy().fit(*batch, only=LLM_FEATURES)


def learn_llm_weights(
    ranker: HybridRanker, kinds: Mapping[str, str], texts: TextsFor, n: int, folder: Path
) -> dict[str, Any]:
    """Fit the LLM weights of `ranker`'s model on `n` validation requests with `texts` and
    save the model to `folder` (its artifacts); the report."""
    from tqdm import tqdm

    scorer = ranker.scorer
    requests, drawn = llm_requests(ranker.dataset, kinds, texts, n)
    featurised = featurise(
        ranker, requests, lambda xs: tqdm(xs, desc="hybrid: LLM weights", unit="request")
    )
    combiner, report = fit_llm_combiner(scorer.combiner, featurised)
    scorer.llm_combiner = combiner
    scorer.save(folder, ranker.dataset.fingerprint())
    return {**drawn, **report}
