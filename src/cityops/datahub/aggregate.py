"""Aggregate-only answers (可用不可见) over base cells, with small-cell suppression.

Some datasets may be queried only as aggregates. The database side computes BASE CELLS: one per combination of
values of ALL the dataset's permitted dimensions (say district_code, gender, age_band), each with its row
count and, per numeric measure field, the sum and the number of rows with a value (`BaseCell`). A query
(`AggregateQuery`) groups by some of the dimensions, filters on whole dimension values (equality / IN) and asks
for counts, sums and means; `answer` computes it from the base cells alone.

The suppression rule, with threshold k (default 10, at least 2):

1. A base cell with 0 < count < k is suppressed. A suppressed base cell contributes to NO answer, at any level
   of grouping and under any filter: every answer cell is computed from the visible base cells only, and is
   marked `partial` when suppressed base cells fell inside it.
2. Likewise per measure field: a visible base cell in which 0 < (rows with a value of the field) < k gives
   nothing to that field's count, sum and mean (the row count still counts it), and the answer cell is marked
   `partial`. Otherwise a mean over a base cell of 12 rows of which 1 has an income would be that income.
3. An answer cell whose visible count is 0 is reported suppressed (`suppressed=True`, every value None), not 0,
   if any suppressed base cell fell inside it, so "0" is never a disguised "fewer than k"; the same holds for
   a field's count and sum whose only contributions were withheld by rule 2 (None, not 0).
4. Filters and groupings act on whole dimension values only, so no query can carve a base cell into smaller
   pieces.

Why differencing cannot get round it: every answered value is a sum over visible base cells (a mean is the
quotient of two such sums), and which base cells are visible is fixed by the dataset, not by the query.
Subtracting any two answers (a total minus a subgroup, one filter minus another, or any combination of many
answers) can only yield sums of visible base cells, never a suppressed one; and changing the rows inside a
suppressed base cell (keeping it at 1..k-1 rows) changes no answer at all.

What this does not cover: a visible cell's sum can still be dominated by one large value (a dominance or p%
rule would be a further check), and a visible count tells that its cell is not empty.

Pure functions: no database, no I/O.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Literal

__all__ = [
    "AggregateAnswer",
    "AggregateQuery",
    "AggregateQueryError",
    "AnswerCell",
    "BaseCell",
    "Measure",
    "answer",
    "cells_from_rows",
]

Op = Literal["count", "sum", "mean"]
OPS: Final[frozenset[str]] = frozenset(("count", "sum", "mean"))
DEFAULT_K: Final = 10


class AggregateQueryError(ValueError):
    """A query that cannot be answered; `field` names the dimension, measure field or parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BaseCell:
    """One combination of values of all the dataset's dimensions (in the dataset's dimension order).

    `sums[field]` is the sum of the field's values over the cell's rows and `counts[field]` the number of rows
    that have a value; a field in `sums` but not in `counts` is taken to have a value in every row.
    """

    key: tuple[str | None, ...]
    count: int
    sums: Mapping[str, float] = dataclasses.field(default_factory=dict)
    counts: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def values_of(self, field: str) -> int:
        """How many of the cell's rows have a value of `field`."""
        counted = self.counts.get(field)
        if counted is not None:
            return counted
        return self.count if field in self.sums else 0


@dataclass(frozen=True)
class Measure:
    """count (rows, or with a field: rows with a value of it), sum or mean of a numeric measure field."""

    op: Op
    field: str | None = None

    @property
    def label(self) -> str:
        """The measure's key in `AnswerCell.values`: "count", "count:age", "sum:income", "mean:age"."""
        return self.op if self.field is None else f"{self.op}:{self.field}"


@dataclass(frozen=True)
class AggregateQuery:
    """Group by some dimensions, keep only base cells whose dimension values are in `filters`, measure."""

    group_by: tuple[str, ...]
    measures: tuple[Measure, ...]
    filters: Mapping[str, frozenset[str | None]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class AnswerCell:
    key: dict[str, str | None]
    suppressed: bool
    values: dict[str, float | None]  # {"count": 57, "mean:age": 41.2}; every value None when suppressed
    partial: bool  # some base cells (or some of their values) inside this cell were suppressed


@dataclass(frozen=True)
class AggregateAnswer:
    group_by: tuple[str, ...]
    cells: list[AnswerCell]
    k: int
    suppressed_cells: int


# --- base cells from rows -------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite number from a measure value, or None (null, empty, not numeric, NaN, infinite)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal | Fraction):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _dimension_value(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def cells_from_rows(rows: Iterable[Mapping[str, Any]], dimensions: Sequence[str],
                    measure_fields: Sequence[str]) -> list[BaseCell]:
    """The base cells of `rows` (for tests and small datasets; the database computes them for real ones).

    A dimension value becomes text (None stays None). Every row is counted; a measure value counts only when it
    is a finite number or text that reads as one, so null, empty and non-numeric values are skipped and the
    field's mean is its sum over the rows that have a value. Cells come sorted by key.
    """
    dims = tuple(dimensions)
    fields = tuple(dict.fromkeys(measure_fields))
    grouped: dict[tuple[str | None, ...], tuple[list[int], dict[str, list[float]]]] = {}
    for row in rows:
        key = tuple(_dimension_value(row.get(d)) for d in dims)
        entry = grouped.get(key)
        if entry is None:
            entry = grouped[key] = ([0], {f: [] for f in fields})
        entry[0][0] += 1
        for f in fields:
            number = _number(row.get(f))
            if number is not None:
                entry[1][f].append(number)
    return [BaseCell(key, count[0], {f: math.fsum(v) for f, v in values.items()},
                     {f: len(v) for f, v in values.items()})
            for key, (count, values) in sorted(grouped.items(), key=lambda item: _sort_key(item[0]))]


