"""Queries and single writes for categories and routing rules. Keyword-only, typed, never commits.

Every change to a category or a rule bumps its version and writes a snapshot to its history table in the same
transaction, so "what did this category say when the case was opened" can always be answered. Writing the
same values again changes nothing: no new version, no history row (imports are idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from cityops.catalog.models import Category, CategoryHistory, RoutingRule, RoutingRuleHistory
from cityops.catalog.routing import RouteDecision, RoutingTable, RuleView, candidate_region_codes, route
from cityops.catalog.schemas import INPUT_FIELDS, CategoryInput, RuleInput, check_category
from cityops.core.errors import Conflict, NotFound, ValidationFailed
from cityops.org import service as org
from cityops.org.access import Principal, reference_condition
from cityops.regions import service as regions

Progress = Callable[[int, int], None]
PROGRESS_EVERY: Final = 200
RULE_FIELDS: Final = ("category_code", "region_code", "department_code", "active")


@dataclass(frozen=True)
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass  # not frozen: cases.deadlines.HasStageLimits declares plain (settable) attributes
class CategoryLimits:
    """What the case workflow needs from a category: stage time limits, severity, default department."""

    register_hours: float
    dispatch_hours: float
    handle_limit: float
    handle_unit: str
    verify_hours: float
    close_hours: float
    severity: int
    default_department_code: str | None
    active: bool = True


# --- reading categories ---------------------------------------------------------------------------


def get_category(*, session: Session, code: str) -> Category | None:
    # The session's identity map holds objects weakly, so a batch (triage) would reload the same category for
    # every case; keeping the ones read in session.info makes that one query per category per transaction.
    held: dict[str, Category] = session.info.setdefault("catalog.categories", {})
    found = held.get(code) or session.get(Category, code)
    if found is not None:  # a miss is not kept: the category may be created later in the same transaction
        held[code] = found
    return found


def get_category_or_raise(*, session: Session, code: str) -> Category:
    category = get_category(session=session, code=code)
    if category is None:
        raise NotFound(f"category {code}", field="code")
    return category


def _category_filter(query: Select[Any], *, kind: str | None, active: bool | None, search: str | None,
                     parent_code: str | None) -> Select[Any]:
    if kind is not None:
        query = query.where(Category.kind == kind)
    if active is not None:
        query = query.where(Category.active.is_(active))
    if parent_code is not None:
        query = query.where(Category.parent_code == parent_code)
    if search:
        query = query.where(or_(Category.name.contains(search, autoescape=True),
                                Category.code.icontains(search, autoescape=True),
                                Category.name_en.icontains(search, autoescape=True)))
    return query


def list_categories(*, session: Session, kind: str | None = None, active: bool | None = None,
                    search: str | None = None, parent_code: str | None = None, limit: int = 100,
                    offset: int = 0) -> tuple[Sequence[Category], int]:
    """Categories ordered by code, filtered by kind, state, parent and a name or code fragment."""
    query = _category_filter(select(Category), kind=kind, active=active, search=search, parent_code=parent_code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Category.code).limit(limit).offset(offset)).all()
    return rows, total


def all_categories(*, session: Session, kind: str | None = None) -> Sequence[Category]:
    query = _category_filter(select(Category), kind=kind, active=None, search=None, parent_code=None)
    return session.scalars(query.order_by(Category.code)).all()


def category_history(*, session: Session, code: str) -> Sequence[CategoryHistory]:
    """Newest version first."""
    query = select(CategoryHistory).where(CategoryHistory.code == code)
    return session.scalars(query.order_by(CategoryHistory.version.desc(), CategoryHistory.id.desc())).all()


def category_limits(*, session: Session, code: str) -> CategoryLimits | None:
    """Limits of a category, or None for an unknown code. Inactive categories answer too (a case keeps the
    category it was opened with); `active` tells callers choosing a category for a new case."""
    c = get_category(session=session, code=code)
    return None if c is None else _limits(c)


def _limits(c: Category) -> CategoryLimits:
    return CategoryLimits(c.register_hours, c.dispatch_hours, c.handle_limit, c.handle_unit, c.verify_hours,
                          c.close_hours, c.severity, c.default_department_code, c.active)


def as_input(category: Category) -> CategoryInput:
    """A stored category in the shape files and requests use (exports write these)."""
    values = {name: getattr(category, name) for name in INPUT_FIELDS}
    values["keywords"] = tuple(category.keywords or ())
    return CategoryInput(code=category.code, **values)


def snapshot(category: Category) -> dict[str, Any]:
    values = {name: getattr(category, name) for name in ("code", *INPUT_FIELDS, "level", "imported", "version")}
    values["keywords"] = list(category.keywords or [])
    return {**values, "updated_at": category.updated_at.isoformat(), "updated_by": category.updated_by}


# --- writing categories ---------------------------------------------------------------------------


def upsert_categories(*, session: Session, categories: Sequence[CategoryInput], at: datetime, actor: str,
                      progress: Progress | None = None) -> UpsertCounts:
    """Create or update categories, in any order (parents may come after their children).

    Checks what needs the database: every parent exists (in the batch or stored), parents form no loop, and
    every default department is an active department. Levels follow from the parents.
    """
    for category in categories:
        check_category(category)
    _check_unique(categories)
    tree = _Tree.load(session, categories)
    _check_departments(session, categories)
    existing = _existing(session, [c.code for c in categories])
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for done, category in enumerate(categories, start=1):
        values = _values(category, tree.levels[category.code])
        counts[_apply(session, existing.get(category.code), category.code, values, at, actor)] += 1
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(categories)):
            progress(done, len(categories))
    counts["updated"] += _relevel_descendants(session, tree, {c.code for c in categories}, at, actor)
    session.flush()
    return UpsertCounts(**counts)


def ensure_imported_category(*, session: Session, code: str, name: str, at: datetime, actor: str) -> bool:
    """Make sure a category named by imported history exists; True when it had to be created.

    Created as kind "custom" with default limits and marked imported, so admins can find and complete it.
    """
    if get_category(session=session, code=code) is not None:
        return False
    category = CategoryInput(code=code, name=name[:120] or code, kind="custom")
    check_category(category)
    _apply(session, None, code, _values(category, 1), at, actor, imported=True)
    session.flush()
    return True


def _check_unique(categories: Sequence[CategoryInput]) -> None:
    seen: set[str] = set()
    for category in categories:
        if category.code in seen:
            raise ValidationFailed(f"code {category.code} appears twice", field=category.field("code"))
        seen.add(category.code)


def _check_departments(session: Session, categories: Sequence[CategoryInput]) -> None:
    wanted = {c.default_department_code for c in categories if c.default_department_code}
    if not wanted:
        return
    known = {d.code for d in org.list_departments(session=session)}
    for category in categories:
        code = category.default_department_code
        if code and code not in known:
            raise ValidationFailed(f"no active department {code}", field=category.field("default_department_code"))


def _existing(session: Session, codes: list[str]) -> dict[str, Category]:
    found: dict[str, Category] = {}
    for start in range(0, len(codes), 500):  # keeps IN (...) under SQLite's bound-parameter limit
        chunk = codes[start:start + 500]
        found.update({c.code: c for c in session.scalars(select(Category).where(Category.code.in_(chunk)))})
    return found


def _values(category: CategoryInput, level: int) -> dict[str, Any]:
    values = {name: getattr(category, name) for name in INPUT_FIELDS}
    values["keywords"] = list(category.keywords)
    values["level"] = level
    return values


def _apply(session: Session, existing: Category | None, code: str, values: Mapping[str, Any], at: datetime,
           actor: str, *, imported: bool = False) -> str:
    if existing is None:
        category = Category(code=code, **values, imported=imported, version=1, updated_at=at, updated_by=actor)
        session.add(category)
        _write_history(session, category)
        return "created"
    if all(getattr(existing, name) == value for name, value in values.items()):
        return "unchanged"
    for name, value in values.items():
        setattr(existing, name, value)
    _bump(existing, at, actor)
    _write_history(session, existing)
    return "updated"


def _bump(category: Category, at: datetime, actor: str) -> None:
    category.version += 1
    category.updated_at, category.updated_by = at, actor


def _write_history(session: Session, category: Category) -> None:
    session.add(CategoryHistory(code=category.code, version=category.version, snapshot=snapshot(category),
                                changed_by=category.updated_by, changed_at=category.updated_at))


@dataclass(frozen=True)
class _Tree:
    """The catalogue's parent links after the batch is applied, and every category's level (roots are 1)."""

    stored_levels: dict[str, int]
    levels: dict[str, int]

    @classmethod
    def load(cls, session: Session, batch: Sequence[CategoryInput]) -> _Tree:
        rows = session.execute(select(Category.code, Category.parent_code, Category.level)).all()
        parents: dict[str, str | None] = {code: parent for code, parent, _ in rows}
        parents.update({c.code: c.parent_code for c in batch})
        for category in batch:
            if category.parent_code and category.parent_code not in parents:
                raise ValidationFailed(f"no category {category.parent_code}", field=category.field("parent_code"))
        return cls({code: level for code, _, level in rows}, _levels(parents, batch))


def _levels(parents: Mapping[str, str | None], batch: Sequence[CategoryInput]) -> dict[str, int]:
    levels: dict[str, int] = {}
    for code in parents:
        path: list[str] = []
        node: str | None = code
        while node is not None and node not in levels:
            if node in path:
                raise _loop(path[path.index(node):], batch)
            path.append(node)
            node = parents.get(node)
        level = levels[node] if node is not None else 0
        for step in reversed(path):
            level += 1
            levels[step] = level
    return levels


def _loop(cycle: list[str], batch: Sequence[CategoryInput]) -> ValidationFailed:
    """A loop can only come from the batch (stored categories had none): blame its first member there."""
    culprit = next(c for c in batch if c.code in cycle)
    return ValidationFailed(f"parents loop: {' → '.join([*cycle, cycle[0]])}", field=culprit.field("parent_code"))


def _relevel_descendants(session: Session, tree: _Tree, batch_codes: set[str], at: datetime, actor: str) -> int:
    """Stored categories below a moved parent get their new level (and a new version saying so)."""
    stale = [code for code, level in tree.stored_levels.items()
             if code not in batch_codes and tree.levels.get(code, level) != level]
    for category in _existing(session, stale).values():
        category.level = tree.levels[category.code]
        _bump(category, at, actor)
        _write_history(session, category)
    return len(stale)


# --- routing rules --------------------------------------------------------------------------------


def get_rule(*, session: Session, rule_id: int) -> RoutingRule | None:
    return session.get(RoutingRule, rule_id)


def get_rule_or_raise(*, session: Session, rule_id: int) -> RoutingRule:
    rule = get_rule(session=session, rule_id=rule_id)
    if rule is None:
        raise NotFound(f"routing rule {rule_id}")
    return rule


def list_rules(*, session: Session, principal: Principal | None = None, category_code: str | None = None,
               region_code: str | None = None, department_code: str | None = None, active: bool | None = None,
               limit: int = 100, offset: int = 0) -> tuple[Sequence[RoutingRule], int]:
    """Rules ordered by region then category; a principal sees rules of its region and the regions above."""
    query = select(RoutingRule)
    conditions: list[ColumnElement[bool]] = []
    if principal is not None:
        conditions.append(reference_condition(principal, RoutingRule.region_code))
    for column, value in ((RoutingRule.category_code, category_code), (RoutingRule.region_code, region_code),
                          (RoutingRule.department_code, department_code), (RoutingRule.active, active)):
        if value is not None:
            conditions.append(column == value)
    query = query.where(*conditions)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (RoutingRule.region_code, RoutingRule.category_code, RoutingRule.id)
    return session.scalars(query.order_by(*order).limit(limit).offset(offset)).all(), total


def rule_history(*, session: Session, rule_id: int) -> Sequence[RoutingRuleHistory]:
    query = select(RoutingRuleHistory).where(RoutingRuleHistory.rule_id == rule_id)
    return session.scalars(query.order_by(RoutingRuleHistory.version.desc(), RoutingRuleHistory.id.desc())).all()


def rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    values = {name: getattr(rule, name) for name in ("id", *RULE_FIELDS, "version", "updated_by")}
    return {**values, "updated_at": rule.updated_at.isoformat()}


def add_rule(*, session: Session, rule: RuleInput, at: datetime, actor: str) -> RoutingRule:
    check_rules(session=session, rules=[rule])
    return _insert_rule(session, rule, at, actor)


def update_rule(*, session: Session, rule: RoutingRule, changes: Mapping[str, Any], at: datetime,
                actor: str) -> bool:
    """Apply `changes` (any of RULE_FIELDS); False when they change nothing."""
    unknown = sorted(set(changes) - set(RULE_FIELDS))
    if unknown:
        raise ValidationFailed(f"cannot change {unknown[0]}", field=unknown[0])
    wanted = {name: changes.get(name, getattr(rule, name)) for name in RULE_FIELDS}
    if all(getattr(rule, name) == value for name, value in wanted.items()):
        return False
    check_rules(session=session, rules=[RuleInput(wanted["category_code"], wanted["region_code"],
                                                  wanted["department_code"])])
    _change_rule(session, rule, wanted, at, actor)
    return True


def upsert_rules(*, session: Session, rules: Sequence[RuleInput], at: datetime, actor: str) -> UpsertCounts:
    """Rules keyed by (category, region): a new key adds a rule; a known one gets the department and is active."""
    check_rules(session=session, rules=rules)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for rule in rules:
        found = _any_rule_for(session, rule.category_code, rule.region_code)
        if found is None:
            _insert_rule(session, rule, at, actor)
            counts["created"] += 1
        elif found.department_code != rule.department_code or not found.active:
            _change_rule(session, found, {"department_code": rule.department_code, "active": True}, at, actor)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return UpsertCounts(**counts)


def _insert_rule(session: Session, rule: RuleInput, at: datetime, actor: str) -> RoutingRule:
    if _active_rule_for(session, rule.category_code, rule.region_code) is not None:
        raise Conflict(f"an active rule for {rule.category_code or 'any category'} in {rule.region_code} exists",
                       field=rule.field("region_code"))
    row = RoutingRule(category_code=rule.category_code, region_code=rule.region_code,
                      department_code=rule.department_code, active=True, version=1, updated_at=at,
                      updated_by=actor)
    session.add(row)
    session.flush()  # the history row needs the rule's id
    _write_rule_history(session, row)
    return row


def _change_rule(session: Session, rule: RoutingRule, wanted: Mapping[str, Any], at: datetime,
                 actor: str) -> None:
    """Two active rules for one category and region would make routing depend on ids: refused."""
    category_code = wanted.get("category_code", rule.category_code)
    region_code = wanted.get("region_code", rule.region_code)
    other = _active_rule_for(session, category_code, region_code)
    if wanted.get("active", rule.active) and other is not None and other.id != rule.id:
        raise Conflict(f"rule {other.id} already routes this category and region", field="region_code")
    for name, value in wanted.items():
        setattr(rule, name, value)
    rule.version += 1
    rule.updated_at, rule.updated_by = at, actor
    session.flush()
    _write_rule_history(session, rule)


def check_rules(*, session: Session, rules: Sequence[RuleInput]) -> None:
    """Every rule names a stored region, an active department and (unless for any category) a category."""
    departments = {d.code for d in org.list_departments(session=session)}
    categories = set(_existing(session, sorted({r.category_code for r in rules if r.category_code})))
    known_regions: set[str] = set()
    for rule in rules:
        if rule.region_code not in known_regions:
            if regions.get(session=session, code=rule.region_code) is None:
                raise ValidationFailed(f"no region {rule.region_code}", field=rule.field("region_code"))
            known_regions.add(rule.region_code)
        if rule.department_code not in departments:
            raise ValidationFailed(f"no active department {rule.department_code}",
                                   field=rule.field("department_code"))
        if rule.category_code and rule.category_code not in categories:
            raise ValidationFailed(f"no category {rule.category_code}", field=rule.field("category_code"))


def _same_key(category_code: str | None, region_code: str) -> list[ColumnElement[bool]]:
    category = (RoutingRule.category_code.is_(None) if category_code is None
                else RoutingRule.category_code == category_code)
    return [category, RoutingRule.region_code == region_code]


def _active_rule_for(session: Session, category_code: str | None, region_code: str) -> RoutingRule | None:
    query = select(RoutingRule).where(*_same_key(category_code, region_code), RoutingRule.active.is_(True))
    return session.scalars(query.order_by(RoutingRule.id)).first()


def _any_rule_for(session: Session, category_code: str | None, region_code: str) -> RoutingRule | None:
    """The active rule for this key, else the oldest inactive one (re-importing a rule revives it)."""
    query = select(RoutingRule).where(*_same_key(category_code, region_code))
    return session.scalars(query.order_by(RoutingRule.active.desc(), RoutingRule.id)).first()


def _write_rule_history(session: Session, rule: RoutingRule) -> None:
    session.add(RoutingRuleHistory(rule_id=rule.id, version=rule.version, snapshot=rule_snapshot(rule),
                                   changed_by=rule.updated_by, changed_at=rule.updated_at))


# --- routing --------------------------------------------------------------------------------------


def rule_views(*, session: Session, category_code: str | None, region_code: str) -> list[RuleView]:
    """Active rules that may cover this category in this region, with region and department names."""
    category = (or_(RoutingRule.category_code.is_(None), RoutingRule.category_code == category_code)
                if category_code else RoutingRule.category_code.is_(None))
    query = select(RoutingRule).where(RoutingRule.active.is_(True), category,
                                      RoutingRule.region_code.in_(candidate_region_codes(region_code)))
    rules = session.scalars(query).all()
    region_names = regions.names(session=session, codes={r.region_code for r in rules})
    department_names = _department_names(session, {r.department_code for r in rules})
    return [RuleView(r.id, r.category_code, r.region_code, r.department_code, r.active,
                     region_names.get(r.region_code), department_names.get(r.department_code)) for r in rules]


def route_for(*, session: Session, category_code: str | None, region_code: str) -> RouteDecision | None:
    """The responsible department for a case of this category in this region, or None (a dispatcher decides)."""
    category = get_category(session=session, code=category_code) if category_code else None
    default = category.default_department_code if category is not None else None
    candidates = set(candidate_region_codes(region_code))
    views = [v for v in _rules_of_category(session, category_code) if v.region_code in candidates]
    return route(views, category_code, region_code, default)


def _rules_of_category(session: Session, category_code: str | None) -> list[RuleView]:
    """All active rules that may apply to a category, read once per transaction: triage routes a batch of
    reports in one transaction, and most of them share a handful of categories."""
    held: dict[str | None, list[RuleView]] = session.info.setdefault("catalog.rules", {})
    if category_code not in held:
        category = (or_(RoutingRule.category_code.is_(None), RoutingRule.category_code == category_code)
                    if category_code else RoutingRule.category_code.is_(None))
        rules = session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True), category)).all()
        region_names = regions.names(session=session, codes={r.region_code for r in rules})
        department_names = _department_names(session, {r.department_code for r in rules})
        held[category_code] = [RuleView(r.id, r.category_code, r.region_code, r.department_code, r.active,
                                        region_names.get(r.region_code), department_names.get(r.department_code))
                               for r in rules]
    return held[category_code]


def routing_table(*, session: Session) -> RoutingTable:
    """The whole catalogue as routing reads it (see RoutingTable), in a few queries."""
    categories = {c.code: _limits(c) for c in session.scalars(select(Category))}
    rules = session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))).all()
    region_names = regions.names(session=session, codes={r.region_code for r in rules})
    departments = org.department_ids_and_names(session=session)
    by_category: dict[str | None, list[RuleView]] = {}
    for r in rules:
        name = departments[r.department_code][1] if r.department_code in departments else None
        by_category.setdefault(r.category_code, []).append(RuleView(
            r.id, r.category_code, r.region_code, r.department_code, r.active, region_names.get(r.region_code), name))
    return RoutingTable(categories, {code: tuple(views) for code, views in by_category.items()},
                        {code: department_id for code, (department_id, _) in departments.items()})


def routing_version(*, session: Session) -> int:
    """Moves whenever anything `routing_table` reads changes: every edit bumps a category's or a rule's version,
    departments are only ever added, and region names change with the regions' own version."""
    counts = session.execute(select(
        select(func.count()).select_from(Category).scalar_subquery(),
        select(func.coalesce(func.sum(Category.version), 0)).scalar_subquery(),
        select(func.count()).select_from(RoutingRule).scalar_subquery(),
        select(func.coalesce(func.sum(RoutingRule.version), 0)).scalar_subquery())).one()
    return hash((*counts, org.department_count(session=session), regions.current_version(session=session)))


def _department_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    found = (org.get_department_by_code(session=session, code=code) for code in codes)
    return {department.code: department.name for department in found if department is not None}
