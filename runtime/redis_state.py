"""Sessions and rate-limit buckets in Redis, shared by every API replica.

A session is its JSON (runtime.session_codec) under `<prefix>s:<token>` with the session time to
live as the key's expiry, renewed on use. A sorted set of tokens scored by expiry counts live
sessions, so `api.max_sessions` holds across replicas and a full store still refuses new ones
rather than evicting. One request of a session runs at a time on any replica under a Redis
lock (`<prefix>lock:<token>`) whose lease (`api.session_lock_s`) frees it if its holder dies.
Token buckets are one Lua script each, atomic in Redis, timed by the Redis server's clock.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
from redis.exceptions import LockError, RedisError

from agent.session import Session
from core.errors import ServiceUnavailable
from core.log_ids import log_id
from runtime.session_codec import decode, encode
from runtime.sessions import SessionBusy, SessionsFull, Slot, UnknownSession

log = logging.getLogger("longtail.api")
T = TypeVar("T")

# KEYS: session key, index; ARGV: token, state, ttl ms, max sessions. Refuses when full.
_CREATE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return 1
"""

# KEYS: session key, index; ARGV: token, ttl ms. The state, its expiry renewed; nil if gone.
_TOUCH = """
local state = redis.call('GET', KEYS[1])
if not state then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return state
"""

# KEYS: bucket; ARGV: tokens per second, burst. Returns the wait in seconds, as text.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] + t[2] / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'seen')
local tokens, seen = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - seen) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'seen', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class StateUnavailable(ServiceUnavailable):
    """Redis cannot be reached or answered with an error."""


def connect(url: str, password: str | None = None) -> redis.Redis:
    """A client (a thread-safe connection pool) for `url`; checked with a PING."""
    client = redis.Redis.from_url(url, password=password, socket_timeout=10)
    try:
        client.ping()
    except RedisError as exc:
        raise StateUnavailable(f"Redis at {url} does not answer: {exc}") from None
    return client


class RedisSessionStore:
    def __init__(
        self,
        client: redis.Redis,
        max_sessions: int,
        ttl_s: float,
        lock_s: float,
        wait_s: float,
        prefix: str = "longtail:",
    ) -> None:
        self.client = client
        self.max_sessions = max_sessions
        self.ttl_ms = max(1, round(ttl_s * 1000))
        self.lock_s, self.wait_s = lock_s, wait_s
        self.prefix = prefix
        self._index = prefix + "sessions"
        self._create = client.register_script(_CREATE)
        self._touch = client.register_script(_TOUCH)

    def _key(self, token: str) -> str:
        return f"{self.prefix}s:{token}"

    def create(self, session: Session) -> str:
        token = secrets.token_urlsafe(24)
        session.session_id = token
        keys = [self._key(token), self._index]
        args = [token, encode(session), self.ttl_ms, self.max_sessions]
        if not self._redis(self._create, keys=keys, args=args):
            raise SessionsFull(f"all {self.max_sessions} sessions are in use; retry shortly")
        return token

    def get(self, token: str) -> Slot:
        state = self._redis(
            self._touch, keys=[self._key(token), self._index], args=[token, self.ttl_ms]
        )
        if state is None:
            raise UnknownSession(token)
        return Slot(decode(state))

    @contextmanager
    def hold(self, token: str) -> Iterator[Session]:
        lock = self.client.lock(
            f"{self.prefix}lock:{token}", timeout=self.lock_s, blocking_timeout=self.wait_s
        )
        if not self._redis(lock.acquire):
            raise SessionBusy("another request of this session is still running; retry shortly")
        try:
            session = self.get(token).session
            yield session
            if not self._redis(lock.owned):  # the lease ran out: another request may have
                log.warning(  # changed the session since; its state wins over this one's
                    "session %s: the turn outlived its lock's lease (%.0f s); not saved",
                    log_id(token),
                    self.lock_s,
                )
                return
            # XX: a session dropped or expired meanwhile is not brought back.
            self._redis(self.client.set, self._key(token), encode(session), px=self.ttl_ms, xx=True)
        finally:
            try:
                lock.release()
            except LockError:
                log.warning(
                    "the lock of session %s outlived its lease (%.0f s) before release",
                    log_id(token),
                    self.lock_s,
                )
            except RedisError as exc:
                log.warning("releasing the lock of session %s failed: %s", log_id(token), exc)

    def drop(self, token: str) -> None:
        self._redis(self.client.delete, self._key(token))
        self._redis(self.client.zrem, self._index, token)

    def __len__(self) -> int:
        seconds, micros = self._redis(self.client.time)  # the clock the scripts score by
        now_ms = seconds * 1000 + micros // 1000
        return int(self._redis(self.client.zcount, self._index, f"({now_ms}", "+inf"))

    @staticmethod
    def _redis(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except RedisError as exc:
            raise StateUnavailable(f"the session store (Redis) failed: {exc}") from None


class RedisRateLimiter:
    """One kind of request's token buckets (`<prefix>rl:<kind>:<client>`) in Redis."""

    def __init__(
        self,
        client: redis.Redis,
        kind: str,
        per_minute: float,
        burst: int,
        prefix: str = "longtail:",
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.prefix = f"{prefix}rl:{kind}:"
        self._take = client.register_script(_TAKE)

    def take(self, client: str) -> float:
        try:
            wait = self._take(keys=[self.prefix + client], args=[self.rate, self.burst])
        except RedisError as exc:
            raise StateUnavailable(f"the rate limiter (Redis) failed: {exc}") from None
        return float(wait)
