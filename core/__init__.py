"""The ground floor: settings, errors, offline start-up, atomic writes, the item summary and
the filter type; imports nothing of the project, so every other package can stand on it."""

__version__ = "0.1.0"
