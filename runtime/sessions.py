"""Chat sessions keyed by unguessable server-issued tokens, isolated from each other.

A session id is `secrets.token_urlsafe(24)` (192 bits): a client can only name a session it
was given. Each session has its own lock, so two requests of one session run one after the
other while different sessions run side by side. Idle sessions expire. A store full of live
sessions refuses new ones (SessionsFull, a 503) rather than dropping a shopper's session
that is still in use: a flood of new sessions must not log real shoppers out.

`SessionStore` holds sessions in this process (the default); `runtime.redis_state` holds them in
Redis so that any replica can serve any turn. Both change a session only inside `hold`.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from agent.session import Session
from core.errors import ServiceUnavailable
from core.log_ids import log_id


class HashedSessionIds(logging.Filter):
    """Names sessions by `log_id` in records of a logger that writes them in JSON (the
    agent's per-turn trace, `longtail.agent.turns`): a log reader must not get a token that
    opens a shopper's session."""

    _ID = re.compile(r'"session_id":\s*"([^"]*)"')

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if '"session_id"' in text:
            record.msg = self._ID.sub(lambda m: f'"session_id":"{log_id(m[1])}"', text)
            record.args = ()
        return True


def hash_session_ids(logger_name: str) -> None:
    """Install HashedSessionIds on `logger_name` once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, HashedSessionIds) for f in logger.filters):
        logger.addFilter(HashedSessionIds())


class UnknownSession(LookupError):
    """No live session has this id (never issued or expired)."""


class SessionsFull(ServiceUnavailable):
    """Every session slot holds a session used within its time to live."""


class SessionBusy(ServiceUnavailable):
    """Another request of this session held its lock for longer than a request may wait."""


class Sessions(Protocol):
    """What the API needs of a session store, in-process or shared between replicas."""

    def create(self, session: Session) -> str: ...

    def get(self, token: str) -> Slot:
        """The session as stored now (raises UnknownSession); change it only inside `hold`."""
        ...

    def hold(self, token: str) -> AbstractContextManager[Session]:
        """The session under its lock (one request of a session at a time), kept on exit."""
        ...

    def drop(self, token: str) -> None: ...

    def __len__(self) -> int: ...


@dataclass
class Slot:
    """A stored session; `lock` and `last_used` serve the in-process store only (Redis keeps
    its own lock and expiry)."""

    session: Session
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)


class SessionStore:
    def __init__(
        self, max_sessions: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_sessions = max_sessions
        self.ttl_s = ttl_s
        self.clock = clock
        self._slots: OrderedDict[str, Slot] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, session: Session) -> str:
        """Store `session` under a fresh token (its `session_id` becomes the token)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._expire()
            if len(self._slots) >= self.max_sessions:
                raise SessionsFull(f"all {self.max_sessions} sessions are in use; retry shortly")
            session.session_id = token
            self._slots[token] = Slot(session, last_used=self.clock())
        return token

    def get(self, token: str) -> Slot:
        with self._lock:
            self._expire()
            slot = self._slots.get(token)
            if slot is None:
                raise UnknownSession(token)
            slot.last_used = self.clock()
            self._slots.move_to_end(token)
            return slot

    @contextmanager
    def hold(self, token: str) -> Iterator[Session]:
        slot = self.get(token)
        with slot.lock:
            yield slot.session

    def drop(self, token: str) -> None:
        with self._lock:
            self._slots.pop(token, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    def _expire(self) -> None:
        now = self.clock()
        while self._slots:
            token, slot = next(iter(self._slots.items()))
            if now - slot.last_used <= self.ttl_s:
                break
            del self._slots[token]
