"""Staff login state the Gradio screens do not keep: idle expiry of login tokens and
throttling of failed logins, per client address and per user name."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """At most `max_failures` failed logins per key within `window_s`; then refuse until the
    oldest failure leaves the window."""

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """0.0 if a login may be tried for all `keys`, else seconds until it may."""
        now = self.clock()
        longest = 0.0
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= self.max_failures:
                    longest = max(longest, recent[0] + self.window_s - now)
        return longest

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # forget keys with no recent failure
                for key in [k for k, d in self._failures.items() if not self._recent(k, now)]:
                    del self._failures[key]

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        while recent and now - recent[0] > self.window_s:
            recent.popleft()
        return recent


class StaffLogins:
    """Login tokens the server issued, with when each was last used; a token idle longer
    than `idle_s` (or never issued here) no longer logs anyone in."""

    def __init__(self, idle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.clock = clock
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issued(self, token: str) -> None:
        with self._lock:
            self._last_used[token] = self.clock()

    def use(self, token: str) -> bool:
        """True (and the idle clock restarts) while `token` is live."""
        now = self.clock()
        with self._lock:
            last = self._last_used.get(token)
            if last is None:
                return False
            if now - last > self.idle_s:
                del self._last_used[token]
                return False
            self._last_used[token] = now
            return True
