"""How a session is named in logs, by every store that writes one (sessions, event logs)."""

from __future__ import annotations

import hashlib


def log_id(session_id: str) -> str:
    """How a session is named in logs: a short hash, since the id itself is a bearer token."""
    return "s-" + hashlib.sha256(session_id.encode()).hexdigest()[:12]
