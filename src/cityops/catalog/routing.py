"""Choosing the responsible department for a category in a region. Pure: no database.

A rule names a region at any level (city, district, street, community, grid) and covers every code inside it,
using the same scope prefixes as access control (regions/codes.py). Among the rules that cover a place:

1. the most specific region wins (the longest scope prefix);
2. at the same region, a rule naming the category beats a rule for any category;
3. remaining ties go to the lowest id, so the answer never depends on load order.

When no rule covers the place, the category's default department is the fallback; when that is missing too
there is no decision and the case waits for a dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cityops.regions.codes import in_scope, level_for_division_code, scope_prefix_for


@dataclass(frozen=True)
class RuleView:
    """A routing rule as the chooser needs it; the names only make the decision's reason readable."""

    id: int
    category_code: str | None
    region_code: str
    department_code: str
    active: bool = True
    region_name: str | None = None
    department_name: str | None = None


@dataclass(frozen=True)
class RouteDecision:
    department_code: str
    rule_id: int | None
    reason: str  # "rule 12: 张店区 → 张店区城市管理局 for C01001", or "category default"
    fallback: bool


def rule_prefix(region_code: str) -> str | None:
    """The scope prefix of a rule's region, or None when the code fits no level (such a rule covers nothing)."""
    level = level_for_division_code(region_code) if region_code.isascii() and region_code.isdigit() else None
    return scope_prefix_for(region_code, level) if level is not None else None


def covers(rule: RuleView, category_code: str | None, region_code: str) -> bool:
    if not rule.active or rule.category_code not in (None, category_code):
        return False
    prefix = rule_prefix(rule.region_code)
    return prefix is not None and in_scope(region_code, prefix)


def _rank(rule: RuleView) -> tuple[int, int, int]:
    """Smaller is better: longer prefix, then naming the category, then lower id."""
    prefix = rule_prefix(rule.region_code) or ""
    return (-len(prefix), 0 if rule.category_code is not None else 1, rule.id)


def choose_rule(rules: Iterable[RuleView], category_code: str | None, region_code: str) -> RuleView | None:
    matching = [rule for rule in rules if covers(rule, category_code, region_code)]
    return min(matching, key=_rank, default=None)


def describe(rule: RuleView) -> str:
    region = rule.region_name or rule.region_code
    department = rule.department_name or rule.department_code
    scope = rule.category_code or "any category"
    return f"rule {rule.id}: {region} → {department} for {scope}"


def route(rules: Iterable[RuleView], category_code: str | None, region_code: str,
          default_department_code: str | None) -> RouteDecision | None:
    rule = choose_rule(rules, category_code, region_code)
    if rule is not None:
        return RouteDecision(rule.department_code, rule.id, describe(rule), fallback=False)
    if default_department_code:
        return RouteDecision(default_department_code, None, "category default", fallback=True)
    return None


def candidate_region_codes(region_code: str) -> list[str]:
    """Every region code whose scope could contain `region_code`: a superset, used to narrow the query.

    By the numbering these are the province-level-city and city codes (xx0000, xxxx00), the district (6 digits)
    and the 9-, 12- and 15-digit street, community and grid prefixes. choose_rule still checks each one.
    """
    codes = {region_code[:2] + "0000", region_code[:4] + "00"}
    codes.update(region_code[:n] for n in (6, 9, 12, 15) if len(region_code) >= n)
    return sorted(codes)


@dataclass(frozen=True)
class RoutingTable:
    """Every category's limits, every active rule and every department's id, read at once: the triage worker
    routes whole batches with it instead of reading the same few categories and rules for each batch."""

    categories: Mapping[str, Any]  # code → the category's limits (catalog.service.CategoryLimits), inactive too
    rules: Mapping[str | None, tuple[RuleView, ...]]  # active rules by category code (None: any category)
    department_ids: Mapping[str, int]  # department code → id

    def route(self, category_code: str | None, region_code: str) -> RouteDecision | None:
        """What catalog.service.route_for answers from the database."""
        limits = self.categories.get(category_code) if category_code else None
        candidates = set(candidate_region_codes(region_code))
        rules = (*self.rules.get(None, ()), *(self.rules.get(category_code, ()) if category_code else ()))
        return route([rule for rule in rules if rule.region_code in candidates], category_code, region_code,
                     limits.default_department_code if limits is not None else None)
