"""Staff catalog changes made through the API (`PUT/DELETE /v1/products/{id}`).

The dataset's files stay as they were (trained models are fingerprinted on them); the
changes live in `<home>/catalog-changes/<dataset>.json`, rewritten atomically on every
change and applied again when the server starts. A retired product is excluded from every
ranking and search request from the moment it is retired: the exclusion travels inside the
request (`exclude_ids`), so ranking worker processes honour it too.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from catalog.models import Product
from core.filters import Filters
from ranking.request import RankRequest, RankResult


class CatalogChanges:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        saved = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.retired: set[str] = set(saved.get("retired", []))
        self.upserts: dict[str, Product] = {
            item_id: Product.model_validate(p) for item_id, p in saved.get("upserts", {}).items()
        }

    def upsert(self, product: Product) -> None:
        with self._lock:
            self.upserts[product.item_id] = product
            self.retired.discard(product.item_id)  # putting a product back un-retires it
            self._save()

    def retire(self, item_id: str) -> None:
        with self._lock:
            self.retired.add(item_id)
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "retired": sorted(self.retired),
            "upserts": {i: p.model_dump(mode="json") for i, p in self.upserts.items()},
        }
        handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        with os.fdopen(handle, "w") as f:
            f.write(json.dumps(state, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self.path)


def without(filters: Filters, retired: set[str]) -> Filters:
    if not retired:
        return filters
    return filters.model_copy(update={"exclude_ids": (*filters.exclude_ids, *sorted(retired))})


@dataclass
class RetiredExcluded:
    """A ranker whose every request also excludes the retired products."""

    inner: Any
    retired: set[str]

    def rank(self, request: RankRequest) -> RankResult:
        return self.inner.rank(replace(request, filters=without(request.filters, self.retired)))

    def __getattr__(self, name: str) -> Any:  # dataset, product, close, ...
        return getattr(self.inner, name)


@dataclass
class RetiredHidden:
    """A product search that never returns a retired product."""

    inner: Any
    retired: set[str]

    def search(self, query: Any, k: int = 10, filters: Any = None) -> Any:
        return self.inner.search(query, k, without(Filters.parse(filters), self.retired))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
