"""A KPI result as JSON (a dict), CSV (for Excel: UTF-8 with BOM) or an XLSX workbook.

Headers are Chinese with the English in parentheses, as the people who receive these files read them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from cityops.insight.kpis import MEASURES, STAGES, KpiReport, Ratio, StageTime
from cityops.insight.service import KpiResult, RegionRow

FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SUMMARY_HEADER = ("指标 (measure)", "分子 (numerator)", "分母 (denominator)", "比率% (rate %)", "平均小时 (mean hours)")
_BOLD = Font(bold=True)


def filename(result: KpiResult, fmt: str) -> str:
    department = f"_{result.department_code}" if result.department_code else ""
    return f"kpis_{result.region.code}{department}_{result.date_from}_{result.date_to}.{fmt}"


# --- JSON -----------------------------------------------------------------------------------------------------


def to_json(result: KpiResult) -> dict[str, Any]:
    return {"region": _region_json(result.region), "department": _department_json(result),
            "from": result.date_from.isoformat(), "to": result.date_to.isoformat(), "to_excluded": True,
            **_report_json(result.report),
            "breakdown": [{**_region_json(row), **_report_json(row.report)} for row in result.breakdown]}


def _region_json(row: RegionRow) -> dict[str, Any]:
    return {"region_code": row.code, "region_name": row.name, "region_level": row.level}


def _department_json(result: KpiResult) -> dict[str, str] | None:
    if result.department_code is None:
        return None
    return {"code": result.department_code, "name": result.department_name or ""}


def _report_json(report: KpiReport) -> dict[str, Any]:
    return {"period": {"start": report.start.isoformat(), "end": report.end.isoformat()},
            "response_limit_hours": report.response_limit_hours, "cases": report.cases,
            "measures": [_ratio_json(m) for m in report.measures],
            "stage_hours": [_stage_json(s) for s in report.stages]}


def _ratio_json(ratio: Ratio) -> dict[str, Any]:
    return {"key": ratio.key, "name": ratio.zh, "name_en": ratio.en, "numerator": ratio.numerator,
            "denominator": ratio.denominator, "rate": ratio.rate}


def _stage_json(stage: StageTime) -> dict[str, Any]:
    return {"key": stage.key, "name": stage.zh, "name_en": stage.en, "cases": stage.count,
            "mean_hours": stage.mean_hours}


# --- CSV ------------------------------------------------------------------------------------------------------


def to_csv(result: KpiResult) -> bytes:
    """One row per measure, then one per stage (its 分母 is the number of cases the mean is taken over)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SUMMARY_HEADER)
    for name, numerator, denominator, rate, hours in _summary_rows(result.report):
        percent = None if rate is None else f"{rate * 100:.2f}"
        writer.writerow(["" if v is None else v for v in (name, numerator, denominator, percent, hours)])
    # The BOM makes Excel read the file as UTF-8 instead of the local code page.
    return buffer.getvalue().encode("utf-8-sig")


def _summary_rows(report: KpiReport) -> list[list[Any]]:
    """[name, numerator, denominator, rate (a fraction), mean hours]; None where a column does not apply."""
    rows: list[list[Any]] = [[f"{m.zh} ({m.en})", m.numerator, m.denominator, m.rate, None]
                             for m in report.measures]
    for s in report.stages:
        hours = None if s.mean_hours is None else round(s.mean_hours, 2)
        rows.append([f"平均用时 {s.zh} (mean time {s.en})", None, s.count, None, hours])
    return rows


# --- XLSX -----------------------------------------------------------------------------------------------------


def to_xlsx(result: KpiResult) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "汇总 Summary"
    _write_summary(summary, result.report)
    _write_breakdown(workbook.create_sheet("下级区划 By region"), result.breakdown)
    _write_about(workbook.create_sheet("说明 About"), result)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header(sheet: Worksheet, titles: tuple[str, ...] | list[str]) -> None:
    sheet.append(list(titles))
    for cell in sheet[1]:
        cell.font = _BOLD
    sheet.freeze_panes = "B2"


def _write_summary(sheet: Worksheet, report: KpiReport) -> None:
    _header(sheet, SUMMARY_HEADER)
    for row in _summary_rows(report):
        sheet.append(row)
        sheet.cell(sheet.max_row, 4).number_format = "0.00%"
        sheet.cell(sheet.max_row, 5).number_format = "0.00"
    sheet.column_dimensions["A"].width = 44


def _write_breakdown(sheet: Worksheet, rows: tuple[RegionRow, ...]) -> None:
    """One row per child region: each measure's rate, then each stage's mean hours, for side-by-side reading."""
    _header(sheet, ["区划代码 (code)", "名称 (name)", "案件数 (cases)",
                    *(f"{m.zh} ({m.en})" for m in MEASURES), *(f"{s.zh} 小时 (hours)" for s in STAGES)])
    for row in rows:
        report = row.report
        sheet.append([row.code, row.name, report.cases, *(m.rate for m in report.measures),
                      *(s.mean_hours for s in report.stages)])
        for column in range(4, 4 + len(MEASURES)):
            sheet.cell(sheet.max_row, column).number_format = "0.00%"
        for column in range(4 + len(MEASURES), 4 + len(MEASURES) + len(STAGES)):
            sheet.cell(sheet.max_row, column).number_format = "0.00"
    sheet.column_dimensions["B"].width = 20


def _write_about(sheet: Worksheet, result: KpiResult) -> None:
    _header(sheet, ["项目 (item)", "值 (value)"])
    department = result.department_name or "全部 (all)"
    for item in (("区划 (region)", f"{result.region.code} {result.region.name}"), ("部门 (department)", department),
                 ("开始日期 (from)", result.date_from.isoformat()),
                 ("结束日期，不含 (to, excluded)", result.date_to.isoformat()),
                 ("响应时限小时 (response limit, hours)", result.report.response_limit_hours),
                 ("定义 (definitions)", "docs/kpis.md")):
        sheet.append(list(item))
    sheet.column_dimensions["A"].width = 36


def render(result: KpiResult, fmt: str) -> bytes | dict[str, Any]:
    """The result in one of FORMATS: a dict for json, file bytes for csv and xlsx."""
    if fmt == "csv":
        return to_csv(result)
    if fmt == "xlsx":
        return to_xlsx(result)
    return to_json(result)
