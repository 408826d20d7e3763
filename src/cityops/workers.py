"""Background work: the triage worker (bus consumer); the deadline, vital-signs and data-quality jobs (periodic).

The embedded default runs them inside the API process; `cityops worker` runs them on their own, so a
production site can run API processes with CITYOPS_RUN_WORKERS=false and scale workers separately.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import structlog

from cityops.cases.jobs import sweep_deadlines
from cityops.datahub import register_flows
from cityops.indicators import engine, vitals
from cityops.intake.flows import RECEIVED_SUBJECT
from cityops.platform import Platform
from cityops.sensing.offline import mark_offline
from cityops.sensing.partitions import ensure_partitions
from cityops.triage import worker as triage

log = structlog.get_logger(__name__)


@dataclass
class Background:
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def start(platform: Platform) -> Background:
    bus = await platform.start_bus()
    # The table is the queue; bus messages only wake the worker early. Polling it too means reports received
    # while no worker ran, or announced on another process's in-process bus, are never left behind.
    waker = triage.Waker(platform, poll_s=platform.settings.triage_poll_s)
    await bus.subscribe(RECEIVED_SUBJECT, durable="triage", handler=waker.handle)
    background = Background()
    background.tasks.append(asyncio.create_task(waker.run(), name="triage"))
    background.tasks.append(asyncio.create_task(_every(platform.settings.deadline_sweep_interval_s,
                                                       sweep_deadlines, platform), name="deadline-sweep"))
    background.tasks.append(asyncio.create_task(_every(platform.settings.vitals_interval_s, run_vital_signs,
                                                       platform), name="vital-signs"))
    background.tasks.append(asyncio.create_task(_every(platform.settings.quality_interval_s, run_quality_checks,
                                                       platform), name="data-quality"))
    return background


def run_quality_checks(platform: Platform) -> list[str]:
    """Datasets whose data changed since their last quality check, or whose check is older than the interval
    (timeliness falls as data goes stale, with no import to trigger it)."""
    return register_flows.check_all(platform, max_age_s=platform.settings.quality_interval_s)


def run_vital_signs(platform: Platform) -> dict[str, int]:
    """Partitions ahead, silent devices marked offline (and warned about), windowed sensor indicators, case
    statistics."""
    now = platform.clock.now()
    with platform.uow() as uow:  # next months' partitions of the raw readings (PostgreSQL; nothing on SQLite)
        ensure_partitions(uow.session, now=now)
        uow.commit()
    offline = mark_offline(platform)
    windows = vitals.evaluate_windows(platform, now)
    statistics = engine.evaluate_case_statistics(platform, now)
    return {"offline": len(offline), "windows": len(windows), "statistics": len(statistics)}


async def _every(seconds: float, job: object, platform: Platform) -> None:
    while True:
        try:
            await asyncio.to_thread(job, platform)  # type: ignore[arg-type]
        except Exception:  # a failed pass is logged and tried again next time; the loop must live on
            log.exception("job.failed", job=getattr(job, "__name__", str(job)))
        await asyncio.sleep(seconds)
