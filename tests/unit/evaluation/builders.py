"""Hand-built datasets for split and leakage tests."""

from __future__ import annotations

import numpy as np

from catalog.dataset import Dataset
from catalog.models import Product


def dataset(rows: list[tuple[int, int, float]], n_items: int, n_users: int) -> Dataset:
    """A Dataset from (user, item, time) rows, kept in the given (file) order."""
    users, items, times = (np.array(column) for column in zip(*rows, strict=True))
    return Dataset(
        name="hand",
        products=[Product(item_id=f"i{i}", title=f"item {i}") for i in range(n_items)],
        user_ids=[f"u{u}" for u in range(n_users)],
        users=users.astype(np.int32),
        items=items.astype(np.int32),
        timestamps=times.astype(np.float64),
        events=np.zeros(len(rows), dtype=np.int8),
    )
