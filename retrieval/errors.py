"""Errors of the semantic visor that the user must fix; the CLI prints each as one line."""

from __future__ import annotations

from core.errors import LongtailError, ServiceUnavailable


class RetrievalError(LongtailError):
    """Base of the retrieval errors below (encoder errors live with the encoders)."""


class QueryError(RetrievalError):
    """A query that cannot be searched: empty, too long, a bad vector, a bad k."""


class StoreError(RetrievalError):
    """The vector store is missing, unreachable or unusable."""


class StoreMismatchError(StoreError):
    """The store was built with another encoder: its vectors cannot be compared with ours."""


class StoreUnavailable(StoreError, ServiceUnavailable):
    """The Chroma server did not answer: retry later (search falls back to BM25 meanwhile)."""
