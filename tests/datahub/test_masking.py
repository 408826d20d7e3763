"""Masking of personal information: the rules by class, free text, the grant policy and compiled row plans."""

from __future__ import annotations

import re
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.datahub.masking import (
    COMPOUND_SURNAMES,
    SURNAMES,
    Grade,
    PiClass,
    Treatment,
    apply,
    compile_page,
    compile_plan,
    mask_row,
    mask_text,
    mask_value,
    masker,
    treatment,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2, written out again here so the tests do not lean on the code under test."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def valid_id(first17: str) -> str:
    return first17 + check_char(first17)


def invalid_id(first17: str) -> str:
    right = check_char(first17)
    return first17 + ("1" if right != "1" else "2")


# --- mask_value by class ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("pi_class", "value", "expected"), [
    # resident_id
    ("resident_id", "370303198503121234", "370303********1234"),
    ("resident_id", "11010519491231002X", "110105********002X"),
    ("resident_id", "370303850312123", "370303******123"),  # an old 15-digit ID: 6 + 3
    ("resident_id", "1234567890", "12345*****"),  # too short for 6 + 4: at most half kept
    ("resident_id", "12", "1*"),
    ("resident_id", "7", "*"),
    # mobile
    ("mobile", "13812345678", "138****5678"),
    ("mobile", "+8613812345678", "+86138****5678"),
    ("mobile", "+86 13812345678", "+86 138****5678"),
    ("mobile", "008613812345678", "0086138****5678"),
    ("mobile", "8613812345678", "86138****5678"),
    ("mobile", "138-1234-5678", "138-****-5678"),
    ("mobile", "138 1234 5678", "138 **** 5678"),
    ("mobile", "１３８１２３４５６７８", "１３８****５６７８"),  # full-width digits
    ("mobile", "12345", "12***"),
    ("mobile", "call me", "cal****"),  # 7 characters: too short for 3 + 4, at most half kept
    # phone
    ("phone", "0533-2181234", "0533-***1234"),
    ("phone", "0533-21812345", "0533-****2345"),
    ("phone", "010-12345678", "010-****5678"),
    ("phone", "(010)12345678", "(010)****5678"),
    ("phone", "05332181234", "0533***1234"),
    ("phone", "2181234", "***1234"),
    ("phone", "13812345678", "138****5678"),  # a mobile in a phone field: as a mobile
    ("phone", "+8613812345678", "+86138****5678"),
    # name
    ("name", "张伟", "张*"),
    ("name", "张小伟", "张**"),
    ("name", "欧阳娜娜", "欧阳**"),
    ("name", "欧阳修", "欧阳*"),
    ("name", "司马相如", "司马**"),
    ("name", "诸葛亮", "诸葛*"),
    ("name", "上官婉儿", "上官**"),
    ("name", "欧阳", "欧*"),  # a compound surname alone: the second character is hidden
    ("name", "买买提·艾力", "买**·**"),
    ("name", "张", "*"),
    ("name", "John Smith", "J*** S****"),
    ("name", "Mary-Jane O'Neil", "M***-J*** O'N***"),
    ("name", "J K", "***"),  # nothing to hide by the rule: starred in full
    ("name", "J", "*"),
    # address
    ("address", "山东省淄博市张店区车站街道共青团西路88号3单元501", "山东省淄博市张店区车站街道***"),
    ("address", "淄博市张店区车站街道共青团西路88号", "淄博市张店区车站街道***"),
    ("address", "张店区车站街道共青团西路88号", "张店区车站街道***"),
    ("address", "车站街道共青团西路88号", "车站街道***"),
    ("address", "淄博市桓台县起凤镇华沟村12号", "淄博市桓台县起凤镇***"),
    ("address", "淄博市沂源县西里乡南麻村", "淄博市沂源县西里乡***"),
    ("address", "淄博市张店区和平街办华光路9号", "淄博市张店区和平街办***"),
    ("address", "淄博市张店区华光路9号", "淄博市张店区***"),  # no township: up to the district
    ("address", "北京市海淀区中关村大街1号", "北京市海淀区***"),
    ("address", "青岛市市南区镇江路12号", "青岛市市南区***"),  # 镇江路 is a road, not a 镇
    ("address", "内蒙古自治区呼和浩特市新城区海拉尔东街", "内蒙古自治区呼和浩特市新城区***"),
    ("address", "山东省龙口市东莱街道港城大道100号", "山东省龙口市东莱街道***"),
    ("address", "山东省淄博市", "山东省淄博市***"),
    ("address", "共青团西路88号", "***"),
    ("address", "Room 501, 88 Gongqingtuan Road", "***"),
    # email
    ("email", "zhangsan@example.cn", "z***@example.cn"),
    ("email", "a@example.cn", "***@example.cn"),
    ("email", "first.last@mail.zibo.gov.cn", "f***@mail.zibo.gov.cn"),
    ("email", "not an address", "n************s"),
    # bank_card
    ("bank_card", "6222021234567890123", "622202*********0123"),
    ("bank_card", "6222 0212 3456 7890", "6222 02** **** 7890"),
    ("bank_card", "62220212", "6222****"),
    # birth_date
    ("birth_date", "1985-03-12", "1985-**-**"),
    ("birth_date", "1985/3/12", "1985/*/**"),
    ("birth_date", "1985年3月12日", "1985年*月**日"),
    ("birth_date", "19850312", "1985****"),
    ("birth_date", "12/03/1985", "**/**/1985"),
    ("birth_date", "1985-03-12T08:30:00", "1985-**-*****:**:**"),
    ("birth_date", "1985", "****"),  # a year alone: nothing else to hide, starred in full
    # licence_no
    ("licence_no", "370303600123456", "3703*******3456"),
    ("licence_no", "鲁C12345", "鲁C1****"),
    ("licence_no", "12345678", "1234****"),
    # other
    ("other", "某某内容", "某**容"),
    ("other", "abc", "a*c"),
    ("other", "ab", "a*"),
    ("other", "a", "*"),
    # free_text
    ("free_text", "我叫张伟，电话13812345678", "我叫张*，电话138****5678"),
    ("free_text", "路灯不亮", "路灯不亮"),  # nothing personal found: unchanged
    # none
    ("none", "车站街道", "车站街道"),
    ("none", "x", "x"),
])
def test_mask_value(pi_class: str, value: str, expected: str) -> None:
    assert mask_value(value, pi_class) == expected
    assert mask_value(value, PiClass(pi_class)) == expected


