"""Staff access: a password or a bearer token, both read only from the environment.

Outside production mode, when neither is set, a random password is generated at start and
printed once, so a fresh `longtail serve` is usable and still never has a known default. In
production mode with neither set, the staff screens are not served at all.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field

from core.settings import ApiSettings


@dataclass(frozen=True)
class StaffAuth:
    user: str
    password: str | None = field(repr=False)  # never in a repr, log line or trace
    token: str | None = field(repr=False)
    generated: bool = False  # the password was made up at start (shown on the console)

    @classmethod
    def from_settings(cls, api: ApiSettings) -> StaffAuth:
        password = os.environ.get(api.staff_password_env) or None
        token = os.environ.get(api.staff_token_env) or None
        if password is None and token is None and not api.production:
            return cls(api.staff_user, secrets.token_urlsafe(12), None, generated=True)
        return cls(api.staff_user, password, token)

    @property
    def enabled(self) -> bool:
        return self.password is not None or self.token is not None

    def check(self, user: str, password: str) -> bool:
        """The Gradio login: the staff user and password, or any user name and the token."""
        ok_password = self.password is not None and (
            _same(user, self.user) & _same(password, self.password)
        )
        return ok_password or self.check_token(password)

    def check_token(self, token: str) -> bool:
        return self.token is not None and _same(token, self.token)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
