"""Intake under load: reports accepted per second over HTTP on loopback, latency, and how fast each accepted
report becomes a routed case. Prints one JSON object.

    python bench/intake.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--seconds 20]
                           [--concurrency 32] [--api-workers 2] [--worker-processes 1] [--rate N] [--reconnect]
                           [--bus-url memory://] [--profile DIR]

It creates its own schema (PostgreSQL) or file (SQLite), loads the demo city, starts `uvicorn` with
--api-workers processes (CITYOPS_RUN_WORKERS=false) and one `cityops worker` process, and measures, in the same
run, GET /healthz of the same server as the baseline: the most any endpoint of this server does here.
With --profile DIR, py-spy (pip install py-spy) samples every server process during the report phase alone and
writes one collapsed-stack file per process there (on-CPU samples only), to see where a report's time goes.

By default the clients send the goal's 1,000 reports a second whatever the answers (open loop; latency counted
from when each was due, so a server that falls behind shows it in p99), and `goal` says whether that rate was
accepted with p99 under 100 ms and every report the benchmark sent became a routed case within 5 s. With
--rate 0 they send as fast as they are answered instead: the most intake accepts, more than the one triage
worker then keeps up with. `cores_busy_during_reports` says where the machine's CPU went meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fixtures import free_port, fresh_database
from loadgen import READ_BUFFER, LoadResult, get, post, read_response, run
from machine import machine
from sqlalchemy import create_engine, text

from cityops.core.db import create_db_engine
from cityops.core.settings import Settings
from cityops.demo.loader import load_demo
from cityops.platform import build_platform

TEXTS = [
    "{place}附近井盖缺失，晚上行人容易踩空，请尽快处理",
    "{place}路灯不亮已经三天了",
    "{place}有人占道经营，早晚高峰很堵",
    "{place}路面塌陷一个大坑，车辆经过很危险",
    "{place}垃圾堆放没人清运，气味很大",
    "{place}工地夜间施工噪声扰民",
]
GOAL_RATE, GOAL_P99_MS, GOAL_LAG_S = 1000.0, 100.0, 5.0  # the goal on PostgreSQL on a 2-core machine
PLACES = ["人民西路与共青团路路口", "柳泉路中段", "华光路公交站", "金晶大道", "西五路菜市场", "张周路与联通路交叉口"]


def prepare(db_url: str | None, data_dir: Path) -> tuple[str, str, str | None]:
    """A fresh database with the demo city; returns (url, api key, schema to drop)."""
    url, schema = fresh_database(db_url, data_dir)
    platform = build_platform(Settings(data_dir=data_dir, database_url=url))
    creds = load_demo(platform)
    platform.close()
    return url, creds.open311_key, schema


def category_codes(url: str) -> list[str]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        codes = [r[0] for r in conn.execute(text("SELECT code FROM categories WHERE active ORDER BY code"))]
    engine.dispose()
    return codes


def start_servers(url: str, port: int, workers: int, bus_url: str, data_dir: Path,
                  triage_workers: int = 1) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "CITYOPS_DATABASE_URL": url,
        "CITYOPS_DATA_DIR": str(data_dir),
        "CITYOPS_BUS_URL": bus_url,
        "CITYOPS_SECRET_KEY": uuid.uuid4().hex * 2,
        "CITYOPS_LOG_LEVEL": "WARNING",
        "CITYOPS_DB_POOL_SIZE": "20",
    }
    bin_dir = Path(sys.executable).parent
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cityops.web.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**env, "CITYOPS_RUN_WORKERS": "false"},
    )
    triage = [subprocess.Popen([str(bin_dir / "cityops"), "worker"], env={**env, "CITYOPS_TRIAGE_POLL_S": "0.2"})
              for _ in range(triage_workers)]
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return [api, *triage]
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def _children(pid: int) -> list[int]:
    """The processes `pid` started (uvicorn's workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes have used so far (Linux /proc; 0 for one that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores; Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def postgres_pids() -> list[int]:
    """PostgreSQL's processes on this machine (its backends serve the servers under test)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


def start_profilers(processes: list[subprocess.Popen[bytes]], out_dir: Path,
                    seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy on the API's worker processes and the triage workers for `seconds`, on-CPU samples only."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out_dir.mkdir(parents=True, exist_ok=True)
    api, *triage = processes
    targets = [("api", pid) for pid in _children(api.pid) or [api.pid]] + [("worker", p.pid) for p in triage]
    return [subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
                              "--format", "raw", "--gil", "--nonblocking", "--output",
                              str(out_dir / f"{name}-{pid}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in targets]


def report_bodies(codes: list[str], n_points: int = 500) -> list[tuple[float, float]]:
    rng = random.Random(1)
    return [(118.02 + rng.random() * 0.1, 36.78 + rng.random() * 0.06) for _ in range(n_points)]


def make_report_request(key: str, codes: list[str], run_id: str) -> Callable[[int], bytes]:
    points = report_bodies(codes)
    rng = random.Random(2)

    def build(n: int) -> bytes:
        lng, lat = points[n % len(points)]
        body = {
            "channel": "hotline",
            "channel_report_id": f"{run_id}-{n}",
            "category_code": rng.choice(codes),
            "text": rng.choice(TEXTS).format(place=rng.choice(PLACES)),
            "lng": lng,
            "lat": lat,
            "reporter": {"name": "市民", "phone": "13800000000"},
        }
        return post("/api/v1/reports", json.dumps(body, ensure_ascii=False).encode(), "127.0.0.1", {"X-API-Key": key})

    return build


async def paced(port: int, make_request: Callable[[int], bytes], *, rate: float, concurrency: int, seconds: float,
                ok_statuses: set[int]) -> LoadResult:
    """Reports at a fixed rate (open loop) over `concurrency` kept-alive connections: the i-th report is due at
    i / rate seconds and sent then, or as soon as a connection is free. Its latency counts from when it was due,
    so a server that falls behind shows it in p99 instead of slowing the sender down."""
    result = LoadResult()
    started = time.perf_counter()
    total, taken = int(rate * seconds), [0]

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_BUFFER)
        try:
            while taken[0] < total:
                taken[0] += 1
                n = taken[0]  # other clients move the counter on while this one waits
                due = started + (n - 1) / rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                writer.write(make_request(n))
                status = await read_response(reader)
                result.latencies_s.append(time.perf_counter() - due)
                result.sent += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.ok += status in ok_statuses
                result.errors += status not in ok_statuses
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    return result


def last_report_id(url: str) -> int:
    """The newest report before the benchmark sends any (the demo city's own come before it)."""
    engine = create_db_engine(url)
    with engine.connect() as conn:
        found = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM reports")).scalar_one())
    engine.dispose()
    return found


def case_lag(url: str, timeout_s: float, after_id: int) -> dict[str, float | int]:
    """Wait until no report is waiting; then, for the reports the benchmark sent (ids after `after_id`), how long
    each took from accepted to case, and how many were routed. The demo city's own reports are left out: a few
    of them wait for a dispatcher on purpose."""
    engine = create_db_engine(url)
    waited = time.perf_counter()
    with engine.connect() as conn:
        while time.perf_counter() - waited < timeout_s:
            pending = conn.execute(text("SELECT count(*) FROM reports WHERE status = 'received'")).scalar_one()
            conn.commit()
            if pending == 0:
                break
            time.sleep(0.2)
        # A report that opened its case: that case's receive; one fused into an open case: its own attach_report
        # (the case it joined may be older than the report).
        rows = conn.execute(
            text(
                "SELECT r.received_at, COALESCE(a.at, t.at), c.department_id FROM reports r "
                "JOIN cases c ON c.id = r.case_id "
                "JOIN case_transitions t ON t.case_id = c.id AND t.action = 'receive' "
                "LEFT JOIN case_transitions a ON a.case_id = c.id AND a.action = 'attach_report' "
                "AND a.data->>'report' = r.public_id WHERE r.id > :after"
            ), {"after": after_id}
        ).all()
        total = conn.execute(text("SELECT count(*) FROM reports WHERE id > :after"), {"after": after_id}).scalar_one()
    engine.dispose()
    from cityops.core.clock import as_utc

    def utc(value: datetime | str) -> datetime:  # SQLite hands raw SQL's times back as text
        return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)

    lags = sorted((utc(at) - utc(received)).total_seconds() for received, at, _ in rows)
    return {
        "reports_total": int(total),
        "reports_with_case": len(rows),
        "reports_routed": sum(1 for *_, dep in rows if dep is not None),
        "reports_routed_within_5s": sum(1 for received, at, dep in rows
                                        if dep is not None and (utc(at) - utc(received)).total_seconds() <= GOAL_LAG_S),
        "case_lag_p50_s": round(lags[len(lags) // 2], 3) if lags else -1,
        "case_lag_p99_s": round(lags[int(len(lags) * 0.99) - 1], 3) if lags else -1,
        "case_lag_max_s": round(lags[-1], 3) if lags else -1,
        "drain_wait_s": round(time.perf_counter() - waited, 2),
    }


def goal(rate: float, p99_ms: float, refused: int, lag: dict[str, float | int]) -> dict[str, object]:
    """Whether this run meets the goal: the goal rate accepted (within 1 %, the sender's own pacing) with none
    refused, p99 under the limit, and every report the benchmark sent routed within the lag limit."""
    routed_in_time = lag.get("reports_routed_within_5s", -1)
    return {"rate_per_s": GOAL_RATE, "p99_ms_under": GOAL_P99_MS, "case_within_s": GOAL_LAG_S,
            "met": bool(rate >= GOAL_RATE * 0.99 and refused == 0 and p99_ms < GOAL_P99_MS
                        and routed_in_time == lag.get("reports_total"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--db-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="a PostgreSQL URL, or 'sqlite'"
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--bus-url", default="memory://")
    parser.add_argument("--worker-processes", type=int, default=1,
                        help="triage worker processes; 0 measures intake alone (no case lag)")
    parser.add_argument("--rate", type=float, default=GOAL_RATE,
                        help="send reports at this many per second (open loop); 0: as fast as they are answered")
    parser.add_argument("--reconnect", action="store_true",
                        help="a new connection per request (baseline too), so the API processes share the load; "
                             "kept-alive connections may all land on one of them")
    parser.add_argument("--profile", type=Path, default=None,
                        help="a folder: py-spy samples each server process during the report phase")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cityops-bench-"))
    url, key, schema = prepare(None if args.db_url == "sqlite" else args.db_url, data_dir)
    before = last_report_id(url)
    codes = [c for c in category_codes(url) if "-" in c][:12]  # leaf categories of the demo catalogue
    port = free_port()
    processes = start_servers(url, port, args.api_workers, args.bus_url, data_dir, args.worker_processes)
    try:
        time.sleep(2)
        run_id = uuid.uuid4().hex[:8]
        asyncio.run(
            run(
                "127.0.0.1",
                port,
                make_report_request(key, codes, "warm" + run_id),
                concurrency=4,
                seconds=2,
                ok_statuses={201},
            )
        )
        trivial = asyncio.run(
            run(
                "127.0.0.1",
                port,
                lambda n: get("/healthz", "127.0.0.1"),
                concurrency=args.concurrency,
                seconds=args.seconds / 2,
                ok_statuses={200},
                reconnect=args.reconnect,
            )
        )
        profilers = start_profilers(processes, args.profile, args.seconds) if args.profile else []
        groups = {"api": _children(processes[0].pid) or [processes[0].pid],  # uvicorn --workers 1: no children
                  "worker": [p.pid for p in processes[1:]],
                  "postgresql": postgres_pids(), "load_generator": [os.getpid()]}
        cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        busy_before = machine_busy_seconds()
        request = make_report_request(key, codes, run_id)
        if args.rate:
            reports = asyncio.run(paced(port, request, rate=args.rate, concurrency=args.concurrency,
                                        seconds=args.seconds, ok_statuses={201}))
        else:
            reports = asyncio.run(run("127.0.0.1", port, request, concurrency=args.concurrency,
                                      seconds=args.seconds, ok_statuses={201}, reconnect=args.reconnect))
        # Where the machine's time went while reports came in: cores busy per group of processes.
        cpu = {name: round((cpu_seconds(pids) - cpu_before[name]) / reports.elapsed_s, 2)
               for name, pids in groups.items()}
        cpu["machine"] = round((machine_busy_seconds() - busy_before) / reports.elapsed_s, 2)
        for profiler in profilers:
            profiler.wait(timeout=60)
        lag = case_lag(url, timeout_s=120, after_id=before) if args.worker_processes else {}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    print(
        json.dumps(
            {
                "benchmark": "intake",
                "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
                "bus": args.bus_url,
                "api_processes": args.api_workers,
                "worker_processes": args.worker_processes,
                "concurrency": args.concurrency,
                "seconds": args.seconds,
                "reports_accepted": reports.ok,
                "reports_failed": reports.errors,
                "statuses": reports.statuses,
                "reports_per_s": round(reports.ok / reports.elapsed_s, 1),
                "p50_ms": reports.percentile_ms(50),
                "p99_ms": reports.percentile_ms(99),
                "baseline_healthz_per_s": round(trivial.ok / trivial.elapsed_s, 1),
                "baseline_healthz_p99_ms": trivial.percentile_ms(99),
                "reconnect": args.reconnect,
                "rate_target_per_s": args.rate,
                "cores_busy_during_reports": cpu,
                **lag,
                "goal": goal(reports.ok / reports.elapsed_s, reports.percentile_ms(99), reports.errors, lag),
                "machine": machine(),
            },
            ensure_ascii=False,
        )
    )
    if schema:
        with create_engine(args.db_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
