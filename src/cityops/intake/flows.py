"""Receiving a report: validate, store, announce. Processing happens in the triage worker (worker.py), so
intake stays fast and a slow step downstream never makes a caller wait or lose a report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityops.core import photos as photo_store
from cityops.core.errors import ValidationFailed
from cityops.core.uow import UnitOfWork
from cityops.intake import service
from cityops.intake.schemas import ReportIn
from cityops.org.access import Principal
from cityops.platform import Platform
from cityops.regions.coords import to_wgs84

RECEIVED_SUBJECT = "cityops.reports.received"


@dataclass(frozen=True)
class Receipt:
    public_id: str
    duplicate: bool


def receive(platform: Platform, *, report: ReportIn, submitted_by: Principal) -> Receipt:
    """Stores the report once per (channel, channel id) and publishes it for triage, in one transaction."""
    return receive_batch(platform, [(report, submitted_by)])[0]


def receive_batch(platform: Platform, items: Sequence[tuple[ReportIn, Principal]]) -> list[Receipt]:
    """Several reports (API requests grouped by batcher.py) in one transaction and one INSERT."""
    for report, _ in items:
        _check_photos(platform, report.photos)
    with platform.uow() as uow:
        now = uow.clock.now()
        receipts = _store(uow, [_values(report, principal, received_at=now) for report, principal in items])
        uow.commit()
    return receipts


def receive_many(platform: Platform, *, reports: Sequence[ReportIn], submitted_by: Principal,
                 at_reported_time: bool = False, chunk: int = 500,
                 progress: Callable[[int, int], None] | None = None) -> list[Receipt]:
    """A file import through the same checks and store as `receive`, a transaction per chunk.

    With `at_reported_time` each report counts as received when the channel says it was sent: a file of last
    month's hotline messages must keep last month's times for deadlines, fusion windows and statistics.
    """
    for report in reports:
        _check_photos(platform, report.photos)
    receipts: list[Receipt] = []
    for start in range(0, len(reports), chunk):
        with platform.uow() as uow:
            now = uow.clock.now()
            receipts += _store(uow, [
                _values(report, submitted_by, received_at=(report.reported_at or now) if at_reported_time else now)
                for report in reports[start:start + chunk]])
            uow.commit()
        if progress is not None:
            progress(len(receipts), len(reports))
    return receipts


def _store(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[Receipt]:
    stored = service.insert_many_if_new(session=uow.session, rows=rows)
    uow.publish_many([(RECEIVED_SUBJECT, {"report": public_id}, f"report.received:{public_id}")
                      for public_id, created in stored if created])  # plain rows at once, no ORM objects
    return [Receipt(public_id=public_id, duplicate=not created) for public_id, created in stored]


def _values(report: ReportIn, submitted_by: Principal, *, received_at: datetime) -> dict[str, Any]:
    lng, lat = (to_wgs84(report.lng, report.lat, report.crs) if report.lng is not None and report.lat is not None
                else (None, None))
    return {
        "public_id": service.new_public_id(received_at), "channel": report.channel.value,
        "channel_report_id": report.channel_report_id, "text": report.text,
        "category_code": report.category_code, "lng": lng, "lat": lat, "address": report.address,
        "photos": report.photos, "reporter_name": report.reporter.name, "reporter_phone": report.reporter.phone,
        "reporter_email": report.reporter.email, "submitted_by": submitted_by.actor,
        "reported_at": report.reported_at or received_at, "received_at": received_at, "status": "received",
        "region_code": None, "case_id": None, "triage": {}, "extra": report.extra,
    }


def _check_photos(platform: Platform, photo_ids: list[str]) -> None:
    root = platform.settings.photo_dir
    for i, photo_id in enumerate(photo_ids):
        if not photo_store.PHOTO_ID.match(photo_id) or not photo_store.exists(root, photo_id):
            raise ValidationFailed(f"unknown photo {photo_id!r}: upload it first / 请先上传照片", field=f"photos[{i}]")


def store_photo(platform: Platform, content: bytes) -> str:
    return photo_store.store(content, root=platform.settings.photo_dir, max_bytes=platform.settings.photo_max_bytes)
