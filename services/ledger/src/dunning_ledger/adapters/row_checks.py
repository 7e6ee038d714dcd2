"""Where an import's rows are validated (``RowChecks``): a pool of worker processes, so a
big file's checks use every core while this process reads the body and COPYs. (Without
it, the import service checks them in a thread: ``import_workers = 0``, and the tests.)

The pool starts with the first import and lives until the ledger stops. Batches are
handed out a few at a time (``in_flight``): the body is read no faster than it is
checked, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from dunning_ledger.domain.import_stream import CheckedRows, ReadItem, check_rows


class ProcessRowChecks:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.in_flight = workers + 1  # one more than the workers: none waits for the next
        self._pool: ProcessPoolExecutor | None = None

    async def check(self, items: Sequence[ReadItem]) -> CheckedRows:
        if self._pool is None:
            # spawn, not fork: this process runs threads and an event loop
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return await asyncio.get_running_loop().run_in_executor(self._pool, check_rows, items)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
