"""Training data from the dataset's interactions plus the API's event log.

Logged events are grouped per shopper (`user_id`, else the session) in log order. A shopper
whose `user_id` is a dataset user continues that user's sequence; others become new
sequences. Each event counts `weight` times (feedback.view_weight, cart_weight,
purchase_weight: repeated in the sequence), so co-occurrence counts, ALS confidence and the
intent encoder's targets weigh a purchase above a view.

Two slices are held back from every part of the version (components, early stopping and the
hybrid's combiner alike), for the promotion gate: each dataset user's newest interaction
(the version trains on the rest and tunes on the one before it) and each event shopper's
newest event. The dataset's validation pairs cannot judge a version: the hybrid's combiner is
fitted on them, and there it re-fits around damaged components (docs/experiments.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from catalog.dataset import Dataset
from catalog.models import EVENTS
from core.settings import FeedbackSettings
from events.log import StoredEvent
from ranking.scorer import TrainingData


@dataclass
class EventTraining:
    training: TrainingData
    holdout: list[tuple[np.ndarray, int]]  # (history, target) per event shopper, newest event
    dataset_holdout: list[tuple[np.ndarray, int]]  # per dataset user: newest, given the rest
    events_used: int
    shoppers: int
    weights: dict[str, int]


def weights_of(feedback: FeedbackSettings) -> dict[str, int]:
    return {
        "view": feedback.view_weight,
        "cart": feedback.cart_weight,
        "purchase": feedback.purchase_weight,
    }


def held_back_training(dataset: Dataset) -> tuple[TrainingData, list[tuple[np.ndarray, int]]]:
    """Per dataset user with 3+ interactions: the newest held back (returned, given the rest),
    the one before it the validation target, older ones trained on; shorter users as in
    serving_training_data (train on all but the last, validate on it)."""
    train: list[np.ndarray] = []
    train_events: list[np.ndarray] = []
    validation: list[tuple[np.ndarray, int]] = []
    held: list[tuple[np.ndarray, int]] = []
    for sequence, codes in zip(dataset.sequences(), dataset.event_sequences(), strict=True):
        if len(sequence) >= 3:
            held.append((sequence[:-1], int(sequence[-1])))
            sequence, codes = sequence[:-1], codes[:-1]
        if len(sequence) >= 2:
            validation.append((sequence[:-1], int(sequence[-1])))
            sequence, codes = sequence[:-1], codes[:-1]
        train.append(sequence)
        train_events.append(codes)
    data = TrainingData(
        products=dataset.products,
        sequences=train,
        events=train_events,
        validation=validation,
        fingerprint=dataset.fingerprint(),
    )
    return data, held


def with_events(
    dataset: Dataset, events: Sequence[StoredEvent], feedback: FeedbackSettings
) -> EventTraining:
    """The dataset's training data, newest interactions held back, with the logged events
    merged in (see the module doc)."""
    base, dataset_holdout = held_back_training(dataset)
    weights = weights_of(feedback)
    per_shopper: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for event in events:
        if dataset.has_item(event.item_id) and weights.get(event.event, 0) > 0:
            who = event.user_id or f"session:{event.session_id}"
            per_shopper[who].append((dataset.item_index(event.item_id), event.event))
    sequences = list(base.sequences)
    codes = list(base.events)
    known = {user_id: row for row, user_id in enumerate(dataset.user_ids)}
    holdout: list[tuple[np.ndarray, int]] = []
    used = 0
    for who, logged in per_shopper.items():
        row = known.get(who)
        prefix = sequences[row] if row is not None else np.zeros(0, dtype=np.int64)
        prefix_codes = codes[row] if row is not None else np.zeros(0, dtype=np.int64)
        train_part = logged[:-1] if len(logged) >= 2 else logged
        items = [i for i, kind in train_part for _ in range(weights[kind])]
        kinds = [EVENTS.index(kind) for _, kind in train_part for _ in range(weights[kind])]
        merged = np.concatenate([prefix, np.asarray(items, dtype=np.int64)])
        merged_codes = np.concatenate([prefix_codes, np.asarray(kinds, dtype=np.int64)])
        if len(logged) >= 2:
            holdout.append((merged, logged[-1][0]))
        used += len(train_part)
        if row is not None:
            sequences[row], codes[row] = merged, merged_codes
        else:
            sequences.append(merged)
            codes.append(merged_codes)
    training = TrainingData(
        products=base.products,
        sequences=sequences,
        events=codes,
        validation=base.validation,
        fingerprint=base.fingerprint,
    )
    return EventTraining(training, holdout, dataset_holdout, used, len(per_shopper), weights)
