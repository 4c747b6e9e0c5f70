"""What the machine did during a run: CPU time and the load average, sampled in the background.

On a shared machine wall-clock time alone says little: the same run takes twice as long when
other jobs hold the cores, so a report states its CPU time and the load beside the wall time.
"""

from __future__ import annotations

import os
import resource
import threading
from dataclasses import dataclass, field

SAMPLE_SECONDS = 15.0


@dataclass
class LoadMonitor:
    """Samples the 1-minute load average every SAMPLE_SECONDS until `stop()`."""

    samples: list[float] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> LoadMonitor:
        self.samples.append(os.getloadavg()[0])
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> dict[str, float]:
        """Mean and peak of the sampled load, and the process's CPU seconds so far."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        self.samples.append(os.getloadavg()[0])
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "load_mean": round(sum(self.samples) / len(self.samples), 2),
            "load_max": round(max(self.samples), 2),
            "cores": os.cpu_count() or 0,
        }
