"""Errors for bad input data: every one names the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path

from core.errors import LongtailError


class DataError(LongtailError, ValueError):
    """A dataset file that cannot be read as promised.

    `line` is 1-based and counts the header, so it matches what an editor shows.
    """

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class BadRows:
    """Collects rows skipped under --skip-bad, so a skip is always counted and shown."""

    def __init__(self, skip_bad: bool) -> None:
        self.skip_bad = skip_bad
        self.errors: list[DataError] = []

    def report(self, error: DataError) -> None:
        """Raise the error, or record it when skipping bad rows was asked for."""
        if not self.skip_bad:
            raise error
        self.errors.append(error)

    @property
    def count(self) -> int:
        return len(self.errors)
