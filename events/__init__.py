"""The durable logs the shop writes and learns from: the event log (SQLite or PostgreSQL) and
the A/B experiments it records exposures for; below ranking, which trains on the events, and
evaluation, which replays them."""
