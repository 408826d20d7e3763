"""`cityops sensing …`: import devices, ingest from MQTT, simulate devices, mark silent devices offline, write
rollups, prune raw readings."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import asdict
from datetime import datetime
from importlib import resources
from pathlib import Path

import aiomqtt
import typer

from cityops.cli.common import (
    ActorOption,
    DataDirOption,
    default_actor,
    fail,
    handles_domain_errors,
    platform_for,
    print_json,
)
from cityops.core.errors import ValidationFailed
from cityops.core.runtime import tune_garbage_collector
from cityops.platform import Platform
from cityops.sensing import flows, mqtt, offline, rollups, service, simulate

app = typer.Typer(no_args_is_help=True)


@app.command("import-devices")
@handles_domain_errors
def import_devices(file: Path | None = typer.Argument(None, exists=True, dir_okay=False,
                                                     help="CSV (UTF-8/GB18030) 或 XLSX"),
                   demo: bool = typer.Option(False, "--demo", help="导入淄博演示设备 / the Zibo demo devices"),
                   actor: str | None = ActorOption, data_dir: Path | None = DataDirOption) -> None:
    """导入设备台账（全部成功或全部不导入）。Import devices, all or nothing."""
    if (file is None) == (not demo):
        raise ValidationFailed("请给出文件或 --demo（二选一）/ give a FILE or --demo, not both", field="file")
    with platform_for(data_dir) as platform:
        if file is None:
            content = resources.files("cityops.sensing").joinpath(simulate.DEMO_DEVICES).read_bytes()
            counts = flows.import_devices(platform, content, actor=actor or default_actor(), file="devices_zibo.csv")
        else:
            counts = flows.import_device_file(platform, file, actor=actor or default_actor())
    print_json(asdict(counts))


@app.command("ingest")
@handles_domain_errors
def ingest(url: str | None = typer.Option(None, "--url", help="mqtt://主机:端口 (默认 CITYOPS_MQTT_URL)"),
           shared: bool = typer.Option(True, "--shared/--no-shared",
                                       help="MQTT v5 共享订阅，多进程分担 / shared subscription"),
           batch_max: int = typer.Option(500, "--batch-max", min=1, help="每批最多消息数 / messages per batch"),
           data_dir: Path | None = DataDirOption) -> None:
    """从 MQTT 接收遥测数据直到 Ctrl-C。Ingest telemetry from MQTT until Ctrl-C."""
    with platform_for(data_dir) as platform:
        tune_garbage_collector()
        stats = asyncio.run(_ingest_until_interrupted(platform, url=url, shared=shared, batch_max=batch_max))
    print_json({"messages": stats.messages, "accepted": stats.accepted, "readings": stats.readings,
                "stored": stats.stored, "dead_lettered": stats.dead_lettered, "batches": stats.batches,
                "connects": stats.connects})


async def _ingest_until_interrupted(platform: Platform, *, url: str | None, shared: bool,
                                    batch_max: int) -> mqtt.IngestionStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await mqtt.run_ingestion(platform, url=url, shared=shared, stop=stop, batch_max=batch_max)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@app.command("simulate")
@handles_domain_errors
def simulate_command(devices: int = typer.Option(10, "--devices", min=1, help="设备数 / number of devices"),
                     rate: float = typer.Option(10.0, "--rate", min=0.001,
                                                help="每秒消息数（合计）/ messages per second, all devices"),
                     duration: float = typer.Option(60.0, "--duration", min=0.001, help="秒 / seconds"),
                     anomaly: list[str] = typer.Option([], "--anomaly",
                                                       help="flood:设备 | stuck:设备 | dead:设备，可重复 / repeatable"),
                     url: str | None = typer.Option(None, "--url", help="mqtt://主机:端口 (默认 CITYOPS_MQTT_URL)"),
                     seed: int = typer.Option(0, "--seed", help="随机种子 / random seed"),
                     qos: int = typer.Option(1, "--qos", min=0, max=1, help="MQTT QoS (0 或 1 / 0 or 1)"),
                     time_scale: float = typer.Option(1.0, "--time-scale", min=0.001,
                                                      help="设备时钟倍速（60 = 一秒一分钟）/ device clock speed-up"),
                     data_dir: Path | None = DataDirOption) -> None:
    """向 MQTT 发布模拟遥测（登记设备，没有则用演示设备）。Publish simulated telemetry to MQTT."""
    try:
        anomalies = [simulate.parse_anomaly(text, duration_s=duration) for text in anomaly]
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="anomaly") from None
    with platform_for(data_dir) as platform:
        with platform.db.session() as session:
            registered = [simulate.SimDevice(d.device_id, d.type_code)
                          for d in service.list_devices(session=session, limit=1_000_000)]
        broker = url or platform.settings.mqtt_url
    try:
        chosen = simulate.pick_devices(registered or simulate.demo_devices(), devices, anomalies)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="anomaly") from None
    try:
        stats = asyncio.run(simulate.publish(broker, chosen, rate, duration, anomalies, seed=seed, qos=qos,
                                                   time_scale=time_scale))
    except (aiomqtt.MqttError, ValueError) as exc:
        fail(f"无法发布到 MQTT / cannot publish to {broker}: {exc}")
        return
    print_json({"devices": len(chosen), "sent": stats.sent, "skipped": stats.skipped,
                "elapsed_s": round(stats.elapsed_s, 3),
                "rate": round(stats.sent / stats.elapsed_s, 1) if stats.elapsed_s else 0.0})


@app.command("mark-offline")
@handles_domain_errors
def mark_offline(factor: float = typer.Option(offline.DEFAULT_FACTOR, "--factor", min=1.0,
                                              help="静默超过 N 倍上报周期即离线 / silent for N × interval"),
                 data_dir: Path | None = DataDirOption) -> None:
    """标记离线设备。Mark devices that stopped reporting as offline."""
    with platform_for(data_dir) as platform:
        changes = offline.mark_offline(platform, factor=factor)
    print_json([asdict(c) for c in changes])


@app.command("rollup")
@handles_domain_errors
def rollup(start: str = typer.Option(..., "--from", help="ISO-8601, e.g. 2026-03-01T00:00+08:00"),
           end: str = typer.Option(..., "--to", help="ISO-8601 (exclusive)"),
           data_dir: Path | None = DataDirOption) -> None:
    """按分钟、小时汇总读数。Write per-minute and per-hour rollups for a time range."""
    with platform_for(data_dir) as platform:
        print_json(rollups.write_rollups(platform, start=_time(start, "from"), end=_time(end, "to")))


@app.command("prune")
@handles_domain_errors
def prune(keep_days: int = typer.Option(rollups.DEFAULT_RETENTION_DAYS, "--keep-days", min=1,
                                        help="原始读数保留天数 / days of raw readings to keep"),
          data_dir: Path | None = DataDirOption) -> None:
    """清理过期原始读数（汇总保留）。Delete raw readings past retention; rollups stay."""
    with platform_for(data_dir) as platform:
        print_json({"deleted": rollups.prune_readings(platform, keep_days=keep_days)})


def _time(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"not an ISO-8601 time: {text!r}", field=field) from None
    if value.tzinfo is None:
        raise ValidationFailed(f"{text!r} needs a zone offset, e.g. +08:00", field=field)
    return value
