"""Aggregate-only answers: known answers, query validation, and the suppression rule's properties."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.datahub.aggregate import (
    AggregateAnswer,
    AggregateQuery,
    AggregateQueryError,
    AnswerCell,
    BaseCell,
    Measure,
    answer,
    cells_from_rows,
)

DIMS = ("district", "gender")
COUNT = Measure("count")
MEAN_AGE = Measure("mean", "age")
SUM_AGE = Measure("sum", "age")


def people(district: str, gender: str, ages: Sequence[float | None]) -> list[dict[str, Any]]:
    return [{"district": district, "gender": gender, "age": age} for age in ages]


# 张店 F 12 and M 15 people; 淄川 F 3 (suppressed) and M 11; 周村 F 4 (suppressed) only.
ROWS = (people("张店", "F", [30] * 12) + people("张店", "M", [40] * 15) + people("淄川", "F", [99, 98, 97])
        + people("淄川", "M", [50] * 10 + [None]) + people("周村", "F", [20, 21, 22, 23]))
CELLS = cells_from_rows(ROWS, DIMS, ["age"])


def ask(group_by: tuple[str, ...], *measures: Measure, filters: Mapping[str, frozenset[str | None]] | None = None,
        k: int = 10, cells: Sequence[BaseCell] = CELLS) -> AggregateAnswer:
    return answer(cells, dimensions=DIMS, query=AggregateQuery(group_by, measures or (COUNT,), filters or {}), k=k)


def by_key(result: AggregateAnswer) -> dict[tuple[str | None, ...], AnswerCell]:
    return {tuple(cell.key.values()): cell for cell in result.cells}


# --- known answers ---------------------------------------------------------------------------------------

def test_base_cells_from_rows() -> None:
    assert [(c.key, c.count, dict(c.sums), dict(c.counts)) for c in CELLS] == [
        (("周村", "F"), 4, {"age": 86.0}, {"age": 4}),
        (("张店", "F"), 12, {"age": 360.0}, {"age": 12}),
        (("张店", "M"), 15, {"age": 600.0}, {"age": 15}),
        (("淄川", "F"), 3, {"age": 294.0}, {"age": 3}),
        (("淄川", "M"), 11, {"age": 500.0}, {"age": 10}),  # one age missing: counted, not summed
    ]


def test_cells_from_rows_sums_numeric_values_only() -> None:
    rows = [{"d": 1, "x": "2.5"}, {"d": 1, "x": ""}, {"d": 1, "x": "n/a"}, {"d": 1, "x": None}, {"d": 1, "x": 3},
            {"d": 1, "x": float("nan")}, {"d": 1, "x": True}, {"d": None, "x": 1}]
    assert cells_from_rows(rows, ["d"], ["x"]) == [BaseCell(("1",), 7, {"x": 5.5}, {"x": 2}),
                                                  BaseCell((None,), 1, {"x": 1.0}, {"x": 1})]


def test_district_with_three_people_is_suppressed_and_totals_exclude_it() -> None:
    districts = by_key(ask(("district",), COUNT, MEAN_AGE, SUM_AGE))
    assert districts[("张店",)] == AnswerCell({"district": "张店"}, False,
                                             {"count": 27, "mean:age": 960 / 27, "sum:age": 960.0}, False)
    # 淄川: the 3 women are left out; the mean is over the 10 men with an age
    assert districts[("淄川",)] == AnswerCell({"district": "淄川"}, False,
                                             {"count": 11, "mean:age": 50.0, "sum:age": 500.0}, True)
    # 周村: only a suppressed cell, so suppressed, not 0
    assert districts[("周村",)] == AnswerCell({"district": "周村"}, True,
                                             {"count": None, "mean:age": None, "sum:age": None}, True)
    total = ask((), COUNT, MEAN_AGE)
    assert total.cells == [AnswerCell({}, False, {"count": 38, "mean:age": 1460 / 37}, True)]
    assert total.suppressed_cells == 0
    assert ask(("district",)).suppressed_cells == 1


def test_groups_filters_and_count_of_a_field() -> None:
    women = ask(("district",), COUNT, Measure("count", "age"), filters={"gender": frozenset({"F"})})
    assert [(c.key["district"], c.suppressed, c.values, c.partial) for c in women.cells] == [
        ("周村", True, {"count": None, "count:age": None}, True),
        ("张店", False, {"count": 12, "count:age": 12}, False),
        ("淄川", True, {"count": None, "count:age": None}, True),
    ]
    assert women.suppressed_cells == 2
    men = ask(("gender", "district"), COUNT, filters={"gender": frozenset({"M"}), "district": frozenset({"淄川"})})
    assert [(c.key, c.values) for c in men.cells] == [({"gender": "M", "district": "淄川"}, {"count": 11})]
    assert ask((), COUNT, filters={"district": frozenset({"淄川"})}).cells[0].values == {"count": 11}
    nobody = ask((), COUNT, MEAN_AGE, SUM_AGE, filters={"district": frozenset({"博山"})})
    assert nobody.cells == [AnswerCell({}, False, {"count": 0, "mean:age": None, "sum:age": 0}, False)]
    assert ask(("district",), filters={"district": frozenset()}).cells == []


def test_k_moves_the_threshold() -> None:
    assert by_key(ask(("district",), k=3))[("淄川",)].values == {"count": 14}
    assert by_key(ask(("district",), k=12))[("淄川",)].suppressed
    assert by_key(ask(("district",), k=12))[("张店",)].values == {"count": 27}


def test_a_field_with_few_values_in_a_visible_cell_is_withheld() -> None:
    # 12 people, only 2 of whom gave an income: the income of those 2 is not answered, the head count is.
    rows = [{"district": "A", "gender": "F", "income": 5000 if i < 2 else None} for i in range(12)]
    rows += [{"district": "B", "gender": "F", "income": 3000} for _ in range(10)]
    cells = cells_from_rows(rows, DIMS, ["income"])
    measures = (COUNT, Measure("sum", "income"), Measure("mean", "income"), Measure("count", "income"))
    a = by_key(ask(("district",), *measures, cells=cells))[("A",)]
    assert a == AnswerCell({"district": "A"}, False, {"count": 12, "sum:income": None, "mean:income": None,
                                                      "count:income": None}, True)
    total = ask((), *measures, cells=cells).cells[0]
    assert total.values == {"count": 22, "sum:income": 30000.0, "mean:income": 3000.0, "count:income": 10}
    assert total.partial


def test_null_dimension_values() -> None:
    rows = [{"district": None, "gender": "F"}] * 10 + [{"district": "A", "gender": None}] * 10
    result = ask(("district",), cells=cells_from_rows(rows, DIMS, []))
    assert [(c.key, c.values) for c in result.cells] == [({"district": "A"}, {"count": 10}),
                                                        ({"district": None}, {"count": 10})]
    only_null = ask((), cells=cells_from_rows(rows, DIMS, []), filters={"gender": frozenset({None})})
    assert only_null.cells[0].values == {"count": 10}


def test_measure_fields_can_be_declared() -> None:
    result = answer([], dimensions=DIMS, query=AggregateQuery((), (MEAN_AGE,)), measure_fields=["age"])
    assert result.cells == [AnswerCell({}, False, {"mean:age": None}, False)]


# --- bad queries -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "k", "field"), [
    (AggregateQuery(("age_band",), (COUNT,)), 10, "age_band"),
    (AggregateQuery(("district", "district"), (COUNT,)), 10, "district"),
    (AggregateQuery((), (COUNT,), {"street": frozenset({"x"})}), 10, "street"),
    (AggregateQuery((), (COUNT,), {"district": "张店"}), 10, "district"),  # type: ignore[dict-item]
    (AggregateQuery((), (Measure("mean", "income"),)), 10, "income"),
    (AggregateQuery((), (Measure("count", "income"),)), 10, "income"),
    (AggregateQuery((), (Measure("median", "age"),)), 10, "age"),  # type: ignore[arg-type]
    (AggregateQuery((), (Measure("median"),)), 10, "median"),  # type: ignore[arg-type]
    (AggregateQuery((), (Measure("sum"),)), 10, "measures"),
    (AggregateQuery((), ()), 10, "measures"),
    (AggregateQuery((), (COUNT,)), 1, "k"),
    (AggregateQuery((), (COUNT,)), 0, "k"),
])
def test_bad_queries_name_the_field(query: AggregateQuery, k: int, field: str) -> None:
    with pytest.raises(AggregateQueryError) as caught:
        answer(CELLS, dimensions=DIMS, query=query, k=k)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_base_cells_must_fit_the_dimensions() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        answer([BaseCell(("A",), 10)], dimensions=DIMS, query=AggregateQuery((), (COUNT,)))
    with pytest.raises(ValueError, match="negative"):
        answer([BaseCell(("A", "F"), -1)], dimensions=DIMS, query=AggregateQuery((), (COUNT,)))


# --- properties ------------------------------------------------------------------------------------------

PDIMS = ("district", "gender", "band")
VALUES: dict[str, list[str | None]] = {"district": ["A", "B", "C"], "gender": ["F", "M", None],
                                       "band": ["0-17", "18-59", "60+"]}
FIELDS = ("age", "income")
small_numbers = st.one_of(st.none(), st.integers(0, 100))


def row_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({**{d: st.sampled_from(VALUES[d]) for d in PDIMS},
                                  **{f: small_numbers for f in FIELDS}})


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int]:
    """Rows that fill a few cells heavily and others thinly, so that some cells are suppressed."""
    k = draw(st.integers(2, 6))
    rows: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 8))):
        template = draw(row_strategy())
        for _ in range(draw(st.integers(1, 3 * k))):
            rows.append({**template, **{f: draw(small_numbers) for f in FIELDS}})
    return rows, k


@st.composite
def queries(draw: st.DrawFn) -> AggregateQuery:
    group_by = tuple(draw(st.permutations(PDIMS))[:draw(st.integers(0, len(PDIMS)))])
    field_measures = st.builds(Measure, st.sampled_from(["count", "sum", "mean"]), st.sampled_from(FIELDS))
    measures = tuple(draw(st.lists(st.one_of(st.just(COUNT), field_measures), min_size=1, max_size=4)))
    filtered = draw(st.sets(st.sampled_from(PDIMS), max_size=2))
    filters = {d: draw(st.frozensets(st.sampled_from([*VALUES[d], "other"]))) for d in sorted(filtered)}
    return AggregateQuery(group_by, measures, filters)


def run(cells: Sequence[BaseCell], query: AggregateQuery, k: int) -> AggregateAnswer:
    return answer(cells, dimensions=PDIMS, query=query, k=k, measure_fields=FIELDS)


def visible(cell: BaseCell, k: int) -> bool:
    return cell.count >= k


def field_visible(cell: BaseCell, field: str, k: int) -> bool:
    return visible(cell, k) and not 0 < cell.counts[field] < k


@settings(max_examples=200, deadline=None)
@given(data=datasets(), query=queries())
def test_no_answered_count_is_below_k(data: tuple[list[dict[str, Any]], int], query: AggregateQuery) -> None:
    rows, k = data
    result = run(cells_from_rows(rows, PDIMS, FIELDS), query, k)
    for cell in result.cells:
        if cell.suppressed:
            assert all(v is None for v in cell.values.values())
        for label, value in cell.values.items():
            if label.startswith("count") and value is not None:
                assert not 0 < value < k, (label, value)


@st.composite
def perturbed(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """A dataset and a copy whose suppressed cells hold other rows (still 1..k-1 of them), other cells as they are."""
    rows, k = draw(datasets())
    by_cell: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_cell.setdefault(tuple(row[d] for d in PDIMS), []).append(row)
    changed: list[dict[str, Any]] = []
    for key, members in by_cell.items():
        if len(members) >= k:
            changed.extend(members)
            continue
        size = draw(st.integers(1, k - 1))  # rows added, removed or replaced, the cell still suppressed
        changed.extend({**dict(zip(PDIMS, key, strict=True)), **{f: draw(small_numbers) for f in FIELDS}}
                       for _ in range(size))
    return rows, draw(st.permutations(changed)), k


@settings(max_examples=200, deadline=None)
@given(data=perturbed(), query_list=st.lists(queries(), min_size=1, max_size=4))
def test_rows_inside_suppressed_cells_change_no_answer(data: tuple[list[dict[str, Any]], list[dict[str, Any]], int],
                                                       query_list: list[AggregateQuery]) -> None:
    before_rows, after_rows, k = data
    before, after = cells_from_rows(before_rows, PDIMS, FIELDS), cells_from_rows(after_rows, PDIMS, FIELDS)
    for query in query_list:
        assert run(before, query, k) == run(after, query, k)


def region_sum(cells: Sequence[BaseCell], selector: Mapping[str, frozenset[str | None]], label: str,
               k: int) -> float:
    """The oracle: a value summed straight over the visible base cells whose dimension values are selected."""
    chosen = [c for c in cells if all(c.key[PDIMS.index(d)] in allowed for d, allowed in selector.items())]
    if label == "count":
        return sum(c.count for c in chosen if visible(c, k))
    op, field = label.split(":")
    kept = [c for c in chosen if field_visible(c, field, k)]
    return sum(c.counts[field] for c in kept) if op == "count" else math.fsum(c.sums[field] for c in kept)


def selector(query: AggregateQuery, key: Mapping[str, str | None]) -> dict[str, frozenset[str | None]]:
    chosen = {d: frozenset(v) for d, v in query.filters.items()}
    for d, v in key.items():
        chosen[d] = chosen.get(d, frozenset({v})) & {v}
    return chosen


ADDITIVE = (COUNT, Measure("count", "age"), Measure("sum", "age"), Measure("sum", "income"))


@settings(max_examples=200, deadline=None)
@given(data=datasets(), query=queries())
def test_every_answer_is_a_sum_of_visible_base_cells(data: tuple[list[dict[str, Any]], int],
                                                     query: AggregateQuery) -> None:
    rows, k = data
    cells = cells_from_rows(rows, PDIMS, FIELDS)
    result = run(cells, query, k)
    for cell in result.cells:
        region = selector(query, cell.key)
        inside = [c for c in cells if all(c.key[PDIMS.index(d)] in v for d, v in region.items())]
        hidden = any(0 < c.count < k for c in inside)
        assert cell.suppressed == (hidden and not any(visible(c, k) for c in inside))  # never a disguised 0
        assert cell.partial >= hidden
        assert result.suppressed_cells == sum(c.suppressed for c in result.cells)
        for measure in query.measures:
            value = cell.values[measure.label]
            if value is None or measure.op == "mean":
                continue
            assert value == region_sum(cells, selector(query, cell.key), measure.label, k)


@settings(max_examples=200, deadline=None)
@given(data=datasets(), query=queries(), dimension=st.sampled_from(PDIMS),
       subset=st.frozensets(st.sampled_from([v for vs in VALUES.values() for v in vs])))
def test_differences_of_answers_are_sums_of_visible_cells(data: tuple[list[dict[str, Any]], int],
                                                          query: AggregateQuery, dimension: str,
                                                          subset: frozenset[str | None]) -> None:
    """Total minus a group, and a group minus the same group under a further filter: each difference is what
    the visible base cells of the difference region add up to, and no suppressed cell enters it."""
    rows, k = data
    cells = cells_from_rows(rows, PDIMS, FIELDS)
    filters = {d: v for d, v in query.filters.items() if d != dimension}
    total = run(cells, AggregateQuery((), ADDITIVE, filters), k).cells[0]
    groups = run(cells, AggregateQuery((dimension,), ADDITIVE, filters), k)
    for group in groups.cells:
        if group.suppressed or total.suppressed:
            continue
        outside = {**filters, dimension: frozenset(v for v in VALUES[dimension] if v != group.key[dimension])}
        for measure in ADDITIVE:
            t, g = total.values[measure.label], group.values[measure.label]
            if t is None or g is None:
                continue
            assert t - g == region_sum(cells, outside, measure.label, k)

    grouped = AggregateQuery(query.group_by, ADDITIVE, filters)
    narrowed = AggregateQuery(query.group_by, ADDITIVE, {**filters, dimension: subset & frozenset(VALUES[dimension])})
    wide, narrow = by_key(run(cells, grouped, k)), by_key(run(cells, narrowed, k))
    for key, cell in narrow.items():
        if cell.suppressed or wide[key].suppressed:
            continue
        rest = selector(grouped, cell.key)
        rest[dimension] = rest.get(dimension, frozenset(VALUES[dimension])) - subset
        for measure in ADDITIVE:
            w, n = wide[key].values[measure.label], cell.values[measure.label]
            if w is None or n is None:
                continue
            assert w - n == region_sum(cells, rest, measure.label, k)
