"""Fusion with a million open cases: how long one decision takes (triage.fusion_service.find_case: the candidate
query over the fusion-cell index, the exact distances, then the pure decision). Prints one JSON object.

    python bench/fusion.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--cases 1000000]
                           [--decisions 2000]

It migrates a throwaway schema (dropped at the end), fills it with COPY: open cases spread over Zibo's six urban
districts like reports are (dense in the centres, thinning out), in every leaf category of the demo catalogue,
last reported at any time in the past 30 days. Then it decides 2,000 new reports as triage would: coordinates
for city-management categories, only a district for hotline matters. The baseline, measured in the same run on
the same connection, is a bare SELECT 1 round trip: no query can be faster than that.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from machine import machine  # bench/ is on sys.path when a benchmark runs as a script
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cityops.cases.cells import cell_of
from cityops.core import migrate
from cityops.core.db import create_db_engine
from cityops.triage.fusion import Incoming, load_policies
from cityops.triage.fusion_service import find_case

NOW = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# (centre lng, lat, spread in degrees, share of cases, a street code there)
DISTRICTS = [
    (118.05, 36.80, 0.035, 0.40, "370303002"),  # 张店区
    (117.97, 36.64, 0.025, 0.14, "370302001"),  # 淄川区
    (117.86, 36.49, 0.020, 0.08, "370304001"),  # 博山区
    (118.31, 36.83, 0.030, 0.16, "370305001"),  # 临淄区
    (117.87, 36.80, 0.020, 0.10, "370306001"),  # 周村区
    (118.10, 36.96, 0.020, 0.12, "370321001"),  # 桓台县
]
OPEN_STATES = ["received", "registered", "dispatched", "in_progress", "handled", "reworked", "verified"]
TEXTS = ["{p}自来水管爆了，水漫到路上", "{p}井盖缺失，晚上很危险", "{p}路灯不亮好几天了", "{p}工地夜间施工噪声扰民",
         "{p}垃圾堆放没人清运", "{p}有人占道经营", "{p}路面塌陷一个大坑", "{p}大树被风刮倒了", "{p}路口积水很深"]
PLACES = ["人民西路与共青团路路口", "柳泉路中段", "华光路公交站", "金晶大道", "西五路菜市场", "张周路与联通路交叉口"]
COLUMNS = ("number", "title", "description", "category_code", "severity", "region_code", "lng", "lat",
           "fusion_cell", "channel", "state", "suspended", "escalation_level", "reopened_count", "rework_count",
           "return_count", "report_count", "received_at", "last_report_at", "imported", "updated_at", "version")


def leaf_categories() -> list[str]:
    catalogue = Path(__file__).parent.parent / "src/cityops/demo/data/catalog_zibo.csv"
    with catalogue.open(encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle) if row["parent_code"]]


def place(rng: random.Random) -> tuple[float, float, str, str]:
    """(lng, lat, street code, district code), the way reports fall: most near a district's centre."""
    lng, lat, spread, _, street = rng.choices(DISTRICTS, weights=[d[3] for d in DISTRICTS])[0]
    return round(rng.gauss(lng, spread), 6), round(rng.gauss(lat, spread), 6), street, street[:6]


def rows(n: int, categories: list[str], rng: random.Random) -> Iterator[str]:
    for i in range(n):
        lng, lat, street, _ = place(rng)
        last = NOW - timedelta(seconds=rng.uniform(0, 30 * 86400))
        words = rng.choice(TEXTS).format(p=rng.choice(PLACES))
        values = (f"B{i:09d}", words[:20], words, rng.choice(categories), "2", street, str(lng), str(lat),
                  str(cell_of(lng, lat)), "hotline", rng.choice(OPEN_STATES), "f", "0", "0", "0", "0", "1",
                  last.isoformat(), last.isoformat(), "f", NOW.isoformat(), "1")
        yield "\t".join(values) + "\n"


def fill(engine: Engine, n: int, categories: list[str]) -> float:
    started = time.perf_counter()
    rng = random.Random(1)
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for i, line in enumerate(rows(n, categories, rng), 1):
                buffer.write(line)
                if i % 50_000 == 0:  # a few MB per write: fast, and the million rows never sit in memory
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE cases"))
    return time.perf_counter() - started


def incoming(categories: list[str], n: int) -> list[Incoming]:
    """New reports: located for city-management matters, only a district for hotline (RX) matters."""
    rng = random.Random(2)
    reports = []
    for _ in range(n):
        lng, lat, street, district = place(rng)
        code = rng.choice(categories)
        words = rng.choice(TEXTS).format(p=rng.choice(PLACES))
        hotline = code.startswith("RX")
        reports.append(Incoming(text=words, at=NOW, lng=None if hotline else lng, lat=None if hotline else lat,
                                category_code=code, region_code=district if hotline else street))
    return reports


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(engine: Engine, reports: list[Incoming], warm_up: int = 100) -> dict[str, float]:
    policies = load_policies()
    times, select1, candidates, fused = [], [], 0, 0
    with Session(engine) as session:
        for report in reports[:warm_up]:
            find_case(session, report, policies)
        for report in reports:
            started = time.perf_counter()
            decision = find_case(session, report, policies)
            times.append((time.perf_counter() - started) * 1000)
            candidates += len(decision.evidence)
            fused += decision.fused
        for _ in reports:
            started = time.perf_counter()
            session.execute(text("SELECT 1")).scalar_one()
            select1.append((time.perf_counter() - started) * 1000)
    return {"fusion_p50_ms": round(statistics.median(times), 3), "fusion_p99_ms": round(percentile(times, 0.99), 3),
            "fusion_max_ms": round(max(times), 3), "baseline_select1_p50_ms": round(statistics.median(select1), 3),
            "baseline_select1_p99_ms": round(percentile(select1, 0.99), 3),
            "mean_candidates": round(candidates / len(reports), 2), "fused_share": round(fused / len(reports), 3)}


def run(db_url: str, cases: int, decisions: int) -> dict[str, object]:
    """Fills a throwaway schema with `cases` open cases, times `decisions` fusion decisions, drops the schema."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_db_engine(f"{db_url}?options=-csearch_path%3D{schema}")
    try:
        migrate.upgrade(engine)
        categories = leaf_categories()
        fill_s = fill(engine, cases, categories)
        figures = measure(engine, incoming(categories, decisions))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return {"benchmark": "triage.fusion", "open_cases": cases, "decisions": decisions, **figures,
            "fill_s": round(fill_s, 1), "backend": "postgresql", "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser()
    env_url = os.environ.get("CITYOPS_DATABASE_URL", "")
    parser.add_argument("--db-url", default=env_url if env_url.startswith("postgresql") else DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(run(args.db_url, args.cases, args.decisions), ensure_ascii=False))


if __name__ == "__main__":
    main()
