"""Ranking in worker processes, so that one API process uses every core.

A ranking request is mostly Python and small numpy work under the GIL, so the threads of
one process rank about one request at a time: on this 2-core machine a `longtail serve`
that ranks in its own process answered 37-55 `/v1/recommend` requests a second, one with
two ranking workers 70-76 (bench/load.py, same-run ratio 2.04). `RankerPool` keeps the
agent's `Ranker` interface: `dataset` and `product()` are answered in this process by a
local `HybridRanker`, `rank()` by one of `workers` spawned processes that each open their
own `HybridRanker` over the same data (the store is only read while serving). A worker
that dies is replaced: the pool is rebuilt and the request tried once more. A worker that
hangs (past `timeout_s`) is killed with the others, the pool rebuilt, and its request answered
with `RankingUnavailable`: it is not retried, since the request itself may be what hangs.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm import tqdm

from catalog.dataset import Dataset
from catalog.models import Product
from core.settings import Settings
from ranking.errors import RankingUnavailable
from ranking.hybrid_ranker import HybridRanker
from ranking.request import RankRequest, RankResult

log = logging.getLogger("longtail.ranking")

_worker: HybridRanker | None = None  # the ranker of this worker process


def _open_worker(settings: Settings, data_dir: Path) -> None:
    global _worker
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    # tqdm's default lock is a multiprocessing semaphore that a worker ended with its server
    # never releases (the resource tracker then warns of a leak on every stop).
    tqdm.set_lock(threading.RLock())
    _worker = HybridRanker.open(settings, data_dir)
    warm_up(_worker)


def _exit_with_parent() -> None:
    """A worker whose server was killed (kill -9 gives it no chance to stop its pool) would
    wait for work forever: end it as soon as the parent process is gone."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def _rank(request: RankRequest) -> RankResult:
    assert _worker is not None, "the pool's initializer opens the ranker"
    return _worker.rank(request)


def _ready() -> bool:
    return _worker is not None


def warm_up(ranker: HybridRanker) -> None:
    """One ranking with a message and a history: it loads the query encoder and the intent
    model, which would otherwise cost the first shoppers seconds (and time out under load)."""
    first = ranker.dataset.item_ids[0]
    ranker.rank(RankRequest(history=(first,), message="warm up", k=1))


class RankerPool:
    """`rank()` in `workers` processes; everything else from `local` in this process."""

    def __init__(
        self,
        local: HybridRanker,
        settings: Settings,
        data_dir: Path,
        workers: int,
        timeout_s: float = 10.0,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a ranker pool needs at least 1 worker, got {workers}")
        if timeout_s <= 0:
            raise ValueError(f"a ranking timeout must be positive, got {timeout_s}")
        self.local = local
        self.settings = settings
        self.data_dir = data_dir
        self.workers = workers
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = self._start()

    @property
    def dataset(self) -> Dataset:
        return self.local.dataset

    def product(self, item_id: str) -> Product:
        return self.local.product(item_id)

    def rank(self, request: RankRequest) -> RankResult:
        """Ranked by a worker; its RankingError or StoreUnavailable is raised here as is.
        A dead worker costs one retry on a fresh pool; a hung one, RankingUnavailable."""
        for attempt in (1, 2):
            pool = self._pool
            if pool is None:
                raise RuntimeError("the ranker pool is closed")
            try:
                return pool.submit(_rank, request).result(timeout=self.timeout_s)
            except TimeoutError:
                log.error(
                    "a ranking request took longer than %g s; replacing the workers",
                    self.timeout_s,
                )
                self._restart(pool, kill=True)
                raise RankingUnavailable(
                    f"ranking took longer than {self.timeout_s:g} s; retry shortly"
                ) from None
            except (BrokenProcessPool, CancelledError):
                # CancelledError: queued on the broken pool, then cancelled as it was replaced.
                if attempt == 2:
                    raise
                log.warning("a ranking worker died; starting %d new ones", self.workers)
                self._restart(pool)
            except RuntimeError:
                # "cannot schedule new futures after shutdown": another request replaced
                # this broken pool just now. Any other RuntimeError is the ranker's own.
                if pool is self._pool or attempt == 2:
                    raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            # Collect the executor's queues now so that their semaphores are unlinked:
            # left to interpreter exit, the resource tracker reports them as leaked.
            del pool
            gc.collect()

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent holds threads (torch, ONNX Runtime, the server's).
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_worker,
            initargs=(self.settings, self.data_dir),
        )
        # Workers are spawned on demand; asking all at once starts (and warms) every one
        # now instead of under the first shoppers' requests. An error opening the data is
        # raised here, at start.
        for future in [pool.submit(_ready) for _ in range(self.workers)]:
            future.result()
        return pool

    def _restart(self, broken: ProcessPoolExecutor, kill: bool = False) -> None:
        with self._lock:
            if self._pool is broken:  # another request may have restarted it already
                if kill:  # a hung worker never takes its shutdown message
                    for process in list((broken._processes or {}).values()):  # the executor's table
                        process.kill()
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()
