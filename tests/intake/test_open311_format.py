"""The Open311 wire format without a database: status mapping, W3C datetimes, and the XML element names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cityops.cases.states import State
from cityops.intake import open311_format as wire

FINISHED = (State.REJECTED, State.CLOSED, State.FOLLOWED_UP, State.MERGED)


@pytest.mark.parametrize(("state", "status"), [
    (None, "open"),  # no case yet: the report is waiting for triage
    *[(s.value, "closed") for s in FINISHED],
    *[(s.value, "open") for s in State if s not in FINISHED],
])
def test_a_request_is_closed_only_once_its_case_is_finished(state: str | None, status: str):
    assert wire.status_of(state) == status


@pytest.mark.parametrize(("state", "result", "language", "notes"), [
    (None, None, "zh-CN", "受理"),
    ("dispatched", "已修好", "zh-CN", "派遣"),  # a result only counts once the request is closed
    ("closed", "已更换井盖", "zh-CN", "结案：已更换井盖"),
    ("closed", None, "en", "Closed"),
    ("followed_up", "Replaced", "en", "Followed up: Replaced"),
])
def test_status_notes_give_the_state_label_and_when_closed_the_result(state: str | None, result: str | None,
                                                                      language: str, notes: str):
    assert wire.status_notes(state, result, language) == notes


@pytest.mark.parametrize(("value", "text"), [
    (datetime(2026, 3, 1, 8, 0, tzinfo=UTC), "2026-03-01T16:00:00+08:00"),
    (datetime(2026, 3, 1, 23, 30, 15, 999, tzinfo=UTC), "2026-03-02T07:30:15+08:00"),
    (datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=-5))), "2026-03-01T21:00:00+08:00"),
    (None, None),
])
def test_datetimes_are_w3c_in_local_time_with_their_offset(value: datetime | None, text: str | None):
    assert wire.w3c(value) == text


@pytest.mark.parametrize(("text", "instant"), [
    ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01T08:00:00+08:00", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2025-12-31T19:00:00-05:00", datetime(2026, 1, 1, tzinfo=UTC)),
])
def test_client_datetimes_with_a_timezone_are_read_as_that_instant(text: str, instant: datetime):
    assert wire.parse_w3c(text) == instant


@pytest.mark.parametrize("text", ["2026-01-01T00:00:00", "2026-01-01", "yesterday", ""])
def test_client_datetimes_without_a_timezone_are_refused(text: str):
    with pytest.raises(ValueError):
        wire.parse_w3c(text)


def test_services_render_as_the_spec_example_in_both_formats():
    row = wire.service_row(code="T-1", name="井盖缺失", name_en="Missing manhole cover", keywords=["井盖", "窨井"],
                           group="部件")
    assert json.loads(wire.render("json", "services", [row])) == [{
        "service_code": "T-1", "service_name": "井盖缺失", "description": "Missing manhole cover", "metadata": False,
        "type": "realtime", "keywords": "井盖, 窨井", "group": "部件"}]
    document = wire.render("xml", "services", [row])
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    service = ET.fromstring(document).find("service")
    assert service is not None
    assert [child.tag for child in service] == ["service_code", "service_name", "description", "metadata", "type",
                                                "keywords", "group"]
    assert service.findtext("metadata") == "false" and service.findtext("service_name") == "井盖缺失"


def test_lists_inside_documents_get_their_item_elements():
    definition = ET.fromstring(wire.render("xml", "service_definition", wire.service_definition("T-1")))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "T-1"
    attributes = definition.find("attributes")
    assert attributes is not None and len(attributes) == 0
    discovery = ET.fromstring(wire.render("xml", "discovery", wire.discovery(
        url="http://x/open311/v2", changeset="2026-03-01T16:00:00+08:00", language="en")))
    assert [f.text for f in discovery.findall("endpoints/endpoint/formats/format")] == ["text/xml",
                                                                                       "application/json"]
    assert discovery.findtext("endpoints/endpoint/specification") == wire.SPECIFICATION


def test_empty_values_are_empty_elements_and_errors_use_the_errors_element():
    created = ET.fromstring(wire.render("xml", "service_requests", [wire.created_row("R1", None, None)]))
    request = created.find("request")
    assert request is not None and request.find("account_id") is not None
    assert request.findtext("account_id") == ""
    errors = ET.fromstring(wire.render("xml", "errors", wire.error_rows(403, "Invalid api_key")))
    assert errors.findtext("error/code") == "403" and errors.findtext("error/description") == "Invalid api_key"


def test_characters_xml_cannot_carry_are_dropped_so_the_document_stays_well_formed():
    document = wire.render("xml", "errors", wire.error_rows(400, "bad\x00 \x1bbyte & <tag>"))
    assert ET.fromstring(document).findtext("error/description") == "bad byte & <tag>"


@pytest.mark.parametrize(("path", "fmt"), [("/open311/v2/services.json", "json"), ("/open311/v2/services.xml", "xml"),
                                           ("/open311/v2/nowhere", "xml"), ("/open311/v2/services.csv", "xml")])
def test_errors_come_in_the_format_the_url_asks_for_else_xml(path: str, fmt: str):
    assert wire.format_of_path(path) == fmt


def test_the_service_notice_states_the_categorys_handling_time_limit():
    assert wire.service_notice(3.0, "working_days", "zh-CN") == "处置时限：3 个工作日"
    assert wire.service_notice(4.5, "natural_hours", "en") == "Time limit for handling: 4.5 hours"


@pytest.mark.parametrize(("parent", "kind", "language", "group"), [
    ("市容环境", "matter", "zh-CN", "市容环境"), (None, "component", "zh-CN", "部件"), (None, "matter", "en", "Matter"),
    (None, "unheard-of", "zh-CN", "unheard-of"),
])
def test_the_group_is_the_parent_category_else_the_kind(parent: str | None, kind: str, language: str, group: str):
    assert wire.group_label(parent, kind, language) == group
