"""Writing the catalogue in the native import format, so an export imports back to the same catalogue. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal

from cityops.catalog.schemas import KEYWORD_SEPARATOR, NATIVE_COLUMNS, CategoryInput
from cityops.core.tabular import write_csv, write_xlsx

ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def category_row(category: CategoryInput) -> list[Any]:
    values = {name: getattr(category, name) for name in NATIVE_COLUMNS}
    values["keywords"] = KEYWORD_SEPARATOR.join(category.keywords)
    values["active"] = "true" if category.active else "false"
    return [_cell(values[name]) for name in NATIVE_COLUMNS]


def _cell(value: Any) -> Any:
    """Empty for None; whole numbers without ".0" so the sheet reads like a person wrote it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def export_categories(categories: Iterable[CategoryInput], fmt: ExportFormat) -> tuple[bytes, str]:
    """(file bytes, media type) of the categories as CSV (UTF-8 with BOM) or XLSX."""
    rows: Sequence[list[Any]] = [category_row(c) for c in categories]
    if fmt == "xlsx":
        return write_xlsx(NATIVE_COLUMNS, rows, title="categories"), MEDIA_TYPES["xlsx"]
    return write_csv(NATIVE_COLUMNS, rows), MEDIA_TYPES["csv"]
