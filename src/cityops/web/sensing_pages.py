"""The sensing pages: devices on the map, indicator charts with threshold bands, alarms."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
