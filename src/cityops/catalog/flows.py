"""Business actions on the catalogue. Each is one transaction with one audit record; a `catalog.changed`
message goes out with it (through the outbox, so only once the change is committed).

Who may do what:
- categories are city-wide reference data: only an administrator scoped to a whole city changes them;
- a routing rule belongs to its region: an administrator changes rules inside their own region only. Rules of
  the regions above are visible to them (reference data) but not theirs to edit (403); others are not found.
An actor given as a string is a trusted caller on the server (CLI, demo loader) and is only named in the audit.

Files are parsed before the transaction opens, so a bad file never takes the write lock. Anything that changes
nothing writes nothing: no version, no history, no audit record, no message.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from cityops.audit import service as audit
from cityops.catalog import importers, service
from cityops.catalog.importers import Format
from cityops.catalog.schemas import CategoryInput, RuleInput
from cityops.catalog.service import Progress, UpsertCounts
from cityops.core.errors import PermissionDenied
from cityops.core.uow import UnitOfWork
from cityops.org.access import Principal, ensure_in_scope, require
from cityops.platform import Platform
from cityops.regions import service as regions

CHANGED_SUBJECT: Final = "cityops.catalog.changed"
BOOKKEEPING: Final = frozenset({"version", "updated_at", "updated_by"})
Actor = Principal | str


@dataclass(frozen=True)
class ImportFile:
    """A file's name and bytes, for callers (web uploads) that do not have it on disk."""

    name: str
    content: bytes


# --- categories -----------------------------------------------------------------------------------


def import_categories(platform: Platform, file: Path | ImportFile, *, actor: Actor, fmt: Format = "native",
                      department_map: Mapping[str, str] | None = None,
                      progress: Progress | None = None) -> UpsertCounts:
    """Import a category file (CSV or XLSX) all or nothing."""
    authorise_catalogue(actor)
    source = _read(file)
    categories = importers.parse_categories(source.content, fmt=fmt, department_map=department_map)
    return save_categories(platform, categories, actor=actor, file=source.name, fmt=fmt, progress=progress)


def save_categories(platform: Platform, categories: Sequence[CategoryInput], *, actor: Actor, file: str,
                    fmt: str, progress: Progress | None = None) -> UpsertCounts:
    authorise_catalogue(actor)
    with platform.uow() as uow:
        at = uow.clock.now()
        counts = service.upsert_categories(session=uow.session, categories=categories, at=at,
                                           actor=_name(actor), progress=progress)
        if not counts.changed:
            return counts
        data = {"file": file, "format": fmt, "count": len(categories), "created": counts.created,
                "updated": counts.updated}
        _audit(uow, actor, "catalog.categories_imported", "category", file[:80],
               _catalogue_region(uow.session, actor), data)
        _announce(uow, "categories", data)
        uow.commit()
    return counts


def put_category(platform: Platform, *, actor: Actor, category: CategoryInput) -> str:
    """Create or replace one category; returns "created", "updated" or "unchanged"."""
    authorise_catalogue(actor)
    with platform.uow() as uow:
        stored = service.get_category(session=uow.session, code=category.code)
        before = service.snapshot(stored) if stored is not None else {}
        counts = service.upsert_categories(session=uow.session, categories=[category], at=uow.clock.now(),
                                           actor=_name(actor))
        if not counts.changed:
            return "unchanged"
        after = service.snapshot(service.get_category_or_raise(session=uow.session, code=category.code))
        outcome = "created" if counts.created else "updated"
        _audit(uow, actor, f"catalog.category_{outcome}", "category", category.code,
               _catalogue_region(uow.session, actor), {**_diff(before, after), "version": after["version"]})
        _announce(uow, "categories", {"code": category.code, "version": after["version"]})
        uow.commit()
    return outcome


def authorise_catalogue(actor: Actor) -> None:
    if isinstance(actor, str):
        return
    require(actor, "catalog.write")
    if len(actor.region_path) > 1:
        raise PermissionDenied("the category catalogue is city-wide: a city-level administrator changes it",
                               permission="catalog.write")


def _catalogue_region(session: Session, actor: Actor) -> str | None:
    """Category changes are audited under the city, so the city's admins and leaders can read them."""
    if isinstance(actor, Principal):
        return actor.region_path[0] if actor.region_path else (actor.region_code or None)
    cities = regions.list_regions(session=session, level="city", limit=1)
    return cities[0].code if cities else None


# --- routing rules --------------------------------------------------------------------------------