# --- answering ------------------------------------------------------------------------------------------


def _sort_key(key: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in key)


def _validate(query: AggregateQuery, dims: tuple[str, ...], known_fields: Iterable[str], k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise AggregateQueryError("k", f"the suppression threshold must be an integer of at least 2, got {k!r}")
    known = set(dims)
    seen: set[str] = set()
    for name in query.group_by:
        if name not in known:
            raise AggregateQueryError(name, f"cannot group by {name!r}: not a dimension ({', '.join(dims)})")
        if name in seen:
            raise AggregateQueryError(name, f"{name!r} is grouped by twice")
        seen.add(name)
    for name, values in query.filters.items():
        if name not in known:
            raise AggregateQueryError(name, f"cannot filter on {name!r}: not a dimension ({', '.join(dims)})")
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise AggregateQueryError(name, f"the filter on {name!r} must be a set of values, got {values!r}")
    fields = set(known_fields)
    if not query.measures:
        raise AggregateQueryError("measures", "ask for at least one measure")
    for measure in query.measures:
        if measure.op not in OPS:
            raise AggregateQueryError(measure.field or str(measure.op),
                                      f"unknown measure {measure.op!r}; known: count, sum, mean")
        if measure.field is None:
            if measure.op != "count":
                raise AggregateQueryError("measures", f"{measure.op} needs a measure field")
        elif measure.field not in fields:
            raise AggregateQueryError(measure.field, f"{measure.field!r} is not a measure field of this dataset"
                                      f" ({', '.join(sorted(fields)) or 'none'})")


class _Sums:
    """The running totals of one answer cell."""

    __slots__ = ("count", "n", "sums", "suppressed", "withheld")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.count = 0
        self.suppressed = False  # a suppressed base cell fell inside
        self.n = dict.fromkeys(fields, 0)
        self.sums: dict[str, list[float]] = {f: [] for f in fields}
        self.withheld = dict.fromkeys(fields, False)  # a field's values of a visible base cell withheld (rule 2)


def _value(measure: Measure, sums: _Sums) -> float | None:
    field = measure.field
    if field is None:
        return sums.count
    n = sums.n[field]
    if n == 0:
        return None if sums.withheld[field] or measure.op == "mean" else 0
    if measure.op == "count":
        return n
    total = math.fsum(sums.sums[field])
    return total if measure.op == "sum" else total / n


def answer(cells: Iterable[BaseCell], *, dimensions: Sequence[str], query: AggregateQuery, k: int = DEFAULT_K,
           measure_fields: Sequence[str] | None = None) -> AggregateAnswer:
    """The query's answer from base cells keyed by `dimensions` (all of the dataset's, in order), suppressing
    by the rule above. `measure_fields` are the dataset's numeric fields (default: those the cells have).

    Answer cells come sorted by key (None last); with no grouping there is exactly one, the total.
    Raises AggregateQueryError (a ValueError) naming the field for a query that cannot be answered, and
    ValueError for a base cell that does not fit the dimensions.
    """
    dims = tuple(dimensions)
    if len(set(dims)) != len(dims):
        raise ValueError(f"the dimensions repeat a name: {dims}")
    base = list(cells)
    known_fields = measure_fields if measure_fields is not None else {f for c in base for f in (*c.sums, *c.counts)}
    _validate(query, dims, known_fields, k)

    group_at = tuple(dims.index(name) for name in query.group_by)
    filter_at = tuple((dims.index(name), frozenset(values)) for name, values in query.filters.items())
    fields = tuple(dict.fromkeys(m.field for m in query.measures if m.field is not None))
    groups: dict[tuple[str | None, ...], _Sums] = {}
    if not group_at:
        groups[()] = _Sums(fields)
    for cell in base:
        if len(cell.key) != len(dims):
            raise ValueError(f"base cell key {cell.key!r} does not match the dimensions {dims}")
        if cell.count < 0:
            raise ValueError(f"base cell {cell.key!r} has a negative count {cell.count}")
        if cell.count == 0 or any(cell.key[i] not in allowed for i, allowed in filter_at):
            continue
        group = tuple(cell.key[i] for i in group_at)
        sums = groups.get(group)
        if sums is None:
            sums = groups[group] = _Sums(fields)
        if cell.count < k:  # rule 1: contributes nothing
            sums.suppressed = True
            continue
        sums.count += cell.count
        for field in fields:
            n = cell.values_of(field)
            if 0 < n < k:  # rule 2
                sums.withheld[field] = True
            elif n:
                sums.n[field] += n
                sums.sums[field].append(float(cell.sums.get(field, 0.0)))

    answered: list[AnswerCell] = []
    suppressed_cells = 0
    for group in sorted(groups, key=_sort_key):
        sums = groups[group]
        key = dict(zip(query.group_by, group, strict=True))
        partial = sums.suppressed or any(sums.withheld.values())
        if sums.count == 0 and sums.suppressed:  # rule 3
            suppressed_cells += 1
            answered.append(AnswerCell(key, True, dict.fromkeys((m.label for m in query.measures), None), True))
            continue
        answered.append(AnswerCell(key, False, {m.label: _value(m, sums) for m in query.measures}, partial))
    return AggregateAnswer(query.group_by, answered, k, suppressed_cells)
