"""Region queries and writes. Keyword-only, typed, never commit: the caller's UnitOfWork does.

Also the per-process RegionLocator, which keeps a RegionIndex in memory and rebuilds it only when
regions_meta.version says another transaction (in any process) changed the regions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from shapely.geometry import shape
from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session, defer

from cityops.core.db import Database
from cityops.core.errors import NotFound, ValidationFailed
from cityops.core.versioned_cache import VersionedCache, per_process
from cityops.regions.codes import Level, code_problem, implied_parent_codes, level_rank, scope_prefix_for
from cityops.regions.coords import Crs, to_wgs84
from cityops.regions.errors import PointOutsideRegions, UnknownRegion
from cityops.regions.index import PathStep, RegionIndex, RegionRow
from cityops.regions.models import Region, RegionsMeta
from cityops.regions.schemas import RegionInput, UpsertResult

if TYPE_CHECKING:
    from cityops.platform import Platform

META_ID: Final = 1
_CHUNK: Final = 500  # keeps IN (...) lists well under SQLite's bound-parameter limit
Progress = Callable[[int, int], None]

# --- reading --------------------------------------------------------------------------------------


def get(*, session: Session, code: str) -> Region | None:
    return session.get(Region, code)


def names(*, session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Code → name, in one query and without the shapes (which are most of a region's row)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return {code: name for code, name in rows}


def get_or_raise(*, session: Session, code: str) -> Region:
    region = get(session=session, code=code)
    if region is None:
        raise UnknownRegion(region_code=code)
    return region


def children(*, session: Session, code: str) -> Sequence[Region]:
    return session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()


def path(*, session: Session, code: str) -> list[Region]:
    """The region and its ancestors, root first (without their shapes: a path is for names and scopes)."""
    no_shape = defer(Region.geometry)
    region = session.get(Region, code, options=[no_shape])
    if region is None:
        raise UnknownRegion(region_code=code)
    codes = region.path.split("/")
    found = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(codes)).options(no_shape))}
    return [found[c] for c in codes if c in found]


def visible_filter(prefixes: Sequence[str]) -> ColumnElement[bool]:
    """Regions someone scoped to `prefixes` may see: inside a scope (descendant or the scope itself), or
    above one (an ancestor: the scope starts with its scope_prefix), so paths and breadcrumbs still work.

    Ancestors are matched as `scope_prefix IN (every leading part of each prefix)`, which can use the index.
    No prefixes means nothing is visible.
    """
    clean = sorted({p for p in prefixes if p})
    if not clean:
        return false()
    leading = sorted({p[:n] for p in clean for n in range(1, len(p) + 1)})
    inside = [Region.scope_prefix.startswith(p, autoescape=True) for p in clean]
    return or_(Region.scope_prefix.in_(leading), *inside)


def list_regions(*, session: Session, level: Level | None = None, parent_code: str | None = None,
                 prefixes: Sequence[str] | None = None, limit: int = 100,
                 offset: int = 0) -> Sequence[Region]:
    """Regions ordered by code; `prefixes=None` means unscoped, `[]` means nothing is visible."""
    query = select(Region).where(*_conditions(level, parent_code, prefixes))
    return session.scalars(query.order_by(Region.code).limit(limit).offset(offset)).all()


def count_regions(*, session: Session, level: Level | None = None, parent_code: str | None = None,
                  prefixes: Sequence[str] | None = None) -> int:
    query = select(func.count()).select_from(Region).where(*_conditions(level, parent_code, prefixes))
    return session.scalar(query) or 0


def _conditions(level: Level | None, parent_code: str | None, prefixes: Sequence[str] | None
                ) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if level is not None:
        conditions.append(Region.level == level)
    if parent_code is not None:
        conditions.append(Region.parent_code == parent_code)
    if prefixes is not None:
        conditions.append(visible_filter(prefixes))
    return conditions


def first_descendant(*, session: Session, code: str, level: Level) -> Region:
    """The descendant of `code` at `level` with the smallest code (the demo puts people in "the first grid")."""
    ancestor = get_or_raise(session=session, code=code)
    query = (select(Region).where(Region.level == level, Region.code.startswith(ancestor.scope_prefix))
             .order_by(Region.code).limit(1))
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(f"no {level} under {code}")
    return found


@dataclass(frozen=True)
class RegionSummary:
    """What the landing page shows: the (first) city, how many regions each level has, its districts."""

    city: Region | None
    counts: dict[str, int]
    districts: Sequence[Region]


def summary(*, session: Session) -> RegionSummary:
    rows = session.execute(select(Region.level, func.count()).group_by(Region.level)).all()
    counts = {level: count for level, count in rows}
    city = session.scalars(select(Region).where(Region.level == "city").order_by(Region.code).limit(1)).first()
    districts = children(session=session, code=city.code) if city else []
    return RegionSummary(city=city, counts=counts, districts=districts)


def current_version(*, session: Session) -> int:
    return session.scalar(select(RegionsMeta.version).where(RegionsMeta.id == META_ID)) or 0


def index_rows(*, session: Session) -> list[RegionRow]:
    columns = (Region.code, Region.level, Region.parent_code, Region.name, Region.geometry)
    return [RegionRow(code, level, parent, name, geometry)  # type: ignore[arg-type]
            for code, level, parent, name, geometry in session.execute(select(*columns))]


# --- writing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    """What a child needs to know about its parent, whether the parent is in the batch or in the database."""

    code: str
    level: Level
    parent_code: str | None
    path: str
    scope_prefix: str


def upsert_regions(*, session: Session, regions: Sequence[RegionInput], at: datetime,
                   progress: Progress | None = None) -> UpsertResult:
    """Create or update regions, parents before children; unchanged rows are left alone (idempotent).

    Checks what keeps scoping sound: every code fits its level, a parent exists and sits above the child,
    and the child's code starts with the parent's scope_prefix. Bumps regions_meta.version when anything
    changed.
    """
    ordered = _ordered(regions)
    existing = _load(session, {r.code for r in ordered})
    nodes = _parent_nodes(session, ordered)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for done, region in enumerate(ordered, start=1):
        node = _plan(region, nodes)
        nodes[region.code] = node
        counts[_apply(session, region, node, existing.get(region.code), at)] += 1
        if progress is not None and (done % _CHUNK == 0 or done == len(ordered)):
            progress(done, len(ordered))
    result = UpsertResult(**counts)
    if result.changed:
        session.flush()
        bump_version(session=session)
    return result


def bump_version(*, session: Session) -> int:
    meta = session.get(RegionsMeta, META_ID, with_for_update=True)
    if meta is None:
        meta = RegionsMeta(id=META_ID, version=0)
        session.add(meta)
    meta.version += 1
    session.flush()
    return meta.version


def _ordered(regions: Sequence[RegionInput]) -> list[RegionInput]:
    seen: set[str] = set()
    for region in regions:
        if region.code in seen:
            raise ValidationFailed(f"code {region.code} appears twice", field=region.field("code"))
        seen.add(region.code)
    return sorted(regions, key=lambda r: (level_rank(r.level), r.code))


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _load(session: Session, codes: Iterable[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    for chunk in _chunks(codes):
        found.update((r.code, r) for r in session.scalars(select(Region).where(Region.code.in_(chunk))))
    return found


def _parent_nodes(session: Session, regions: Sequence[RegionInput]) -> dict[str, _Node]:
    """Database regions that may be parents of the batch (named or implied by the code)."""
    wanted = {r.parent_code for r in regions if r.parent_code}
    wanted |= {c for r in regions if not r.parent_code for c in implied_parent_codes(r.code, r.level)}
    return {code: _node(region) for code, region in _load(session, wanted).items()}


def _node(region: Region) -> _Node:
    return _Node(region.code, region.level, region.parent_code, region.path,  # type: ignore[arg-type]
                 region.scope_prefix)


def _plan(region: RegionInput, nodes: dict[str, _Node]) -> _Node:
    problem = code_problem(region.code, region.level)
    if problem:
        raise ValidationFailed(problem, field=region.field("code"))
    parent = _parent(region, nodes)
    prefix = scope_prefix_for(region.code, region.level)
    if parent is None:
        return _Node(region.code, region.level, None, region.code, prefix)
    return _Node(region.code, region.level, parent.code, f"{parent.path}/{region.code}", prefix)


def _parent(region: RegionInput, nodes: dict[str, _Node]) -> _Node | None:
    if region.parent_code is None:
        # A region given without parent joins the one its code implies, when that exists.
        return next((nodes[c] for c in implied_parent_codes(region.code, region.level) if c in nodes), None)
    parent = nodes.get(region.parent_code)
    field = region.field("parent_code")
    if parent is None:
        raise ValidationFailed(f"region {region.parent_code} does not exist", field=field)
    if level_rank(parent.level) >= level_rank(region.level):
        raise ValidationFailed(f"a {parent.level} cannot contain a {region.level}", field=field)
    if not region.code.startswith(parent.scope_prefix):
        raise ValidationFailed(f"code {region.code} does not start with {parent.scope_prefix}, the prefix "
                               f"of {parent.code}", field=field)
    return parent


def _apply(session: Session, region: RegionInput, node: _Node, row: Region | None, at: datetime) -> str:
    values = _values(region, node)
    if row is None:
        session.add(Region(code=region.code, updated_at=at, **values))
        return "created"
    if region.geometry is None:
        # A list of codes and names (division CSV) must not wipe polygons imported earlier.
        values = {k: v for k, v in values.items() if k not in _GEOMETRY_KEYS}
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return "unchanged"
    if "path" in changed:
        _repath_descendants(session, old=row.path, new=node.path)
    for key, value in changed.items():
        setattr(row, key, value)
    row.updated_at = at
    return "updated"


def _values(region: RegionInput, node: _Node) -> dict[str, Any]:
    # A JSON round trip makes the geometry compare equal to what the database hands back (lists, not tuples).
    geometry = json.loads(json.dumps(region.geometry)) if region.geometry else None
    return {"name": region.name, "level": region.level, "parent_code": node.parent_code, "path": node.path,
            "scope_prefix": node.scope_prefix, "geometry": geometry, "source": region.source,
            **_geometry_summary(geometry)}


_SUMMARY_KEYS: Final = ("centroid_lng", "centroid_lat", "min_lng", "min_lat", "max_lng", "max_lat")
_GEOMETRY_KEYS: Final = frozenset({"geometry", "source", *_SUMMARY_KEYS})


def _geometry_summary(geometry: dict[str, Any] | None) -> dict[str, float | None]:
    if geometry is None:
        return dict.fromkeys(_SUMMARY_KEYS)
    polygon = shape(geometry)
    centroid = polygon.centroid
    return dict(zip(_SUMMARY_KEYS, (centroid.x, centroid.y, *polygon.bounds), strict=True))


def _repath_descendants(session: Session, *, old: str, new: str) -> None:
    query = select(Region).where(Region.path.startswith(old + "/", autoescape=True))
    for descendant in session.scalars(query):
        descendant.path = new + descendant.path[len(old):]


# --- locating -------------------------------------------------------------------------------------


class RegionLocator:
    """Point → region path for one process. Holds a RegionIndex, rebuilt when regions_meta.version moves;
    checked at most once a second, so a change made anywhere is seen within that second."""

    def __init__(self, *, check_every: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._cache = VersionedCache(version=lambda session: current_version(session=session),
                                     build=lambda session: RegionIndex(index_rows(session=session)),
                                     check_every=check_every, monotonic=monotonic)

    @property
    def builds(self) -> int:
        return self._cache.builds

    def invalidate(self) -> None:
        """Forget the index: this process just changed regions and must not wait for the next check."""
        self._cache.invalidate()

    def index(self, db: Database) -> RegionIndex:
        return self._cache.get(db)

    def locate(self, db: Database, lng: float, lat: float, crs: Crs = "wgs84") -> list[PathStep]:
        """Path from the city down to the deepest region containing the point (given in `crs`)."""
        found = self.index(db).locate(*to_wgs84(lng, lat, crs))
        if found is None:
            raise PointOutsideRegions(lng=lng, lat=lat)
        return found


def locator(platform: Platform) -> RegionLocator:
    """The process-wide locator, kept in platform.caches."""
    return per_process(platform.caches, "regions.locator", RegionLocator, RegionLocator)

