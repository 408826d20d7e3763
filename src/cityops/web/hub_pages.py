"""The data hub's pages: catalogue, dataset, requests, grants and access log."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
