"""Train / validation / test splits that no model can cheat on.

Both protocols cut each user's time-ordered sequence (ties by file order, as
`Dataset.sequences()` gives it) into a training part, one validation pair for tuning, and a
test query whose history is everything before its targets. Scorers only ever see
`Split.training`; the test targets and anything after them stay here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from catalog.dataset import Dataset, tail_mask
from core.errors import LongtailError
from ranking.scorer import TrainingData

PROTOCOLS = ("loo", "temporal")
TEMPORAL_TEST_SHARE = 0.1  # default temporal cut: the last 10% of the log are targets
MIN_LOO_INTERACTIONS = 3  # training + validation + test


class SplitError(LongtailError):
    """The data cannot be split as asked (no user qualifies, a cut outside the log, ...)."""


@dataclass
class EvalQuery:
    """One test case: a user's history and the items the model should find next."""

    user: int  # user index
    history: np.ndarray  # item indices before the target(s), oldest first
    targets: np.ndarray  # item indices to find (one for leave-last-out, several for temporal)


@dataclass
class Split:
    """Everything an evaluation run needs; `training` is all a scorer may learn from."""

    protocol: str  # "loo" | "temporal"
    training: TrainingData  # sequences = training part per user; validation = (history, target)
    test: list[EvalQuery]
    # bool mask over items: the 80% least popular by training-split count. Equal counts at
    # the head/tail boundary are broken by item index (lower index = head), as
    # catalog.dataset.tail_mask does; on Amazon Office this gives 3,150 tail test targets
    # of 4,905 (the reverse order gives 3,137, all ties in the tail 3,110).
    tail: np.ndarray
    # The training part with each validation target folded back in (each test user's
    # history), no validation pairs: what a model is refit on, its choices made, before
    # it ranks the test queries (`longtail eval --refit`, the default).
    refit: TrainingData | None = None

    def tail_targets(self) -> int:
        """How many test targets are tail items."""
        return int(sum(self.tail[q.targets].sum() for q in self.test))


def leave_last_out(dataset: Dataset) -> Split:
    """Last interaction = test target, second-to-last = validation target, the rest training.

    Users with fewer than 3 interactions stay in training only. The test history includes
    the validation item, so models fold it in at request time rather than being refit.
    """
    sequences = dataset.sequences()
    events = dataset.event_sequences()
    train_sequences: list[np.ndarray] = []
    train_events: list[np.ndarray] = []
    refit = Refit([], [])
    validation: list[tuple[np.ndarray, int]] = []
    test: list[EvalQuery] = []
    for user, (sequence, codes) in enumerate(zip(sequences, events, strict=True)):
        if len(sequence) < MIN_LOO_INTERACTIONS:
            train_sequences.append(sequence)
            train_events.append(codes)
            refit.add(sequence, codes)
            continue
        train_sequences.append(sequence[:-2])
        train_events.append(codes[:-2])
        refit.add(sequence[:-1], codes[:-1])
        validation.append((sequence[:-2], int(sequence[-2])))
        test.append(EvalQuery(user=user, history=sequence[:-1], targets=sequence[-1:]))
    if not test:
        raise SplitError(
            f"{dataset.name}: no user has {MIN_LOO_INTERACTIONS} or more interactions, "
            "so leave-last-out has nothing to test"
        )
    return _split("loo", dataset, train_sequences, train_events, validation, test, refit)


def temporal(dataset: Dataset, cut: float | None = None) -> Split:
    """A global cut time (unix seconds): every interaction after it is a target.

    `cut` defaults to the time before which 90% of the log lies. A test user needs at least
    one interaction at or before the cut (the history) and one new item after it; targets
    are the distinct items after the cut that are not in the history, in order of first
    appearance. Each test user's last pre-cut interaction is their validation target and
    is held out of training, as in leave-last-out.
    """
    if cut is None:
        cut = float(np.quantile(dataset.timestamps, 1.0 - TEMPORAL_TEST_SHARE, method="lower"))
    order = dataset.order
    sequences = dataset.sequences()
    events = dataset.event_sequences()
    ordered_users = dataset.users[order]
    bounds = np.searchsorted(ordered_users, np.arange(dataset.n_users + 1))
    ordered_times = dataset.timestamps[order]
    train_sequences: list[np.ndarray] = []
    train_events: list[np.ndarray] = []
    refit = Refit([], [])
    validation: list[tuple[np.ndarray, int]] = []
    test: list[EvalQuery] = []
    for user, (sequence, codes) in enumerate(zip(sequences, events, strict=True)):
        times = ordered_times[bounds[user] : bounds[user + 1]]
        before = int(np.searchsorted(times, cut, side="right"))
        history, after = sequence[:before], sequence[before:]
        targets = _new_items(after, history)
        refit.add(history, codes[:before])
        if before == 0 or len(targets) == 0:
            train_sequences.append(history)
            train_events.append(codes[:before])
            continue
        test.append(EvalQuery(user=user, history=history, targets=targets))
        if before >= 2:
            validation.append((history[:-1], int(history[-1])))
            before -= 1
        train_sequences.append(history[:before])
        train_events.append(codes[:before])
    if not test:
        raise SplitError(
            f"{dataset.name}: no user has interactions on both sides of the cut time {cut}"
        )
    return _split("temporal", dataset, train_sequences, train_events, validation, test, refit)


def check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise SplitError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


def make_split(dataset: Dataset, protocol: str) -> Split:
    """The split of a protocol by name, as `longtail eval --protocol` names it."""
    check_protocol(protocol)
    return leave_last_out(dataset) if protocol == "loo" else temporal(dataset)


def _new_items(after: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Distinct items of `after` that are not in `history`, in order of first appearance."""
    _, first = np.unique(after, return_index=True)
    distinct = after[np.sort(first)]
    return distinct[~np.isin(distinct, history)]


def _split(
    protocol: str,
    dataset: Dataset,
    sequences: list[np.ndarray],
    events: list[np.ndarray],
    validation: list[tuple[np.ndarray, int]],
    test: list[EvalQuery],
    refit: Refit,
) -> Split:
    training = TrainingData(
        products=dataset.products,
        sequences=sequences,
        events=events,
        validation=validation,
        fingerprint=dataset.fingerprint(),
    )
    return Split(
        protocol=protocol,
        training=training,
        test=test,
        tail=tail_mask(training.item_counts()),
        refit=replace(
            training,
            sequences=refit.sequences,
            events=refit.events,
            validation=[],
            validation_signals={},
        ),
    )


@dataclass
class Refit:
    """Per user, the sequence a model is refit on (training part + validation target)."""

    sequences: list[np.ndarray]
    events: list[np.ndarray]

    def add(self, sequence: np.ndarray, codes: np.ndarray) -> None:
        self.sequences.append(sequence)
        self.events.append(codes)


def sample_users(split: Split, users: int, seed: int) -> Split:
    """A quicker split: `users` random test queries and as many validation pairs.

    Training data and the tail stay those of the full split, so a sampled run scores the
    same models on fewer queries.
    """
    if users <= 0:
        raise SplitError(f"--users must be positive, got {users}")
    rng = np.random.default_rng(seed)
    test = [split.test[i] for i in _sorted_sample(rng, len(split.test), users)]
    pairs = split.training.validation
    validation = [pairs[i] for i in _sorted_sample(rng, len(pairs), users)]
    training = replace(split.training, validation=validation)
    return replace(split, training=training, test=test)


def _sorted_sample(rng: np.random.Generator, population: int, size: int) -> np.ndarray:
    if size >= population:
        return np.arange(population)
    return np.sort(rng.choice(population, size=size, replace=False))
