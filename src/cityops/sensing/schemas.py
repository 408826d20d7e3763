"""Shapes of sensing: a device as a file row states it, and the API's answer to a telemetry message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel

DEVICE_COLUMNS: Final = ("device_id", "type_code", "model", "lng", "lat", "department_code", "interval_s",
                         "device_group")
GROUP_CODE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$"
DEVICE_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"  # no "/" or "+"/"#": it sits in an MQTT topic


@dataclass(frozen=True)
class DeviceInput:
    device_id: str
    type_code: str
    model: str | None
    lng: float
    lat: float
    department_code: str | None
    interval_s: int
    group_code: str | None = None  # the file's `device_group` column
    origin: str = ""  # "rows[3]" for messages

    def field(self, name: str) -> str:
        return f"{self.origin}.{name}" if self.origin else name


class RefusalOut(BaseModel):
    """One refused entry of a batch (`position` in `readings`); it is also in the dead letters."""

    position: int | None
    device_id: str | None
    reason: str
    field: str | None
    detail: str


class IngestOut(BaseModel):
    """`readings`: of the accepted entries; `stored`: those new (a repeat stores 0); `refused`: entries refused."""

    device_id: str
    accepted: bool
    stored: int
    reason: str | None = None
    detail: str | None = None
    field: str | None = None
    readings: int = 0
    refused: list[RefusalOut] = []


class GatewayIngestOut(BaseModel):
    gateway_id: str
    accepted: bool
    readings: int
    stored: int
    refused: list[RefusalOut] = []
