"""Exporting cases with their reports, states and state times, as CSV (Excel-ready) or XLSX."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.cases.models import Case
from cityops.cases.states import STATE_LABELS, State
from cityops.core.clock import CHINA_TZ
from cityops.core.tabular import write_csv, write_xlsx
from cityops.intake import service as intake

COLUMNS = ("案件ID case_id", "案件编号 number", "上报ID report_id", "渠道 channel", "渠道编号 channel_report_id",
           "状态 state", "状态名 state_label", "分类 category", "区划 region_code", "部门ID department_id",
           "标题 title", "受理时间 received_at", "立案时间 registered_at", "派遣时间 dispatched_at",
           "处置时间 handled_at", "核查时间 verified_at", "结案时间 closed_at", "回访时间 followed_up_at",
           "结案时限 due_at", "满意度 satisfaction", "历史导入 imported", "原系统编号 external_id")
BATCH = 2000


def rows(session: Session, *, since: datetime | None = None) -> Iterator[list[Any]]:
    """One row per (case, report); a case without reports (imported history) gives one row."""
    last_id = 0
    while True:
        query = select(Case).where(Case.id > last_id).order_by(Case.id).limit(BATCH)
        if since is not None:
            query = query.where(Case.updated_at >= since)
        cases: Sequence[Case] = session.scalars(query).all()
        if not cases:
            return
        reports = intake.reports_for_cases(session=session, case_ids=[c.id for c in cases])
        for case in cases:
            found: list[Any] = list(reports.get(case.id, [])) or [None]
            for report in found:
                yield _row(case, report)
        last_id = cases[-1].id


def _row(case: Case, report: Any) -> list[Any]:
    return [case.id, case.number, report.public_id if report else "", report.channel if report else case.channel,
            report.channel_report_id if report else "", case.state, STATE_LABELS[State(case.state)][0],
            case.category_code or "", case.region_code, case.department_id or "", case.title,
            *(_local(getattr(case, name)) for name in ("received_at", "registered_at", "dispatched_at", "handled_at",
                                                        "verified_at", "closed_at", "followed_up_at", "due_at")),
            case.satisfaction or "", "是" if case.imported else "否", case.external_id or ""]


def _local(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def export(session: Session, *, fmt: str, since: datetime | None = None) -> bytes:
    data = rows(session, since=since)
    return write_xlsx(COLUMNS, data, title="案件 cases") if fmt == "xlsx" else write_csv(COLUMNS, data)