@pytest.mark.parametrize("pi_class", list(PiClass))
@pytest.mark.parametrize("value", [None, ""])
def test_none_and_empty_stay(pi_class: PiClass, value: str | None) -> None:
    assert mask_value(value, pi_class) == value


def test_unknown_class_is_named() -> None:
    with pytest.raises(ValueError, match="passport"):
        mask_value("x", "passport")
    with pytest.raises(ValueError, match="passport"):
        masker("passport")


def test_surname_lists() -> None:
    assert len(SURNAMES) >= 300
    assert all(len(s) == 1 for s in SURNAMES)
    assert {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "夏侯", "长孙", "宇文",
            "司徒", "轩辕", "端木", "独孤", "南宫", "百里", "呼延", "西门"} <= COMPOUND_SURNAMES
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES)


# --- properties of mask_value ----------------------------------------------------------------------------

LENGTH_KEEPING = [c for c in PiClass if c not in (PiClass.NONE, PiClass.ADDRESS, PiClass.EMAIL)]
GUARANTEED = [c for c in PiClass if c not in (PiClass.NONE, PiClass.FREE_TEXT)]
values = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=400, deadline=None)
@given(value=values, pi_class=st.sampled_from(GUARANTEED))
def test_masked_value_differs_from_input(value: str, pi_class: PiClass) -> None:
    out = mask_value(value, pi_class)
    if len(value) >= 2 and set(value) != {"*"}:  # only stars: masked already, nothing left to hide
        assert out != value


@settings(max_examples=400, deadline=None)
@given(value=values, pi_class=st.sampled_from(LENGTH_KEEPING))
def test_length_keeping_rules_only_put_stars(value: str, pi_class: PiClass) -> None:
    out = mask_value(value, pi_class)
    assert out is not None
    assert len(out) == len(value)
    assert all(o in (v, "*") for v, o in zip(value, out, strict=True))


@settings(max_examples=300, deadline=None)
@given(value=st.text(min_size=1, max_size=40).filter(lambda v: set(v) != {"*"}))
def test_address_keeps_a_prefix_only(value: str) -> None:
    out = mask_value(value, PiClass.ADDRESS)
    assert out is not None and out.endswith("***")
    assert value.startswith(out[:-3])


