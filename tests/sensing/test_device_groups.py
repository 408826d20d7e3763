"""Device groups: the optional `device_group` column of a device file, stored as devices.group_code, and the
groups the shipped Zibo devices belong to (the ones the indicator catalogue names)."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from cityops.core.errors import ValidationFailed
from cityops.platform import Platform
from cityops.sensing import flows, service
from cityops.sensing.importers import parse_devices
from tests.cityfixture import build_small_city

GROUPED_CSV = """device_id,type_code,model,lng,lat,department_code,interval_s,device_group
WL-001,water_level_gauge,HY-300,118.01,36.61,370303-cgj,60,xiaofuhe_gauges
WL-002,water_level_gauge,HY-300,118.02,36.61,370303-cgj,60,xiaofuhe_gauges
AQ-001,air_quality_station,AQ-9,118.21,36.61,370303-cgj,,
"""


def test_import_stores_the_group_and_devices_in_group_returns_its_devices(platform: Platform) -> None:
    build_small_city(platform)
    flows.import_devices(platform, GROUPED_CSV.encode(), actor="test", file="devices.csv")
    with platform.db.session() as session:
        grouped = service.devices_in_group(session=session, group_code="xiaofuhe_gauges")
        assert [d.device_id for d in grouped] == ["WL-001", "WL-002"]
        assert service.get_or_raise(session=session, device_id="AQ-001").group_code is None
        assert service.devices_in_group(session=session, group_code="zhulonghe_gauges") == []


def test_changing_the_group_updates_the_device(platform: Platform) -> None:
    build_small_city(platform)
    flows.import_devices(platform, GROUPED_CSV.encode(), actor="test")
    counts = flows.import_devices(platform, GROUPED_CSV.replace("60,xiaofuhe_gauges\nWL-002", "60,\nWL-002")
                                  .encode(), actor="test")
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 2)
    with platform.db.session() as session:
        assert [d.device_id for d in service.devices_in_group(session=session, group_code="xiaofuhe_gauges")] \
            == ["WL-002"]


def test_a_file_without_the_column_still_imports() -> None:
    devices = parse_devices(b"device_id,type_code,lng,lat\nRG-1,rain_gauge,118.01,36.61\n")
    assert devices[0].group_code is None


@pytest.mark.parametrize("bad", ["xiaofu he", "gauges/1", "水位组", "g" * 61, "a#b"])
def test_a_bad_group_code_is_refused_naming_the_field(bad: str) -> None:
    data = f"device_id,type_code,lng,lat,device_group\nRG-1,rain_gauge,118.01,36.61,ok.group-1\n" \
           f"RG-2,rain_gauge,118.01,36.61,{bad}\n"
    with pytest.raises(ValidationFailed) as caught:
        parse_devices(data.encode())
    assert caught.value.field == "rows[1].device_group"
    assert "line 3" in str(caught.value)


def test_a_60_character_group_code_is_accepted() -> None:
    devices = parse_devices(f"device_id,type_code,lng,lat,device_group\nRG-1,rain_gauge,1,1,{'g' * 60}\n".encode())
    assert devices[0].group_code == "g" * 60


def _shipped(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(name).read_bytes()


def test_demo_devices_belong_to_the_groups_the_catalogue_names() -> None:
    devices = {d.device_id: d.group_code for d in parse_devices(_shipped("cityops.sensing", "data/devices_zibo.csv"))}
    assert {d for d, g in devices.items() if g == "xiaofuhe_gauges"} == {f"WL-XFH-0{i}" for i in range(1, 7)}
    assert {d for d, g in devices.items() if g == "zhulonghe_gauges"} == {"WL-ZLH-01", "WL-ZLH-02"}
    assert {d for d, g in devices.items() if g == "taihe_reservoir"} == {"WL-TH-01"}
    assert {d for d, g in devices.items() if g == "underpass_gauges"} == {"WL-UP-01", "WL-UP-02"}
    assert {d for d, g in devices.items() if g == "liuquan_road_counters"} == {"TF-ZD-02"}
    assert all(g is None for d, g in devices.items() if d.startswith(("AQ-", "RG-", "MT-", "SD-", "SL-", "BS-")))
    catalogue = csv.DictReader(io.StringIO(_shipped("cityops.indicators", "data/indicators_zibo.csv")
                                           .decode("utf-8-sig")))
    named = {row["device_group"] for row in catalogue if row["device_group"]}
    assert {g for g in devices.values() if g} <= named  # a device's group is one an indicator names
