"""An in-memory dataset: the catalog plus the interaction log as compact arrays.

Items and users are addressed by dense indices (0..n-1) so that every scorer and
metric works on numpy arrays; the string ids stay available for output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from catalog.models import EVENTS, Product

TAIL_SHARE_OF_ITEMS = 0.8  # the least popular 80% of items are "the tail"


@dataclass(frozen=True)
class Dataset:
    """Products and interactions; interactions keep file order, which breaks timestamp ties."""

    name: str
    products: list[Product]
    user_ids: list[str]
    users: np.ndarray  # int32 user index per interaction
    items: np.ndarray  # int32 item index per interaction
    timestamps: np.ndarray  # float64 unix seconds per interaction
    events: np.ndarray  # int8 index into EVENTS per interaction
    skipped: tuple[str, ...] = ()  # messages of rows dropped under --skip-bad
    # The catalog's own item relations, e.g. {"also_bought": {item_id: (item_id, ...)}}: what
    # the shop knows goes together (kept out of `fingerprint`: they feed no trained model).
    relations: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, compare=False)
    _item_index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._item_index:
            self._item_index.update({p.item_id: i for i, p in enumerate(self.products)})

    @property
    def skipped_rows(self) -> int:
        return len(self.skipped)

    @property
    def n_items(self) -> int:
        return len(self.products)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_interactions(self) -> int:
        return int(self.items.shape[0])

    @property
    def item_ids(self) -> list[str]:
        return [p.item_id for p in self.products]

    def item_index(self, item_id: str) -> int:
        """The dense index of an item id; KeyError names the id when it is unknown."""
        try:
            return self._item_index[item_id]
        except KeyError:
            raise KeyError(f"unknown item id {item_id!r}") from None

    def has_item(self, item_id: str) -> bool:
        return item_id in self._item_index

    @cached_property
    def order(self) -> np.ndarray:
        """Interaction positions sorted by (user, timestamp, file order)."""
        position = np.arange(self.n_interactions)
        return np.lexsort((position, self.timestamps, self.users))

    def sequences(self) -> list[np.ndarray]:
        """Each user's item indices, oldest first (ties by file order)."""
        ordered_users = self.users[self.order]
        bounds = np.searchsorted(ordered_users, np.arange(self.n_users + 1))
        ordered_items = self.items[self.order]
        return [ordered_items[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    def event_sequences(self) -> list[np.ndarray]:
        """Each user's event codes, aligned with `sequences()`."""
        ordered_users = self.users[self.order]
        bounds = np.searchsorted(ordered_users, np.arange(self.n_users + 1))
        ordered = self.events[self.order]
        return [ordered[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    def item_popularity(self) -> np.ndarray:
        """Interaction count per item over the whole log."""
        return np.bincount(self.items, minlength=self.n_items)

    def fingerprint(self) -> str:
        """A short hash of the catalog and the log: artifacts trained on other data are refused."""
        digest = hashlib.sha256()
        for product in self.products:
            digest.update(product.model_dump_json().encode())
        for array in (self.users, self.items, self.timestamps, self.events):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def stats(self) -> dict[str, float | int | str]:
        """Users, items, interactions and the long-tail shape of the popularity curve."""
        counts = self.item_popularity()
        return {
            "dataset": self.name,
            "users": self.n_users,
            "items": self.n_items,
            "interactions": self.n_interactions,
            "items_without_interactions": int((counts == 0).sum()),
            "interactions_per_user_median": float(np.median(np.bincount(self.users)))
            if self.n_users
            else 0.0,
            "interactions_per_item_median": float(np.median(counts)) if self.n_items else 0.0,
            "tail_items": tail_size(self.n_items),
            "tail_interaction_share": round(tail_interaction_share(counts), 4),
            "gini": round(gini(counts), 4),
            "events": {name: int((self.events == code).sum()) for code, name in enumerate(EVENTS)},
            "skipped_rows": self.skipped_rows,
        }


def tail_size(n_items: int) -> int:
    """How many items form the tail: the least popular 80%."""
    return round(TAIL_SHARE_OF_ITEMS * n_items)


def tail_mask(counts: np.ndarray) -> np.ndarray:
    """True for the least popular 80% of items; ties broken by item index (stable sort)."""
    order = np.argsort(-counts, kind="stable")
    mask = np.ones(counts.shape[0], dtype=bool)
    mask[order[: counts.shape[0] - tail_size(counts.shape[0])]] = False
    return mask


def tail_interaction_share(counts: np.ndarray) -> float:
    """Share of all interactions that go to the least popular 80% of items."""
    total = counts.sum()
    return float(counts[tail_mask(counts)].sum() / total) if total else 0.0


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient of a non-negative distribution (0 = equal, 1 = one item has all)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.shape[0]
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * ranks - n - 1) @ x / (n * x.sum()))
