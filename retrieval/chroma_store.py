"""Chroma as the vector store: embedded on disk (default) or a Chroma server.

Embeddings are always passed in: Chroma's default embedding function would download a
model, which this project never does. Telemetry is off in both modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from core.filters import Filters
from core.offline import go_offline
from core.settings import StoreSettings
from retrieval.errors import StoreError, StoreUnavailable
from retrieval.layout import StoreLayout
from retrieval.snapshot import ItemRecord
from retrieval.vector_store import VectorStore, filter_fields

PAGE = 5000  # items per read when listing the store


def chroma_client(settings: StoreSettings, layout: StoreLayout) -> Any:
    """A PersistentClient on the layout's folder, or an HttpClient to the configured server."""
    go_offline()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.mode == "embedded":
        layout.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(layout.chroma_dir), settings=chroma_settings)
    try:
        return chromadb.HttpClient(host=settings.host, port=settings.port, settings=chroma_settings)
    except Exception as exc:  # chromadb raises ValueError or a transport error, by version
        raise StoreError(
            f"cannot reach the Chroma server at {settings.host}:{settings.port} ({exc}); start "
            f"one with `chroma run --path DIR --host {settings.host} --port {settings.port}` "
            "or set store.mode = embedded"
        ) from exc


class ChromaStore(VectorStore):
    """One Chroma collection per dataset; its metadata records the encoder and the sync."""

    def __init__(self, collection: Any, server: str = "") -> None:
        self._collection = collection
        self.server = server  # host:port in server mode, named when it does not answer
        metadata = collection.metadata or {}
        if "encoder" not in metadata or "dim" not in metadata:
            raise StoreError(
                f"Chroma collection {collection.name!r} was not made by longtail (no encoder "
                "recorded); re-ingest with --rebuild"
            )
        self.encoder_name = str(metadata["encoder"])
        self.dim = int(metadata["dim"])

    @classmethod
    def open(
        cls,
        settings: StoreSettings,
        layout: StoreLayout,
        create_for: tuple[str, int] | None = None,
    ) -> ChromaStore:
        """The dataset's collection; with `create_for=(encoder name, dim)` it is made if
        missing, else a missing collection is a StoreError that says to ingest first."""
        client = chroma_client(settings, layout)
        names = {getattr(c, "name", c) for c in client.list_collections()}
        server = f"{settings.host}:{settings.port}" if settings.mode == "server" else ""
        if layout.collection in names:
            return cls(client.get_collection(layout.collection, embedding_function=None), server)
        if create_for is None:
            raise StoreError(
                f"no vector store for {layout.data_dir} yet; run "
                f"`longtail ingest --data {layout.data_dir}` first"
            )
        encoder_name, dim = create_for
        collection = client.create_collection(
            layout.collection,
            metadata={"encoder": encoder_name, "dim": dim},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        return cls(collection, server)

    @staticmethod
    def drop(settings: StoreSettings, layout: StoreLayout) -> None:
        """Delete the dataset's collection, if there is one."""
        client = chroma_client(settings, layout)
        names = {getattr(c, "name", c) for c in client.list_collections()}
        if layout.collection in names:
            client.delete_collection(layout.collection)

    def count(self) -> int:
        return int(self._collection.count())

    def stored(self) -> dict[str, tuple[str, dict[str, str | float | int]]]:
        found: dict[str, tuple[str, dict[str, str | float | int]]] = {}
        offset = 0
        while True:
            page = self._collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            for item_id, metadata in zip(page["ids"], page["metadatas"], strict=True):
                fields = dict(metadata or {})
                found[item_id] = (str(fields.pop("content_hash", "")), fields)
            if len(page["ids"]) < PAGE:
                return found
            offset += PAGE

    def upsert(self, records: Sequence[ItemRecord], vectors: np.ndarray) -> None:
        if not records:
            return
        self._collection.upsert(
            ids=[r.item_id for r in records],
            embeddings=np.asarray(vectors, dtype=np.float32),
            metadatas=[{**filter_fields(r), "content_hash": r.content_hash} for r in records],
        )

    def update_fields(self, records: Sequence[ItemRecord]) -> None:
        if not records:
            return
        # A None value deletes the key in Chroma: a price that went away must not linger.
        self._collection.update(
            ids=[r.item_id for r in records],
            metadatas=[{"price": None, **filter_fields(r)} for r in records],
        )

    def delete(self, item_ids: Sequence[str]) -> None:
        for start in range(0, len(item_ids), PAGE):
            self._collection.delete(ids=list(item_ids[start : start + PAGE]))

    def query(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None = None,
        only: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        try:
            result = self._collection.query(
                query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                n_results=k,
                where=chroma_where(filters) if filters is not None else None,
                ids=list(only) if only is not None else None,
                include=["distances"],
            )
        except httpx.TransportError as exc:  # the server is down or restarting
            raise StoreUnavailable(
                f"the Chroma server at {self.server} did not answer ({exc}); it is retried on "
                "the next query"
            ) from exc
        return [
            (item_id, 1.0 - float(distance))
            for item_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def synced_digest(self) -> str | None:
        synced = (self._collection.metadata or {}).get("synced")
        return str(synced) if synced else None

    def mark_synced(self, digest: str) -> None:
        self._collection.modify(
            metadata={"encoder": self.encoder_name, "dim": self.dim, "synced": digest}
        )


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """The filters as a Chroma `where` clause (None when nothing filters)."""
    clauses: list[dict[str, Any]] = []
    if filters.categories:
        clauses.append({"category": {"$in": list(filters.categories)}})
    if filters.brands:
        clauses.append({"brand": {"$in": list(filters.brands)}})
    if filters.exclude_brands:
        clauses.append({"brand": {"$nin": list(filters.exclude_brands)}})
    if filters.min_price is not None:
        clauses.append({"price": {"$gte": float(filters.min_price)}})
    if filters.max_price is not None:
        clauses.append({"price": {"$lte": float(filters.max_price)}})
    if filters.exclude_ids:
        clauses.append({"item_id": {"$nin": list(filters.exclude_ids)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
