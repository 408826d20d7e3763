"""What machine a benchmark ran on, for the JSON it prints."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine() -> dict[str, Any]:
    memory_gib = None
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
            memory_gib = round(kib / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu_count": os.cpu_count(), "memory_gib": memory_gib, "python": platform.python_version(),
            "platform": platform.platform(), "processor": platform.processor() or platform.machine()}
