"""Data hub under load: masked rows served per second through the sharing API (grant check, masking, one audit
record per page) against, in the same run, the owner's plain read of the same table through the same API and a
plain SQL query of it; then the validation of a million-row file. Prints one JSON object.

Masked rows are measured twice: `masked_rows_per_s` for a grant with nothing approved in clear (the usual one,
served from the masked copies written with the rows), `masked_live_rows_per_s` for a grant with the name approved
in clear (every other field masked on read).

    python bench/datahub.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--rows 200000]
                            [--page 5000] [--seconds 10] [--concurrency 4] [--api-workers 2]
                            [--validate-rows 1000000]

It creates its own schema (PostgreSQL) or file (SQLite), a person dataset with valid ID numbers, the two grants
(ID, birth date, mobile and address masked, gender clear; the name masked in one, clear in the other), and
starts `uvicorn` on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import loadgen
from fixtures import drop_schema, free_port, fresh_database, start_api
from machine import machine
from sqlalchemy import text

from cityops.audit import service as audit
from cityops.core.db import create_db_engine
from cityops.core.runtime import tune_garbage_collector
from cityops.core.settings import Settings
from cityops.datahub import flows, identifiers, importers, service, sharing_flows
from cityops.datahub.schema import CheckContext, parse_schema
from cityops.org import flows as org_flows
from cityops.org import service as org
from cityops.platform import Platform, build_platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput

DISTRICTS = ("370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文辉海燕晓"
SCHEMA: dict[str, Any] = {"primaryKey": ["id_number"], "fields": [
    {"name": "id_number", "type": "string", "standard": "resident_id", "grade": "important",
     "piClass": "resident_id", "constraints": {"required": True}},
    {"name": "name", "type": "string", "grade": "important", "piClass": "name", "constraints": {"required": True}},
    {"name": "gender", "type": "string", "dimension": True, "constraints": {"enum": ["男", "女"]}},
    {"name": "birth_date", "type": "date", "grade": "important", "piClass": "birth_date"},
    {"name": "mobile", "type": "string", "standard": "mobile", "grade": "important", "piClass": "mobile"},
    {"name": "address", "type": "string", "grade": "important", "piClass": "address"},
    {"name": "district_code", "type": "string", "standard": "adcode", "dimension": True},
    {"name": "income_yuan", "type": "integer", "constraints": {"minimum": 0}}]}
COUNTIES = ("张店区", "淄川区", "博山区", "临淄区", "周村区", "桓台县", "高青县", "沂源县")  # as DISTRICTS
STREETS = ("车站街道", "公园街道", "和平街道", "科苑街道", "湖田街道", "中埠镇", "马尚街道", "四宝山街道", "傅家镇",
           "房镇镇")
ROADS = ("共青团西路", "柳泉路", "华光路", "人民西路", "西六路", "金晶大道", "新村西路", "联通路", "北京路", "中润大道",
         "张周路", "世纪路", "昌国路", "鲁泰大道", "商场东街", "齐盛路", "华侨城路", "南京路", "上海路", "美食街",
         "体育场路", "东一路", "西五路", "杏园路", "铁山路", "正阳路", "三赢路", "潘南路", "宝山路", "黄河大道")
GRANTED = ["id_number", "name", "gender", "birth_date", "mobile", "address", "district_code", "income_yuan"]


def person(n: int) -> dict[str, Any]:
    # (birth date, sequence) differs for every n below 1,000,000, so ID numbers never repeat
    birth = date(1940, 1, 1) + timedelta(days=(n // 1000) * 29)
    district = DISTRICTS[n % len(DISTRICTS)]
    id_number = identifiers.resident_id(district, birth, n % 1000)
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 50) % len(GIVEN)] + GIVEN[(n // 7) % len(GIVEN)]
    return {"id_number": id_number, "name": name,
            "gender": "男" if int(id_number[16]) % 2 else "女", "birth_date": birth.isoformat(),
            "mobile": f"1{3 + n % 7}{n % 1_000_000_000:09d}",
            # 2,400 roads (county × street × road), a house number, and in every third a flat
            "address": f"山东省淄博市{COUNTIES[n % len(DISTRICTS)]}{STREETS[(n // 7) % 10]}{ROADS[(n // 13) % 30]}"
                       f"{n % 300}号" + (f"{n % 17 + 1}号楼{n % 4 + 1}单元{n % 29 + 101}室" if n % 3 == 0 else ""),
            "district_code": district, "income_yuan": 1000 + n % 90_000}


def prepare(db_url: str | None, data_dir: Path, rows: int) -> tuple[Platform, str, dict[str, str], str | None]:
    url, schema = fresh_database(db_url, data_dir)
    platform = build_platform(Settings(data_dir=data_dir, database_url=url))
    with platform.uow() as uow:
        regions.upsert_regions(session=uow.session, at=uow.clock.now(), regions=[
            RegionInput("370300", "淄博市", "city", None, None, "official"),
            *(RegionInput(d, f"区县{d}", "district", "370300", None, "official") for d in DISTRICTS)])
        uow.commit()
    keys: dict[str, str] = {}
    for code, name in (("370300-gaj", "公安局"), ("370300-mzj", "民政局"), ("370300-wjw", "卫健委")):
        department_id = org_flows.create_department(platform, actor=None, code=code, name=name, region_code="370300")
        keys[code] = org_flows.create_api_key(platform, actor=None, name=name, role="system", region_code="370300",
                                              department_id=department_id)[1]
        org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
            username=f"{code}-officer", display_name=name, password=uuid.uuid4().hex, role="data_officer",
            region_code="370300", department_id=department_id))
    flows.save_dataset(platform, actor="bench", values={"code": "bench.people", "name": "人口（基准）",
                                                         "owner_department": "370300-gaj", "schema": SCHEMA,
                                                         "update_frequency": "daily"})
    with platform.uow() as uow:
        dataset = service.get_dataset_or_raise(session=uow.session, code="bench.people")
        dataset.row_count = service.replace_rows(session=uow.session, dataset=dataset,
                                                 rows=((None, person(n)) for n in range(rows)))
        uow.commit()
    flows.refresh_statistics(platform, rows)  # as an import does
    # 民政局 is granted every field with nothing in clear (served from the masked copies stored with the rows);
    # 卫健委 the same with the name approved in clear (every other field masked on read, row by row).
    for department, clear in (("370300-mzj", []), ("370300-wjw", ["name"])):
        with platform.db.session() as session:
            staff = org.get_staff_by_username(session=session, username=f"{department}-officer")
            assert staff is not None
            officer = org.staff_principal(session=session, staff=staff)
        request_id = sharing_flows.request_share(
            platform, actor=officer, dataset_code="bench.people", fields=GRANTED, purpose="基准测试用途",
            legal_basis="基准测试", wanted_until=datetime(2100, 1, 1, tzinfo=UTC), clear_fields=clear)
        sharing_flows.decide(platform, actor="bench", request_id=request_id, approve=True)
    return platform, url, keys, schema


def serve_rate(port: int, token: str, rows: int, page: int, seconds: float, concurrency: int) -> dict[str, float]:
    """Clients walk the table's full pages (row numbers are 1..rows, so no page needs parsing for the next) with
    loadgen, whose CPU per request is far below httpx's, a connection a page (a page is a megabyte, so the
    connection costs little, and both API processes get their share)."""
    full_pages = max(1, rows // page)
    requests = [loadgen.get(f"/api/v1/datahub/datasets/bench.people/rows?after={n * page}&limit={page}",
                            "127.0.0.1", {"Authorization": f"Bearer {token}"}) for n in range(full_pages)]
    result = asyncio.run(loadgen.run("127.0.0.1", port, lambda i: requests[i % full_pages], concurrency=concurrency,
                                     seconds=seconds, ok_statuses={200}, reconnect=True))
    if result.errors:
        raise SystemExit(f"{result.errors} pages failed: {result.statuses}")
    return {"rows_per_s": round(result.ok * min(page, rows) / result.elapsed_s, 1), "pages": result.ok,
            "page_p50_ms": result.percentile_ms(50), "page_p99_ms": result.percentile_ms(99)}


def sql_rate(url: str, rows: int, page: int, seconds: float) -> float:
    """The same pages as a plain SQL query (rows fetched and decoded, nothing else)."""
    engine = create_db_engine(url)
    served = 0
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    with engine.connect() as conn:
        dataset_id = conn.execute(text("SELECT id FROM datasets WHERE code = 'bench.people'")).scalar_one()
        after = 0
        while time.perf_counter() < stop_at:
            fetched = conn.execute(text("SELECT row_no, data FROM dataset_rows WHERE dataset_id = :d AND row_no > :a "
                                        "ORDER BY row_no LIMIT :n"), {"d": dataset_id, "a": after, "n": page}).all()
            served += len(fetched)
            after = fetched[-1][0] if len(fetched) == page else 0
    elapsed = time.perf_counter() - started
    engine.dispose()
    return round(served / elapsed, 1)


def validation(rows: int) -> dict[str, float]:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    columns = [f["name"] for f in SCHEMA["fields"]]
    writer.writerow(columns)
    for n in range(rows):
        values = person(n)
        writer.writerow([values[c] for c in columns])
    content = buffer.getvalue().encode("utf-8")
    context = CheckContext(region_codes=frozenset(DISTRICTS), today=date(2026, 12, 1))
    started = time.perf_counter()
    checked = importers.check_file(content, parse_schema(SCHEMA), context=context)
    elapsed = time.perf_counter() - started
    assert checked.ok and checked.total == rows, checked.errors[:3]
    return {"validate_rows": rows, "validate_s": round(elapsed, 2), "validate_rows_per_s": round(rows / elapsed, 1),
            "validate_file_mb": round(len(content) / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-url", default=os.environ.get("CITYOPS_BENCH_DATABASE_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--validate-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cityops-bench-datahub-"))
    db_url = None if args.db_url == "sqlite" else args.db_url
    platform, url, keys, schema = prepare(db_url, folder, args.rows)
    port = free_port()
    server = start_api(url, port, args.api_workers, folder)
    try:
        with platform.db.session() as session:
            audit_before = audit.verify(session=session).checked
        readers = (("masked", keys["370300-mzj"]), ("plain", keys["370300-gaj"]), ("masked_live", keys["370300-wjw"]))
        warm_up_pages = 0
        for _name, token in readers:  # warm every path in every worker first
            warm_up_pages += int(serve_rate(port, token, args.rows, args.page, 1.0, args.concurrency)["pages"])
        # Alternate them, twice, so drift on a noisy machine falls on all alike.
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _token in readers}
        for _ in range(2):
            for name, token in readers:
                runs[name].append(serve_rate(port, token, args.rows, args.page, args.seconds / 2, args.concurrency))
        tune_garbage_collector()  # the plain query gets the collector settings the API processes have
        sql_rows_per_s = sql_rate(url, args.rows, args.page, args.seconds / 2)
        with platform.db.session() as session:
            report = audit.verify(session=session)
    finally:
        server.terminate()
        server.wait(timeout=30)
    masked, plain, live = (sum(r["rows_per_s"] for r in runs[name]) / 2 for name in ("masked", "plain", "masked_live"))
    pages = warm_up_pages + sum(r["pages"] for rs in runs.values() for r in rs)
    result: dict[str, Any] = {
        "benchmark": "datahub", "backend": platform.db.dialect, "api_workers": args.api_workers,
        "concurrency": args.concurrency, "dataset_rows": args.rows, "page_rows": args.page,
        "masked_rows_per_s": round(masked, 1), "plain_api_rows_per_s": round(plain, 1),
        "plain_sql_rows_per_s": sql_rows_per_s,
        "masked_to_plain_api_ratio": round(masked / plain, 3) if plain else None,
        "masked_to_plain_sql_ratio": round(masked / sql_rows_per_s, 3) if sql_rows_per_s else None,
        "masked_live_rows_per_s": round(live, 1),
        "masked_live_to_plain_sql_ratio": round(live / sql_rows_per_s, 3) if sql_rows_per_s else None,
        "masked_page_p99_ms": max(r["page_p99_ms"] for r in runs["masked"]),
        "plain_page_p99_ms": max(r["page_p99_ms"] for r in runs["plain"]),
        "masked_live_page_p99_ms": max(r["page_p99_ms"] for r in runs["masked_live"]),
        "audit_records_written": report.checked - audit_before, "audited_pages": pages,
        "audit_chain_ok": report.ok, "machine": machine(),
    }
    platform.close()
    result.update(validation(args.validate_rows))
    result["validate_1m_rows_under_60_s"] = result["validate_s"] * 1_000_000 / args.validate_rows < 60
    drop_schema(args.db_url, schema)
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
