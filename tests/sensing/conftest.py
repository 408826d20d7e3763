"""A few devices in the small test city (tests/cityfixture.py): a river gauge in street A's grid, an
air-quality station in street B's grid, and a tilt sensor in street A outside any community."""

from __future__ import annotations

from cityops.platform import Platform
from cityops.sensing import flows

DEVICES_CSV = """device_id,type_code,model,lng,lat,department_code,interval_s
WL-001,water_level_gauge,HY-300,118.01,36.61,370303-cgj,60
AQ-001,air_quality_station,AQ-9,118.21,36.61,370303-cgj,
MT-001,manhole_tilt_sensor,,118.15,36.75,,
"""


def seed_devices(platform: Platform) -> None:
    flows.import_devices(platform, DEVICES_CSV.encode(), actor="test", file="devices.csv")
