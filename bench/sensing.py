"""Sensing speed: readings stored and evaluated end to end from MQTT on PostgreSQL, against the raw delivery rate
of the same broker to a trivial subscriber, measured in the same run. Prints one JSON object.

    python bench/sensing.py [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--messages 40000]
                            [--readings-per-message 10] [--devices 2000] [--consumers 2] [--batch-max 2000]

- A private Mosquitto on a free port with an unbounded per-subscriber queue (the default 1,000 would drop what a
  slow consumer has not taken yet, and the point is to measure the consumer, not the drops).
- The city: the demo regions, departments and indicator catalogue; `--devices` water level gauges of the
  孝妇河 group, so every reading is evaluated against WAT-XFH-LEVEL-MAX's thresholds with its stored state.
- The messages: `--readings-per-message` 1 is one gauge's single reading on its own topic; more is a field
  gateway's batch of that many gauges (`cityops/v1/gateways/{id}/telemetry`, docs/sensing.md).
- raw: a publisher process sends the messages (QoS 1) while one aiomqtt subscriber only counts them; its rate in
  messages/s, and in readings/s (× readings per message: what the same subscriber would be handed). Measured
  before and after the end-to-end half (both samples printed) and averaged.
- end to end: the same messages from the same publisher into `--consumers` ingestion processes of one shared
  subscription group (sensing.mqtt.run_ingestion: parse, store, evaluate, alarms), until every reading is
  committed (each consumer reports what it has committed; the database's count is checked at the end).
  `ratio_to_raw` is end-to-end readings/s over raw readings/s.
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
from typing import Any

import aiomqtt
from machine import machine  # bench/ is on sys.path when a benchmark runs as a script
from sqlalchemy import create_engine, func, select, text

from cityops.core import migrate
from cityops.core.db import create_db_engine
from cityops.core.runtime import tune_garbage_collector
from cityops.core.settings import Settings
from cityops.demo.zibo_regions import load_zibo_regions
from cityops.indicators import flows as indicators
from cityops.platform import build_platform
from cityops.sensing import flows as sensing
from cityops.sensing.models import SensorReading
from cityops.sensing.mqtt import IngestionStats, run_ingestion, subscriptions
from cityops.sensing.simulate import CHINA

TOPIC = "cityops/v1/{}/telemetry"
GATEWAY_TOPIC = "cityops/v1/gateways/{}/telemetry"


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


def messages(devices: int, count: int, start: datetime, per_message: int = 1) -> list[tuple[str, bytes]]:
    """`count` messages of `per_message` readings: gauges in turn, 2.0–2.9 m (quiet water: every reading is
    evaluated, few alarms), a reading a minute per gauge. One reading: the device's own topic and single body.
    More: a gateway's batch (`cityops/v1/gateways/{id}/telemetry`) of that many gauges, each entry naming its
    device, as a field gateway (DTU, LoRa) forwards the gauges around it."""
    out = []
    for m in range(count):
        entries = []
        for i in range(m * per_message, (m + 1) * per_message):
            at = start + timedelta(seconds=60 * (i // devices))
            entries.append({"device_id": f"BWL-{i % devices:05d}", "ts": at.isoformat(),
                            "metrics": {"water_level": 2.0 + (i % 10) / 10}})
        if per_message == 1:
            device = entries[0].pop("device_id")
            out.append((TOPIC.format(device), json.dumps(entries[0], separators=(",", ":")).encode()))
        else:
            gateway = f"BGW-{(m * per_message % devices) // per_message:04d}"
            out.append((GATEWAY_TOPIC.format(gateway), json.dumps({"readings": entries},
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
            await client.subscribe([(t, 1) for t in subscriptions(shared=False, group="")])
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


def consumer(db_url: str, folder: str, port: int, group: str, batch_max: int, committed: Any, ready: Any,
             done: Any) -> None:
    """One ingestion process; `committed` (shared) is the readings it has stored, updated after each commit."""
    platform = build_platform(Settings(data_dir=Path(folder), database_url=db_url, run_workers=False))
    tune_garbage_collector()  # as `cityops sensing ingest` does

    async def run() -> None:
        stop, stats = asyncio.Event(), IngestionStats()
        task = asyncio.create_task(run_ingestion(platform, url=f"mqtt://127.0.0.1:{port}", stop=stop, stats=stats,
                                                 group=group, batch_max=batch_max))
        while not stats.subscribed.is_set():
            await asyncio.sleep(0.01)
        ready.set()
        while not done.is_set():
            committed.value = stats.stored
            await asyncio.sleep(0.005)
        stop.set()
        await task

    asyncio.run(run())
    platform.close()


def end_to_end(port: int, db_url: str, folder: Path, batch: list[tuple[str, bytes]], readings: int,
               consumers: int, batch_max: int) -> float:
    """Readings/s from the publisher's start until the consumers have committed every reading."""
    group = f"bench-{uuid.uuid4().hex[:6]}"
    done = mp.Event()
    workers, counters = [], []
    for _ in range(consumers):
        ready, committed = mp.Event(), mp.Value("q", 0, lock=False)
        process = mp.Process(target=consumer, args=(db_url, str(folder), port, group, batch_max, committed, ready,
                                                    done))
        process.start()
        ready.wait(60)
        workers.append(process)
        counters.append(committed)
    publisher_process, go = publish_in_background(port, batch)
    began = time.perf_counter()
    go.set()  # type: ignore[attr-defined]
    deadline = began + 600
    while sum(c.value for c in counters) < readings and time.perf_counter() < deadline:
        time.sleep(0.002)
    elapsed = time.perf_counter() - began
    done.set()
    publisher_process.join()
    for process in workers:
        process.join(60)
    return sum(c.value for c in counters) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--readings-per-message", type=int, default=10)
    parser.add_argument("--devices", type=int, default=2_000)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--batch-max", type=int, default=2_000, help="messages per ingestion batch")
    args = parser.parse_args()
    per_message = args.readings_per_message

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
        batch = messages(args.devices, args.messages, datetime(2026, 7, 20, 8, 0, tzinfo=CHINA), per_message)
        readings = args.messages * per_message
        # Raw delivery before and after the end-to-end half, averaged: other load on a shared machine comes in
        # bursts, and one short sample on one side of the comparison would swing the ratio either way.
        raw_before = raw_rate(port, batch)
        e2e = end_to_end(port, url, folder, batch, readings, args.consumers, args.batch_max)
        raw_after = raw_rate(port, batch)
        raw = (raw_before + raw_after) / 2
        with platform.db.session() as session:
            stored = int(session.scalar(select(func.count()).select_from(SensorReading)) or 0)
            evaluated = int(session.scalar(text("SELECT count(*) FROM indicator_states")) or 0)
            alarms = int(session.scalar(text("SELECT count(*) FROM alarms")) or 0)
        platform.close()
        if stored != readings:
            raise SystemExit(f"{stored} readings stored of {readings}")
        print(json.dumps({
            "readings_per_s": round(e2e, 1), "raw_delivery_messages_per_s": round(raw, 1),
            "raw_delivery_readings_per_s": round(raw * per_message, 1),
            "raw_delivery_messages_per_s_samples": [round(raw_before, 1), round(raw_after, 1)],
            "ratio_to_raw": round(e2e / (raw * per_message), 3), "readings_per_message": per_message,
            "messages": args.messages, "readings_stored": stored, "devices": args.devices,
            "indicator_states": evaluated, "alarms": alarms, "consumers": args.consumers,
            "batch_max": args.batch_max, "backend": "postgresql",
            "broker": "mosquitto (private, unbounded queue)", "machine": machine()}))
    finally:
        broker.kill()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
