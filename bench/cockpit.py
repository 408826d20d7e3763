"""The leader cockpit under load: p50/p95 latency of its data endpoints with a city of a million cases and ten
million sensor readings, for 20 screens polling at once. Prints one JSON object.

    python bench/cockpit.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--cases 1000000]
                            [--readings 10000000] [--seconds 20] [--concurrency 20] [--api-workers 2]

It creates its own PostgreSQL schema, loads the demo city, fills `cases` and `reports` (one report per case,
spread over the demo grids and the last 12 months) and `readings` (the demo devices, the last days) with
set-based INSERT … SELECT generate_series on the server, the fastest way to make rows that the database itself
writes; then starts `uvicorn` on loopback and has `--concurrency` viewers (a city / district mix, a leader's API
key) fetch summary, map, trends and indicators in turn for `--seconds`. The first answer per (endpoint, region)
is timed on its own (`cold_ms`): the KPI rates, trends and vital signs are then kept for a short while and
recomputed behind the answers (insight/cockpit.py, Memo).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fixtures import drop_schema, free_port, fresh_database, start_api
from loadgen import read_response
from machine import machine
from sqlalchemy import text

from cityops.core.db import create_db_engine
from cityops.core.settings import Settings
from cityops.demo.loader import load_demo
from cityops.org import flows as org_flows
from cityops.platform import build_platform
from cityops.sensing.device_types import device_types

ENDPOINTS = ("summary", "map", "trends", "indicators")
OPEN = ("received", "registered", "dispatched", "in_progress", "handled")


def fill_cases(conn: Any, n: int, now: datetime) -> None:
    """n cases with one report each: received over the last 365 days; recent ones mostly open (their stage
    deadline two days after receipt, so the older open ones are overdue), older ones closed and followed up."""
    conn.execute(text("""
        CREATE TEMP TABLE bench_grids AS
        SELECT row_number() OVER (ORDER BY code) - 1 AS k, code, centroid_lng AS lng, centroid_lat AS lat
        FROM regions WHERE level = 'grid' AND centroid_lng IS NOT NULL"""))
    conn.execute(text("""
        CREATE TEMP TABLE bench_categories AS
        SELECT row_number() OVER (ORDER BY code) - 1 AS k, code FROM categories WHERE active AND code LIKE '%-%'"""))
    conn.execute(text("""
        CREATE TEMP TABLE bench_cases AS
        SELECT g AS id, (SELECT count(*) FROM bench_grids) AS n_grids,
               (SELECT count(*) FROM bench_categories) AS n_cats,
               :now - (random() ^ 1.3) * interval '365 days' AS received_at, random() AS r, random() AS s
        FROM generate_series(1, :n) AS g"""), {"n": n, "now": now})
    conn.execute(text("""
        INSERT INTO cases (id, number, title, description, category_code, severity, region_code, lng, lat, channel,
                           state, suspended, escalation_level, reopened_count, rework_count, return_count,
                           report_count, stage_due_at, handle_due_at, due_at, received_at, last_report_at,
                           registered_at, register_due_at, first_dispatched_at, dispatched_at, handled_at,
                           verified_at, closed_at, followed_up_at, resolved, satisfaction, imported, updated_at,
                           version)
        SELECT c.id, 'BJ' || c.id, '基准案件 ' || c.id, '基准测试生成的案件', cat.code, 2, g.code,
               g.lng + (c.s - 0.5) * 0.004, g.lat + (c.r - 0.5) * 0.004, 'hotline',
               CASE WHEN open_case THEN (ARRAY['received','registered','dispatched','in_progress','handled'])
                                        [1 + (c.id % 5)] WHEN c.r < 0.5 THEN 'followed_up' ELSE 'closed' END,
               false, 0, 0, 0, 0, 1,
               CASE WHEN open_case THEN c.received_at + interval '2 days' END,
               c.received_at + interval '3 days', c.received_at + interval '5 days',
               c.received_at, c.received_at, c.received_at + interval '1 hour', c.received_at + interval '4 hours',
               c.received_at + interval '2 hours', c.received_at + interval '2 hours',
               CASE WHEN NOT open_case THEN c.received_at + interval '1 day' END,
               CASE WHEN NOT open_case THEN c.received_at + interval '30 hours' END,
               CASE WHEN NOT open_case THEN c.received_at + (interval '4 days' * c.s * 1.5) END,
               CASE WHEN NOT open_case AND c.r < 0.5 THEN c.received_at + interval '6 days' END,
               CASE WHEN NOT open_case AND c.r < 0.5 THEN c.s < 0.9 END,
               CASE WHEN NOT open_case AND c.r < 0.5 THEN (CASE WHEN c.s < 0.8 THEN 'satisfied'
                    WHEN c.s < 0.9 THEN 'basically' ELSE 'dissatisfied' END) END,
               true, c.received_at, 1
        FROM (SELECT *, (received_at > :now - interval '3 days' AND r < 0.8)
                        OR (received_at > :now - interval '30 days' AND r < 0.2) OR r < 0.02 AS open_case
              FROM bench_cases) AS c
        JOIN bench_grids g ON g.k = c.id % c.n_grids
        JOIN bench_categories cat ON cat.k = (c.id * 7 + (c.r * 5)::int) % c.n_cats"""), {"now": now})
    conn.execute(text("""
        INSERT INTO reports (id, public_id, channel, channel_report_id, text, category_code, lng, lat, photos,
                             submitted_by, reported_at, received_at, status, region_code, case_id, triage, extra)
        SELECT id, 'BR' || id, 'hotline', 'bench-' || id, title, category_code, lng, lat, '[]', 'bench',
               received_at, received_at, 'triaged', region_code, id, '{}', '{}'
        FROM cases"""))
    for table in ("cases", "reports"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def fill_readings(conn: Any, n: int, now: datetime) -> None:
    """n readings of the demo devices' first metric, every device every `step` seconds back from now."""
    metrics = {code: next(iter(t.metrics)) for code, t in device_types().items() if t.metrics}
    devices = [(d, metrics[t]) for d, t in conn.execute(text("SELECT device_id, type_code FROM devices"))
               if t in metrics]
    per_device = max(1, n // max(1, len(devices)))
    step_s = 60
    conn.execute(text("CREATE TEMP TABLE bench_devices (device_id text, metric text)"))
    conn.execute(text("INSERT INTO bench_devices VALUES (:d, :m)"), [{"d": d, "m": m} for d, m in devices])
    conn.execute(text("""
        INSERT INTO readings (device_id, metric, ts, value)
        SELECT d.device_id, d.metric, :now - make_interval(secs => k * :step), random() * 50
        FROM bench_devices d CROSS JOIN generate_series(1, :per) AS k"""),
                 {"now": now, "step": step_s, "per": per_device})


def prepare(db_url: str, data_dir: Path, n_cases: int, n_readings: int) -> tuple[str, str | None, dict[str, Any]]:
    url, schema = fresh_database(db_url, data_dir)
    platform = build_platform(Settings(data_dir=data_dir, database_url=url))
    load_demo(platform)
    _, key = org_flows.create_api_key(platform, actor=None, name="cockpit bench", role="leader", region_code="370300")
    platform.close()
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    fill: dict[str, Any] = {"api_key": key}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM reports"))  # the demo's reports: the bench's cases replace them
        conn.execute(text("UPDATE alarms SET case_id = NULL"))
        conn.execute(text("DELETE FROM case_transitions"))
        conn.execute(text("DELETE FROM case_tasks"))
        conn.execute(text("DELETE FROM cases"))
        started = time.perf_counter()
        fill_cases(conn, n_cases, now)
        fill["fill_cases_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        fill_readings(conn, n_readings, now)
        fill["fill_readings_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("cases", "reports", "readings", "alarms"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
        fill["rows"] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                        for t in ("cases", "reports", "readings")}
        fill["open_cases"] = conn.execute(text("SELECT count(*) FROM cases WHERE state = ANY(:s)"),
                                          {"s": list(OPEN)}).scalar_one()
        fill["districts"] = [r[0] for r in conn.execute(text(
            "SELECT code FROM regions WHERE level = 'district' ORDER BY code"))]
    fill["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    return url, schema, fill


def cold(port: int, key: str, regions: list[str], workers: int) -> dict[str, float]:
    """The first answers: each (endpoint, region) a few times, so every worker process has computed it once."""
    worst: dict[str, float] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
                      timeout=300) as client:
        for endpoint in ENDPOINTS:
            for region in regions:
                for _ in range(workers * 2):
                    started = time.perf_counter()
                    response = client.get(f"/api/v1/cockpit/{endpoint}", params={"region": region})
                    elapsed = (time.perf_counter() - started) * 1000
                    response.raise_for_status()
                    worst[endpoint] = max(worst.get(endpoint, 0.0), elapsed)
    return {f"{e}_cold_ms": round(v, 1) for e, v in worst.items()}


async def _viewer(port: int, key: str, regions: list[str], stop_at: float, seed: int,
                  latencies: dict[str, list[float]], errors: list[int]) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            region = regions[0] if rng.random() < 0.5 else rng.choice(regions[1:])  # half city, half districts
            endpoint = rng.choice(ENDPOINTS)
            request = (f"GET /api/v1/cockpit/{endpoint}?region={region} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {key}\r\n\r\n").encode()
            started = time.perf_counter()
            writer.write(request)
            status = await read_response(reader)
            latencies[endpoint].append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def load(port: int, key: str, regions: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    errors: list[int] = []
    stop_at = time.perf_counter() + seconds

    async def main() -> None:
        await asyncio.gather(*(_viewer(port, key, regions, stop_at, n, latencies, errors) for n in range(concurrency)))

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    out: dict[str, Any] = {}
    for endpoint, values in latencies.items():
        out[endpoint] = {"requests": len(values), "requests_per_s": round(len(values) / elapsed, 1),
                         "p50_ms": _pct(values, 50), "p95_ms": _pct(values, 95), "max_ms": _pct(values, 100)}
    every = [v for values in latencies.values() for v in values]
    out["overall"] = {"requests": len(every), "requests_per_s": round(len(every) / elapsed, 1),
                      "p50_ms": _pct(every, 50), "p95_ms": _pct(every, 95), "errors": len(errors)}
    return out


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-url", default=os.environ.get("CITYOPS_BENCH_DATABASE_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the schema (to look at the plans)")
    args = parser.parse_args()
    if not args.db_url.startswith("postgresql"):
        raise SystemExit("the cockpit bench needs PostgreSQL (--db-url postgresql+psycopg://…)")
    folder = Path(tempfile.mkdtemp(prefix="cityops-bench-cockpit-"))
    started = time.perf_counter()
    url, schema, fill = prepare(args.db_url, folder, args.cases, args.readings)
    prepare_s = round(time.perf_counter() - started, 1)
    regions = ["370300", *fill["districts"]]
    port = free_port()
    server = start_api(url, port, args.api_workers, folder, pool_size=12)
    try:
        cold_ms = cold(port, fill["api_key"], regions, args.api_workers)
        measured = load(port, fill["api_key"], regions, args.seconds, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result: dict[str, Any] = {
        "benchmark": "cockpit", "backend": "postgresql", "api_workers": args.api_workers,
        "concurrency": args.concurrency, "seconds": args.seconds, "cases": fill["rows"]["cases"],
        "reports": fill["rows"]["reports"], "readings": fill["rows"]["readings"], "open_cases": fill["open_cases"],
        "fill_cases_and_reports_s": fill["fill_cases_s"], "fill_readings_s": fill["fill_readings_s"],
        "vacuum_analyze_s": fill["vacuum_analyze_s"], "prepare_total_s": prepare_s,
        "region_mix": {"city": regions[0], "districts": len(regions) - 1, "city_share": 0.5},
        **cold_ms,
        **{f"{e}_{k}": v for e in ENDPOINTS for k, v in measured[e].items() if k != "requests"},
        "overall_p50_ms": measured["overall"]["p50_ms"], "overall_p95_ms": measured["overall"]["p95_ms"],
        "overall_requests_per_s": measured["overall"]["requests_per_s"], "errors": measured["overall"]["errors"],
        "p95_under_300_ms": (measured["overall"]["p95_ms"] or 1e9) < 300, "machine": machine(),
    }
    if not args.keep:
        drop_schema(args.db_url, schema)
    else:
        result["schema"] = schema
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
