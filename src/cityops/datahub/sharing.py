"""What a grant lets its holder see: the rules, as plain functions over the schema and the grant. Pure.

- A request names fields of the dataset; the owner approves all or some of them (never others).
- Each approved field gets a treatment from its grade and personal-information class (masking.treatment):
  clear, masked, or withheld; "clear" for a personal or important field only when the owner approved it so.
- A row grant answers rows; an aggregate grant answers only counts, sums and means over the dataset's dimension
  fields (datahub/aggregate.py), never rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from cityops.core.errors import ValidationFailed
from cityops.datahub import masking
from cityops.datahub.schema import TableSchema

Kind = Literal["rows", "aggregate"]
KINDS: Final = ("rows", "aggregate")
Plan = dict[str, tuple[masking.Treatment, str]]


@dataclass(frozen=True)
class GrantView:
    """The parts of a grant the rules need (the table row, or a test's plain data)."""

    kind: str
    fields: tuple[str, ...]
    clear_fields: tuple[str, ...]
    expires_at: datetime
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


def check_fields(schema: TableSchema, fields: Sequence[str], *, field: str) -> list[str]:
    """The named fields, each once, in schema order; an unknown one is refused by name."""
    known = schema.names
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise ValidationFailed(f"{unknown[0]!r} is not a field of this dataset", field=field, name=unknown[0])
    if not fields:
        raise ValidationFailed("name at least one field", field=field)
    wanted = set(fields)
    return [f for f in known if f in wanted]


def check_aggregate_fields(schema: TableSchema, fields: Sequence[str]) -> None:
    """An aggregate grant is for dimensions to group by and numbers to add up, nothing else."""
    usable = set(schema.dimensions) | set(schema.measures)
    wrong = [f for f in fields if f not in usable]
    if wrong:
        raise ValidationFailed(f"{wrong[0]!r} is neither a dimension nor a number: it cannot be aggregated",
                               field="fields", name=wrong[0])


def plan_for(schema: TableSchema, grant: GrantView, wanted: Sequence[str] | None = None) -> Plan:
    """field → (treatment, personal-information class) for the granted fields the caller asked for."""
    fields = [f for f in grant.fields if wanted is None or f in wanted]
    clear = set(grant.clear_fields)
    plan: Plan = {}
    for name in fields:
        spec = schema.get(name)
        if spec is None:  # the schema lost the field after the grant: nothing to show
            continue
        plan[name] = (masking.treatment(spec.grade, spec.pi_class, name in clear), spec.pi_class)
    return plan


def owner_plan(schema: TableSchema) -> Plan:
    """The owner sees its own data in clear."""
    return {f.name: (masking.Treatment.CLEAR, f.pi_class) for f in schema.fields}


def describe_plan(plan: Plan) -> dict[str, str]:
    return {name: str(treatment) for name, (treatment, _pi) in plan.items()}
