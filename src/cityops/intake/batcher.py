"""Group commit for intake: reports arriving together over the API share one transaction.

Each report must be durable before its caller hears "received", and one commit per report makes the database's
log flush the limit on how many reports a server takes per second. Requests that arrive while a transaction is
being written queue up and go into the next one, so under load a batch grows by itself and a lone request waits
for nothing but its own commit. A batch that fails is retried report by report, so one bad report fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from cityops.intake import flows
from cityops.intake.flows import Receipt
from cityops.intake.schemas import ReportIn
from cityops.org.access import Principal
from cityops.platform import Platform

log = structlog.get_logger(__name__)
MAX_BATCH = 500


@dataclass
class _Pending:
    report: ReportIn
    principal: Principal
    done: asyncio.Future[Receipt]


class IntakeBatcher:
    def __init__(self, platform: Platform, *, max_batch: int = MAX_BATCH) -> None:
        self._platform = platform
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, report: ReportIn, principal: Principal) -> Receipt:
        loop = asyncio.get_running_loop()
        if self._task is None or self._loop is not loop or self._task.done():
            # bound to the loop serving requests; a test client may start a new loop per request
            self._queue = asyncio.Queue()
            self._loop = loop
            self._task = loop.create_task(self._run())
        pending = _Pending(report, principal, loop.create_future())
        self._queue.put_nowait(pending)
        return await pending.done

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            receipts = await asyncio.to_thread(
                flows.receive_batch, self._platform, [(p.report, p.principal) for p in batch])
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].done.done():
                    batch[0].done.set_exception(exc)
                return
            log.warning("intake.batch_failed_retrying_one_by_one", size=len(batch), exc_info=True)
            for pending in batch:
                await self._write([pending])
            return
        for pending, receipt in zip(batch, receipts, strict=True):
            if not pending.done.done():
                pending.done.set_result(receipt)

