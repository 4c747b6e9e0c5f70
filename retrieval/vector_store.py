"""The vector store contract: vectors plus the fields to filter on, keyed by item id.

The store records which encoder made its vectors (name and dimension); opening it with
another encoder is a StoreMismatchError, since such vectors cannot be compared.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from core.filters import Filters
from retrieval.errors import StoreMismatchError
from retrieval.snapshot import ItemRecord


class VectorStore(ABC):
    encoder_name: str
    dim: int

    @abstractmethod
    def count(self) -> int:
        """How many vectors the store holds."""

    @abstractmethod
    def stored(self) -> dict[str, tuple[str, dict[str, str | float | int]]]:
        """item_id → (content hash, filter fields) for every stored item: the ingest diff."""

    @abstractmethod
    def upsert(self, records: Sequence[ItemRecord], vectors: np.ndarray) -> None:
        """Insert or replace items with their vectors, as one write."""

    @abstractmethod
    def update_fields(self, records: Sequence[ItemRecord]) -> None:
        """Replace the filter fields of stored items, keeping their vectors."""

    @abstractmethod
    def delete(self, item_ids: Sequence[str]) -> None:
        """Remove items; unknown ids are ignored."""

    @abstractmethod
    def query(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None = None,
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Up to k (item_id, cosine similarity) pairs, best first, that pass the filters
        on the stored fields and, given `only`, are among those ids (all stored)."""

    @abstractmethod
    def synced_digest(self) -> str | None:
        """The catalog snapshot digest of the last ingest that finished, if any."""

    @abstractmethod
    def mark_synced(self, digest: str) -> None:
        """Record that the store now holds exactly the snapshot with this digest."""

    def check_encoder(self, encoder_name: str, dim: int) -> None:
        if (self.encoder_name, self.dim) != (encoder_name, dim):
            raise StoreMismatchError(
                f"the store was built with encoder {self.encoder_name!r} ({self.dim}-d vectors) "
                f"but the configured encoder is {encoder_name!r} ({dim}-d): dimension or model "
                "mismatch. Configure the store's encoder, or re-ingest with --rebuild"
            )


def filter_fields(record: ItemRecord) -> dict[str, str | float | int]:
    """The fields a store filters on; a missing price is left out (it fails price bounds)."""
    fields: dict[str, str | float | int] = {
        "item_id": record.item_id,
        "category": record.item.category,
        "brand": record.item.brand,
        "popularity": record.popularity,
    }
    if record.item.price is not None:
        fields["price"] = float(record.item.price)
    return fields
