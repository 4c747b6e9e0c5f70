"""The process container below both the REST API and the screens: the runtime that owns the
agent and ranker, sessions, rate limits, staff auth, client addresses, streamed turns and the
state/event backends; `api/` and `ui/` each stand on it and never on each other."""
