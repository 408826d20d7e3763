"""After a bulk write on PostgreSQL the planner knows the table's size, so a page walks the key index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from cityops.datahub import flows, service
from cityops.org import flows as org_flows
from cityops.platform import Platform, build_platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput
from tests.conftest import _empty_postgres, make_settings

SCHEMA = {"primaryKey": ["n"], "fields": [{"name": "n", "type": "integer"}, {"name": "note", "type": "string"}]}


@pytest.fixture
def pg_platform(postgres_schema_url: str, tmp_path: Path) -> Iterator[Platform]:
    _empty_postgres(postgres_schema_url)
    platform = build_platform(make_settings(tmp_path, postgres_schema_url))
    try:
        yield platform
    finally:
        platform.close()


def test_a_bulk_write_is_followed_by_fresh_statistics_and_pages_use_the_index(pg_platform: Platform) -> None:
    with pg_platform.uow() as uow:
        regions.upsert_regions(session=uow.session, at=uow.clock.now(),
                               regions=[RegionInput("370300", "淄博市", "city", None, None, "official")])
        uow.commit()
    org_flows.create_department(pg_platform, actor=None, code="370300-tjj", name="统计局", region_code="370300")
    flows.save_dataset(pg_platform, actor="test", values={"code": "t.rows", "name": "行", "schema": SCHEMA,
                                                          "owner_department": "370300-tjj"})
    with pg_platform.uow() as uow:
        dataset = service.get_dataset_or_raise(session=uow.session, code="t.rows")
        written = service.replace_rows(session=uow.session, dataset=dataset,
                                       rows=((str(n), {"n": n, "note": "x" * 40}) for n in range(20_000)))
        uow.commit()
    flows.refresh_statistics(pg_platform, written)
    with pg_platform.db.session() as session:
        tuples = session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'dataset_rows'::regclass")).scalar()
        plan = "\n".join(session.execute(text(
            "EXPLAIN SELECT row_no, data FROM dataset_rows WHERE dataset_id = :d AND row_no > 0 "
            "ORDER BY row_no LIMIT 1000"), {"d": dataset.id}).scalars())
    assert tuples == pytest.approx(20_000, rel=0.05)
    assert "Index Scan" in plan and "Sort" not in plan, plan
