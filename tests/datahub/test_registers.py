"""The base-register conflict rule, table-driven: priority first, then the latest update, then the code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityops.datahub.registers import PROVENANCE, Source, merge

EARLY, LATE = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
KEY = "11010519491231002X"


def _source(code: str, priority: int, updated: datetime | None, **values: str) -> Source:
    return Source(code, priority, updated, [{"id_number": KEY, **values}])


@pytest.mark.parametrize(("sources", "winner"), [
    ([_source("a", 20, EARLY, name="张三"), _source("b", 10, LATE, name="张叁")], "a"),  # priority beats recency
    ([_source("a", 10, EARLY, name="张三"), _source("b", 10, LATE, name="张叁")], "b"),  # equal: latest wins
    ([_source("b", 10, LATE, name="张叁"), _source("a", 10, LATE, name="张三")], "a"),  # full tie: code order
    ([_source("a", 10, None, name="张三"), _source("b", 10, EARLY, name="张叁")], "b"),  # never updated loses
])
def test_the_conflict_rule_picks_the_winner(sources: list[Source], winner: str) -> None:
    merged = merge(sources, key="id_number", fields=["name"])
    [row] = merged.rows
    assert row[PROVENANCE]["name"] == winner
    [conflict] = merged.conflicts
    assert conflict.chosen_from == winner and set(conflict.values) == {"a", "b"}


def test_a_value_only_one_source_has_fills_the_gap_without_a_conflict() -> None:
    merged = merge([_source("a", 20, LATE, name="张三"), _source("b", 10, EARLY, name="张三", mobile="13800000000")],
                   key="id_number", fields=["name", "mobile"])
    [row] = merged.rows
    assert (row["name"], row["mobile"]) == ("张三", "13800000000")
    assert row[PROVENANCE] == {"name": "a", "mobile": "b"}
    assert merged.conflicts == []


def test_keys_are_matched_whatever_their_case_and_rows_without_a_key_are_skipped() -> None:
    merged = merge([Source("a", 1, LATE, [{"id_number": KEY.lower(), "name": "张三"}, {"name": "无号"}]),
                    Source("b", 1, EARLY, [{"id_number": KEY, "gender": "男"}])],
                   key="id_number", fields=["name", "gender"])
    assert [r["id_number"] for r in merged.rows] == [KEY]
    assert merged.per_source == {"a": 1, "b": 1}
