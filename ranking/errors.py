"""Errors of ranking requests, light to import (the API maps them to HTTP statuses)."""

from __future__ import annotations

from core.errors import LongtailError, ServiceUnavailable


class RankingError(LongtailError):
    """A ranking request that cannot be served as asked (unknown item, bad knob, ...)."""


class RankingUnavailable(RankingError, ServiceUnavailable):
    """Ranking did not answer in time (a hung worker): not the caller's mistake, retry later."""
