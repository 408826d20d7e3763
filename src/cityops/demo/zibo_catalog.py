"""The demo city's category catalogue and routing rules (data/catalog_zibo.csv, data/routing_zibo.csv).

Written for this project (see data/SOURCES.md): categories realistic for Zibo, urban-management problems routed
to each district's own bureaus and city-wide matters (heating, unpaid wages) to city departments. Loading runs
the ordinary import flows, so a second run finds everything unchanged and writes nothing, not even an audit
record. Needs the demo departments (demo/loader.py loads them first).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Final

from cityops.catalog import flows
from cityops.catalog.service import UpsertCounts
from cityops.org.access import SYSTEM_ACTOR
from cityops.platform import Platform

DATA = files("cityops.demo") / "data"
CATALOG_FILE: Final = "catalog_zibo.csv"
ROUTING_FILE: Final = "routing_zibo.csv"


@dataclass(frozen=True)
class DemoCatalog:
    categories: UpsertCounts
    rules: UpsertCounts


def load_demo_catalog(platform: Platform) -> DemoCatalog:
    categories = flows.import_categories(platform, _file(CATALOG_FILE), actor=SYSTEM_ACTOR, fmt="native")
    rules = flows.import_rules(platform, _file(ROUTING_FILE), actor=SYSTEM_ACTOR)
    return DemoCatalog(categories, rules)


def _file(name: str) -> flows.ImportFile:
    return flows.ImportFile(name=f"demo:{name}", content=(DATA / name).read_bytes())