def create_rule(platform: Platform, *, actor: Actor, rule: RuleInput) -> int:
    authorise_rule_region(actor, rule.region_code, field=rule.field("region_code"))
    with platform.uow() as uow:
        row = service.add_rule(session=uow.session, rule=rule, at=uow.clock.now(), actor=_name(actor))
        after = service.rule_snapshot(row)
        _audit(uow, actor, "catalog.rule_created", "routing_rule", row.id, row.region_code, {"after": after})
        _announce(uow, "routing_rules", {"rule_id": row.id, "region_code": row.region_code})
        uow.commit()
        return row.id


def update_rule(platform: Platform, *, actor: Actor, rule_id: int, changes: Mapping[str, Any]) -> bool:
    """Change a rule's category, region, department or active flag; False when nothing changed."""
    action = "catalog.rule_deactivated" if dict(changes) == {"active": False} else "catalog.rule_updated"
    return _change_rule(platform, actor, rule_id, changes, action)


def deactivate_rule(platform: Platform, *, actor: Actor, rule_id: int) -> bool:
    return _change_rule(platform, actor, rule_id, {"active": False}, "catalog.rule_deactivated")


def _change_rule(platform: Platform, actor: Actor, rule_id: int, changes: Mapping[str, Any], action: str) -> bool:
    if not isinstance(actor, str):
        require(actor, "catalog.write")
    with platform.uow() as uow:
        rule = service.get_rule_or_raise(session=uow.session, rule_id=rule_id)
        if not isinstance(actor, str):
            ensure_in_scope(actor, rule.region_code, reference=True)  # a rule they cannot see is not found
        authorise_rule_region(actor, rule.region_code)
        authorise_rule_region(actor, changes.get("region_code") or rule.region_code)
        before = service.rule_snapshot(rule)
        if not service.update_rule(session=uow.session, rule=rule, changes=changes, at=uow.clock.now(),
                                   actor=_name(actor)):
            return False
        after = service.rule_snapshot(rule)
        _audit(uow, actor, action, "routing_rule", rule.id, rule.region_code, _diff(before, after))
        _announce(uow, "routing_rules", {"rule_id": rule.id, "region_code": rule.region_code})
        uow.commit()
        return True


def import_rules(platform: Platform, file: Path | ImportFile, *, actor: Actor) -> UpsertCounts:
    """Import routing rules (category_code, region_code, department_code) all or nothing."""
    source = _read(file)
    rules = importers.parse_rules(source.content)
    for rule in rules:
        authorise_rule_region(actor, rule.region_code, field=rule.field("region_code"))
    with platform.uow() as uow:
        counts = service.upsert_rules(session=uow.session, rules=rules, at=uow.clock.now(), actor=_name(actor))
        if not counts.changed:
            return counts
        scope = actor.region_code if isinstance(actor, Principal) else _catalogue_region(uow.session, actor)
        data = {"file": source.name, "count": len(rules), "created": counts.created, "updated": counts.updated}
        _audit(uow, actor, "catalog.rules_imported", "routing_rule", source.name[:80], scope, data)
        _announce(uow, "routing_rules", {**data, "region_code": scope})
        uow.commit()
    return counts


def authorise_rule_region(actor: Actor, region_code: str, *, field: str = "region_code") -> None:
    """An administrator writes rules for their own region and the regions inside it."""
    if isinstance(actor, str):
        return
    require(actor, "catalog.write")
    if not actor.sees(region_code):
        raise PermissionDenied(f"region {region_code} is outside your scope", field=field,
                               permission="catalog.write")


# --- shared ---------------------------------------------------------------------------------------


def _name(actor: Actor) -> str:
    return actor if isinstance(actor, str) else actor.actor


def _audit(uow: UnitOfWork, actor: Actor, action: str, entity_type: str, entity_id: str | int,
           region_code: str | None, data: dict[str, Any]) -> None:
    audit.append(uow.session, at=uow.clock.now(), actor=_name(actor), action=action, entity_type=entity_type,
                 entity_id=entity_id, region_code=region_code, data=data)


def _announce(uow: UnitOfWork, what: str, data: Mapping[str, Any]) -> None:
    """Caches of categories and rules (triage, deadlines) listen for this and reload."""
    uow.publish(CHANGED_SUBJECT, {"what": what, **data}, key=f"catalog.changed:{uuid.uuid4().hex}")


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that changed, as they were and as they are (a new record has no "before")."""
    names = [k for k in after if k not in BOOKKEEPING and before.get(k) != after[k]]
    return {"before": {k: before[k] for k in names if k in before}, "after": {k: after[k] for k in names}}


def _read(file: Path | ImportFile) -> ImportFile:
    if isinstance(file, ImportFile):
        return file
    return ImportFile(name=os.path.basename(file), content=Path(file).read_bytes())
