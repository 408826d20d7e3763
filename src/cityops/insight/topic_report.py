"""The monthly topic (每月一题) as a leader reads it: a Markdown report, an XLSX workbook, or JSON for the API.

Chinese first, English after; the figures are those of topics.TopicResult, never recomputed here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from cityops.insight.topics import RegionTopics, TopicResult, TopicRow

MEDIA_TYPES = {"json": "application/json", "md": "text/markdown; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LEVEL_ZH = {"city": "市", "district": "区县", "street": "街道（乡镇）", "community": "社区（村）", "grid": "网格"}
TOP_IN_SUMMARY = 3
ROWS_PER_REGION_IN_MD = 10  # the workbook has them all
_BOLD = Font(bold=True)
_PERCENT, _SCORE = "0.0%", "0.000"


def filename(result: TopicResult, ext: str) -> str:
    return f"monthly-topic-{result.month.iso}.{ext}"


# --- words and numbers ------------------------------------------------------------------------------------------


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def growth_text(row: TopicRow | TopicResult) -> str:
    if row.growth is None:
        return "新出现 new" if row.volume else "—"
    return f"{row.growth * 100:+.1f}%"


def region_label(result: TopicResult, group: RegionTopics) -> str:
    name = result.name_of(group.region_code)
    if group.not_finer and result.level != "city":
        return f"{name}（未细分到{LEVEL_ZH[result.level]} not located at {result.level} level）"
    return name


def _top_regions(result: TopicResult, row: TopicRow) -> str:
    return "、".join(f"{result.name_of(code)} {volume} 件" for code, volume in row.top_regions)


def _ranked(result: TopicResult) -> list[TopicRow]:
    return [row for row in result.ranking if row.rank is not None]


def summary_zh(result: TopicResult) -> str:
    where = result.name_of(result.region_code)
    if not result.volume:
        return f"{result.month.zh}，{where}没有受理群众诉求（上月 {result.previous} 件）。"
    change = "上月无诉求记录" if result.growth is None else \
        f"上月 {result.previous} 件，环比{'增长' if result.growth >= 0 else '下降'} {abs(result.growth) * 100:.1f}%"
    text = (f"{result.month.zh}，{where}共受理群众诉求 {result.volume} 件，{change}；"
            f"其中重复诉求 {result.repeats} 件，占 {percent(result.repeat_rate)}。")
    top = _ranked(result)[:TOP_IN_SUMMARY]
    if not top:
        return text + "本月诉求均未能归入主题。"
    items = [f"{'①②③'[i]}「{result.name_of(row.topic)}」{row.volume} 件（环比 {growth_text(row)}，"
             f"重复诉求率 {percent(row.repeat_rate)}）" + (f"，主要在{_top_regions(result, row)}" if row.top_regions
                                                       else "")
             for i, row in enumerate(top)]
    return (text + f"按诉求量、环比增幅和重复诉求率综合排名，居前的主题是：{'；'.join(items)}。"
            f"建议将「{result.name_of(top[0].topic)}」列为本月一题，集中力量推动解决。")


def summary_en(result: TopicResult) -> str:
    where = result.name_of(result.region_code)
    text = (f"{result.month.iso}, {where}: {result.volume} reports (previous month {result.previous}, "
            f"{growth_text(result)}); {result.repeats} ({percent(result.repeat_rate)}) repeated an earlier one.")
    top = _ranked(result)[:TOP_IN_SUMMARY]
    if not top:
        return text
    ranked = "; ".join(f"{row.rank}. {result.name_of(row.topic)} ({row.volume}, {growth_text(row)}, "
                       f"repeats {percent(row.repeat_rate)})" for row in top)
    return f"{text} Top topics by the combined score: {ranked}. Suggested topic of the month: " \
           f"{result.name_of(top[0].topic)}."


# --- JSON -------------------------------------------------------------------------------------------------------


def to_json(result: TopicResult) -> dict[str, Any]:
    w_volume, w_growth, w_repeat = result.params.weights
    return {"region": {"region_code": result.region_code, "region_name": result.name_of(result.region_code)},
            "month": result.month.iso, "start": result.month.start.isoformat(), "end": result.month.end.isoformat(),
            "level": result.level, "volume": result.volume, "previous": result.previous, "growth": result.growth,
            "repeats": result.repeats, "repeat_rate": result.repeat_rate, "categorised": result.categorised,
            "summary": summary_zh(result), "summary_en": summary_en(result),
            "weights": {"volume": w_volume, "growth": w_growth, "repeat_rate": w_repeat},
            "topics": [_row_json(result, row) for row in result.ranking],
            "breakdown": [{"region_code": g.region_code, "region_name": region_label(result, g),
                           "not_finer": g.not_finer, "volume": g.volume, "previous": g.previous,
                           "repeats": g.repeats, "topics": [_row_json(result, row) for row in g.rows]}
                          for g in result.by_region]}


def _row_json(result: TopicResult, row: TopicRow) -> dict[str, Any]:
    return {"rank": row.rank, "topic": row.topic, "kind": row.kind, "label": row.label,
            "name": result.name_of(row.topic), "volume": row.volume, "previous": row.previous, "growth": row.growth,
            "repeats": row.repeats, "repeat_rate": row.repeat_rate, "score": round(row.score, 6),
            "top_regions": [{"region_code": code, "region_name": result.name_of(code), "volume": volume}
                            for code, volume in row.top_regions]}


# --- Markdown ---------------------------------------------------------------------------------------------------


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def render_markdown(result: TopicResult) -> str:
    where = result.name_of(result.region_code)
    lines = [f"# 每月一题 · {result.month.zh} · {where}", "",
             f"Monthly topic report, {result.month.iso}, {where} ({result.region_code})", "",
             "## 概要 Summary", "", summary_zh(result), "", summary_en(result), ""]
    lines.extend(_table(["项目 (item)", "数值 (value)"], _overview(result)))
    lines.extend(["", "## 主题排名 Topic ranking", ""])
    lines.extend(_table(["排名", "主题 (topic)", "诉求量", "上月", "环比", "重复诉求率", "综合得分", "主要区域"],
                        [[row.rank or "—", result.name_of(row.topic), row.volume, row.previous, growth_text(row),
                          percent(row.repeat_rate), "—" if row.rank is None else f"{row.score:.3f}",
                          _top_regions(result, row)] for row in result.ranking]))
    lines.extend(["", f"## 分区明细 By region（按{LEVEL_ZH[result.level]}）", ""])
    for group in result.by_region:
        lines.extend(_region_section(result, group))
    return "\n".join(lines + _definitions(result)) + "\n"


def _region_section(result: TopicResult, group: RegionTopics) -> list[str]:
    lines = [f"### {region_label(result, group)} · {group.volume} 件", ""]
    rows = group.rows[:ROWS_PER_REGION_IN_MD]
    if not rows:
        return [*lines, "本月无诉求 (none this month)", ""]
    lines.extend(_table(["区内排名", "主题 (topic)", "诉求量", "上月", "环比", "重复诉求率"],
                        [[row.rank or "—", result.name_of(row.topic), row.volume, row.previous, growth_text(row),
                          percent(row.repeat_rate)] for row in rows]))
    if len(group.rows) > len(rows):
        lines.extend(["", f"其余 {len(group.rows) - len(rows)} 个主题见 XLSX (the rest are in the workbook)"])
    return [*lines, ""]


def _overview(result: TopicResult) -> list[list[object]]:
    top = _ranked(result)
    return [["月份 (month)", result.month.iso], ["区划 (region)", f"{result.name_of(result.region_code)} "
                                                                f"({result.region_code})"],
            ["分组层级 (grouped by)", f"{LEVEL_ZH[result.level]} ({result.level})"],
            ["诉求量 (reports)", result.volume], ["上月诉求量 (previous month)", result.previous],
            ["环比 (growth)", growth_text(result)], ["重复诉求 (repeated)", result.repeats],
            ["重复诉求率 (repeat rate)", percent(result.repeat_rate)],
            ["已分类诉求 (categorised)", result.categorised],
            ["建议本月一题 (suggested topic)", result.name_of(top[0].topic) if top else "—"]]


def _definitions(result: TopicResult) -> list[str]:
    w_volume, w_growth, w_repeat = result.params.weights
    return ["## 口径说明 Definitions", "",
            "- 诉求量：本月（北京时间自然月）上报的诉求件数；上月同口径。 Reports made in the calendar month.",
            "- 主题：有分类的按事项分类；未分类的按关键词归题（每件只归一个主题），归不进的计入“其他”。",
            "  Topic: the category; uncategorised reports by keyword, each in one topic only.",
            "- 环比 = (本月 − 上月) ÷ 上月；上月为 0 记为“新出现”。 Growth against the previous month.",
            f"- 重复诉求：并入已有案件的诉求，或 {result.params.repeat_days} 天内同一地点同一主题再次上报的诉求；"
            "重复诉求率 = 重复诉求 ÷ 诉求量。 A repeat asks again about something already raised.",
            f"- 综合得分 = {w_volume} × 诉求量 ÷ 最大诉求量 + {w_growth} × min(max(环比增幅, 0), 100%) + "
            f"{w_repeat} × 重复诉求率（上月为 0 时增幅按本月件数计）。 Combined score.",
            "- 详细定义见 docs/insight.md。 Full definitions: docs/insight.md.", ""]


# --- XLSX -------------------------------------------------------------------------------------------------------


RANKING_HEADER = ("排名 (rank)", "主题编码 (topic)", "主题 (name)", "诉求量 (reports)", "上月 (previous)",
                  "环比 (growth)", "重复诉求 (repeats)", "重复诉求率 (repeat rate)", "综合得分 (score)",
                  "主要区域 (main regions)")
REGION_HEADER = ("区划代码 (code)", "区划 (region)", "区内排名 (rank)", "主题编码 (topic)", "主题 (name)",
                 "诉求量 (reports)", "上月 (previous)", "环比 (growth)", "重复诉求 (repeats)",
                 "重复诉求率 (repeat rate)", "综合得分 (score)")


def to_xlsx(result: TopicResult) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "概览 Summary"
    _write_overview(summary, result)
    _write_ranking(workbook.create_sheet("主题排名 Ranking"), result)
    _write_regions(workbook.create_sheet("分区明细 By region"), result)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_xlsx(result: TopicResult, path: Path) -> None:
    path.write_bytes(to_xlsx(result))


def _header(sheet: Worksheet, titles: Sequence[str], widths: Sequence[float]) -> None:
    sheet.append(list(titles))
    for cell in sheet[1]:
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJKLMNOP", widths, strict=False):
        sheet.column_dimensions[column].width = width


def _write_overview(sheet: Worksheet, result: TopicResult) -> None:
    _header(sheet, ["项目 (item)", "数值 (value)"], [30, 90])
    top = _ranked(result)
    rows: list[tuple[str, object, str | None]] = [
        ("月份 (month)", result.month.iso, None),
        ("区划 (region)", f"{result.name_of(result.region_code)} ({result.region_code})", None),
        ("分组层级 (grouped by)", f"{LEVEL_ZH[result.level]} ({result.level})", None),
        ("诉求量 (reports)", result.volume, None), ("上月诉求量 (previous month)", result.previous, None),
        ("环比 (growth)", result.growth, _PERCENT), ("重复诉求 (repeated)", result.repeats, None),
        ("重复诉求率 (repeat rate)", result.repeat_rate, _PERCENT),
        ("已分类诉求 (categorised)", result.categorised, None),
        ("建议本月一题 (suggested topic)", result.name_of(top[0].topic) if top else "—", None),
        ("摘要 (summary)", summary_zh(result), None), ("Summary (English)", summary_en(result), None),
        ("口径 (definitions)", "docs/insight.md", None)]
    for item, value, number_format in rows:
        sheet.append([item, value])
        cell = sheet.cell(sheet.max_row, 2)
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        if number_format:
            cell.number_format = number_format


def _row_values(result: TopicResult, row: TopicRow) -> list[object]:
    return [row.topic, result.name_of(row.topic), row.volume, row.previous, row.growth, row.repeats,
            row.repeat_rate, None if row.rank is None else round(row.score, 4)]


def _formats(sheet: Worksheet, first: int) -> None:
    """Growth, repeat rate and score in the row just written, starting at column `first` (the growth)."""
    sheet.cell(sheet.max_row, first).number_format = _PERCENT
    sheet.cell(sheet.max_row, first + 2).number_format = _PERCENT
    sheet.cell(sheet.max_row, first + 3).number_format = _SCORE


def _write_ranking(sheet: Worksheet, result: TopicResult) -> None:
    _header(sheet, RANKING_HEADER, [10, 24, 36, 12, 12, 12, 12, 14, 12, 44])
    for row in result.ranking:
        sheet.append([row.rank, *_row_values(result, row), _top_regions(result, row)])
        _formats(sheet, 6)


def _write_regions(sheet: Worksheet, result: TopicResult) -> None:
    _header(sheet, REGION_HEADER, [18, 30, 12, 24, 36, 12, 12, 12, 12, 14, 12])
    for group in result.by_region:
        for row in group.rows:
            sheet.append([group.region_code, region_label(result, group), row.rank, *_row_values(result, row)])
            _formats(sheet, 8)
