"""The data-quality report: hand-made datasets whose scores are worked out by hand, case by case."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.datahub.quality import (
    FREQUENCIES,
    MEASURE_LABELS,
    ConsistencyResult,
    DatasetQuality,
    assess,
    consistency,
    overall,
    timeliness,
)
from cityops.datahub.schema import CheckContext, TableSchema, parse_schema
from cityops.datahub.standards import resident_id_check_char

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CONTEXT = CheckContext(today=date(2026, 3, 1))
FULL_ID = re.compile(r"\d{17}[\dX]")
FULL_MOBILE = re.compile(r"1[3-9]\d{9}")

Rows = list[dict[str, Any]]


def resident_id(n: int) -> str:
    first17 = f"11010519850312{n:03d}"
    return first17 + resident_id_check_char(first17)


def wrong_check_digit(valid: str) -> str:
    return valid[:17] + ("0" if valid[17] != "0" else "1")


RESIDENTS = parse_schema({
    "fields": [
        {"name": "id", "title": "身份证号", "standard": "resident_id", "piClass": "resident_id",
         "constraints": {"required": True}},
        {"name": "name", "title": "姓名", "piClass": "name", "constraints": {"required": True}},
        {"name": "mobile", "title": "手机号码", "standard": "mobile", "piClass": "mobile"},
        {"name": "age", "type": "integer", "constraints": {"minimum": 0, "maximum": 150}},
        {"name": "insured", "type": "boolean"},
        {"name": "born", "type": "date"},
    ],
    "primaryKey": ["id"],
})
ID_WITH_X = next(resident_id(n) for n in range(100, 1000) if resident_id(n).endswith("X"))
# weights of the dataset completeness: id 2 (required, key), name 2 (required), the other four fields 1 each
RESIDENT_WEIGHTS = 2 + 2 + 1 + 1 + 1 + 1


def residents(count: int = 10) -> Rows:
    return [{"id": resident_id(n), "name": f"居民{n}", "mobile": f"138{n:08d}", "age": 20 + n,
             "insured": n % 2 == 0, "born": "1985-03-12"} for n in range(1, count + 1)]


def report(rows: Iterable[Mapping[str, Any]], schema: TableSchema = RESIDENTS, **options: Any) -> DatasetQuality:
    options.setdefault("frequency", "daily")
    options.setdefault("data_updated_at", NOW - timedelta(hours=2))
    return assess(rows, schema, context=CONTEXT, now=NOW, **options)


def put(row: int, field: str, value: Any) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        rows[row][field] = value
    return change


def every(field: str, value: Any) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        for row in rows:
            row[field] = value
    return change


def drop(field: str) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        for row in rows:
            del row[field]
    return change


def both(*changes: Callable[[Rows], None]) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        for one in changes:
            one(rows)
    return change


# (name, change to the 10 good rows, {(field or "*", measure): expected score})
CASES: list[tuple[str, Callable[[Rows], None], dict[tuple[str, str], float | None]]] = [
    ("ten_good_rows_score_one_everywhere", lambda rows: None,
     {("*", "completeness"): 1.0, ("*", "validity"): 1.0, ("*", "uniqueness"): 1.0, ("id", "uniqueness"): 1.0}),
    ("two_missing_mobiles_give_field_completeness_0_8", both(put(3, "mobile", None), put(7, "mobile", "")),
     {("mobile", "completeness"): 0.8, ("mobile", "validity"): 1.0,  # 8 of 8 present mobiles pass
      ("*", "completeness"): (2 + 2 + 0.8 + 1 + 1 + 1) / RESIDENT_WEIGHTS}),
    ("a_missing_required_id_weighs_twice", put(4, "id", None),
     {("id", "completeness"): 0.9, ("*", "completeness"): (2 * 0.9 + 2 + 4) / RESIDENT_WEIGHTS,
      ("*", "uniqueness"): 1.0}),  # 9 keys, 9 distinct
    ("one_id_with_a_bad_check_digit_gives_validity_0_9", put(2, "id", wrong_check_digit(resident_id(3))),
     {("id", "validity"): 0.9, ("*", "validity"): (0.9 + 5 * 1.0) / 6, ("id", "completeness"): 1.0}),
    ("a_duplicated_id_gives_uniqueness_0_9", put(9, "id", resident_id(1)),
     {("id", "uniqueness"): 0.9, ("*", "uniqueness"): 0.9, ("id", "validity"): 1.0}),
    ("a_lowercase_x_is_the_same_id_but_invalid",
     both(put(0, "id", ID_WITH_X), put(1, "id", ID_WITH_X.lower())),
     {("id", "uniqueness"): 0.9, ("*", "uniqueness"): 0.9, ("id", "validity"): 0.9}),
    ("an_age_over_the_tightened_maximum_fails", put(5, "age", 200), {("age", "validity"): 0.9}),
    ("a_float_in_an_integer_field_fails", put(5, "age", 30.5), {("age", "validity"): 0.9}),
    ("an_integer_stored_as_text_passes", put(5, "age", "42"), {("age", "validity"): 1.0}),
    ("booleans_go_back_as_true_false", both(put(0, "insured", True), put(1, "insured", False)),
     {("insured", "validity"): 1.0}),
    ("a_text_in_a_boolean_field_fails", put(0, "insured", "maybe"), {("insured", "validity"): 0.9}),
    ("an_impossible_date_fails", put(0, "born", "2023-02-30"), {("born", "validity"): 0.9}),
    ("a_field_without_any_value_has_no_validity",
     every("mobile", None),
     {("mobile", "validity"): None, ("mobile", "completeness"): 0.0, ("*", "validity"): 1.0,
      ("*", "completeness"): (2 + 2 + 0 + 1 + 1 + 1) / RESIDENT_WEIGHTS}),
    ("an_absent_column_is_missing", drop("born"),
     {("born", "completeness"): 0.0, ("born", "validity"): None}),
    ("columns_outside_the_schema_are_ignored", put(0, "extra", "whatever"), {("*", "validity"): 1.0}),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in CASES], ids=[n for n, _, _ in CASES])
def test_scores_of_hand_made_datasets(change: Callable[[Rows], None],
                                      expected: dict[tuple[str, str], float | None]) -> None:
    rows = residents()
    change(rows)
    quality = report(rows)
    assert quality.rows == 10
    for (field, measure), score in expected.items():
        got = quality.score(measure) if field == "*" else getattr(quality.field(field), measure)
        assert got == (None if score is None else pytest.approx(score)), (field, measure)


def test_failing_values_are_listed_with_their_one_based_row_rule_and_message() -> None:
    rows = residents()
    rows[2]["age"] = 200
    rows[6]["age"] = -1
    age = report(rows).field("age")
    assert (age.present, age.valid, age.invalid) == (10, 8, 2)
    assert [(f.row, f.value, f.rule) for f in age.failures] == [(3, "200", "constraint.maximum"),
                                                                (7, "-1", "constraint.minimum")]
    assert age.failures[0].message == "不能大于 150"
    assert age.failures[0].message_en == "must be at most 150"


def test_examples_are_capped_per_field_but_every_value_is_counted() -> None:
    rows = residents()
    for row in rows:
        row["age"] = 999
        row["name"] = None
    quality = report(rows, examples=3)
    assert quality.field("age").validity == 0.0
    assert [f.row for f in quality.field("age").failures] == [1, 2, 3]
    assert quality.field("name").missing_required_rows == (1, 2, 3)
    assert quality.field("name").missing == 10


def test_rows_missing_a_required_value_are_listed_but_optional_ones_are_not() -> None:
    rows = residents()
    rows[1]["name"] = "  "
    rows[4]["name"] = None
    rows[4]["mobile"] = None
    quality = report(rows)
    assert quality.field("name").missing_required_rows == (2, 5)
    assert quality.field("mobile").missing_required_rows == ()
    assert quality.field("name").completeness == pytest.approx(0.8)


def test_the_schemas_missing_values_count_as_missing() -> None:
    schema = parse_schema({"fields": [{"name": "street"}], "missingValues": ["", "-", "无"]})
    quality = report([{"street": "车站街道"}, {"street": "-"}, {"street": "无"}, {"street": "公园街道"}], schema)
    assert quality.field("street").completeness == 0.5
    assert quality.field("street").validity == 1.0


def test_uniqueness_without_a_primary_key_is_the_mean_of_unique_and_identifier_fields() -> None:
    schema = parse_schema({"fields": [
        {"name": "credit_code", "standard": "credit_code"},  # identifiers are counted without `unique`
        {"name": "licence", "constraints": {"unique": True}},
        {"name": "street"},  # neither: no uniqueness
    ]})
    codes = [f"91370303MA3C{n:06d}" for n in range(8)] + ["91370303MA3C000000", "91370303MA3C000001"]
    rows = [{"credit_code": code, "licence": f"L{n}", "street": "车站街道"} for n, code in enumerate(codes)]
    quality = report(rows, schema)
    assert quality.field("credit_code").uniqueness == pytest.approx(0.8)  # 8 distinct of 10
    assert quality.field("credit_code").distinct == 8
    assert quality.field("licence").uniqueness == 1.0
    assert quality.field("street").uniqueness is None
    assert quality.key_uniqueness is None
    assert quality.uniqueness == pytest.approx(0.9)


def test_uniqueness_of_a_compound_primary_key_joins_its_values() -> None:
    schema = parse_schema({"fields": [{"name": "street"}, {"name": "year", "type": "integer"}],
                           "primaryKey": ["street", "year"]})
    rows: Rows = [{"street": "车站", "year": 2024}, {"street": "车站", "year": 2025}, {"street": "公园", "year": 2024},
                  {"street": "车站", "year": 2024}, {"street": "公园", "year": None}]
    quality = report(rows, schema)
    assert quality.key_uniqueness == pytest.approx(3 / 4)  # the row without a year has no key
    assert quality.uniqueness == pytest.approx(3 / 4)


def test_a_dataset_without_key_or_unique_fields_has_no_uniqueness() -> None:
    schema = parse_schema({"fields": [{"name": "street"}]})
    assert report([{"street": "车站"}, {"street": "车站"}], schema).uniqueness is None


def test_an_empty_dataset_has_no_scores_but_timeliness() -> None:
    quality = report([])
    assert quality.rows == 0
    assert (quality.completeness, quality.validity, quality.uniqueness) == (None, None, None)
    assert quality.timeliness == 1.0
    assert quality.overall == 1.0


DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@pytest.mark.parametrize(("frequency", "age", "expected"), [
    ("daily", DAY / 2, 1.0), ("daily", DAY, 1.0), ("daily", 2 * DAY, 0.5), ("daily", 4 * DAY, 0.0),
    ("daily", 3 * DAY, 0.0), ("daily", 1.5 * DAY, 0.75),
    ("realtime", HOUR / 2, 1.0), ("realtime", HOUR, 1.0), ("realtime", 2 * HOUR, 0.5), ("realtime", 4 * HOUR, 0.0),
    ("weekly", 3.5 * DAY, 1.0), ("weekly", 14 * DAY, 0.5), ("weekly", 28 * DAY, 0.0),
    ("monthly", 62 * DAY, 0.5), ("quarterly", 184 * DAY, 0.5), ("yearly", 732 * DAY, 0.5),
    ("daily", -DAY, 1.0),  # stamped in the future (clock skew): not late
], ids=str)
def test_timeliness_is_one_within_the_period_and_falls_linearly_to_zero_at_three(
        frequency: str, age: timedelta, expected: float) -> None:
    assert timeliness(frequency, NOW - age, NOW) == pytest.approx(expected)


def test_an_irregular_dataset_has_no_timeliness_and_a_never_updated_one_scores_zero() -> None:
    assert timeliness("irregular", NOW - 1000 * DAY, NOW) is None
    assert timeliness("irregular", None, NOW) is None
    assert timeliness("daily", None, NOW) == 0.0
    assert report(residents(), data_updated_at=None).timeliness == 0.0


def test_a_naive_update_time_is_read_as_utc() -> None:
    assert timeliness("daily", datetime(2026, 2, 27, 8, 0), NOW) == pytest.approx(0.5)


@pytest.mark.parametrize("call", [
    lambda: timeliness("fortnightly", NOW, NOW),
    lambda: report(residents(), frequency="fortnightly"),
    lambda: assess([], RESIDENTS, context=CONTEXT, frequency="fortnightly", data_updated_at=None, now=NOW),
], ids=["timeliness", "assess", "assess_empty"])
def test_an_unknown_frequency_is_refused_naming_it(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="fortnightly"):
        call()


def test_every_known_frequency_is_accepted() -> None:
    for frequency in FREQUENCIES:
        report(residents(2), frequency=frequency)


LEFT: Rows = [
    {"id": " a1 ", "name": "张三 ", "street": "车站街道"},  # key normalised, trailing space ignored: same
    {"id": "A2", "name": "李四", "street": "车站街道"},  # differs
    {"id": "A3", "name": "王五", "street": "公园街道"},  # differs
    {"id": "A4", "name": None, "street": "公园街道"},  # missing on the left: not a difference
    {"id": "A5", "name": "孙七", "street": "公园街道"},  # only on the left
    {"id": None, "name": "周八", "street": "公园街道"},  # no key
]
RIGHT: Rows = [
    {"code": "A1", "person": "张三", "area": "车站街道"},
    {"code": "a2", "person": "李斯", "area": "车站街道"},
    {"code": "A3", "person": "王武", "area": "公园街道"},
    {"code": "A4", "person": "赵六", "area": "公园街道"},
    {"code": "B9", "person": "吴九", "area": "公园街道"},  # only on the right
]


def compare_people(left: Rows = LEFT, right: Rows = RIGHT, **options: Any) -> ConsistencyResult:
    return consistency(left, right, left_key="id", right_key="code", compare=[("name", "person"), ("street", "area")],
                       left_name="户籍人口", right_name="社保参保人员", **options)


def test_consistency_with_two_of_four_shared_keys_differing_in_name_is_one_half() -> None:
    result = compare_people()
    assert (result.matched, result.mismatched) == (4, 2)
    assert result.score == 0.5
    assert [(e.key, e.field, e.left, e.right) for e in result.examples] == [
        ("A2", "name/person", "李四", "李斯"), ("A3", "name/person", "王五", "王武")]


@pytest.mark.parametrize(("left", "right", "matched", "mismatched", "score"), [
    ([], RIGHT, 0, 0, None),  # nothing matched: no score
    ([{"id": "C1", "name": "x", "street": "y"}], RIGHT, 0, 0, None),
    ([{"id": "a3", "name": "王武", "street": "公园街道 "}], RIGHT, 1, 0, 1.0),
    ([{"id": "A3", "name": "王武", "street": "车站街道"}], RIGHT, 1, 1, 0.0),  # another field differs
    ([{"id": "A3", "name": "王五", "street": "车站街道"}], RIGHT, 1, 1, 0.0),  # two fields: still one key
    # a key counts once, with its first row on each side
    ([{"id": "A3", "name": "王武", "street": "公园街道"}, {"id": "A3", "name": "x", "street": "y"}], RIGHT, 1, 0, 1.0),
], ids=["empty", "no_shared_key", "same_after_normalising", "other_field", "two_fields_one_key", "first_row"])
def test_consistency_counts_keys_present_in_both(left: Rows, right: Rows, matched: int, mismatched: int,
                                                 score: float | None) -> None:
    result = compare_people(left, right)
    assert (result.matched, result.mismatched, result.score) == (matched, mismatched, score)


def test_consistency_examples_stop_at_ten_and_can_be_masked() -> None:
    left = [{"id": resident_id(n), "name": f"张{n}", "street": "a"} for n in range(1, 21)]
    right = [{"code": resident_id(n), "person": f"李{n}", "area": "a"} for n in range(1, 21)]
    result = compare_people(left, right, pi_classes={"id": "resident_id", "name": "name"})
    assert (result.matched, result.mismatched, result.score) == (20, 20, 0.0)
    assert len(result.examples) == 10
    shown = json.dumps(result.to_dict(), ensure_ascii=False)
    assert not FULL_ID.search(shown)
    assert result.examples[0].key == "110105********" + resident_id(1)[-4:]
    assert result.examples[0].left == "张*"


@pytest.mark.parametrize(("scores", "expected"), [
    ({"completeness": 1.0, "validity": 1.0, "uniqueness": 1.0, "timeliness": 1.0, "consistency": 1.0}, 1.0),
    ({"completeness": 0.8, "validity": 0.9, "uniqueness": 0.9, "timeliness": 0.5, "consistency": 0.5},
     0.25 * 0.8 + 0.35 * 0.9 + 0.15 * 0.9 + 0.15 * 0.5 + 0.10 * 0.5),
    ({"completeness": 0.8, "validity": 0.9, "uniqueness": None, "timeliness": 1.0, "consistency": None},
     (0.25 * 0.8 + 0.35 * 0.9 + 0.15 * 1.0) / (0.25 + 0.35 + 0.15)),
    ({"completeness": None, "validity": None, "uniqueness": None, "timeliness": 0.0, "consistency": None}, 0.0),
    ({"completeness": None, "validity": None, "uniqueness": None, "timeliness": None, "consistency": None}, None),
], ids=["all_one", "all_five", "renormalised", "timeliness_only", "nothing"])
def test_overall_is_the_weighted_mean_renormalised_over_available_scores(
        scores: dict[str, float | None], expected: float | None) -> None:
    assert overall(scores) == (None if expected is None else pytest.approx(expected))


def test_assess_combines_the_measures_and_the_consistency_results_given() -> None:
    rows = residents()
    rows[3]["mobile"] = None
    rows[7]["mobile"] = None  # completeness (2 + 2 + 0.8 + 3) / 8 = 0.975
    rows[2]["id"] = wrong_check_digit(rows[2]["id"])  # validity (0.9 + 5) / 6
    quality = report(rows, frequency="daily", data_updated_at=NOW - 2 * DAY,  # timeliness 0.5
                     consistency=[compare_people(), compare_people([], RIGHT)])  # 0.5 and None → 0.5
    completeness, validity = 7.8 / 8, 5.9 / 6
    assert quality.completeness == pytest.approx(completeness)
    assert quality.validity == pytest.approx(validity)
    assert (quality.uniqueness, quality.timeliness, quality.consistency) == (1.0, 0.5, 0.5)
    assert quality.overall == pytest.approx(0.25 * completeness + 0.35 * validity + 0.15 * 1.0 + 0.15 * 0.5
                                            + 0.10 * 0.5)
    assert len(quality.consistency_checks) == 2


def test_assess_reads_the_rows_once_from_an_iterator() -> None:
    rows = iter(residents())
    quality = report(rows)
    assert quality.rows == 10
    assert quality.completeness == 1.0


def test_examples_never_show_a_whole_id_or_mobile_number() -> None:
    schema = parse_schema({"fields": [
        {"name": "id", "standard": "resident_id", "piClass": "resident_id", "constraints": {"required": True}},
        {"name": "mobile", "standard": "mobile", "piClass": "mobile", "constraints": {"pattern": "139[0-9]{8}"}},
        {"name": "spouse_id", "standard": "resident_id"},  # piClass forgotten: still masked as an ID
    ]})
    rows: Rows = [{"id": wrong_check_digit(resident_id(n)), "mobile": f"138{n:08d}",
                   "spouse_id": wrong_check_digit(resident_id(n + 50))} for n in range(1, 8)]
    rows.append({"id": "11010519850312001", "mobile": None, "spouse_id": None})  # 17 digits
    quality = report(rows, schema)
    assert quality.field("id").validity == 0.0
    assert quality.field("mobile").validity == 0.0  # every mobile breaks the tightened pattern
    shown = json.dumps(quality.to_dict(), ensure_ascii=False)
    assert len(quality.field("id").failures) == 5
    assert not FULL_ID.search(shown)
    assert not FULL_MOBILE.search(shown)
    assert quality.field("mobile").failures[0].value == "138****0001"
    assert quality.field("id").failures[0].value == "110105********" + rows[0]["id"][-4:]


def test_to_dict_is_plain_json_with_rounded_scores_and_both_labels() -> None:
    rows = residents(3)
    rows[0]["mobile"] = None
    data = report(rows).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    mobile = next(f for f in data["fields"] if f["name"] == "mobile")
    assert mobile["completeness"] == 0.6667
    assert [(m["measure"], m["label"], m["label_en"]) for m in data["measures"]] == [
        (name, zh, en) for name, (zh, en) in MEASURE_LABELS.items()]
    assert MEASURE_LABELS["validity"] == ("有效性", "Validity")
    assert data["assessed_at"] == NOW.isoformat()
    assert data["frequency"] == "daily"


CELL = st.one_of(st.none(), st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
                 st.sampled_from([resident_id(1), wrong_check_digit(resident_id(2)), "13812345678", "1985-03-12"]))
ROW = st.fixed_dictionaries({}, optional={name: CELL for name in (*RESIDENTS.names, "extra")})


def _in_unit(score: float | None) -> bool:
    return score is None or 0.0 <= score <= 1.0


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ROW, max_size=25), frequency=st.sampled_from(list(FREQUENCIES)),
       updated=st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)),
       right=st.lists(ROW, max_size=10))
def test_every_score_is_within_zero_and_one_or_none_for_random_rows(
        rows: Rows, frequency: str, updated: datetime | None, right: Rows) -> None:
    checked = consistency(rows, right, left_key="id", right_key="id", compare=[("name", "name"), ("age", "age")],
                          left_name="l", right_name="r")
    assert _in_unit(checked.score)
    quality = report(rows, frequency=frequency, data_updated_at=updated, consistency=[checked])
    assert quality.rows == len(rows)
    for measure in (*MEASURE_LABELS, "overall"):
        assert _in_unit(getattr(quality, measure)), measure
    for field in quality.fields:
        assert all(_in_unit(s) for s in (field.completeness, field.validity, field.uniqueness)), field.name
        assert 0 <= field.valid <= field.present <= field.rows
    json.dumps(quality.to_dict(), ensure_ascii=False)
