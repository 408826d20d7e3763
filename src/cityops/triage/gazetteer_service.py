"""The process-wide gazetteer: built from the region tables through the regions service, kept in memory and
rebuilt when regions_meta.version moves (the same VersionedCache the RegionLocator uses), so a region renamed
in any process is matched by name here within a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from sqlalchemy.orm import Session

from cityops.core.db import Database
from cityops.core.versioned_cache import VersionedCache, per_process
from cityops.regions import service as regions
from cityops.regions.codes import LEVELS
from cityops.triage.locate import AddressMatch, Gazetteer, Place, locate_text, with_packaged_aliases

if TYPE_CHECKING:
    from cityops.platform import Platform

CACHE_KEY: Final = "triage.gazetteer"
_PAGE: Final = 5_000


def places(*, session: Session) -> list[Place]:
    """Every region as a Place, parents' levels first, with the packaged nicknames added."""
    found: list[Place] = []
    for level in LEVELS:
        offset = 0
        while True:
            page = regions.list_regions(session=session, level=level, limit=_PAGE, offset=offset)
            found.extend(Place(r.code, r.name, r.level, r.parent_code) for r in page)
            if len(page) < _PAGE:
                break
            offset += _PAGE
    return with_packaged_aliases(found)


class GazetteerCache(VersionedCache[Gazetteer]):
    """One Gazetteer per process, rebuilt when regions_meta.version moves; `outside` (code, name) pairs replace
    cpca's table (tests)."""

    def __init__(self, *, check_every: float = 1.0, monotonic: Callable[[], float] = time.monotonic,
                 outside: Iterable[tuple[str, str]] | None = None) -> None:
        kept = None if outside is None else tuple(outside)
        super().__init__(version=lambda session: regions.current_version(session=session),
                         build=lambda session: Gazetteer.build(places(session=session), outside=kept),
                         check_every=check_every, monotonic=monotonic)

    def gazetteer(self, db: Database) -> Gazetteer:
        return self.get(db)


def cache_for(platform: Platform) -> GazetteerCache:
    """The process-wide cache, kept in platform.caches."""
    return per_process(platform.caches, CACHE_KEY, GazetteerCache, GazetteerCache)


def gazetteer_for(platform: Platform) -> Gazetteer:
    return cache_for(platform).gazetteer(platform.db)


def locate_address(platform: Platform, text: str) -> AddressMatch:
    """Address text → region on this platform's current regions (see triage.locate)."""
    return locate_text(gazetteer_for(platform), text)
