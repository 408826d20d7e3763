"""Sensing speed: readings stored and evaluated end to end from MQTT on PostgreSQL, against the raw delivery rate
of the same broker to a trivial subscriber, measured in the same run. Prints one JSON object.

    python bench/sensing.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--messages 30000]
                            [--devices 2000] [--consumers 1]

- A private Mosquitto on a free port with an unbounded per-subscriber queue (the default 1,000 would drop what a
  slow consumer has not taken yet, and the point is to measure the consumer, not the drops).
- The city: the demo regions, departments and indicator catalogue; `--devices` water level gauges of the
  孝妇河 group, so every reading is evaluated against WAT-XFH-LEVEL-MAX's thresholds with its stored state.
- raw: a publisher process sends the messages (QoS 1) while one aiomqtt subscriber only counts them.
- end to end: the same messages from the same publisher into `--consumers` ingestion processes of one shared
  subscription group (sensing.mqtt.run_ingestion: parse, store, evaluate, alarms), until every reading is in
  the database. One message carries one reading (the documented payload).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import aiomqtt
from machine import machine  # bench/ is on sys.path when a benchmark runs as a script
from sqlalchemy import create_engine, func, select, text

from cityops.core import migrate
from cityops.core.db import create_db_engine
from cityops.core.runtime import tune_garbage_collector
from cityops.core.settings import Settings
from cityops.demo.zibo_regions import load_zibo_regions
from cityops.indicators import flows as indicators
from cityops.platform import Platform, build_platform
from cityops.sensing import flows as sensing
from cityops.sensing.models import SensorReading
from cityops.sensing.mqtt import IngestionStats, run_ingestion
from cityops.sensing.simulate import CHINA

TOPIC = "cityops/v1/{}/telemetry"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(port: int, folder: Path) -> subprocess.Popen[bytes]:
    config = folder / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                      "max_inflight_messages 0\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def messages(devices: int, count: int, start: datetime) -> list[tuple[str, bytes]]:
    """Gauges in turn, 2.0–2.9 m (quiet water: every reading is evaluated, few alarms)."""
    out = []
    for i in range(count):
        device = f"BWL-{i % devices:05d}"
        at = start + timedelta(seconds=60 * (i // devices))
        level = 2.0 + (i % 10) / 10
        out.append((TOPIC.format(device), json.dumps({"ts": at.isoformat(), "metrics": {"water_level": level}},
                                                     separators=(",", ":")).encode()))
    return out


def publisher(port: int, batch: list[tuple[str, bytes]], ready: mp.Event, go: mp.Event) -> None:  # type: ignore[valid-type]
    async def run() -> None:
        async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5,
                                  max_inflight_messages=1000) as client:
            client.pending_calls_threshold = 10_000
            ready.set()  # type: ignore[attr-defined]
            await asyncio.to_thread(go.wait)  # type: ignore[attr-defined]
            for first in range(0, len(batch), 500):
                await asyncio.gather(*(client.publish(t, p, qos=1) for t, p in batch[first:first + 500]))

    asyncio.run(run())


def publish_in_background(port: int, batch: list[tuple[str, bytes]]) -> tuple[mp.Process, mp.Event]:  # type: ignore[valid-type]
    ready, go = mp.Event(), mp.Event()
    process = mp.Process(target=publisher, args=(port, batch, ready, go))
    process.start()
    ready.wait(30)
    return process, go


def raw_rate(port: int, batch: list[tuple[str, bytes]]) -> float:
    async def run() -> float:
        async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as client:
            await client.subscribe("cityops/v1/+/telemetry", qos=1)
            process, go = publish_in_background(port, batch)
            go.set()  # type: ignore[attr-defined]
            seen, began = 0, 0.0
            async for _ in client.messages:
                if seen == 0:
                    began = time.perf_counter()
                seen += 1
                if seen == len(batch):
                    break
            elapsed = time.perf_counter() - began
            process.join()
            return (seen - 1) / elapsed

    return asyncio.run(run())


def consumer(url: str, db_url: str, folder: str, port: int, group: str, stop_at: int, ready: mp.Event,
             done: mp.Event) -> None:  # type: ignore[valid-type]
    platform = build_platform(Settings(data_dir=Path(folder), database_url=db_url, run_workers=False))
    tune_garbage_collector()  # as `cityops sensing ingest` does

    async def run() -> None:
        stop, stats = asyncio.Event(), IngestionStats()
        task = asyncio.create_task(run_ingestion(platform, url=f"mqtt://127.0.0.1:{port}", stop=stop, stats=stats,
                                                 group=group, batch_max=2000))
        while not stats.subscribed.is_set():
            await asyncio.sleep(0.01)
        ready.set()  # type: ignore[attr-defined]
        await asyncio.to_thread(done.wait)  # type: ignore[attr-defined]
        stop.set()
        await task

    asyncio.run(run())
    platform.close()


def end_to_end(port: int, db_url: str, folder: Path, batch: list[tuple[str, bytes]], consumers: int,
               platform: Platform) -> tuple[float, int]:
    group = f"bench-{uuid.uuid4().hex[:6]}"
    done = mp.Event()
    workers = []
    for _ in range(consumers):
        ready = mp.Event()
        process = mp.Process(target=consumer, args=("", db_url, str(folder), port, group, len(batch), ready, done))
        process.start()
        ready.wait(60)
        workers.append(process)
    publisher_process, go = publish_in_background(port, batch)
    began = time.perf_counter()
    go.set()  # type: ignore[attr-defined]
    stored = 0
    deadline = began + 600
    while time.perf_counter() < deadline:
        with platform.db.session() as session:
            stored = int(session.scalar(select(func.count()).select_from(SensorReading)) or 0)
        if stored >= len(batch):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    done.set()
    publisher_process.join()
    for process in workers:
        process.join(60)
    return stored / elapsed, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--devices", type=int, default=2_000)
    parser.add_argument("--consumers", type=int, default=1)
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.db_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.db_url}?options=-csearch_path%3D{schema}"
    folder = Path(tempfile.mkdtemp(prefix="cityops-bench-"))
    port = free_port()
    broker = start_broker(port, folder)
    try:
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        platform = build_platform(Settings(data_dir=folder, database_url=url, run_workers=False))
        load_zibo_regions(platform, actor="bench")
        indicators.import_demo_catalogue(platform, actor="bench")
        rows = ["device_id,type_code,lng,lat,device_group"]
        rows += [f"BWL-{i:05d},water_level_gauge,{118.0 + (i % 50) * 0.002:.4f},{36.78 + (i // 50) * 0.001:.4f},"
                 f"xiaofuhe_gauges" for i in range(args.devices)]
        sensing.import_devices(platform, "\n".join(rows).encode(), actor="bench", file="bench.csv")
        batch = messages(args.devices, args.messages, datetime(2026, 7, 20, 8, 0, tzinfo=CHINA))
        raw = raw_rate(port, batch)
        e2e, stored = end_to_end(port, url, folder, batch, args.consumers, platform)
        with platform.db.session() as session:
            evaluated = int(session.scalar(text("SELECT count(*) FROM indicator_states")) or 0)
        platform.close()
        print(json.dumps({
            "readings_per_s": round(e2e, 1), "raw_delivery_messages_per_s": round(raw, 1),
            "ratio_to_raw": round(e2e / raw, 3), "readings_per_message": 1, "messages": args.messages,
            "readings_stored": stored, "devices": args.devices, "indicator_states": evaluated,
            "consumers": args.consumers, "backend": "postgresql", "broker": "mosquitto (private, unbounded queue)",
            "machine": machine()}))
    finally:
        broker.kill()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
