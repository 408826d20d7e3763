"""What the hotspot and monthly-topic analyses know about one report. Pure: a plain dataclass, no database.

Filled by `intake.service.report_facts` for reports on the platform, or built directly from imported
messages, so the analyses run the same way on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ReportRow:
    report_id: int
    at: datetime  # timezone-aware: when it was reported (never after it reached the platform)
    lng: float | None  # WGS-84; None when only an address or the text says where
    lat: float | None
    region_code: str | None  # deepest region known; a city code or None means "not located"
    text: str
    category_code: str | None = None  # the case's category once triage has decided it
    case_id: int | None = None
    joined_case: bool = False  # fused into a case an earlier report had opened (a repeated report)

    @property
    def located(self) -> bool:
        return self.lng is not None and self.lat is not None
