"""Reading category and rule files: native, urban-management and hotline shapes; CSV in three encodings and
XLSX; all or nothing, with errors naming the row and the file's column."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from cityops.catalog.exporters import export_categories
from cityops.catalog.importers import parse_categories, parse_department_map, parse_rules
from cityops.catalog.schemas import CategoryInput
from cityops.core.errors import ValidationFailed

TAXONOMY = Path(__file__).resolve().parents[3] / "shared" / "data" / "taxonomy"
URBAN_FILE = TAXONOMY / "urban_management_components_and_matters.csv"
HOTLINE_FILE = TAXONOMY / "hotline_categories_3level.csv"

NATIVE = """code,name,name_en,kind,parent_code,default_department_code,register_hours,dispatch_hours,handle_limit,\
handle_unit,verify_hours,close_hours,severity,keywords
BJ01-01,井盖破损,Manhole cover,component,BJ01,370300-cgj,0.5,0.5,4,working_hours,2,2,1,井盖|窨井
BJ01,市政公用设施,,component,,,,,,,,,,
"""


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def error_of(data: bytes, **kwargs: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_categories(data, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- native ---------------------------------------------------------------------------------------


def test_native_rows_become_categories_with_defaults_for_empty_cells():
    child, parent = parse_categories(csv_bytes(NATIVE))
    assert child == CategoryInput(code="BJ01-01", name="井盖破损", name_en="Manhole cover", kind="component",
                                  parent_code="BJ01", default_department_code="370300-cgj", register_hours=0.5,
                                  dispatch_hours=0.5, handle_limit=4, handle_unit="working_hours", verify_hours=2,
                                  close_hours=2, severity=1, keywords=("井盖", "窨井"))
    assert parent == CategoryInput(code="BJ01", name="市政公用设施", kind="component")
    assert child.origin == "rows[0]"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_is_read_in_utf8_with_or_without_bom_and_in_gb18030(encoding: str):
    categories = parse_categories(csv_bytes(NATIVE, encoding))
    assert [c.name for c in categories] == ["井盖破损", "市政公用设施"]


def test_chinese_words_for_kind_unit_and_severity_are_understood():
    text = "code,name,kind,handle_limit,handle_unit,severity,active\nX1,测试,事件,2,工作日,紧急,否\n"
    (category,) = parse_categories(csv_bytes(text))
    assert (category.kind, category.handle_unit, category.severity, category.active) == (
        "matter", "working_days", 1, False)


@pytest.mark.parametrize(("row", "field", "words"), [
    ("X1,测试,component,abc", "rows[1].handle_limit", "not a number"),
    ("X1,测试,component,0", "rows[1].handle_limit", "more than 0"),
    ("X1,测试,component,99999", "rows[1].handle_limit", "at most"),
    ("X1,测试,gadget,3", "rows[1].kind", "not one of"),
    ("X1,,component,3", "rows[1].name", "required"),
    ("X 1,测试,component,3", "rows[1].code", "letters, digits"),
    ("X1,=HYPERLINK(1),component,3", "rows[1].name", "formula"),
    ("X0,测试,component,3", "rows[1].code", "appears twice"),
])
def test_a_bad_cell_rejects_the_whole_file_naming_row_and_column(row: str, field: str, words: str):
    text = f"code,name,kind,handle_limit\nX0,好的,component,3\n{row}\n"
    error = error_of(csv_bytes(text))
    assert error.field == field
    assert words in (error.detail or "")
    assert "line 3" in (error.detail or "")


def test_a_missing_required_column_names_the_header():
    error = error_of(csv_bytes("code,name\nX1,测试\n"))
    assert error.field == "header" and "'kind'" in (error.detail or "")


def test_an_empty_or_unreadable_file_is_refused():
    assert error_of(b"code,name,kind\n").field == "file"
    assert error_of(b"\xff\xfe\x00bad").field == "file"
    assert error_of(b"PK\x03\x04 not really a zip").field == "file"


def test_xlsx_gives_the_same_categories_as_csv_and_numbers_keep_no_trailing_zero():
    rows = [["code", "name", "kind", "handle_limit", "severity"], ["01001", "井盖", "component", 4.0, 1]]
    (category,) = parse_categories(xlsx_bytes(rows))
    assert (category.code, category.handle_limit, category.severity) == ("01001", 4.0, 1)


def test_xlsx_errors_name_the_row_and_the_sheet_line():
    rows = [["code", "name", "kind", "severity"], ["A", "甲", "component", 2], ["B", "乙", "component", 7]]
    error = error_of(xlsx_bytes(rows))
    assert error.field == "rows[1].severity" and "line 3" in (error.detail or "")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_reads_back_as_the_same_categories(fmt: str):
    categories = parse_categories(csv_bytes(NATIVE))
    body, _ = export_categories(categories, fmt)  # type: ignore[arg-type]
    assert parse_categories(body) == categories


def test_csv_export_starts_with_a_bom_so_excel_reads_chinese():
    body, media_type = export_categories(parse_categories(csv_bytes(NATIVE)), "csv")
    assert body.startswith(b"\xef\xbb\xbf") and media_type.startswith("text/csv")
    assert "井盖破损" in body.decode("utf-8-sig")


# --- urban-management and hotline shapes ----------------------------------------------------------

URBAN = """standard_ref,matter_kind,standard_code,category,standard_name,default_department_local_config
X,管理部件,01001,市政公用设施,供水井盖,市政公用部门
X,管理部件,02001,交通设施,交通信号灯,交通管理部门
X,管理事项,01001,市政公用设施类,供水井盖异常,待配置责任主体
"""


def test_urban_rows_get_kind_letters_parent_categories_and_mapped_departments():
    categories = parse_categories(csv_bytes(URBAN), fmt="urban",
                                  department_map={"市政公用部门": "370300-zjj"})
    assert [(c.code, c.name, c.kind, c.parent_code, c.default_department_code) for c in categories] == [
        ("C01", "市政公用设施", "component", None, None),
        ("C01001", "供水井盖", "component", "C01", "370300-zjj"),
        ("C02", "交通设施", "component", None, None),
        ("C02001", "交通信号灯", "component", "C02", None),  # not in the mapping: no default department
        ("M01", "市政公用设施类", "matter", None, None),
        ("M01001", "供水井盖异常", "matter", "M01", None),
    ]


def test_urban_errors_name_the_files_own_columns():
    bad_kind = URBAN.replace("管理事项", "管理什么")
    assert error_of(csv_bytes(bad_kind), fmt="urban").field == "rows[2].matter_kind"
    bad_code = URBAN.replace("02001", "2a")
    assert error_of(csv_bytes(bad_code), fmt="urban").field == "rows[1].standard_code"
    long_name = URBAN.replace("交通信号灯", "灯" * 130)
    assert error_of(csv_bytes(long_name), fmt="urban").field == "rows[1].standard_name"
    clash = URBAN.replace("交通设施,交通信号灯", "另一个名字,交通信号灯").replace("02001", "01002")
    assert error_of(csv_bytes(clash), fmt="urban").field == "rows[1].category"


HOTLINE = """一级分类,二级分类,三级分类
城乡建设,安全生产,事故处理
城乡建设,安全生产,安全隐患
城乡建设,住房保障,其他
交通运输,出租车,
"""


def test_hotline_rows_become_a_three_level_tree_with_stable_codes():
    categories = parse_categories(csv_bytes(HOTLINE), fmt="hotline")
    assert [(c.code, c.name, c.parent_code) for c in categories] == [
        ("H01", "城乡建设", None), ("H01-01", "安全生产", "H01"), ("H01-01-001", "事故处理", "H01-01"),
        ("H01-01-002", "安全隐患", "H01-01"), ("H01-02", "住房保障", "H01"), ("H01-02-001", "其他", "H01-02"),
        ("H02", "交通运输", None), ("H02-01", "出租车", "H02"),
    ]
    assert {c.kind for c in categories} == {"hotline"}
    assert parse_categories(csv_bytes(HOTLINE), fmt="hotline") == categories


def test_hotline_rows_with_a_gap_in_the_levels_are_refused():
    error = error_of(csv_bytes("一级分类,二级分类,三级分类\n城乡建设,,事故处理\n"), fmt="hotline")
    assert error.field == "rows[0].二级分类"


def test_an_unknown_format_is_refused():
    assert error_of(csv_bytes(NATIVE), fmt="other").field == "format"


@pytest.mark.skipif(not URBAN_FILE.exists(), reason="reference data (../shared) not present")
def test_the_reference_urban_management_directory_parses_completely():
    categories = parse_categories(URBAN_FILE.read_bytes(), fmt="urban",
                                  department_map={"城市管理部门": "370300-cgj"})
    children = [c for c in categories if c.parent_code]
    assert len(children) == 403 and len(categories) == 403 + 15
    assert {c.kind for c in categories} == {"component", "matter"}
    assert sum(c.default_department_code == "370300-cgj" for c in children) == 95


@pytest.mark.skipif(not HOTLINE_FILE.exists(), reason="reference data (../shared) not present")
def test_the_reference_hotline_classification_parses_into_three_levels():
    categories = parse_categories(HOTLINE_FILE.read_bytes(), fmt="hotline")
    by_depth = [sum(c.code.count("-") == depth for c in categories) for depth in range(3)]
    assert by_depth == [15, 118, 517]


# --- routing rules and department maps ------------------------------------------------------------


def test_rules_parse_with_empty_or_star_meaning_any_category():
    text = "category_code,region_code,department_code\nC01,370303,370303-cgj\n*,370303001,office\n,370302,x\n"
    rules = parse_rules(csv_bytes(text))
    assert [(r.category_code, r.region_code, r.department_code) for r in rules] == [
        ("C01", "370303", "370303-cgj"), (None, "370303001", "office"), (None, "370302", "x")]


@pytest.mark.parametrize(("row", "field"), [
    ("C01,3703,x", "rows[1].region_code"),
    ("C01,370302,", "rows[1].department_code"),
    ("C01,370303,y", "rows[1].region_code"),  # the same category and region twice
])
def test_bad_rule_rows_are_refused_naming_row_and_column(row: str, field: str):
    with pytest.raises(ValidationFailed) as caught:
        parse_rules(csv_bytes(f"category_code,region_code,department_code\nC01,370303,x\n{row}\n"))
    assert caught.value.field == field


def test_a_department_map_must_be_a_json_object_of_names_to_codes():
    assert parse_department_map('{"城市管理部门": "370300-cgj"}') == {"城市管理部门": "370300-cgj"}
    assert parse_department_map("") is None
    for bad in ("[1]", '{"a": 1}', "{nope"):
        with pytest.raises(ValidationFailed) as caught:
            parse_department_map(bad)
        assert caught.value.field == "department_map"
