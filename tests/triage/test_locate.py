"""Address text → region over the real Zibo districts and streets (the demo's division files), no database."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.demo.zibo_regions import DATA
from cityops.regions import importers
from cityops.triage.locate import (
    AddressMatch,
    Gazetteer,
    Place,
    compare_with_coordinates,
    generated_aliases,
    locate_text,
    place_tokenizer,
    with_packaged_aliases,
)

CITY = "370300"
# A community and a grid of 车站街道 named as the demo generates them (communities and grids are not public).
EXTRA = [Place("370303001001", "车站第1社区", "community", "370303001"),
         Place("370303001001001", "车站第1社区第1网格", "grid", "370303001001")]


def zibo_places() -> list[Place]:
    areas = importers.parse_divisions_csv((DATA / "zibo_areas.csv").read_bytes())
    streets = importers.parse_divisions_csv((DATA / "zibo_streets.csv").read_bytes())
    return [Place(CITY, "淄博市", "city", None),
            *(Place(r.code, r.name, "district", CITY) for r in areas),
            *(Place(r.code, r.name, "street", r.code[:6]) for r in streets), *EXTRA]


@pytest.fixture(scope="module")
def zibo() -> Gazetteer:
    return Gazetteer.build(with_packaged_aliases(zibo_places()))


def names(gazetteer: Gazetteer, level: str) -> dict[str, str]:
    return {p.code: p.name for p in zibo_places() if p.level == level and gazetteer.place(p.code)}


# (address as people write it, the street or town it is in)
STREET_ADDRESSES = [
    # full: province, city, district, street, road and number
    ("山东省淄博市张店区车站街道共青团西路98号", "370303001"),
    ("山东省淄博市淄川区般阳路街道般阳路60号", "370302001"),
    ("淄博市博山区城东街道新建路12号楼下", "370304001"),
    ("淄博市临淄区闻韶街道桓公路101号", "370305001"),
    ("山东淄博周村区丝绸路街道正阳路3号", "370306001"),
    ("淄博市桓台县索镇街道张北路18号", "370321001"),
    ("淄博市高青县芦湖街道黄河路5号院", "370322002"),
    ("山东省淄博市沂源县南麻街道胜利路22号", "370323002"),
    ("ＳＤ 淄博市 张店区 湖田街道 华光路１２号", "370303003"),  # full-width digits and spaces
    # no city
    ("张店区科苑街道柳泉路133号", "370303005"),
    ("临淄区齐都镇齐国故城遗址东门", "370305100"),
    ("周村区王村镇政府对面", "370306102"),
    ("沂源县鲁村镇东里村南", "370323102"),  # 东里 (a town's stem) is outvoted by 鲁村镇
    # no district
    ("淄博市四宝山街道办事处门口", "370303008"),
    ("淄博市中埠镇政府西200米", "370303105"),
    ("山东省淄博市大张庄镇", "370323106"),
    # street or town alone
    ("稷下街道", "370305004"),
    ("黑里寨镇集市", "370322103"),
    # short names and office names
    ("淄博张店湖田街道", "370303003"),
    ("淄川钟楼街道", "370302004"),
    ("周村大街街道", "370306002"),
    ("临淄辛店街道", "370305003"),
    ("张店和平街办", "370303004"),
    ("博山区山头街道办事处", "370304004"),
    ("张店区和平", "370303004"),  # 街道 left off
    ("桓台县马桥", "370321105"),  # 镇 left off
    ("淄博市张店区房镇", "370303107"),  # 房镇镇 as everyone says it
    ("博山区城西镇", "370304002"),  # 街道 written as 镇
    # typos
    ("张殿区车站街道", "370303001"),  # 店 → 殿
    ("淄博市张店区马上街道", "370303009"),  # 尚 → 上
    ("张店区付家镇", "370303104"),  # 傅 → 付
    ("临缁区齐陵", "370305005"),  # 淄 → 缁
    ("淄川区松龄街道", "370302002"),  # 松龄路街道 without 路
    ("高青县黑里镇", "370322103"),  # 黑里寨镇 without 寨
    ("沂源县大张", "370323106"),  # cut short
    ("张店区体育厂街道", "370303006"),  # 场 → 厂
    ("周村区城北街道", "370306005"),  # 城北路街道 without 路
    ("张店区和平街到", "370303004"),  # 道 → 到
]


@pytest.mark.parametrize(("address", "street"), STREET_ADDRESSES)
def test_a_zibo_address_resolves_to_its_street_or_town(zibo: Gazetteer, address: str, street: str):
    match = locate_text(zibo, address)
    assert (match.status, match.code) == ("resolved", street), match
    assert match.path == (CITY, street[:6], street)
    assert match.level == "street" and match.approximate


def test_there_are_thirty_or_more_street_addresses_over_every_district(zibo: Gazetteer):
    assert len(STREET_ADDRESSES) >= 30
    assert {street[:6] for _, street in STREET_ADDRESSES} == set(names(zibo, "district"))


def test_every_street_resolves_by_its_name_and_by_district_plus_short_name(zibo: Gazetteer):
    districts = names(zibo, "district")
    for code, name in names(zibo, "street").items():
        assert locate_text(zibo, name).code == code, name
        short = name.removesuffix("街道") if name.endswith("街道") else name.removesuffix("镇")
        with_district = locate_text(zibo, districts[code[:6]] + short)
        # 般阳路, 大街… alone are roads, not the streets named after them, and 博山 is the district, not 博山镇
        unsure = short.endswith("路") or short == "大街" or districts[code[:6]].startswith(short)
        expected = code[:6] if unsure else code
        assert with_district.code == expected, (name, with_district)


def test_a_corrected_typo_is_named_in_the_reason(zibo: Gazetteer):
    match = locate_text(zibo, "张殿区车站街道")
    assert match.reason is not None and "张殿区→张店区" in match.reason
    assert "张殿区" in match.matched


@pytest.mark.parametrize(("address", "area", "level"), [
    ("淄博市张店区共青团西路98号", "370303", "district"),
    ("博山区汽车站附近", "370304", "district"),  # 车站 inside 汽车站 is not 车站街道
    ("张店区人民公园东门", "370303", "district"),  # nor 公园 inside 人民公园
    ("淄川区般阳路88号", "370302", "district"),  # a road named like a street is not the street
    ("周村区周村大街", "370306", "district"),
    ("周村大街23号", "370306", "district"),  # a landmark street of 周村 (data/place_aliases.csv)
    ("淄博火车站北广场", "370303", "district"),  # a landmark from data/place_aliases.csv
    ("山东省淄博市", CITY, "city"),
    ("博山区城南街道", "370304", "district"),  # no such street: 城东 and 城西 are equally near
])
def test_only_an_area_is_known_the_match_is_that_area_and_approximate(zibo: Gazetteer, address: str, area: str,
                                                                      level: str):
    match = locate_text(zibo, address)
    assert (match.status, match.code, match.level, match.approximate) == ("resolved", area, level, True)


def test_a_grid_named_in_full_is_not_approximate(zibo: Gazetteer):
    match = locate_text(zibo, "张店区车站街道车站第1社区第1网格3号楼")
    assert (match.code, match.level, match.approximate) == ("370303001001001", "grid", False)
    assert locate_text(zibo, "张店区车站第1社区").level == "community"


def test_a_district_contradicting_the_street_is_ambiguous_with_both_candidates(zibo: Gazetteer):
    match = locate_text(zibo, "博山区中埠镇")  # 中埠镇 is in 张店区
    assert match.status == "ambiguous"
    assert set(match.candidates) == {"370304", "370303105"}
    assert (match.code, match.path) == (CITY, (CITY,))
    assert match.reason is not None and "矛盾" in match.reason


def test_a_street_name_in_two_districts_without_a_district_is_ambiguous_and_with_one_is_resolved():
    # Zibo's 88 names are all different; elsewhere (城关镇, 城东街道) the same name recurs across counties.
    places = [Place(CITY, "淄博市", "city", None), Place("370302", "淄川区", "district", CITY),
              Place("370304", "博山区", "district", CITY), Place("370302007", "城东街道", "street", "370302"),
              Place("370304001", "城东街道", "street", "370304")]
    gazetteer = Gazetteer.build(places, outside=())
    match = locate_text(gazetteer, "城东街道东风路5号")
    assert (match.status, set(match.candidates)) == ("ambiguous", {"370302007", "370304001"})
    assert match.reason is not None and "城东街道" in match.reason
    assert locate_text(gazetteer, "博山区城东街道").code == "370304001"


def test_a_lone_two_character_short_name_is_only_a_candidate(zibo: Gazetteer):
    alone = locate_text(zibo, "中埠")
    assert (alone.status, alone.code, alone.candidates) == ("unresolved", None, ("370303105",))
    with_city = locate_text(zibo, "淄博市凤凰城小区")  # 凤凰 is also 临淄区凤凰镇, but here it is a housing estate
    assert (with_city.status, with_city.code, with_city.candidates) == ("resolved", CITY, ("370305109",))


def test_a_district_outvotes_a_short_street_name_elsewhere_and_says_so(zibo: Gazetteer):
    match = locate_text(zibo, "张店凤凰城小区")
    assert (match.status, match.code) == ("resolved", "370303")
    assert match.reason is not None and "凤凰" in match.reason


@pytest.mark.parametrize(("address", "named"), [
    ("济南市历下区泉城路", "济南市"),
    ("北京市朝阳区和平街道", "北京市"),  # 和平街道 is also in 张店区; the text says Beijing
    ("山东省青岛市市南区香港中路", "青岛市"),
    ("河北省唐山市路北区", "唐山市"),  # while 唐山镇 is in 桓台县
])
def test_a_place_outside_zibo_is_unresolved_with_the_reason(zibo: Gazetteer, address: str, named: str):
    match = locate_text(zibo, address)
    assert (match.status, match.code, match.path) == ("unresolved", None, ())
    assert match.reason is not None and named in match.reason and "outside" in match.reason


def test_a_zibo_address_mentioning_another_city_in_passing_still_resolves(zibo: Gazetteer):
    assert locate_text(zibo, "我在济南市上班，家住张店区和平街道").code == "370303004"
    assert locate_text(zibo, "淄博市张店区北京路").code == "370303"  # a road named after a city


@pytest.mark.parametrize("text", ["", "   ", "asdf1234", "请尽快处理，谢谢", "北京路12号", "？？？"])
def test_text_without_a_known_place_is_unresolved_with_a_reason(zibo: Gazetteer, text: str):
    match = locate_text(zibo, text)
    assert (match.status, match.code, match.candidates) == ("unresolved", None, ())
    assert match.reason


def test_the_match_stores_as_json(zibo: Gazetteer):
    stored = json.loads(json.dumps(locate_text(zibo, "张店区车站街道").to_dict()))
    assert stored == {"status": "resolved", "code": "370303001", "path": [CITY, "370303", "370303001"],
                      "level": "street", "approximate": True, "matched": ["张店区", "车站街道"], "candidates": [],
                      "reason": None}


def test_aliases_are_made_from_the_name():
    street = {alias for alias, _ in generated_aliases(Place("370303004", "和平街道", "street", "370303"))}
    assert {"和平街道", "和平街办", "和平办事处", "和平"} <= street
    assert {a for a, _ in generated_aliases(Place("370302", "淄川区", "district", CITY))} == {"淄川区", "淄川"}
    assert {a for a, _ in generated_aliases(Place("370303107", "房镇镇", "street", "370303"))} == {"房镇镇", "房镇"}
    # 大街 alone is any high street; 般阳路 alone is a road
    assert "大街" not in {a for a, _ in generated_aliases(Place("370306002", "大街街道", "street", "370306"))}
    assert "般阳路" not in {a for a, _ in generated_aliases(Place("370302001", "般阳路街道", "street", "370302"))}


def test_a_place_nickname_from_the_packaged_file_is_an_alias():
    with_aliases = {p.code: p for p in with_packaged_aliases(zibo_places())}
    assert "周村古商城" in with_aliases["370306"].aliases


# --- coordinates ------------------------------------------------------------------------------------------

POINT_IN_CHEZHAN = (CITY, "370303", "370303001", "370303001001", "370303001001001")


def test_text_and_point_in_different_districts_are_flagged(zibo: Gazetteer):
    flag = compare_with_coordinates(POINT_IN_CHEZHAN, locate_text(zibo, "博山区城东街道"), gazetteer=zibo)
    assert flag is not None
    assert (flag["text_area"], flag["point_area"], flag["point_code"]) == ("370304", "370303", POINT_IN_CHEZHAN[-1])
    assert "博山区" in flag["message"] and "张店区" in flag["message"]


def test_text_and_point_in_different_streets_of_one_district_are_flagged(zibo: Gazetteer):
    flag = compare_with_coordinates(POINT_IN_CHEZHAN, locate_text(zibo, "张店区公园街道"))
    assert flag is not None and (flag["text_area"], flag["point_area"]) == ("370303002", "370303001")


@pytest.mark.parametrize(("path", "text"), [
    (POINT_IN_CHEZHAN, "张店区车站街道"),  # the text is coarser than the point
    (POINT_IN_CHEZHAN, "淄博市张店区"),
    ((CITY, "370303"), "张店区车站街道"),  # the point only reached the district
    (POINT_IN_CHEZHAN, "中埠"),  # nothing resolved: nothing to compare
    ((), "博山区"),  # no point
])
def test_text_and_point_that_agree_or_cannot_be_compared_raise_no_flag(zibo: Gazetteer, path: tuple[str, ...],
                                                                       text: str):
    assert compare_with_coordinates(path, locate_text(zibo, text)) is None


def test_an_ambiguous_text_agrees_when_the_point_is_in_one_of_its_candidates(zibo: Gazetteer):
    ambiguous = locate_text(zibo, "博山区中埠镇")
    assert compare_with_coordinates((CITY, "370303", "370303105"), ambiguous) is None
    flag = compare_with_coordinates(POINT_IN_CHEZHAN, ambiguous, gazetteer=zibo)
    assert flag is not None and flag["point_area"] == "370303" and "中埠镇" in flag["message"]


# --- jieba --------------------------------------------------------------------------------------------------


def test_the_place_tokenizer_keeps_place_names_whole_and_leaves_jiebas_global_one_alone(zibo: Gazetteer):
    import jieba

    words = list(place_tokenizer(zibo).cut("山东省淄博市张店区车站街道共青团西路98号"))
    assert {"淄博市", "张店区", "车站街道"} <= set(words)
    assert "车站街道" not in jieba.lcut("张店区车站街道")


def test_user_words_are_tagged_places_and_leave_out_two_character_street_stems(zibo: Gazetteer):
    lines = {word: (freq, tag) for word, freq, tag in zibo.jieba_user_words()}
    assert lines["张店区"][1] == "ns" and lines["张店区"][0] > 0
    assert "大张庄" in lines and "和平" not in lines


# --- robustness and speed -----------------------------------------------------------------------------------

PLACE_WORDS = ["淄博市", "张店区", "张店", "车站街道", "和平", "中埠镇", "博山区", "济南市", "历下区", "街道", "镇",
               "区", "路", "张殿区", "马上街道", "第1社区", "网格", "山东省"]


def assert_consistent(gazetteer: Gazetteer, match: AddressMatch) -> None:
    assert match.status in ("resolved", "ambiguous", "unresolved")
    if match.code is not None:
        place = gazetteer.place(match.code)
        assert place is not None and match.level == place.level
        assert match.path == gazetteer.path(match.code) and match.path[-1] == match.code
        assert match.approximate == (place.level != "grid")
    else:
        assert match.status != "resolved" and match.path == ()
    assert all(gazetteer.place(code) for code in match.candidates)
    json.dumps(match.to_dict())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_locate_never_raises_on_any_text_and_only_returns_real_places(zibo: Gazetteer, text: str):
    assert_consistent(zibo, locate_text(zibo, text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PLACE_WORDS), st.text(max_size=4)), max_size=10))
def test_locate_never_raises_on_mixed_place_words_and_only_returns_real_places(zibo: Gazetteer, parts: list[str]):
    assert_consistent(zibo, locate_text(zibo, "".join(parts)))
