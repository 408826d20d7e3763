"""MQTT ingestion against a real Mosquitto (the system broker on 127.0.0.1:1883; a private one on a free port
for the broker-restart test). Each test consumes in a shared-subscription group of its own, so a consumer
running elsewhere on the same broker does not take its messages; assertions look at this test's devices only."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from importlib import resources

import aiomqtt
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.cli.main import app as cli
from cityops.core.models import DeadLetter
from cityops.platform import Platform
from cityops.sensing import importers, service
from cityops.sensing.device_types import device_types
from cityops.sensing.models import SensorReading
from cityops.sensing.mqtt import SOURCE, IngestionStats, broker_address, run_ingestion
from cityops.sensing.payload import gateway_topic_for, topic_for
from cityops.sensing.simulate import CHINA, DEMO_DEVICES, Anomaly, SimDevice, publish
from tests.cityfixture import build_small_city
from tests.conftest import REQUIRE_SERVICES, need_server, server_up
from tests.sensing.conftest import seed_devices

BROKER = "mqtt://127.0.0.1:1883"
DEADLINE_S = 10.0
T0 = datetime(2026, 3, 1, 16, 0, tzinfo=CHINA)


@pytest.fixture
def city(platform: Platform) -> None:
    need_server("Mosquitto", 1883)
    build_small_city(platform)
    seed_devices(platform)


def body(minute: int, level: float = 3.1, seq: int | None = None) -> bytes:
    message: dict[str, object] = {"ts": (T0 + timedelta(minutes=minute)).isoformat(),
                                  "metrics": {"water_level": level}}
    if seq is not None:
        message["seq"] = seq
    return json.dumps(message).encode()


def stored_levels(platform: Platform, device_id: str = "WL-001") -> list[float]:
    with platform.db.session() as session:
        return [r.value for r in service.readings(session=session, device_id=device_id)]


def letters(platform: Platform, keys: set[str | None]) -> list[DeadLetter]:
    with platform.db.session() as session:
        return [d for d in session.scalars(select(DeadLetter).order_by(DeadLetter.id)) if d.key in keys]


async def until(predicate: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def consuming(platform: Platform, url: str = BROKER, **options: object) -> AsyncIterator[IngestionStats]:
    """run_ingestion in a task, subscribed before the body runs, stopped (and checked not to have failed) after."""
    stop, stats = asyncio.Event(), IngestionStats()
    options.setdefault("group", f"test-{uuid.uuid4().hex[:8]}")
    task = asyncio.create_task(run_ingestion(platform, url=url, stop=stop, stats=stats, **options))  # type: ignore[arg-type]
    try:
        await until(stats.subscribed.is_set, "the subscription")
        yield stats
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE_S)


async def send(url: str, messages: Sequence[tuple[str, bytes]]) -> None:
    host, port = broker_address(url)
    async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


@pytest.mark.usefixtures("city")
def test_published_readings_are_stored(platform: Platform) -> None:
    async def scenario() -> IngestionStats:
        async with consuming(platform) as stats:
            await send(BROKER, [(topic_for("WL-001"), body(m, 3.0 + m / 10, seq=m)) for m in range(5)])
            await until(lambda: len(stored_levels(platform)) == 5, "5 readings")
            return stats

    stats = asyncio.run(scenario())
    assert stored_levels(platform) == [3.0, 3.1, 3.2, 3.3, 3.4]
    assert stats.stored == 5 and stats.connects == 1
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, device_id="WL-001").status == "online"


@pytest.mark.usefixtures("city")
def test_bad_messages_are_dead_lettered_and_ingestion_carries_on(platform: Platform) -> None:
    ghost = f"GHOST-{uuid.uuid4().hex[:6]}"
    stray_topic = "cityops/v1//telemetry"  # matches the subscription, but names no device

    async def scenario() -> None:
        async with consuming(platform):
            await send(BROKER, [(topic_for("WL-001"), b'{"ts": "2026-03-01T16:00:00+08:00", "metrics": {'),
                                (topic_for(ghost), body(0)),
                                (topic_for("WL-001"), body(1, level=250.0)),
                                (stray_topic, body(2)),
                                (topic_for("WL-001"), body(3, level=3.3))])
            await until(lambda: stored_levels(platform) == [3.3], "the good message after the bad ones")
            await until(lambda: len(letters(platform, {"WL-001", ghost, None})) >= 4, "4 dead letters")

    asyncio.run(scenario())
    found = letters(platform, {"WL-001", ghost, None})
    errors = sorted(re.split(r"[ :]", d.error)[0] for d in found)
    assert errors == ["bad_topic", "not_json", "out_of_range", "unknown_device"]
    assert all(d.source == SOURCE for d in found)
    (out_of_range,) = [d for d in found if d.error.startswith("out_of_range")]
    assert "[metrics.water_level]" in out_of_range.error
    assert json.loads(out_of_range.payload) == json.loads(body(1, 250.0))  # the raw bytes are kept
    (stray,) = [d for d in found if d.error.startswith("bad_topic")]
    assert stray.subject == stray_topic


@pytest.mark.usefixtures("city")
def test_gateway_and_device_batches_are_stored_entry_by_entry(platform: Platform) -> None:
    gateway = f"GW-{uuid.uuid4().hex[:6]}"
    entries = [{"device_id": "WL-001", "ts": (T0 + timedelta(minutes=m)).isoformat(),
                "metrics": {"water_level": 3.0 + m / 10}} for m in range(3)]
    entries.insert(1, {"device_id": "AQ-001", "ts": T0.isoformat(), "metrics": {"pm25": 30, "noise": 1}})
    device_batch = json.dumps({"readings": [{"ts": (T0 + timedelta(minutes=m)).isoformat(),
                                             "metrics": {"water_level": 3.0 + m / 10}} for m in (3, 4)]}).encode()

    async def scenario() -> IngestionStats:
        async with consuming(platform) as stats:
            await send(BROKER, [(gateway_topic_for(gateway), json.dumps({"readings": entries}).encode()),
                                (topic_for("WL-001"), device_batch)])
            await until(lambda: len(stored_levels(platform)) == 5, "5 readings from 2 messages")
            await until(lambda: stats.messages == 2, "both messages counted")
            return stats

    stats = asyncio.run(scenario())
    assert stored_levels(platform) == [3.0, 3.1, 3.2, 3.3, 3.4]
    assert (stats.accepted, stats.readings, stats.stored, stats.dead_lettered) == (2, 5, 5, 1)
    (letter,) = letters(platform, {"AQ-001"})
    assert letter.error.startswith("unknown_metric [readings[1].metrics.noise]")
    assert (letter.source, letter.subject) == (SOURCE, gateway_topic_for(gateway))
    assert json.loads(letter.payload) == {"readings": entries}  # the whole message's bytes


@pytest.mark.usefixtures("city")
def test_a_message_delivered_twice_is_stored_once(platform: Platform) -> None:
    async def scenario() -> IngestionStats:
        async with consuming(platform) as stats:
            await send(BROKER, [(topic_for("WL-001"), body(0, seq=1)), (topic_for("WL-001"), body(0, seq=1))])
            await until(lambda: stats.messages == 2, "both deliveries")
            # and once more in a later batch, as after a reconnect
            await send(BROKER, [(topic_for("WL-001"), body(0, seq=1)), (topic_for("WL-001"), body(1, seq=2))])
            await until(lambda: stats.messages == 4, "the redelivery")
            return stats

    stats = asyncio.run(scenario())
    assert stored_levels(platform) == [3.1, 3.1]  # minute 0 once, minute 1 once
    assert (stats.accepted, stats.stored, stats.dead_lettered) == (4, 2, 0)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SensorReading)) == 2


@pytest.mark.usefixtures("city")
def test_consumers_in_one_group_split_the_messages(platform: Platform) -> None:
    group = f"test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[IngestionStats, IngestionStats]:
        async with consuming(platform, group=group) as first, consuming(platform, group=group) as second:
            await send(BROKER, [(topic_for("WL-001"), body(m)) for m in range(40)])
            await until(lambda: len(stored_levels(platform)) == 40, "40 readings")
            return first, second

    first, second = asyncio.run(scenario())
    assert first.messages + second.messages == 40  # each message went to one member of the group
    assert first.messages > 0 and second.messages > 0


@pytest.mark.usefixtures("city")
def test_the_simulator_publishes_what_ingestion_stores(platform: Platform) -> None:
    gauge = SimDevice("WL-001", "water_level_gauge")
    flood = Anomaly("flood", "WL-001", rise_s=0.5, fall_s=0.5, peak=4.5)

    async def scenario() -> int:
        async with consuming(platform):
            sent = await publish(BROKER, [gauge], rate=100, duration=1.0, anomalies=[flood], start=T0)
            await until(lambda: len(stored_levels(platform)) == sent.sent, "the simulated readings")
            return sent.sent

    assert asyncio.run(scenario()) == 100
    levels = stored_levels(platform)
    assert max(levels) > 4.0 and levels[0] < 2.5 and levels[-1] < 2.5


# --- broker restart ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateBroker:
    """A Mosquitto of this test's own, which it may stop and start again on the same port."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-p", str(self.port)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + DEADLINE_S
        while not server_up("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"mosquitto did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE_S)
        self.process = None


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    binary = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
                                                if shutil.which(p)), None)
    if binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("the mosquitto binary is not installed (CITYOPS_REQUIRE_SERVICES=1)")
        pytest.skip("the mosquitto binary is not installed: cannot start a private broker to restart")
    broker = PrivateBroker(binary, free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


@pytest.mark.usefixtures("city")
def test_ingestion_survives_a_broker_restart(platform: Platform, private_broker: PrivateBroker) -> None:
    url = f"mqtt://127.0.0.1:{private_broker.port}"

    async def scenario() -> IngestionStats:
        async with consuming(platform, url=url) as stats:
            await send(url, [(topic_for("WL-001"), body(m)) for m in range(3)])
            await until(lambda: len(stored_levels(platform)) == 3, "readings before the restart")
            private_broker.kill()
            await until(lambda: not stats.subscribed.is_set(), "the consumer noticing the broker is gone")
            private_broker.start()
            await until(lambda: stats.connects == 2 and stats.subscribed.is_set(), "the consumer reconnecting")
            await send(url, [(topic_for("WL-001"), body(m, level=3.5)) for m in range(3, 6)])
            await until(lambda: len(stored_levels(platform)) == 6, "readings after the restart")
            return stats

    stats = asyncio.run(scenario())
    assert stored_levels(platform) == [3.1, 3.1, 3.1, 3.5, 3.5, 3.5]
    assert stats.connects == 2 and stats.stored == 6


# --- command line ------------------------------------------------------------------------------------


def run_cli(platform: Platform, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sensing", *args, "--data-dir", str(platform.settings.data_dir)],
                                env={"CITYOPS_DATABASE_URL": platform.settings.database_url,
                                     "CITYOPS_MQTT_URL": BROKER})
    return result.exit_code, result.output


@pytest.mark.usefixtures("city")
def test_simulate_command_publishes_the_registered_devices(platform: Platform, cli_env: None) -> None:
    async def scenario() -> tuple[int, str]:
        async with consuming(platform):
            code, out = await asyncio.to_thread(run_cli, platform, "simulate", "--devices", "2", "--rate", "40",
                                                "--duration", "0.5", "--anomaly", "stuck:MT-001")
            if code == 0:
                await until(lambda: (len(stored_levels(platform, "MT-001")), len(stored_levels(platform, "AQ-001")))
                            == (10, 30), "the simulated readings")
            return code, out

    code, out = asyncio.run(scenario())
    assert code == 0, out
    assert json.loads(out)["sent"] == 20 and json.loads(out)["devices"] == 2
    assert len(set(stored_levels(platform, "MT-001"))) == 1  # stuck
    assert stored_levels(platform, "WL-001") == []  # the first registered device besides the anomalous one: AQ-001


@pytest.mark.usefixtures("city")
def test_simulate_command_refuses_bad_anomalies(platform: Platform, cli_env: None) -> None:
    code, out = run_cli(platform, "simulate", "--anomaly", "melt:WL-001", "--duration", "0.1")
    assert code != 0 and "KIND:DEVICE_ID" in out
    code, out = run_cli(platform, "simulate", "--anomaly", "flood:NOPE-1", "--duration", "0.1")
    assert code != 0 and "NOPE-1" in out


def test_the_demo_devices_parse_and_cover_every_device_type() -> None:
    devices = importers.parse_devices(resources.files("cityops.sensing").joinpath(DEMO_DEVICES).read_bytes())
    assert len(devices) >= 30 and {d.type_code for d in devices} == set(device_types())
    gauges = [d for d in devices if d.device_id.startswith("WL-XFH-")]  # the 孝妇河 river gauges, south to north
    assert len(gauges) >= 5 and all(117.95 <= d.lng <= 118.0 and 36.55 <= d.lat <= 36.8 for d in gauges)
    assert [d.lat for d in gauges] == sorted(d.lat for d in gauges)


@pytest.mark.usefixtures("city")
def test_ingest_command_runs_until_interrupted(platform: Platform, cli_env: None) -> None:
    env = {**os.environ, "CITYOPS_DATABASE_URL": str(platform.settings.database_url), "CITYOPS_MQTT_URL": BROKER,
           "CITYOPS_MQTT_SHARED_GROUP": f"test-{uuid.uuid4().hex[:8]}"}
    process = subprocess.Popen([sys.executable, "-m", "cityops", "sensing", "ingest", "--data-dir",
                                str(platform.settings.data_dir)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        async def until_stored() -> None:  # the process subscribes when it is ready: publish until it listens
            for minute in range(int(DEADLINE_S / 0.1)):
                await send(BROKER, [(topic_for("WL-001"), body(minute))])
                if stored_levels(platform):
                    return
                await asyncio.sleep(0.1)
            raise AssertionError("the ingest command stored nothing")

        asyncio.run(until_stored())
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=DEADLINE_S)
    assert process.returncode == 0, err.decode()
    assert json.loads(out)["stored"] >= 1
