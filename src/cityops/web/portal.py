"""The citizen portal: report a problem, track it, rate the handling."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
