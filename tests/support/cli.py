"""The CLI as a user runs it: `python -m longtail ...` in a child process."""

from __future__ import annotations

import subprocess
import sys


def longtail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longtail", *args], capture_output=True, text=True, timeout=600
    )
