"""The one typed settings object. Everything configurable comes from CITYOPS_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOPS_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Folder for the SQLite file, photos and keys")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under data_dir if unset")
    bus_url: str = Field(default="memory://", description="memory:// (in-process) or nats://host:port")
    secret_key: SecretStr | None = Field(default=None, description="Signs web sessions; required to serve")
    language: Literal["zh-CN", "en"] = "zh-CN"
    log_level: str = "INFO"
    log_json: bool = False
    demo_admin_password: SecretStr | None = None
    demo_open311_key: SecretStr | None = None
    nats_connect_timeout_s: float = 5.0
    bus_ack_wait_s: float = 30.0
    bus_max_deliver: int = 10
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883", description="Broker for sensor telemetry")
    mqtt_shared_group: str = Field(default="cityops", description="MQTT v5 shared-subscription group of ingestion")
    db_pool_size: int = 10
    run_workers: bool = Field(default=True, description="Run the triage worker and deadline job in the API process")
    cockpit_warm_up: bool = Field(default=True, description="Compute the city's and districts' cockpit figures "
                                  "when an API process starts, so the first viewer does not wait")
    triage_poll_s: float = Field(default=1.0, description="How often the triage worker looks for waiting reports")
    triage_model_path: Path | None = Field(
        default=None, description="Classifier file from 'cityops triage train'; the shipped model if unset")
    triage_min_confidence: float = Field(
        default=0.5, description="Below this classifier confidence a report waits for a dispatcher")
    alarm_case_level: Literal["blue", "yellow", "orange", "red"] = Field(
        default="orange", description="An alarm reaching this level or higher is sent to triage as a sensor report")
    # Deadlines and escalation (督办)
    deadline_warn_before_hours: float = Field(default=2.0, description="Warn this many hours before a deadline")
    escalate_to_leader_after_hours: float = Field(default=24.0,
                                                  description="Escalate to the leader this long after overdue")
    deadline_sweep_interval_s: float = 60.0
    vitals_interval_s: float = Field(default=60.0, description="How often offline devices, windowed sensor "
                                     "indicators and case statistics are evaluated")
    quality_interval_s: float = Field(default=86_400.0, description="How often every dataset's quality is "
                                      "checked again (a dataset unchanged since its last check is skipped)")
    # Notifications
    notify_webhook_url: str | None = None
    notify_webhook_secret: SecretStr | None = None
    # Photos
    photo_max_bytes: int = 10 * 1024 * 1024
    photo_max_count: int = 9

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cityops.db').resolve()}"

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests and the CLI change the environment; this makes the next get_settings() read it again."""
    get_settings.cache_clear()
