"""Base registers (人口库, 法人库, 电子证照库) built from departments' datasets, with one rule for conflicts. Pure.

A register is itself a dataset in the catalogue, so other departments reach it only through a sharing grant,
masked like any other. Its rows are merged from the source datasets that feed it, field by field:

**The conflict rule.** For each key and each register field, the value comes from the source with the highest
priority that has a value; between sources of equal priority, the one whose data was updated last wins; if
that is still a tie, the dataset code that sorts first. A key where two sources hold different non-empty values
for the same field is listed as a conflict, with every source's value and the winner, so the owners can fix
their data; the register never silently averages or concatenates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

REGISTERS: Final = {
    "population": ("人口库", "Population register", "id_number"),
    "legal_entity": ("法人库", "Legal-entity register", "credit_code"),
    "licence": ("电子证照库", "E-licence register", "licence_no"),
}
PROVENANCE: Final = "_sources"  # per row: field → dataset code the value came from


@dataclass(frozen=True)
class Source:
    dataset_code: str
    priority: int
    updated_at: datetime | None
    rows: Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class Conflict:
    key: str
    field: str
    values: dict[str, Any]  # dataset code → its value
    chosen_from: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "field": self.field, "values": self.values, "chosen_from": self.chosen_from}


@dataclass
class Merged:
    rows: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    per_source: dict[str, int] = field(default_factory=dict)  # rows read from each source


def rank(sources: Sequence[Source]) -> list[Source]:
    """Sources best first, by the conflict rule."""
    return sorted(sources, key=lambda s: (-s.priority, -(s.updated_at.timestamp() if s.updated_at else 0.0),
                                          s.dataset_code))


def _normal(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def merge(sources: Sequence[Source], *, key: str, fields: Sequence[str]) -> Merged:
    """The register's rows, in key order, each with the fields it has values for and where they came from."""
    ranked = rank(sources)
    values: dict[str, dict[str, list[tuple[str, Any]]]] = {}  # key → field → [(dataset, value)] best first
    merged = Merged()
    for source in ranked:
        count = 0
        for item in source.rows:
            identity = _normal(item.get(key))
            if identity in (None, ""):
                continue
            count += 1
            identity = str(identity).upper()
            slots = values.setdefault(identity, {})
            for name in fields:
                value = item.get(name)
                if value is not None and value != "":
                    slots.setdefault(name, []).append((source.dataset_code, value))
        merged.per_source[source.dataset_code] = count
    for identity in sorted(values):
        row: dict[str, Any] = {key: identity}
        provenance: dict[str, str] = {}
        for name, candidates in values[identity].items():
            if name == key:
                continue
            winner_code, winner = candidates[0]
            row[name] = winner
            provenance[name] = winner_code
            distinct = {_normal(v) for _, v in candidates}
            if len(distinct) > 1:
                merged.conflicts.append(Conflict(identity, name, {c: v for c, v in candidates}, winner_code))
        row[PROVENANCE] = provenance
        merged.rows.append(row)
    return merged
