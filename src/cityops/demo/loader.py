"""Loading the demo city. Running it again on the same database creates nothing twice."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from cityops.cases.calendar_flows import load_default_calendar
from cityops.core.security import new_password, new_token
from cityops.demo import zibo_org
from cityops.demo.zibo_catalog import load_demo_catalog
from cityops.demo.zibo_datahub import load_demo_datahub
from cityops.demo.zibo_regions import load_zibo_regions
from cityops.demo.zibo_reports import load_demo_reports
from cityops.indicators import flows as indicators
from cityops.indicators import service as indicator_service
from cityops.org import flows as org_flows
from cityops.org import service as org
from cityops.org.access import SYSTEM_ACTOR
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.sensing import flows as sensing
from cityops.sensing.simulate import DEMO_DEVICES

CREDENTIALS_FILE = "demo-credentials.json"
OPEN311_KEY_NAME = "Open311 演示客户端 / demo client"


@dataclass(frozen=True)
class DemoCredentials:
    admin_username: str
    admin_password: str
    open311_key: str


def load_or_create_secret_key(data_dir: Path) -> str:
    """The demo's own session-signing key, created once per data folder (never a built-in default)."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    _write_private(path, key)
    return key


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _credentials(data_dir: Path, admin_password: str | None, open311_key: str | None) -> DemoCredentials:
    path = data_dir / CREDENTIALS_FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    creds = DemoCredentials(
        admin_username="admin",
        admin_password=admin_password or stored.get("admin_password") or new_password(),
        open311_key=open311_key or stored.get("open311_key") or new_token(),
    )
    _write_private(path, json.dumps(asdict(creds), ensure_ascii=False, indent=2))
    return creds


def load_demo(platform: Platform, *, admin_password: str | None = None,
              open311_key: str | None = None) -> DemoCredentials:
    creds = _credentials(platform.settings.data_dir, admin_password, open311_key)
    load_zibo_regions(platform, actor=SYSTEM_ACTOR)
    _load_departments(platform)
    _load_staff(platform, creds.admin_password)
    _ensure_open311_key(platform, creds.open311_key)
    load_default_calendar(platform)
    load_demo_catalog(platform)
    load_demo_reports(platform)
    _load_vital_signs(platform)
    load_demo_datahub(platform)
    return creds


def _load_vital_signs(platform: Platform) -> None:
    """The demo devices at real places of the city, and the indicator catalogue with its thresholds."""
    devices = resources.files("cityops.sensing").joinpath(DEMO_DEVICES).read_bytes()
    sensing.import_devices(platform, devices, actor=SYSTEM_ACTOR, file="demo:devices_zibo.csv")
    with platform.db.session() as session:
        loaded = bool(indicator_service.all_indicators(session=session))
    if not loaded:  # a second start changes nothing (an import is audited even when nothing differs)
        indicators.import_demo_catalogue(platform, actor=SYSTEM_ACTOR)


def _load_departments(platform: Platform) -> None:
    wanted = [(zibo_org.department_code(zibo_org.CITY, key), name, name_en, zibo_org.CITY)
              for key, name, name_en in zibo_org.CITY_DEPARTMENTS]
    with platform.db.session() as session:
        for district in regions.children(session=session, code=zibo_org.CITY):
            wanted += [(zibo_org.department_code(district.code, key), district.name + suffix,
                        f"{district.name} {suffix_en}", district.code)
                       for key, suffix, suffix_en in zibo_org.DISTRICT_DEPARTMENTS]
        existing = {d.code for d in org.list_departments(session=session)}
    for code, name, name_en, region_code in wanted:
        if code not in existing:
            org_flows.create_department(platform, actor=None, code=code, name=name, name_en=name_en,
                                        region_code=region_code)


def _resolve_region(platform: Platform, region: str) -> str:
    if not region.startswith("first-grid:"):
        return region
    with platform.db.session() as session:
        return regions.first_descendant(session=session, code=region.split(":", 1)[1], level="grid").code


def _load_staff(platform: Platform, password: str) -> None:
    for person in zibo_org.DEMO_STAFF:
        with platform.uow() as uow:
            found = org.get_staff_by_username(session=uow.session, username=person.username)
            if found is not None:
                if not org.verify_password_of(found, password):
                    org.set_password(session=uow.session, staff=found, password=password)
                    uow.commit()
                continue
            department = (org.get_department_by_code(session=uow.session, code=person.department)
                          if person.department else None)
            department_id = department.id if department else None
        org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
            username=person.username, display_name=person.display_name, password=password, role=person.role,
            region_code=_resolve_region(platform, person.region), department_id=department_id))


def _ensure_open311_key(platform: Platform, token: str) -> None:
    with platform.db.session() as session:
        if org.api_key_by_token(session=session, token=token) is not None:
            return
    org_flows.create_api_key(platform, actor=None, name=OPEN311_KEY_NAME, role="system",
                             region_code=zibo_org.CITY, token=token)
