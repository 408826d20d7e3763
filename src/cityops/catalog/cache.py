"""The process-wide routing table (catalog/routing.py RoutingTable), read again only when the catalogue moved.

The triage worker asks once per batch: one small query tells whether any category, rule, department or region
changed since the table was read (check_every=0, so a change is seen by the next batch, not a minute later).
"""

from __future__ import annotations

from cityops.catalog import service
from cityops.catalog.routing import RoutingTable
from cityops.core.versioned_cache import VersionedCache, per_process
from cityops.platform import Platform

CACHE_KEY = "catalog.routing_table"


class RoutingTableCache(VersionedCache[RoutingTable]):
    def __init__(self) -> None:
        super().__init__(version=lambda session: service.routing_version(session=session),
                         build=lambda session: service.routing_table(session=session), check_every=0.0)


def routing_table(platform: Platform) -> RoutingTable:
    return per_process(platform.caches, CACHE_KEY, RoutingTableCache, RoutingTableCache).get(platform.db)
