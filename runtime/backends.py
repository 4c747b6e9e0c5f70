"""The process's shared state, chosen in settings: embedded by default, servers to scale out.

memory + sqlite (the defaults) keep sessions, rate-limit buckets and the event log on this
host, which suits one process. redis + postgres put them where every replica behind a proxy
sees the same ones (runtime.redis_state, events.postgres).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import ApiSettings, Settings
from events.log import EventLog, EventStore
from runtime.ratelimit import Limiter, RateLimiter
from runtime.sessions import Sessions, SessionStore

LIMITED = ("chat", "sessions", "events", "recommend")  # the kinds of requests with a bucket


def _bucket(api: ApiSettings, kind: str) -> tuple[float, int]:
    return getattr(api, f"{kind}_rate_per_minute"), getattr(api, f"{kind}_burst")


def open_state(api: ApiSettings) -> tuple[Sessions, dict[str, Limiter]]:
    """The session store and one rate limiter per kind of request."""
    if api.state_backend == "memory":
        limiters = {kind: RateLimiter(*_bucket(api, kind)) for kind in LIMITED}
        return SessionStore(api.max_sessions, api.session_ttl_s), limiters
    from runtime.redis_state import RedisRateLimiter, RedisSessionStore, connect

    client = connect(api.redis_url, os.environ.get(api.redis_password_env) or None)
    sessions = RedisSessionStore(
        client,
        api.max_sessions,
        api.session_ttl_s,
        lock_s=api.session_lock_s,
        wait_s=api.chat_queue_timeout_s,
        prefix=api.redis_prefix,
    )
    return sessions, {
        kind: RedisRateLimiter(client, kind, *_bucket(api, kind), prefix=api.redis_prefix)
        for kind in LIMITED
    }


def open_event_log(settings: Settings) -> EventStore:
    api = settings.api
    if api.events_backend == "sqlite":
        return EventLog(events_path(settings))
    from events.postgres import PostgresEventLog

    return PostgresEventLog(api.postgres_dsn, api.postgres_pool_size)


def events_path(settings: Settings) -> Path:
    return settings.api.events_db or settings.home / "events.sqlite3"
