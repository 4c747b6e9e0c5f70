"""The catalog snapshot: what an ingest was asked to store, kept beside the vector store.

It holds, per product, the fields a search shows and filters on, the content hash of its
text, and the BM25 index over that text. An ingest writes it *before* touching the vector
store, into a new folder that `CURRENT` then names (an atomic rename), so at every moment
one complete snapshot is live. Search takes the snapshot as the truth: dense hits that it
does not list, or whose current fields fail a filter, are dropped. That is what lets a
half-done ingest still answer correctly.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.filters import FilterError, Filters
from core.items import ItemSummary, flat
from retrieval.errors import StoreError
from retrieval.sparse import SparseIndex

CURRENT = "CURRENT"
ITEMS_FILE = "items.json"
SPARSE_DIR = "bm25"


@dataclass(frozen=True)
class ItemRecord:
    """One product as the store keeps it besides its vector."""

    item: ItemSummary
    popularity: int
    content_hash: str  # of the encoded text: a changed hash means re-embedding

    @property
    def item_id(self) -> str:
        return self.item.item_id

    def as_dict(self) -> dict[str, Any]:
        """One flat row of the snapshot file (its digest and format predate the summary)."""
        return flat(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> ItemRecord:
        row = dict(row)
        extra = {"popularity": row.pop("popularity"), "content_hash": row.pop("content_hash")}
        return cls(item=ItemSummary(**row), **extra)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def snapshot_digest(records: Sequence[ItemRecord]) -> str:
    """A hash of every record: equal digests mean an identical catalog in the store."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record.as_dict(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


class CatalogSnapshot:
    """Items in index order with column arrays for exact, vectorised filtering."""

    def __init__(self, records: Sequence[ItemRecord], sparse: SparseIndex, digest: str) -> None:
        self.records = list(records)
        self.sparse = sparse
        self.digest = digest
        self.position = {r.item_id: i for i, r in enumerate(self.records)}
        self._categories = np.array([r.item.category for r in self.records], dtype=object)
        self._brands = np.array([r.item.brand for r in self.records], dtype=object)
        self._prices = np.array(
            [np.nan if r.item.price is None else r.item.price for r in self.records],
            dtype=np.float64,
        )
        self._names = {
            "category": _by_casefold(r.item.category for r in self.records),
            "brand": _by_casefold(r.item.brand for r in self.records),
        }

    def resolve(self, filters: Filters) -> Filters:
        """Filters with category and brand names in the catalog's own spelling.

        Names match case-insensitively. An unknown name to include is a FilterError (it
        could only give an empty list); an unknown name to exclude is harmless and dropped.
        """
        categories = self._canonical(filters.categories, "category", strict=True)
        brands = self._canonical(filters.brands, "brand", strict=True)
        excluded = self._canonical(filters.exclude_brands, "brand", strict=False)
        return filters.model_copy(
            update={"categories": categories, "brands": brands, "exclude_brands": excluded}
        )

    def mask(self, filters: Filters) -> np.ndarray:
        """True for every item that satisfies every filter (a product without a price
        fails any price bound)."""
        keep = np.ones(len(self.records), dtype=bool)
        if filters.categories:
            keep &= np.isin(self._categories, filters.categories)
        if filters.brands:
            keep &= np.isin(self._brands, filters.brands)
        if filters.exclude_brands:
            keep &= ~np.isin(self._brands, filters.exclude_brands)
        with np.errstate(invalid="ignore"):
            if filters.min_price is not None:
                keep &= self._prices >= filters.min_price
            if filters.max_price is not None:
                keep &= self._prices <= filters.max_price
        for item_id in filters.exclude_ids:
            if item_id in self.position:
                keep[self.position[item_id]] = False
        return keep

    def _canonical(self, names: Sequence[str], what: str, strict: bool) -> tuple[str, ...]:
        known = self._names[what]
        resolved = []
        for name in names:
            if name.casefold() in known:
                resolved.append(known[name.casefold()])
            elif strict:
                close = difflib.get_close_matches(name.casefold(), list(known), n=3)
                hint = (
                    f"; did you mean {', '.join(repr(known[c]) for c in close)}?" if close else ""
                )
                raise FilterError(f"no {what} {name!r} in this catalog{hint}")
        return tuple(resolved)


def _by_casefold(names: Iterable[str]) -> dict[str, str]:
    return {name.casefold(): name for name in set(names) if name}


def write_snapshot(folder: Path, records: Sequence[ItemRecord], texts: Sequence[str]) -> str:
    """Write a snapshot and make it the live one; returns its digest. Idempotent."""
    digest = snapshot_digest(records)
    if current_digest(folder) == digest:
        return digest
    target = folder / digest
    staging = folder / f".{digest}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    SparseIndex.build(texts).save(staging / SPARSE_DIR)
    (staging / ITEMS_FILE).write_text(json.dumps([r.as_dict() for r in records]))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    pointer = folder / f".{CURRENT}.{os.getpid()}"
    pointer.write_text(digest)
    pointer.replace(folder / CURRENT)
    for old in folder.iterdir():  # earlier snapshots and leftovers of killed writers
        if old.name not in (digest, CURRENT):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    return digest


def current_digest(folder: Path) -> str | None:
    pointer = folder / CURRENT
    return pointer.read_text().strip() if pointer.is_file() else None


def load_snapshot(folder: Path) -> CatalogSnapshot:
    digest = current_digest(folder)
    if digest is None:
        raise StoreError(f"no catalog snapshot in {folder}")
    target = folder / digest
    records = [ItemRecord.from_dict(row) for row in json.loads((target / ITEMS_FILE).read_text())]
    return CatalogSnapshot(records, SparseIndex.load(target / SPARSE_DIR), digest)
