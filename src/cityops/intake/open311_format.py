"""How Open311 GeoReport v2 looks on the wire: status mapping, W3C datetimes, messages, and the JSON and XML
renderings of services, requests and errors.

Pure: no database and no HTTP, so every rule here has a table-driven test. open311.py gathers the rows.
XML follows the element names of the spec's examples; JSON is the same tree by the Spark convention
(a list element becomes an array of its items), which is what the spec's JSON examples show.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final, Literal, overload

from cityops.cases.states import FINAL_STATES, STATE_LABELS, State
from cityops.core.clock import CHINA_TZ

Format = Literal["json", "xml"]
MEDIA_TYPES: Final[dict[str, str]] = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
SPECIFICATION: Final = "http://wiki.open311.org/GeoReport_v2"
XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'

# The element each list item gets in XML, keyed by the list's own element (from the spec's examples).
ITEM_ELEMENTS: Final[dict[str, str]] = {
    "services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
    "errors": "error", "endpoints": "endpoint", "formats": "format",
}
# Characters XML 1.0 cannot carry at all, even escaped: a stray one in a description must not break the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

KIND_LABELS: Final[dict[str, tuple[str, str]]] = {
    "component": ("部件", "Component"), "matter": ("事件", "Matter"), "hotline": ("热线", "Hotline"),
    "custom": ("自定义", "Custom"),
}
UNIT_LABELS: Final[dict[str, tuple[str, str]]] = {
    "working_hours": ("工作小时", "working hours"), "working_days": ("个工作日", "working days"),
    "natural_hours": ("小时", "hours"),
}
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "key_missing": ("缺少 api_key，无法提交诉求", "api_key is missing -- can't proceed with create_request."),
    "key_invalid": ("api_key 无效，无法提交诉求", "Invalid api_key received -- can't proceed with create_request."),
    "forbidden": ("该 api_key 无权提交诉求", "This api_key may not create requests."),
    "service_code_missing": ("缺少 service_code", "service_code was not provided."),
    "service_unknown": ("服务类型 {code} 不存在", "service_code {code} was not found."),
    "request_unknown": ("诉求 {id} 不存在", "Service request {id} was not found."),
    "token_unknown": ("令牌 {id} 不存在", "Token {id} was not found."),
    "location_missing": ("需要位置：lat 与 long，或 address_string，或 address_id",
                         "A location is required: lat and long, or address_string, or address_id."),
    "lat_long_pair": ("lat 与 long 需同时提供", "lat and long must be sent together."),
    "not_a_number": ("{field} 不是数字", "{field} is not a number."),
    "too_long": ("{field} 超过 {limit} 个字符", "{field} is longer than {limit} characters."),
    "invalid": ("{field} 不正确：{detail}", "{field} is invalid: {detail}"),
    "bad_datetime": ("{field} 须为带时区的 W3C 时间，如 2026-01-01T00:00:00+08:00",
                     "{field} must be a W3C datetime with a timezone, e.g. 2026-01-01T00:00:00Z."),
    "bad_range": ("start_date 须早于 end_date", "start_date must be before end_date."),
    "range_too_long": ("查询时间跨度不能超过 {days} 天", "The date range may not span more than {days} days."),
    "bad_status": ("status 只能是 open 或 closed", "status must be open or closed."),
    "bad_format": ("格式只能是 json 或 xml", "The format must be json or xml."),
    "not_found": ("请求的资源不存在", "The requested resource does not exist."),
    "general": ("请求无法处理：{detail}", "The request could not be processed: {detail}"),
    "internal": ("服务内部错误，请联系我们", "Internal service error; please notify us."),
    "notice": ("处置时限：{limit} {unit}", "Time limit for handling: {limit} {unit}"),
    "contact": ("城市运行管理中心 Open311 接口", "City operations centre, Open311 interface"),
    "key_service": ("API 密钥由平台管理员签发（cityops org create-api-key）",
                    "API keys are issued by the platform administrator (cityops org create-api-key)."),
}


def text(key: str, language: str, **params: object) -> str:
    zh, en = MESSAGES[key]
    return (en if language.startswith("en") else zh).format(**params)


def parse_format(value: str) -> Format | None:
    return "json" if value == "json" else "xml" if value == "xml" else None


def format_of_path(path: str) -> Format:
    """The format an error should be in: the one the client asked for, else XML (the spec's required format)."""
    return "json" if path.endswith(".json") else "xml"


# --- time and status -----------------------------------------------------------------------------------------


@overload
def w3c(value: datetime) -> str: ...
@overload
def w3c(value: None) -> None: ...
def w3c(value: datetime | None) -> str | None:
    """W3C datetime in local time with its offset (2026-03-01T16:00:00+08:00): the spec requires an offset."""
    if value is None:
        return None
    return value.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def parse_w3c(value: str) -> datetime:
    """A client's W3C datetime; ValueError without a timezone, since the instant would be ambiguous."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        raise ValueError("a timezone is required")
    return parsed


def status_of(case_state: str | None) -> Literal["open", "closed"]:
    """closed once the city is done with it (rejected, closed, followed up); open before, and while no case yet."""
    return "closed" if case_state is not None and State(case_state) in FINAL_STATES else "open"


def status_notes(case_state: str | None, result: str | None, language: str) -> str:
    zh, en = STATE_LABELS[State(case_state or State.RECEIVED)]
    label = en if language.startswith("en") else zh
    if status_of(case_state) == "closed" and result:
        return f"{label}: {result}" if language.startswith("en") else f"{label}：{result}"
    return label


def service_notice(handle_limit: float, handle_unit: str, language: str) -> str:
    zh, en = UNIT_LABELS.get(handle_unit, (handle_unit, handle_unit))
    return text("notice", language, limit=f"{handle_limit:g}", unit=en if language.startswith("en") else zh)


def group_label(parent_name: str | None, kind: str, language: str) -> str:
    """The service's group: its parent category, or for a top-level category its kind (部件 / 事件 …)."""
    if parent_name:
        return parent_name
    zh, en = KIND_LABELS.get(kind, (kind, kind))
    return en if language.startswith("en") else zh


# --- rows ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    service_code: str
    service_name: str
    description: str | None
    metadata: bool
    type: str
    keywords: str | None
    group: str | None


@dataclass(frozen=True)
class RequestRow:
    """One service request as GET returns it; reporter contact details are deliberately not part of it."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


def service_row(*, code: str, name: str, name_en: str | None, keywords: Sequence[str], group: str) -> dict[str, Any]:
    # No attributes are defined for any service, so metadata is false and the definition is an empty list;
    # every request id is returned at once, so the type is realtime.
    row = ServiceRow(service_code=code, service_name=name, description=name_en, metadata=False, type="realtime",
                     keywords=", ".join(keywords) or None, group=group)
    return asdict(row)


def service_definition(code: str) -> dict[str, Any]:
    return {"service_code": code, "attributes": []}


def request_row(row: RequestRow) -> dict[str, Any]:
    return asdict(row)


def created_row(public_id: str, notice: str | None, account_id: str | None) -> dict[str, Any]:
    return {"service_request_id": public_id, "service_notice": notice, "account_id": account_id}


def token_row(public_id: str, token: str) -> dict[str, Any]:
    return {"service_request_id": public_id, "token": token}


def error_rows(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def discovery(*, url: str, changeset: str, language: str) -> dict[str, Any]:
    endpoint = {"specification": SPECIFICATION, "url": url, "changeset": changeset, "type": "production",
                "formats": [MEDIA_TYPES["xml"].split(";")[0], MEDIA_TYPES["json"].split(";")[0]]}
    return {"changeset": changeset, "contact": text("contact", language),
            "key_service": text("key_service", language), "endpoints": [endpoint]}


# --- rendering -----------------------------------------------------------------------------------------------


def render(fmt: Format, root: str, body: Any) -> bytes:
    """The document for `body` (a list or a mapping) under the XML element `root`, or as JSON."""
    if fmt == "json":
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    return to_xml(root, body)


def to_xml(root: str, body: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, body)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode")).encode("utf-8")


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item = ITEM_ELEMENTS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item), child)
    elif value is not None:  # None stays an empty element (<account_id/>), as in the spec's examples
        element.text = _xml_text(value)


def _xml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))