@settings(max_examples=300, deadline=None)
@given(local=st.text(st.characters(exclude_characters="@"), min_size=1, max_size=20),
       domain=st.from_regex(r"[a-z]{1,10}\.(cn|com|gov\.cn)", fullmatch=True))
def test_email_hides_the_local_part(local: str, domain: str) -> None:
    out = mask_value(f"{local}@{domain}", PiClass.EMAIL)
    assert out == (local[0] if len(local) >= 2 else "") + "***@" + domain


digits = st.text("0123456789", min_size=1)


@settings(max_examples=300, deadline=None)
@given(number=st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_resident_id_hides_the_birth_date_and_sequence(number: str) -> None:
    out = mask_value(number, PiClass.RESIDENT_ID)
    assert out == number[:6] + "*" * 8 + number[14:]


@settings(max_examples=300, deadline=None)
@given(number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), prefix=st.sampled_from(["", "+86", "+86 ", "0086"]))
def test_mobile_hides_the_middle_four(number: str, prefix: str) -> None:
    for pi_class in (PiClass.MOBILE, PiClass.PHONE):
        assert mask_value(prefix + number, pi_class) == prefix + number[:3] + "****" + number[7:]


@settings(max_examples=300, deadline=None)
@given(number=st.from_regex(r"[0-9]{16,19}", fullmatch=True))
def test_bank_card_hides_all_but_six_and_four(number: str) -> None:
    out = mask_value(number, PiClass.BANK_CARD)
    assert out == number[:6] + "*" * (len(number) - 10) + number[-4:]


@settings(max_examples=300, deadline=None)
@given(surname=st.sampled_from(sorted(SURNAMES | COMPOUND_SURNAMES)),
       given_name=st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=2))
def test_chinese_name_keeps_the_surname_only(surname: str, given_name: str) -> None:
    out = mask_value(surname + given_name, PiClass.NAME)
    assert out == surname + "*" * len(given_name)


# --- mask_text -------------------------------------------------------------------------------------------

def test_mask_text_masks_name_phone_and_id() -> None:
    text = "我叫张伟，电话13812345678，身份证号11010519491231002X"
    assert mask_text(text) == "我叫张*，电话138****5678，身份证号110105********002X"


@pytest.mark.parametrize(("text", "expected"), [
    ("联系人：高峰，电话0533-2181234", "联系人：高*，电话0533-***1234"),
    ("市民李建国来电反映噪音", "市民李**来电反映噪音"),
    ("投诉人刘芳芳称物业不作为", "投诉人刘**称物业不作为"),
    ("欧阳娜娜反映小区停车难", "欧阳**反映小区停车难"),  # jieba splits 欧阳 / 娜娜
    ("诸葛明亮来电称楼道灯坏了", "诸葛**来电称楼道灯坏了"),
    ("王秀英老人摔倒了", "王**老人摔倒了"),  # jieba splits 王 / 秀英
    ("我是李四，住在3号楼", "我是李*，住在3号楼"),  # a dictionary word, after 我是
    ("张伟和李娜在广场跳舞", "张*和李*在广场跳舞"),  # 李娜 is in jieba's dictionary: in a list with a name
    ("身份证11010519491231002x已核验", "身份证110105********002x已核验"),
    ("手机１３８１２３４５６７８", "手机１３８****５６７８"),
    ("电话+86 138 1234 5678或(0533)2181234", "电话+86 138 **** 5678或(0533)***1234"),
    ("请拨138-1234-5678", "请拨138-****-5678"),
])
def test_mask_text_examples(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", [
    "路灯不亮已经三天了，在人民路和共青团路路口",
    "谢谢，群众表示明白了，阳光小区的高峰时段很堵",  # 谢谢 明白 阳光 高峰: tagged nr by jieba's dictionary
    "胡同里有人吵架，金属回收，白天很吵",
    "东方明珠附近的文明城市创建",
    "高新区申请人提交了许可证和申请书",
    "黄金周期间胡萝卜涨价",
    "张店区车站街道的黄河路有积水，请王师傅处理",  # a surname with a title names no one
    "赵先生和钱女士反映楼上漏水",
    "司马光砸缸的故事",
    "订单号123456789012345671已付款",  # 18 digits failing the check: no ID number
    "第123456789012号文件，金额13800元",
    "",
])
def test_mask_text_leaves_text_without_personal_data(text: str) -> None:
    if "订单号" in text:
        assert check_char("12345678901234567") != "1"
    assert mask_text(text) == text


