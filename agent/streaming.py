"""Grounded streaming: the LLM's text reaches the shopper sentence by sentence, each sentence
only after it passed the grounding check, so nothing ungrounded is ever shown and then taken
back. A sentence cut off by the token limit (no closing punctuation) is dropped."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.trace import Violation

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")


class GroundedStream:
    def __init__(
        self,
        check: Callable[[str], list[Violation]],
        emit: Callable[[str], None] | None = None,
    ) -> None:
        self.check = check
        self.emit = emit
        self.buffer = ""
        self.kept: list[str] = []
        self.removed: list[Violation] = []

    @property
    def text(self) -> str:
        return " ".join(self.kept)

    def feed(self, piece: str) -> None:
        self.buffer += piece
        parts = _BOUNDARY.split(self.buffer)
        for sentence in parts[:-1]:
            self._sentence(sentence)
        self.buffer = parts[-1]

    def close(self) -> None:
        """End of the reply: the last sentence counts only if it ends like one."""
        rest = self.buffer.strip()
        self.buffer = ""
        if rest and rest[-1] in ".!?":
            self._sentence(rest)

    def _sentence(self, sentence: str) -> None:
        sentence = sentence.strip()
        if not sentence:
            return
        problems = self.check(sentence)
        if problems:
            self.removed += problems
            return
        if self.emit is not None:
            self.emit(sentence if not self.kept else f" {sentence}")
        self.kept.append(sentence)
