"""Ingest: make the vector store and the catalog snapshot hold exactly one dataset.

Incremental and idempotent: a product is embedded only when the hash of its text is new
to the store; changed prices or popularity only rewrite its fields; products gone from
the dataset are deleted. Vectors are written in batches (store.batch_size), each one
Chroma write, so an ingest killed half-way leaves every finished batch in place and the
next run embeds only what is missing. The snapshot is written first (see snapshot.py), so
a search during or after a killed ingest still answers from a consistent catalog.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from tqdm import tqdm

from catalog.dataset import Dataset
from core.items import ItemSummary
from core.offline import go_offline
from core.settings import Settings
from retrieval.chroma_store import ChromaStore
from retrieval.encoders import Encoder, product_text
from retrieval.errors import StoreError
from retrieval.layout import StoreLayout
from retrieval.snapshot import ItemRecord, content_hash, write_snapshot
from retrieval.vector_store import VectorStore, filter_fields


@dataclass
class IngestPlan:
    """What an ingest has to do, from the dataset and what the store already holds."""

    embed: list[int] = field(default_factory=list)  # positions: new or changed text
    refresh: list[int] = field(default_factory=list)  # positions: same text, other fields
    delete: list[str] = field(default_factory=list)  # item ids no longer in the dataset
    added: int = 0
    unchanged: int = 0

    @property
    def updated(self) -> int:
        return len(self.embed) - self.added + len(self.refresh)


@dataclass
class IngestReport:
    """The summary `longtail ingest --json` prints."""

    store: str
    items: int
    added: int
    updated: int
    deleted: int
    unchanged: int
    embedded: int
    seconds: float
    items_per_second: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def item_records(dataset: Dataset, template: str) -> tuple[list[ItemRecord], list[str]]:
    """Each product's record and the text its vector is made from."""
    texts = [product_text(p, template) for p in dataset.products]
    popularity = dataset.item_popularity()
    records = [
        ItemRecord(
            item=ItemSummary.of(p),
            popularity=int(popularity[i]),
            content_hash=content_hash(texts[i]),
        )
        for i, p in enumerate(dataset.products)
    ]
    return records, texts


def plan_ingest(records: Sequence[ItemRecord], store: VectorStore) -> IngestPlan:
    stored = store.stored()
    plan = IngestPlan()
    for position, record in enumerate(records):
        if record.item_id not in stored:
            plan.embed.append(position)
            plan.added += 1
            continue
        stored_hash, stored_fields = stored.pop(record.item_id)
        if stored_hash != record.content_hash:
            plan.embed.append(position)
        elif stored_fields != filter_fields(record):
            plan.refresh.append(position)
        else:
            plan.unchanged += 1
    plan.delete = sorted(stored)  # what is left was not in the dataset
    return plan


def open_store_for(settings: Settings, layout: StoreLayout, encoder: Encoder) -> ChromaStore:
    store = ChromaStore.open(settings.store, layout, create_for=(encoder.name, encoder.dim))
    store.check_encoder(encoder.name, encoder.dim)
    return store


def rebuild(settings: Settings, layout: StoreLayout) -> None:
    """Forget the dataset's store: its collection and its snapshots."""
    ChromaStore.drop(settings.store, layout)
    shutil.rmtree(layout.snapshots_dir, ignore_errors=True)


def ingest(
    dataset: Dataset,
    settings: Settings,
    layout: StoreLayout,
    encoder: Encoder,
    progress: bool = True,
) -> IngestReport:
    """Bring the store in line with the dataset; see the module docstring for the order.
    A disk that is full or read-only is a StoreError naming the folder: every batch written
    before it stays, and the next ingest resumes from there."""
    go_offline()  # before chromadb is imported: no telemetry
    from chromadb.errors import ChromaError

    try:
        return _ingest(dataset, settings, layout, encoder, progress)
    except (OSError, ChromaError) as exc:
        raise StoreError(
            f"cannot write the vector store under {layout.folder}: {exc}. Free disk space or "
            "make the folder writable, then run the ingest again: it resumes where it stopped"
        ) from exc


def _ingest(
    dataset: Dataset,
    settings: Settings,
    layout: StoreLayout,
    encoder: Encoder,
    progress: bool,
) -> IngestReport:
    started = time.perf_counter()
    store = open_store_for(settings, layout, encoder)
    records, texts = item_records(dataset, settings.encoder.template)
    plan = plan_ingest(records, store)
    digest = write_snapshot(layout.snapshots_dir, records, texts)
    store.delete(plan.delete)
    refresh = [records[i] for i in plan.refresh]
    for start in range(0, len(refresh), settings.store.batch_size):
        store.update_fields(refresh[start : start + settings.store.batch_size])
    # Similar lengths in one batch waste less padding in the encoder.
    pending = sorted(plan.embed, key=lambda i: len(texts[i]))
    with tqdm(
        total=len(pending),
        desc="embedding",
        unit="item",
        file=sys.stderr,
        disable=not (progress and pending),
        dynamic_ncols=True,
    ) as bar:
        for start in range(0, len(pending), settings.store.batch_size):
            batch = pending[start : start + settings.store.batch_size]
            vectors = encoder.encode([texts[i] for i in batch])
            store.upsert([records[i] for i in batch], vectors)
            bar.update(len(batch))
    store.mark_synced(digest)
    seconds = time.perf_counter() - started
    return IngestReport(
        store=str(layout.folder),
        items=len(records),
        added=plan.added,
        updated=plan.updated,
        deleted=len(plan.delete),
        unchanged=plan.unchanged,
        embedded=len(pending),
        seconds=round(seconds, 3),
        items_per_second=round(len(pending) / seconds, 1) if pending else 0.0,
    )
