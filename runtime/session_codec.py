"""A chat Session as JSON and back, for stores outside the process (Redis).

The agent's Session stays a plain dataclass; this edge turns it into text. Every field is
written by name, so a field added to Session later round-trips without changes here as long
as it holds JSON values; one that does not is refused with its name rather than lost.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from agent.session import Constraints, Session

_CONSTRAINT_TUPLES = {
    f.name for f in dataclasses.fields(Constraints) if str(f.type).startswith("tuple")
}


class SessionCodecError(ValueError):
    """A stored session that cannot be written or read back."""


def encode(session: Session) -> str:
    state: dict[str, Any] = {}
    for f in dataclasses.fields(session):
        value = getattr(session, f.name)
        state[f.name] = dataclasses.asdict(value) if f.name == "constraints" else value
    try:
        return json.dumps(state, separators=(",", ":"))
    except TypeError as exc:
        raise SessionCodecError(f"session {session.session_id[:6]}...: {exc}") from None


def decode(text: str | bytes) -> Session:
    try:
        state = json.loads(text)
        known = {f.name for f in dataclasses.fields(Session)}
        unknown = sorted(set(state) - known)
        if unknown:
            raise SessionCodecError(f"stored session has unknown field(s) {unknown}")
        limits = state.pop("constraints", {})
        constraints = Constraints(
            **{k: tuple(v) if k in _CONSTRAINT_TUPLES else v for k, v in limits.items()}
        )
        return Session(**state, constraints=constraints)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, SessionCodecError):
            raise
        raise SessionCodecError(f"stored session cannot be read: {exc}") from None
