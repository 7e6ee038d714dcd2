"""Where an import's rows are validated (``RowChecks``): a pool of worker processes, so a
big file's checks use every core while this process reads the body and COPYs. (Without
it, the import service checks them in a thread: ``import_workers = 0``, and the tests.)

The pool starts with the ledger, in the background (its processes ready before the first
import, which need not wait for them to start), and lives until the ledger stops. Its
processes fork from a server process that has imported the row checks and the ledger's
main module once (a spawned process imports them itself: seconds of CPU each, paid by
the first import). Batches are handed out a few at a time (``in_flight``): the
body is read no faster than it is checked, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from dunning_ledger.domain.import_stream import CheckedRows, ReadItem, check_rows

_CHECKS_MODULE = check_rows.__module__


def _preload() -> list[str]:
    """The checks' module, and this process's main module (``python -m``): each worker
    runs the main module again as it starts, cheap once the server has imported it."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    main = getattr(spec, "name", None)
    return [_CHECKS_MODULE, main] if main and main != "__main__" else [_CHECKS_MODULE]


class ProcessRowChecks:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.in_flight = workers + 1  # one more than the workers: none waits for the next
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[asyncio.Future[CheckedRows]] = []

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver, not fork: this process runs threads and an event loop; the
            # server forks the workers from a clean process holding the checks' modules
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_preload())
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    async def check(self, items: Sequence[ReadItem]) -> CheckedRows:
        pool = self._started()
        return await asyncio.get_running_loop().run_in_executor(pool, check_rows, items)

    async def start(self) -> None:
        """Start the workers without waiting for them (one empty batch each)."""
        loop = asyncio.get_running_loop()
        pool = self._started()
        self._warming = [loop.run_in_executor(pool, check_rows, ()) for _ in range(self.workers)]
        for warming in self._warming:  # a pool that breaks says so at the first import
            warming.add_done_callback(_quiet)

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def _quiet(future: asyncio.Future[CheckedRows]) -> None:
    if not future.cancelled():
        future.exception()
