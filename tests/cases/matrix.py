"""Cases and reports for the scope matrix (tests/web/test_scope_matrix.py): in each street one dispatched case,
one waiting in the triage queue, one overdue and one soon due, so every case list has something to leak."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from cityops.cases.models import Case
from cityops.intake import flows
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage import worker
from tests.casefixture import MANHOLE, POINT_A, POINT_B, add_category, add_rule
from tests.cityfixture import STREET_A, STREET_B, SmallCity

CASE_IDS: dict[str, int] = {}  # street tag -> id of that street's dispatched case
REPORT_IDS: dict[str, str] = {}  # street tag -> public id of its report


def seed_cases(platform: Platform, city: SmallCity) -> None:
    REPORT_IDS.clear()
    add_category(platform, MANHOLE, "井盖缺失", "370303-cgj")
    for tag, street, (lng, lat) in (("a", STREET_A, POINT_A), ("b", STREET_B, POINT_B)):
        add_rule(platform, MANHOLE, street, f"{street}-office")
        for n, category in enumerate([MANHOLE, MANHOLE, MANHOLE, None]):
            # each over a kilometre from the last, or triage would fuse them as one problem
            body = {"channel": "hotline", "channel_report_id": f"{tag}-{n}", "text": f"{street} 井盖缺失 {n}",
                    "lng": lng, "lat": lat + 0.012 * n, "category_code": category}
            public_id = flows.receive(platform, report=ReportIn.model_validate(body),
                                      submitted_by=system_principal()).public_id
            REPORT_IDS.setdefault(tag, public_id)
    worker.drain(platform)
    now = platform.clock.now()
    with platform.uow() as uow:
        for tag, street in (("a", STREET_A), ("b", STREET_B)):
            ids = uow.session.scalars(select(Case.id).where(Case.region_code.startswith(street),
                                                            Case.state == "dispatched").order_by(Case.id)).all()
            CASE_IDS[tag] = ids[0]
            uow.session.execute(update(Case).where(Case.id == ids[1]).values(stage_due_at=now - timedelta(hours=3)))
            uow.session.execute(update(Case).where(Case.id == ids[2]).values(stage_due_at=now + timedelta(hours=1)))
        uow.commit()
    with platform.db.session() as session:
        assert session.scalar(select(Report.status).where(Report.public_id == REPORT_IDS["a"])) == "triaged"


def case_path(tag: str, suffix: str = "") -> str:
    return f"/api/v1/cases/{CASE_IDS[tag]}{suffix}"


def report_path(tag: str) -> str:
    return f"/api/v1/reports/{REPORT_IDS[tag]}"
