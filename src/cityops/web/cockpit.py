"""The leader cockpit (一屏观全域): the page and its data endpoints."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
