"""Import flows: one transaction with the regions, one audit record and one outbox message — or nothing."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityops.audit.models import AuditRecord
from cityops.core.errors import ValidationFailed
from cityops.core.models import OutboxMessage
from cityops.platform import Platform
from cityops.regions import flows, service
from cityops.regions.errors import PointOutsideRegions
from cityops.regions.models import Region

DATA = files("cityops.demo") / "data"
ACTOR = "staff:1:admin"


def copy_data(name: str, folder: Path) -> Path:
    target = folder / name
    target.write_bytes((DATA / name).read_bytes())
    return target


def counts(platform: Platform) -> tuple[int, int, int]:
    with platform.db.session() as session:
        return (session.scalar(select(func.count()).select_from(Region)) or 0,
                session.scalar(select(func.count()).select_from(AuditRecord)) or 0,
                session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_import_geojson_writes_regions_one_audit_record_and_one_message(platform: Platform, tmp_path: Path):
    file = copy_data("zibo_districts_gcj02.geojson", tmp_path)
    summary = flows.import_geojson(platform, file, level="district", crs="gcj02", actor=ACTOR)
    assert (summary.created, summary.updated, summary.unchanged, summary.version) == (8, 0, 0, 1)
    assert counts(platform) == (8, 1, 1)
    with platform.db.session() as session:
        record = session.scalars(select(AuditRecord)).one()
        message = session.scalars(select(OutboxMessage)).one()
        assert (record.action, record.actor, record.entity_type) == ("regions.imported", ACTOR, "region")
        assert record.data == {"count": 8, "level": "district", "file": "zibo_districts_gcj02.geojson",
                               "created": 8, "updated": 0}
        assert message.subject == "cityops.regions.changed" and message.payload["version"] == 1


def test_importing_the_same_file_again_creates_nothing(platform: Platform, tmp_path: Path):
    file = copy_data("zibo_districts_gcj02.geojson", tmp_path)
    flows.import_geojson(platform, file, level="district", crs="gcj02", actor=ACTOR)
    again = flows.import_geojson(platform, file, level="district", crs="gcj02", actor=ACTOR)
    assert (again.created, again.updated, again.unchanged, again.version) == (0, 0, 8, 1)


def test_a_file_with_one_bad_feature_imports_nothing(platform: Platform):
    document = json.loads((DATA / "zibo_districts_gcj02.geojson").read_bytes())
    document["features"][5]["properties"]["name"] = " "
    upload = flows.ImportFile("bad.geojson", json.dumps(document).encode())
    with pytest.raises(ValidationFailed) as error:
        flows.import_geojson(platform, upload, level="district", crs="gcj02", actor=ACTOR)
    assert error.value.field == "features[5].properties.name"
    assert counts(platform) == (0, 0, 0)


def test_a_hierarchy_error_found_while_saving_rolls_everything_back(platform: Platform):
    upload = flows.ImportFile("streets.csv", "code,name\n370303001,车站街道\n".encode())
    flows.import_divisions_csv(platform, upload, actor=ACTOR)  # a root: no district yet
    wrong = flows.ImportFile("g.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": "370303001001", "name": "社区"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
        {"type": "Feature", "properties": {"adcode": "370302001001", "name": "别处社区"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}).encode())
    with pytest.raises(ValidationFailed) as error:
        flows.import_geojson(platform, wrong, level="community", parent_code="370303001", actor=ACTOR)
    assert error.value.field == "features[1].parent_code"
    assert counts(platform) == (1, 1, 1)


def test_division_csvs_build_the_tree_and_geojson_then_adds_the_polygons(platform: Platform, tmp_path: Path):
    flows.import_divisions_csv(platform, flows.ImportFile("city.csv", "code,name\n3703,淄博市\n".encode()),
                               actor=ACTOR)
    flows.import_divisions_csv(platform, copy_data("zibo_areas.csv", tmp_path), actor=ACTOR)
    streets = flows.import_divisions_csv(platform, copy_data("zibo_streets.csv", tmp_path), actor=ACTOR)
    assert streets.created == 88
    polygons = flows.import_geojson(platform, copy_data("zibo_districts_gcj02.geojson", tmp_path),
                                    level="district", crs="gcj02", actor=ACTOR)
    assert (polygons.created, polygons.updated) == (0, 8)
    with platform.db.session() as session:
        street = service.get_or_raise(session=session, code="370303001")
        assert street.path == "370300/370303/370303001" and street.geometry is None
        assert service.get_or_raise(session=session, code="370303").geometry is not None
    # The district has a polygon but its streets do not: a point there gets the district.
    path = service.locator(platform).locate(platform.db, 118.0691, 36.8137)
    assert [step.code for step in path] == ["370300", "370303"]


def test_the_audit_record_is_scoped_to_the_parent_region(platform: Platform):
    flows.import_divisions_csv(platform, flows.ImportFile("a.csv", "code,name\n3703,淄博市\n370303,张店区\n".encode()),
                               actor=ACTOR)
    feature = {"type": "Feature", "properties": {"adcode": "370303001", "name": "车站街道"},
               "geometry": {"type": "Polygon", "coordinates": [[[118, 36], [118.1, 36], [118.1, 36.1], [118, 36]]]}}
    flows.import_geojson(platform, flows.ImportFile("s.geojson", json.dumps(
        {"type": "FeatureCollection", "features": [feature]}).encode()), level="street", parent_code="370303",
        actor=ACTOR)
    with platform.db.session() as session:
        newest = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert newest is not None and (newest.region_code, newest.entity_id) == ("370303", "370303")


def test_an_import_is_seen_by_this_processs_locator_at_once(platform: Platform, tmp_path: Path):
    flows.import_divisions_csv(platform, flows.ImportFile("c.csv", "code,name\n3703,淄博市\n".encode()),
                               actor=ACTOR)
    with pytest.raises(PointOutsideRegions):
        service.locator(platform).locate(platform.db, 118.0691, 36.8137)
    flows.import_geojson(platform, copy_data("zibo_districts_gcj02.geojson", tmp_path), level="district",
                         crs="gcj02", actor=ACTOR)
    assert service.locator(platform).locate(platform.db, 118.0691, 36.8137)[-1].code == "370303"
