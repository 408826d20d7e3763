"""Fusion decisions without a database: the gates hold for any input, the scores stay in range, the choice is
deterministic, and the packaged per-category policies behave as the city expects."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.cases.cells import METRES_PER_DEGREE, box_near, cell_of, cells_near, haversine_m
from cityops.core.errors import ValidationFailed
from cityops.triage.fusion import (
    Candidate,
    Incoming,
    decide,
    load_policies,
    parse_policies,
    region_closeness,
    score,
    text_similarity,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ZIBO = (118.05, 36.81)
POLICIES = load_policies()
BURST = POLICIES.for_category("BJ01-05")
NOISE = POLICIES.for_category("SJ01-04")
WAGES = POLICIES.for_category("RX02-01")

lngs = st.floats(min_value=73.0, max_value=135.0, allow_nan=False)  # China's extent
lats = st.floats(min_value=18.0, max_value=53.0, allow_nan=False)
texts = st.text(alphabet=st.sampled_from("水管爆了柳泉路人民口噪声烧烤店工资拖欠公司，。 123abc的了"), max_size=40)


def offset(lng: float, lat: float, metres: float, bearing_deg: float) -> tuple[float, float]:
    bearing = math.radians(bearing_deg)
    return (lng + metres * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
            lat + metres * math.cos(bearing) / METRES_PER_DEGREE)


def report(text: str = "柳泉路人民西路路口自来水管爆了，水漫到机动车道上", at: datetime = T0,
           point: tuple[float, float] | None = ZIBO, category: str | None = "BJ01-05",
           region: str | None = "370303002") -> Incoming:
    lng, lat = point if point else (None, None)
    return Incoming(text=text, at=at, lng=lng, lat=lat, category_code=category, region_code=region)


def case(case_id: int, of: Incoming) -> Candidate:
    return Candidate(case_id=case_id, text=of.text, last_report_at=of.at, lng=of.lng, lat=of.lat,
                     category_code=of.category_code, region_code=of.region_code, received_at=of.at)


# --- geometry ---------------------------------------------------------------------------------------------------


@given(lngs, lats, lngs, lats)
def test_distance_is_symmetric_and_never_negative(lng1: float, lat1: float, lng2: float, lat2: float):
    there, back = haversine_m(lng1, lat1, lng2, lat2), haversine_m(lng2, lat2, lng1, lat1)
    assert there >= 0 and there == pytest.approx(back, abs=1e-6)


def test_a_hundredth_of_a_degree_of_latitude_is_about_1112_metres():
    assert haversine_m(118.0, 36.80, 118.0, 36.81) == pytest.approx(1111.95, abs=0.5)


@given(lngs, lats, st.floats(min_value=1, max_value=3000), st.floats(min_value=0, max_value=1),
       st.floats(min_value=0, max_value=360))
def test_every_point_within_the_radius_lies_in_one_of_the_cells_near_the_centre(
        lng: float, lat: float, radius: float, fraction: float, bearing: float):
    point = offset(lng, lat, radius * fraction * 0.999, bearing)
    cells = cells_near(lng, lat, radius)
    assert cells is not None and cell_of(*point) in cells


@given(lngs, lats, st.floats(min_value=1, max_value=3000), st.floats(min_value=0, max_value=1),
       st.floats(min_value=0, max_value=360))
def test_every_point_within_the_radius_lies_in_the_box_the_candidate_query_reads(
        lng: float, lat: float, radius: float, fraction: float, bearing: float):
    point_lng, point_lat = offset(lng, lat, radius * fraction * 0.999, bearing)
    west, south, east, north = box_near(lng, lat, radius)
    assert west <= point_lng <= east and south <= point_lat <= north


def test_a_radius_wider_than_the_cell_list_is_worth_asks_for_another_filter():
    assert cells_near(*ZIBO, 50_000) is None
    assert len(cells_near(*ZIBO, 500) or []) <= 4


# --- scores and gates -------------------------------------------------------------------------------------------


@given(texts, texts)
def test_text_similarity_is_symmetric_and_between_0_and_1(a: str, b: str):
    assert 0.0 <= text_similarity(a, b) <= 1.0
    assert text_similarity(a, b) == pytest.approx(text_similarity(b, a))


def test_the_same_text_is_fully_similar_and_unrelated_texts_not_at_all():
    assert text_similarity("华光路井盖缺失", "华光路井盖缺失") == pytest.approx(1.0)
    assert text_similarity("华光路井盖缺失", "拖欠工资三个月") == 0.0


def test_generic_complaint_words_count_for_little():
    specific = text_similarity("鑫泰建筑拖欠工资", "鑫泰建筑欠薪两个月")
    generic = text_similarity("市民反映希望尽快处理鑫泰建筑", "市民反映希望尽快处理优居装饰")
    assert specific > generic


@given(texts, st.floats(min_value=0, max_value=2000), st.floats(min_value=0, max_value=360),
       st.integers(min_value=-5000, max_value=5000))
def test_every_score_lies_between_0_and_1(text: str, metres: float, bearing: float, minutes: int):
    incoming = report(text=text, at=T0 + timedelta(minutes=minutes), point=offset(*ZIBO, metres, bearing))
    for policy in (BURST, NOISE, WAGES, POLICIES.for_category(None)):
        evidence = score(incoming, case(1, report()), policy)
        for value in (evidence.distance_score, evidence.time_score, evidence.text_similarity, evidence.score):
            assert 0.0 <= value <= 1.0


@given(st.sampled_from(["BJ01-05", "SJ01-04", "RX02-01", "SJ04-03", "XX99-99"]),
       st.sampled_from(["BJ01-01", "SJ01-05", "RX02-02", "SJ04-02"]), st.integers(min_value=0, max_value=60))
def test_never_fused_across_categories_when_the_policy_wants_the_same(mine: str, theirs: str, minutes: int):
    policy = POLICIES.for_category(mine)
    assert policy.same_category
    open_case = case(1, report(category=theirs))
    decision = decide(report(category=mine, at=T0 + timedelta(minutes=minutes)), [open_case], policy)
    assert not decision.fused and decision.evidence[0].category_match is False


@given(st.sampled_from(["BJ01-05", "SJ01-04", "RX02-01", "BJ01-01", None]), st.floats(min_value=1.0001, max_value=50))
def test_never_fused_outside_the_time_window(category: str | None, factor: float):
    policy = POLICIES.for_category(category)
    later = report(category=category, at=T0 + timedelta(hours=policy.window_hours * factor))
    decision = decide(later, [case(1, report(category=category))], policy)
    assert not decision.fused and "h apart" in (decision.evidence[0].refused or "")


@given(st.floats(min_value=1.001, max_value=20), st.floats(min_value=0, max_value=360))
def test_never_fused_outside_the_radius(factor: float, bearing: float):
    far = report(point=offset(*ZIBO, BURST.radius_m * factor, bearing))
    decision = decide(far, [case(1, report())], BURST)
    assert not decision.fused and "m >" in (decision.evidence[0].refused or "")


# --- the city's cases -------------------------------------------------------------------------------------------


def test_a_burst_water_main_reworded_300_m_away_half_an_hour_later_joins_the_case():
    again = report("人民公园东南角柳泉路上跑水了，路面鼓起来往外冒水", T0 + timedelta(minutes=30),
                   offset(*ZIBO, 300, 45))
    decision = decide(again, [case(7, report())], BURST)
    assert decision.fused and decision.case_id == 7
    assert "case 7" in decision.reason and decision.evidence[0].distance_m == pytest.approx(300, abs=1)


def test_the_same_words_3_km_away_are_another_burst():
    elsewhere = report(at=T0 + timedelta(minutes=10), point=offset(*ZIBO, 3000, 200))
    assert not decide(elsewhere, [case(7, report())], BURST).fused


def test_a_burst_at_the_same_spot_a_week_later_is_a_new_case():
    assert not decide(report(at=T0 + timedelta(days=7)), [case(7, report())], BURST).fused


def test_noise_at_one_address_three_nights_later_joins_the_open_case():
    night = report("金城小区12号楼楼下烧烤店喝酒吵闹到凌晨，严重扰民", T0, category="SJ01-04")
    later = report("又是金城小区12号楼下那家烧烤，划拳喝酒声音特别大，天天这样", T0 + timedelta(days=3),
                   offset(*ZIBO, 20, 90), category="SJ01-04")
    assert decide(later, [case(3, night)], NOISE).fused
    next_door = replace(later, lng=offset(*ZIBO, 80, 90)[0])  # beyond noise's 50 m: another address
    assert not decide(next_door, [case(3, night)], NOISE).fused


def test_unpaid_wages_from_one_company_fuse_by_region_and_text_without_coordinates():
    first = report("淄博鑫泰建筑工程有限公司拖欠我们二十多个工人三个月工资", T0, None, "RX02-01", "370303")
    second = report("反映鑫泰建筑公司干完活半年了工资还没结", T0 + timedelta(days=6), None, "RX02-01", "370303002")
    other = report("反映华联物流拖欠装卸工两个月工资", T0 + timedelta(days=6), None, "RX02-01", "370303")
    elsewhere = replace(second, region_code="370305")  # the same words about a company in another district
    assert decide(second, [case(1, first)], WAGES).fused
    assert decide(second, [case(1, first)], WAGES).evidence[0].distance_m is None
    assert not decide(other, [case(1, first)], WAGES).fused
    assert not decide(elsewhere, [case(1, first)], WAGES).fused


def test_a_report_without_a_category_needs_the_stricter_text_similarity():
    policy = POLICIES.for_category(None)
    known = case(1, report("华光路口井盖没了，晚上很危险", category="ZZ01-01"))
    loosely = report("井盖坏了，电动车差点掉进去，晚上看不见", point=offset(*ZIBO, 20, 0), category="ZZ01-01")
    assert policy.min_text_similarity < text_similarity(loosely.text, known.text) < policy.min_text_similarity_strict
    assert decide(loosely, [known], policy).fused
    evidence = decide(replace(loosely, category_code=None), [known], policy).evidence[0]
    assert evidence.category_match is None and "文本差异大" in (evidence.refused or "")


@given(st.permutations(range(4)))
def test_the_most_recently_reported_case_wins_and_equal_ones_go_the_same_way_whatever_the_order(order: list[int]):
    recent = [case(i + 1, report(at=T0 + timedelta(minutes=i))) for i in range(4)]
    assert decide(report(at=T0 + timedelta(minutes=5)), [recent[i] for i in order], BURST).case_id == 4
    equal = [case(i + 1, report()) for i in range(4)]
    assert decide(report(at=T0 + timedelta(minutes=5)), [equal[i] for i in order], BURST).case_id == 1


def test_no_candidate_means_a_new_case_and_the_decision_is_plain_json():
    decision = decide(report(), [], BURST)
    assert (decision.case_id, decision.fused) == (None, False) and "新案件" in decision.reason
    fused = decide(report(at=T0 + timedelta(minutes=3)), [case(9, report())], BURST).to_dict()
    assert json.loads(json.dumps(fused))["evidence"][0].keys() >= {
        "case_id", "distance_m", "distance_score", "minutes_apart", "time_score", "text_similarity",
        "category_match", "score"}


@pytest.mark.parametrize(("a", "b", "closeness"), [
    ("370303001", "370303001", 1.0),
    ("370303", "370303001", 2 / 3),  # a district holds its streets
    ("370300", "370303001001001", 1 / 5),  # the city holds everything in it
    ("370303001", "370303002", None),  # sibling streets
    ("370303", "370305", None),
    (None, "370303", None),
])
def test_region_closeness(a: str | None, b: str | None, closeness: float | None):
    assert region_closeness(a, b) == (pytest.approx(closeness) if closeness is not None else None)
    assert region_closeness(b, a) == region_closeness(a, b)


# --- policies ---------------------------------------------------------------------------------------------------


def test_the_packaged_policies_know_bursts_noise_and_hotline_matters():
    assert (BURST.radius_m, BURST.window_hours) == (500, 2)
    assert (NOISE.radius_m, NOISE.window_hours) == (50, 168)
    assert WAGES.match_by == "region" and POLICIES.for_category("RX05-01").match_by == "region"
    for code in ("SJ04-03", "SJ04-02", "BJ01-06"):
        assert POLICIES.for_category(code).key == code
    assert POLICIES.for_category("ZZ01-01").key == "*" and POLICIES.for_category(None).key == "*"


def test_the_longest_matching_key_wins():
    rows = "\n".join([
        "key,match_by,radius_m,window_hours,min_text_similarity,min_text_similarity_strict,same_category,"
        "weight_place,weight_time,weight_text,threshold,category_words,note",
        "*,place,100,24,0.1,0.3,1,0.4,0.2,0.4,0.5,,",
        "BJ,place,200,24,0.1,0.3,1,0.4,0.2,0.4,0.5,,",
        "BJ01-05,place,500,2,0,0.3,1,0.5,0.2,0.3,0.4,漏水|爆管,",
    ])
    policies = parse_policies(rows)
    assert [policies.for_category(c).key for c in ("BJ01-05", "BJ01-01", "SJ01-01")] == ["BJ01-05", "BJ", "*"]
    assert policies.for_category("BJ01-05").category_words == frozenset({"漏水", "爆管"})


@pytest.mark.parametrize(("change", "column"), [
    (lambda text: text.replace(",threshold,", ",limit,"), "threshold"),
    (lambda text: text.replace("BJ01-05,place,500", "BJ01-05,nearby,500"), "match_by"),
    (lambda text: text.replace("BJ01-05,place,500,2", "BJ01-05,place,-5,2"), "radius_m"),
    (lambda text: text.replace("*,place", "DEFAULT,place"), "key"),
])
def test_a_broken_policy_file_is_refused_naming_the_column(change: Callable[[str], str], column: str):
    text = resources.files("cityops.triage").joinpath("data/fusion_policies.csv").read_text(encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        parse_policies(change(text))
    assert caught.value.field == column and caught.value.message("zh-CN")