FILLER = st.lists(st.sampled_from([
    "路灯不亮", "，", "。", "小区门口", "反映", "积水严重", "请尽快处理", "电话", "身份证号", "联系", "地址在人民路",
    "噪音扰民", "号码是", "：", " ", "ok", "（", "）", "是", "或者", "X",
]), min_size=1, max_size=4).map("".join)
IDS = st.from_regex(r"[1-8][0-9]{16}", fullmatch=True).map(valid_id)
MOBILES = st.tuples(st.sampled_from(["", "+86", "86", "+86 "]), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(FILLER, st.one_of(IDS.map(lambda v: ("id", v)),
                                           MOBILES.map(lambda pm: ("mobile", pm[0] + pm[1])))),
                min_size=1, max_size=5), FILLER)
def test_mask_text_leaves_no_id_or_mobile(parts: list[tuple[str, tuple[str, str]]], tail: str) -> None:
    text = "".join(filler + value for filler, (_, value) in parts) + tail
    out = mask_text(text)
    assert len(out) == len(text)
    for run in re.findall(r"[0-9]{17}[0-9X]", out):
        assert check_char(run[:17]) != run[17]
    assert re.search(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", out) is None
    for _, (_, value) in parts:
        assert value not in out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_mask_text_only_puts_stars(text: str) -> None:
    out = mask_text(text)
    assert len(out) == len(text)
    assert all(o in (t, "*") for t, o in zip(text, out, strict=True))


# --- policy ----------------------------------------------------------------------------------------------

# The policy table as the data-sharing rules state it: (grade, personal?, clear approved?) → treatment.
POLICY = {
    ("general", False, False): "clear", ("general", False, True): "clear",
    ("general", True, False): "masked", ("general", True, True): "clear",
    ("important", False, False): "masked", ("important", False, True): "clear",
    ("important", True, False): "masked", ("important", True, True): "clear",
    ("core", False, False): "withheld", ("core", False, True): "withheld",
    ("core", True, False): "masked", ("core", True, True): "masked",
}


@pytest.mark.parametrize(("grade", "pi_class", "approved"), list(product(Grade, PiClass, (False, True))))
def test_policy_table(grade: Grade, pi_class: PiClass, approved: bool) -> None:
    expected = POLICY[str(grade), pi_class is not PiClass.NONE, approved]
    assert treatment(str(grade), str(pi_class), approved) == expected
    assert treatment(grade, pi_class, approved) is Treatment(expected)


def test_core_data_is_never_clear() -> None:
    assert all(treatment("core", str(c), True) is not Treatment.CLEAR for c in PiClass)


@pytest.mark.parametrize(("grade", "pi_class", "named"), [
    ("secret", "name", "secret"), ("一般", "none", "一般"), ("general", "passport", "passport"), ("", "name", "''"),
])
def test_policy_names_unknown_grade_or_class(grade: str, pi_class: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        treatment(grade, pi_class, False)


@pytest.mark.parametrize(("value", "treated", "pi_class", "expected"), [
    ("13812345678", "clear", "mobile", "13812345678"),
    ("13812345678", "masked", "mobile", "138****5678"),
    ("13812345678", "withheld", "mobile", None),
    ("车站街道", "masked", "none", "车**道"),  # masked with no class: the `other` rule
    ("车站街道", "clear", "none", "车站街道"),
    (None, "masked", "name", None),
    ("", "masked", "name", ""),
    (None, "withheld", "none", None),
])
def test_apply(value: str | None, treated: str, pi_class: str, expected: str | None) -> None:
    assert apply(value, treated, pi_class) == expected


def test_apply_names_unknown_treatment() -> None:
    with pytest.raises(ValueError, match="redacted"):
        apply("x", "redacted", "name")


# --- row plans -------------------------------------------------------------------------------------------

ROW = {"case_no": "C2026-0001", "district": "370303", "name": "张伟", "mobile": "13812345678",
       "resident_id": "11010519491231002X", "status": "open", "note": "内部备注"}
PLAN: dict[str, tuple[Treatment | str, PiClass | str]] = {
    "case_no": (Treatment.CLEAR, PiClass.NONE), "name": ("masked", "name"), "district": ("clear", "none"),
    "mobile": ("masked", "mobile"), "resident_id": ("masked", "resident_id"), "status": ("withheld", "none"),
}


def test_mask_row_returns_the_planned_fields_only() -> None:
    out = mask_row(ROW, PLAN)
    assert out == {"case_no": "C2026-0001", "name": "张*", "district": "370303", "mobile": "138****5678",
                   "resident_id": "110105********002X", "status": None}
    assert list(out) == list(PLAN)  # the plan's order; "note" is not in the plan
    assert compile_plan(PLAN)(ROW) == out


def test_missing_field_counts_as_null() -> None:
    assert compile_plan({"x": ("masked", "name"), "y": ("clear", "none")})({}) == {"x": None, "y": None}


def test_compile_plan_rejects_unknown_treatment_or_class() -> None:
    with pytest.raises(ValueError, match="hidden"):
        compile_plan({"a": ("hidden", "name")})
    with pytest.raises(ValueError, match="passport"):
        compile_plan({"a": ("masked", "passport")})


field_names = st.text("abcdefghij_", min_size=1, max_size=6)
plans = st.dictionaries(field_names, st.tuples(st.sampled_from(list(Treatment)), st.sampled_from(list(PiClass))),
                        max_size=8)


@settings(max_examples=300, deadline=None)
@given(plan=plans, data=st.data())
def test_compiled_plan_properties(plan: dict[str, tuple[Treatment, PiClass]], data: st.DataObject) -> None:
    row = data.draw(st.dictionaries(st.one_of(st.sampled_from(sorted(plan)) if plan else st.nothing(), field_names),
                                    st.one_of(st.none(), st.text(max_size=24))))
    out = compile_plan(plan)(row)
    assert list(out) == list(plan)
    for field, (treated, pi_class) in plan.items():
        value, result = row.get(field), out[field]
        if treated is Treatment.WITHHELD:
            assert result is None
        elif treated is Treatment.CLEAR or not value:  # clear, or masked None / "": as it is
            assert result == value
        elif pi_class is not PiClass.FREE_TEXT and len(value) >= 2 and set(value) != {"*"}:
            assert result != value


# Values near each column masker's inline shape (and just off it), so both its fast and its general branch run.
_SHAPED_CHARS = "0123456789X*-张王欧阳司马伟 ·a山东省淄博市张店区车站街道路号"
shaped_values = st.one_of(
    st.none(), st.integers(-10**12, 10**18), st.booleans(), st.floats(allow_nan=False),
    st.text(_SHAPED_CHARS, max_size=20), st.text(max_size=12),
    st.from_regex(r"\A[0-9*]{17}[0-9X*]\Z"), st.from_regex(r"\A[0-9*]{11}\Z"),
    st.from_regex(r"\A[0-9]{4}-[0-9*]{2}-[0-9*]{2}\Z"),
    st.text("张王欧阳司马伟*·", min_size=1, max_size=5),
    st.builds(lambda a, b: a + b, st.sampled_from(["欧阳", "司马", "张", "王", "J"]), st.text("伟娜*· a", max_size=3)),
    st.builds(lambda a, b: a + b, st.sampled_from(["山东省淄博市张店区", "淄博市", "北京市朝阳区", ""]),
              st.text("车站街道共青团西路88号*镇乡 ", max_size=12)),
)


@pytest.mark.parametrize("pi_class", list(PiClass))
@settings(max_examples=150, deadline=None)
@given(values=st.lists(shaped_values, min_size=1, max_size=12), treated=st.sampled_from(list(Treatment)))
def test_page_masker_gives_the_rule_answer_for_every_value(pi_class: PiClass, values: list[object],
                                                           treated: Treatment) -> None:
    rows = [{"f": v, "other": n} for n, v in enumerate(values)]
    out = compile_page({"f": (treated, pi_class), "other": (Treatment.CLEAR, PiClass.NONE)})(rows)
    for row, got in zip(rows, out, strict=True):
        value = row["f"]
        text = value if value is None or isinstance(value, str) else str(value)
        assert got == {"f": apply(text, treated, pi_class) if treated is not Treatment.CLEAR else value,
                       "other": row["other"]}


def test_page_masker_masks_a_page_as_row_by_row_masking_does() -> None:
    rows = [ROW, {**ROW, "name": "欧阳娜娜", "mobile": "+86 138 1234 5678"}, {}]
    assert compile_page(PLAN)(rows) == [compile_plan(PLAN)(r) for r in rows]
    assert compile_page(PLAN)([]) == []
