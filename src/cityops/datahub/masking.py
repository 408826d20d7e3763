"""Masking of personal information (个人信息去标识化) in shared datasets, and which fields a grantee sees how.

Masking rules of `mask_value` (a hidden character becomes ``*``; None and "" come back as they are):

| class         | rule                                                   | example                                     |
|---------------|--------------------------------------------------------|---------------------------------------------|
| `none`        | unchanged                                              | 车站街道 → 车站街道                         |
| `resident_id` | first 6 and last 4 kept (a 15-digit old ID: 6 and 3)   | 370303198503121234 → 370303********1234     |
| `mobile`      | first 3 and last 4 digits; a +86 / 0086 prefix kept    | +8613812345678 → +86138****5678             |
| `phone`       | landline: area code and last 4; a mobile as `mobile`   | 0533-21812345 → 0533-****2345               |
| `name`        | the surname (a 复姓 such as 欧阳: both characters);    | 张小伟 → 张**, 欧阳娜娜 → 欧阳**            |
|               | Latin letters: the first letter of each word           | John Smith → J*** S****                     |
| `address`     | up to the township (街道/街办/镇/乡/苏木) right after  | 山东省淄博市张店区车站街道共青团西路88号    |
|               | the administrative part, else up to the last 省/市/区/ | → 山东省淄博市张店区车站街道***;            |
|               | 县… of that part; then ``***``                         | 淄博市张店区华光路9号 → 淄博市张店区***     |
| `email`       | first character of the local part, ``***@domain``      | zhangsan@example.cn → z***@example.cn       |
| `bank_card`   | first 6 and last 4 digits                              | 6222021234567890123 → 622202*********0123   |
| `birth_date`  | the year; every other digit and Latin letter hidden    | 1985-03-12 → 1985-**-**                     |
| `licence_no`  | first 4 and last 4                                     | 370303600123456 → 3703*******3456           |
| `other`       | first and last character                               | 某某内容 → 某**容                           |
| `free_text`   | `mask_text`: ID and phone numbers, names in the text   | 我叫张伟 → 我叫张*                          |

Separators inside numbers (spaces, hyphens) stay where they are and do not count as digits. A value too short
for its rule keeps at most half of its characters (``"12345"`` as a mobile → ``"12***"``, a 1-character value
→ ``"*"``). Guarantee, for every class but `none` and `free_text`: a value of 2 or more characters never comes
back unchanged (a value whose rule would hide nothing, such as ``"J K"`` as a name, is starred in full), except a
value made only of ``*``, which is masked already; and every rule but `address` and `email` keeps the length and
only ever replaces characters by ``*``. `free_text` masks what it finds in the text and keeps the rest, so a
report with nothing personal in it comes back as it is (it too keeps the length).

`mask_text` (free text: citizens' reports, case notes) masks
- 18-character ID numbers whose MOD 11-2 check character is right (an 18-digit order number that fails the
  check is left alone) — as `resident_id`;
- mainland mobile numbers 1[3-9]xxxxxxxxx (also +86…, 138-1234-5678, 138 1234 5678) that are not part of a
  longer run of digits — as `mobile`;
- landlines with an area code (0533-2181234, (010)12345678, 05332181234) — as `phone`;
- person names, as `name`: jieba part-of-speech tokens tagged nr* of 2–4 Chinese characters starting with a
  known surname (`SURNAMES`, `COMPOUND_SURNAMES`). jieba's dictionary tags many common words nr (明白, 谢谢,
  胡同, 高峰), so a token that is a dictionary word is masked only next to a cue that it names a person
  (联系人：高峰, 我叫…, …先生); a name jieba recognises by its model (not in its dictionary) is always masked.
  A surname with a title (王先生, 李师傅) is left: it names no one.
Full-width digits (１３８…) are recognised as digits.

Which treatment a field gets (`treatment`), by the dataset's grade (`Grade`: general 一般, important 重要,
core 核心), whether the field holds personal information, and whether the owner approved clear values:

| grade       | field's class      | clear approved | treatment  |
|-------------|--------------------|----------------|------------|
| `general`   | `none`             | any            | `clear`    |
| `general`   | personal           | no / yes       | `masked` / `clear` |
| `important` | `none`             | no / yes       | `masked` / `clear` |
| `important` | personal           | no / yes       | `masked` / `clear` |
| `core`      | `none`             | any            | `withheld` |
| `core`      | personal           | any            | `masked` (core data is never given clear) |

`apply` treats one value (a masked field of class `none` is masked as `other`); `compile_plan` turns a
field → (treatment, class) plan into one function from a row to the planned fields only; `compile_page` does
the same for a page of rows, column by column, for the sharing API's hot path.

Pure functions: no database, no I/O; jieba's dictionary is loaded once, on the first text with Chinese in it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from cityops.datahub.standards import resident_id_check_char

__all__ = [
    "COMPOUND_SURNAMES",
    "SURNAMES",
    "Grade",
    "PiClass",
    "Treatment",
    "apply",
    "compile_page",
    "compile_plan",
    "mask_row",
    "mask_text",
    "mask_value",
    "masker",
    "treatment",
]

Masker = Callable[[str | None], str | None]
RowMasker = Callable[[Mapping[str, str | None]], dict[str, str | None]]
PageMasker = Callable[[Sequence[Mapping[str, Any]]], list[dict[str, Any]]]
Column = list[Any]
ColumnMasker = Callable[[Column, Callable[[Any], str | None]], Column]


class PiClass(StrEnum):
    """Kinds of personal information a field can hold (`none`: not personal)."""

    NONE = "none"
    RESIDENT_ID = "resident_id"
    NAME = "name"
    MOBILE = "mobile"
    PHONE = "phone"
    ADDRESS = "address"
    EMAIL = "email"
    BANK_CARD = "bank_card"
    BIRTH_DATE = "birth_date"
    LICENCE_NO = "licence_no"
    FREE_TEXT = "free_text"
    OTHER = "other"


class Treatment(StrEnum):
    CLEAR = "clear"
    MASKED = "masked"
    WITHHELD = "withheld"


class Grade(StrEnum):
    """Data grades: 一般 / 重要 / 核心数据."""

    GENERAL = "general"
    IMPORTANT = "important"
    CORE = "core"


# --- surnames -------------------------------------------------------------------------------------------

# About 400 single-character surnames, the frequent ones of modern usage (characters that mostly start
# transliterations, such as 阿 and 斯, are left out), and the compound surnames (复姓).
SURNAMES: Final[frozenset[str]] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温"
    "康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂"
    "成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党"
    "宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封"
    "谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴"
    "丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹诸战"
    "慕危玉银亢嵇公湛宾戎勾茅利於呼居揭干但尉冶元束檀衣信展阴昝智幸奉植衡富尧闭由汝郦郇桓苍经"
)
COMPOUND_SURNAMES: Final[frozenset[str]] = frozenset((
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "夏侯", "长孙", "宇文",
    "司徒", "轩辕", "端木", "独孤", "南宫", "百里", "呼延", "西门", "司空", "澹台", "公冶", "太叔", "申屠",
    "闻人", "万俟", "濮阳", "淳于", "单于", "赫连", "钟离", "宗政", "拓跋", "东郭", "左丘", "公羊", "第五",
    "梁丘", "羊舌", "微生", "亓官", "段干", "巫马", "乐正", "谷梁", "仲孙", "叔孙", "壤驷", "公良", "漆雕",
    "颛孙", "子车", "鲜于", "闾丘", "司寇", "东门", "公西", "褚师", "第一", "贺兰", "完颜", "纳兰", "爱新",
))

# --- helpers --------------------------------------------------------------------------------------------

_NAME_SEPARATORS: Final = frozenset(" ·•.-\u3000")


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _keep(value: str, head: int, tail: int) -> str:
    """Keep `head` leading and `tail` trailing characters, star the rest; a value too short for that keeps at
    most half of its characters (the head first)."""
    n = len(value)
    if head + tail >= n:
        budget = n // 2
        head = min(head, budget)
        tail = min(tail, budget - head)
    return value[:head] + "*" * (n - head - tail) + value[n - tail:]


def _keep_digits(value: str, head: int, tail: int) -> str:
    """`_keep` counted in digits: the characters between the digits (spaces, hyphens) stay where they are."""
    digits = sum(c.isdigit() for c in value)
    if head + tail >= digits:
        budget = digits // 2
        head = min(head, budget)
        tail = min(tail, budget - head)
    out = []
    seen = 0
    for c in value:
        if c.isdigit():
            out.append(c if seen < head or seen >= digits - tail else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


_NUMBER_CHARS: Final = re.compile(r"[\d\s\-]+")


def _digits_with_separators(value: str) -> bool:
    return _NUMBER_CHARS.fullmatch(value) is not None and any(c.isdigit() for c in value)


# --- the maskers, one per class (each takes a non-empty string) -------------------------------------------


def _mask_resident_id(value: str) -> str:
    if len(value) == 18:
        return value[:6] + "********" + value[14:]
    return _keep(value, 6, 3 if len(value) == 15 else 4)


_MOBILE_PREFIX: Final = re.compile(r"(?:\(\+86\)|\+86|0086)[\s\-]?|86(?=\d{11}$)")


def _mask_mobile(value: str) -> str:
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[7:]
    prefix = _MOBILE_PREFIX.match(value)
    head, number = (value[:prefix.end()], value[prefix.end():]) if prefix else ("", value)
    if number and _digits_with_separators(number):
        return head + _keep_digits(number, 3, 4)
    return _keep(value, 3, 4)


_AREA_CODE: Final = re.compile(r"\(?(?:010|02\d|0[3-9]\d\d)\)?[\s\-]?")


def _is_mobile_number(value: str) -> bool:
    """11 digits starting with 1, after an optional +86 prefix, with nothing but spaces or hyphens between."""
    prefix = _MOBILE_PREFIX.match(value)
    number = value[prefix.end():] if prefix else value
    if not _digits_with_separators(number):
        return False
    digits = [c for c in number if c.isdigit()]
    return len(digits) == 11 and digits[0] == "1"


def _mask_phone(value: str) -> str:
    if (len(value) == 11 and value[0] == "1" and value.isdigit()) or _is_mobile_number(value):
        return _mask_mobile(value)
    area = _AREA_CODE.match(value)
    if area is not None:
        number = value[area.end():]
        if number.isdigit():
            return value[:area.end()] + _keep(number, 0, 4)
        if _digits_with_separators(number):
            return value[:area.end()] + _keep_digits(number, 0, 4)
    if _digits_with_separators(value):
        return _keep_digits(value, 0, 4)
    return _keep(value, 3, 4)


_LATIN_WORD: Final = re.compile(r"([^\W_])([^\W_]*)")


def _surname_length(name: str) -> int:
    return 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1


def _mask_name(value: str) -> str:
    if _is_cjk(value[0]):
        keep = _surname_length(value) if len(value) > 1 else 0
        given = value[keep:]
        if _NAME_SEPARATORS.isdisjoint(given):
            return value[:keep] + "*" * len(given)
        return value[:keep] + "".join(c if c in _NAME_SEPARATORS else "*" for c in given)
    return _LATIN_WORD.sub(lambda m: m[1] + "*" * len(m[2]), value)


# An administrative name: Chinese characters, none of which marks a road, a building or a village (a district
# named 路北区 is cut one level early, which hides more, never less).
_ADMIN_CHAR: Final = r"(?:(?![路街巷号弄栋楼室村组])[\u4e00-\u9fff])"
_ADDRESS_KEEP: Final = re.compile(
    rf"(?:{_ADMIN_CHAR}{{2,7}}?(?:特别行政区|自治区|省|市)\s*)?"  # province (or a municipality)
    rf"(?:{_ADMIN_CHAR}{{2,9}}?(?:自治州|地区|市|州|盟)\s*)?"  # prefecture-level city
    rf"(?:{_ADMIN_CHAR}{{1,9}}?(?:自治县|自治旗|区|县|市|旗)\s*)?"  # district / county
    rf"(?:{_ADMIN_CHAR}{{1,9}}?(?:街道办事处|街道办|街道|街办|镇|乡|苏木))?"  # township
)


def _mask_address(value: str) -> str:
    kept = _ADDRESS_KEEP.match(value)
    return (value[:kept.end()].rstrip() if kept else "") + "***"


def _mask_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at:
        return _keep(value, 1, 1)
    return (local[0] if len(local) >= 2 else "") + "***@" + domain


def _mask_bank_card(value: str) -> str:
    if _digits_with_separators(value):
        return _keep_digits(value, 6, 4)
    return _keep(value, 6, 4)


_YEAR: Final = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)|^\d{4}(?=\d{4}(?:\D|$))")
_DATE_DETAIL: Final = re.compile(r"[0-9A-Za-z０-９]")


def _mask_birth_date(value: str) -> str:
    if len(value) == 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit():
        return value[:4] + "-**-**"  # the stored ISO form: the general rule's answer, without two regexes
    year = _YEAR.search(value)
    if year is None:
        return _DATE_DETAIL.sub("*", value)
    start, end = year.span()
    return _DATE_DETAIL.sub("*", value[:start]) + value[start:end] + _DATE_DETAIL.sub("*", value[end:])


def _mask_licence_no(value: str) -> str:
    return _keep(value, 4, 4)


def _mask_other(value: str) -> str:
    return _keep(value, 1, 1)


def _guarded(rule: Callable[[str], str]) -> Masker:
    """A masker for None / str: None and "" pass, and a value the rule left whole is starred in full."""

    def mask(value: str | None) -> str | None:
        if not value:
            return value
        out = rule(value)
        return "*" * len(value) if out == value else out

    return mask


def _identity(value: str | None) -> str | None:
    return value


def _withhold(value: str | None) -> None:
    return None


# --- free text ------------------------------------------------------------------------------------------

_FULL_WIDTH: Final = str.maketrans("０１２３４５６７８９＋（）－", "0123456789+()-")
_TEXT_PATTERN: Final = re.compile(
    r"(?P<id>(?<![0-9])[0-9]{17}[0-9Xx](?![0-9]))"
    r"|(?P<mobile>(?<![0-9])(?:(?:\+|00)86[\s\-]?|86)?1[3-9][0-9](?:[0-9]{8}|-[0-9]{4}-[0-9]{4}| [0-9]{4} [0-9]{4})"
    r"(?![0-9]))"
    r"|(?P<phone>(?<![0-9])(?:\((?:010|02[0-9]|0[3-9][0-9]{2})\)|(?:010|02[0-9]|0[3-9][0-9]{2})[\s\-]?)"
    r"[2-9][0-9]{6,7}(?![0-9]))"
)
_CJK: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

# Words right before a name that say it is one (punctuation in between is skipped) …
_NAME_CUES_BEFORE: Final = frozenset((
    "叫", "名叫", "叫做", "姓名", "名字", "联系人", "反映人", "投诉人", "举报人", "来电人", "报警人", "当事人",
    "申请人", "户主", "业主", "租户", "房东", "住户", "居民", "村民", "市民", "网格员", "负责人", "经办人",
    "承办人", "监护人", "家属", "患者", "老人", "本人", "同事", "邻居", "丈夫", "妻子", "儿子", "女儿",
))
_SELF_BEFORE_IS: Final = frozenset(("我", "他", "她", "本人"))  # 我是… / 她是…
# … and titles: right after a name they cue it; a surname followed by one is no name to mask (王先生).
_TITLES: Final = frozenset((
    "先生", "女士", "小姐", "师傅", "老师", "阿姨", "大爷", "大妈", "大娘", "大姐", "大哥", "同志", "经理",
    "主任", "书记", "队长", "警官", "医生", "老板", "奶奶", "爷爷", "叔叔", "局长", "科长", "所长", "站长",
    "村长", "镇长", "区长", "市长", "总", "工", "律师", "会计", "老太", "老汉",
))
_CUES_AFTER: Final = _TITLES | {"老人", "夫妇", "一家"}
_CONJUNCTIONS: Final = frozenset(("和", "与", "及", "、", "跟", "同", "以及"))  # 张伟和李娜: names in a list


@cache
def _pos_tokenizer() -> Any:
    """jieba's part-of-speech tokenizer, its dictionary loaded once (quietly)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    return jieba.posseg.dt


def _all_cjk(word: str) -> bool:
    return all(map(_is_cjk, word))


def _name_candidate(word: str) -> bool:
    """2–4 Chinese characters starting with a known surname, and not a surname with a title (王先生)."""
    if not 2 <= len(word) <= 4 or not _all_cjk(word):
        return False
    if len(word) >= 3 and word[:2] in COMPOUND_SURNAMES:
        surname = 2
    elif word[0] in SURNAMES:
        surname = 1
    else:
        return False
    return word[surname:] not in _TITLES


def _merged(tokens: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(word, flag, is a name jieba split in two): 欧阳 / 娜娜, 诸葛 / 明亮, 王 / 秀英."""
    out: list[tuple[str, str, bool]] = []
    i = 0
    while i < len(tokens):
        word, flag = tokens[i]
        if i + 1 < len(tokens):
            given, given_flag = tokens[i + 1]
            short_given = len(given) <= 2 and _all_cjk(given)
            if short_given and (
                    (word in COMPOUND_SURNAMES
                     and (given_flag.startswith("nr") or (flag.startswith("nr") and given_flag[:1] in ("n", "a"))))
                    or (word in SURNAMES and flag.startswith("nr") and given_flag.startswith("nr"))):
                out.append((word + given, "nr", True))
                i += 2
                continue
        out.append((word, flag, False))
        i += 1
    return out


def _neighbour(tokens: list[tuple[str, str, bool]], i: int, step: int) -> int:
    """The index of the nearest token before (step -1) or after (+1) `i` that is no punctuation, or -1."""
    j = i + step
    while 0 <= j < len(tokens) and tokens[j][1] == "x" and tokens[j][0] not in _CONJUNCTIONS:
        j += step
    return j if 0 <= j < len(tokens) else -1


def _cued(tokens: list[tuple[str, str, bool]], i: int) -> bool:
    before = _neighbour(tokens, i, -1)
    if before >= 0:
        word = tokens[before][0]
        if word in _NAME_CUES_BEFORE or (word == "是" and before > 0 and tokens[before - 1][0] in _SELF_BEFORE_IS):
            return True
    return i + 1 < len(tokens) and tokens[i + 1][0] in _CUES_AFTER


def _names_at(tokens: list[tuple[str, str, bool]], dictionary: Mapping[str, int]) -> set[int]:
    """Which tokens are names. A name jieba found by its model (no dictionary word), or split in two, always is;
    a dictionary word (jieba tags 明白, 谢谢, 高新区, 申请人 as names too) only with a cue: 联系人：…, …先生, or
    a conjunction to another name."""
    names: set[int] = set()
    listed: list[int] = []
    for i, (word, flag, split) in enumerate(tokens):
        if split:
            names.add(i)
        elif flag.startswith("nr") and _name_candidate(word):
            if not dictionary.get(word) or _cued(tokens, i):
                names.add(i)
            else:
                listed.append(i)
    grown = True
    while grown and listed:  # 张伟和李娜: 李娜 is a dictionary word, in a list with a name
        grown = False
        for i in list(listed):
            for step in (-1, 1):
                j = _neighbour(tokens, i, step)
                if j >= 0 and tokens[j][0] in _CONJUNCTIONS and _neighbour(tokens, j, step) in names:
                    names.add(i)
                    listed.remove(i)
                    grown = True
                    break
    return names


def _mask_names(text: str) -> str:
    if _CJK.search(text) is None:
        return text
    tokenizer = _pos_tokenizer()
    tokens = _merged([(pair.word, pair.flag) for pair in tokenizer.cut(text)])
    names = _names_at(tokens, tokenizer.tokenizer.FREQ)
    return "".join(_mask_name(word) if i in names else word for i, (word, _, _) in enumerate(tokens))


def _mask_match(kind: str, found: str, original: str) -> str:
    if kind == "id":
        first17, check = found[:17], found[17].upper()
        if resident_id_check_char(first17) != check:
            return original  # 18 digits that are no ID number (an order or account number)
        return _mask_resident_id(original)
    if kind == "mobile":
        return _mask_mobile(original)
    return _mask_phone(original)


def mask_text(text: str) -> str:
    """Free text with the ID numbers, mobile and landline numbers and person names in it masked (see above)."""
    if not text:
        return text
    ascii_text = text.translate(_FULL_WIDTH)  # same length: positions carry over to `text`
    out: list[str] = []
    done = 0
    for match in _TEXT_PATTERN.finditer(ascii_text):
        start, end = match.span()
        out.append(_mask_names(text[done:start]))
        out.append(_mask_match(match.lastgroup or "", match.group(), text[start:end]))
        done = end
    out.append(_mask_names(text[done:]))
    return "".join(out)


# --- by class -------------------------------------------------------------------------------------------

_RULES: Final[Mapping[PiClass, Callable[[str], str]]] = MappingProxyType({
    PiClass.RESIDENT_ID: _mask_resident_id,
    PiClass.NAME: _mask_name,
    PiClass.MOBILE: _mask_mobile,
    PiClass.PHONE: _mask_phone,
    PiClass.ADDRESS: _mask_address,
    PiClass.EMAIL: _mask_email,
    PiClass.BANK_CARD: _mask_bank_card,
    PiClass.BIRTH_DATE: _mask_birth_date,
    PiClass.LICENCE_NO: _mask_licence_no,
    PiClass.OTHER: _mask_other,
})


def _mask_free_text(value: str | None) -> str | None:
    return mask_text(value) if value else value


_MASKERS: Final[Mapping[PiClass, Masker]] = MappingProxyType({
    PiClass.NONE: _identity,
    PiClass.FREE_TEXT: _mask_free_text,  # unguarded: a report with nothing personal in it stays readable
    **{pi_class: _guarded(rule) for pi_class, rule in _RULES.items()},
})


def _pi_class(pi_class: PiClass | str) -> PiClass:
    try:
        return PiClass(pi_class)
    except ValueError:
        raise ValueError(f"unknown personal-information class {pi_class!r}; known: {', '.join(PiClass)}") from None


def masker(pi_class: PiClass | str) -> Masker:
    """The masking function of a class (`none`: the identity). Raises ValueError for an unknown class."""
    return _MASKERS[_pi_class(pi_class)]


def mask_value(value: str | None, pi_class: PiClass | str) -> str | None:
    """`value` masked by the rule of its class (table above); None and "" come back as they are."""
    return masker(pi_class)(value)


# --- policy ---------------------------------------------------------------------------------------------

_C, _M, _W = Treatment.CLEAR, Treatment.MASKED, Treatment.WITHHELD
# (grade, the field holds personal information, clear approved by the owner) → treatment
_POLICY: Final[Mapping[tuple[Grade, bool, bool], Treatment]] = MappingProxyType({
    (Grade.GENERAL, False, False): _C, (Grade.GENERAL, False, True): _C,
    (Grade.GENERAL, True, False): _M, (Grade.GENERAL, True, True): _C,
    (Grade.IMPORTANT, False, False): _M, (Grade.IMPORTANT, False, True): _C,
    (Grade.IMPORTANT, True, False): _M, (Grade.IMPORTANT, True, True): _C,
    (Grade.CORE, False, False): _W, (Grade.CORE, False, True): _W,
    (Grade.CORE, True, False): _M, (Grade.CORE, True, True): _M,  # core data is never given clear
})


def treatment(grade: str, pi_class: str, clear_approved: bool) -> Treatment:
    """How a grantee receives a field of a dataset of `grade` holding `pi_class` (policy table above).

    Raises ValueError naming an unknown grade or class.
    """
    try:
        known_grade = Grade(grade)
    except ValueError:
        raise ValueError(f"unknown data grade {grade!r}; known: {', '.join(Grade)}") from None
    personal = _pi_class(pi_class) is not PiClass.NONE
    return _POLICY[known_grade, personal, bool(clear_approved)]


def field_masker(field_treatment: Treatment | str, pi_class: PiClass | str) -> Masker:
    """The function giving a field's value as a grantee receives it (looked up once, called per row)."""
    chosen = Treatment(field_treatment)
    known = _pi_class(pi_class)
    if chosen is Treatment.CLEAR:
        return _identity
    if chosen is Treatment.WITHHELD:
        return _withhold
    return _MASKERS[PiClass.OTHER if known is PiClass.NONE else known]


def apply(value: str | None, treatment: Treatment | str, pi_class: PiClass | str) -> str | None:
    """One value as a grantee receives it: clear as is, masked by its class (`none` as `other`), withheld None."""
    return field_masker(treatment, pi_class)(value)


def compile_plan(plan: Mapping[str, tuple[Treatment | str, PiClass | str]]) -> RowMasker:
    """A function from a row to the plan's fields only (in the plan's order), each treated as planned.

    Everything is looked up once here (`compile_page`, for one row). A planned field missing from the row counts
    as null. Raises ValueError for an unknown treatment or class.
    """
    page = compile_page(plan)

    def run(row: Mapping[str, str | None]) -> dict[str, str | None]:
        return page([row])[0]

    return run


def _as_text(masker: Masker) -> Callable[[Any], str | None]:
    """`masker` for any JSON value: a number or a boolean is masked as its text."""
    def mask(value: Any) -> str | None:
        return masker(value if value is None or value.__class__ is str else str(value))
    return mask


# Column maskers: the common shape of a class inline, anything else through the general rule, so the answer is
# the rule's answer for every value (tests/datahub/test_masking.py compares them on generated values). They
# exist for the sharing API's pages, where calling two Python functions per value was half of the time.

def _column_resident_id(values: Column, slow: Callable[[Any], str | None]) -> Column:
    return [v[:6] + "********" + v[14:] if v.__class__ is str and len(v) == 18 and v[6:14] != "********"
            else slow(v) for v in values]


def _column_mobile(values: Column, slow: Callable[[Any], str | None]) -> Column:
    return [v[:3] + "****" + v[7:] if v.__class__ is str and len(v) == 11 and v.isdigit() else slow(v)
            for v in values]


def _column_birth_date(values: Column, slow: Callable[[Any], str | None]) -> Column:
    return [v[:4] + "-**-**" if v.__class__ is str and len(v) == 10 and v[4] == "-" and v[7] == "-"
            and v[:4].isdigit() and v[5:] != "**-**" else slow(v) for v in values]


_STARS: Final = tuple("*" * n for n in range(8))


def _column_name(values: Column, slow: Callable[[Any], str | None]) -> Column:
    # 2–4 letters (so no separator and no *), the first Chinese, no compound surname: the surname and stars
    return [v[0] + _STARS[len(v) - 1] if v.__class__ is str and 1 < len(v) < 5 and v.isalpha()
            and "\u4e00" <= v[0] <= "\u9fff" and v[:2] not in COMPOUND_SURNAMES else slow(v) for v in values]


# The longest start of an address the pattern above can read: Chinese characters and spaces. Every part of
# the pattern needs one of those, so it never looks past this start, and two addresses that share it (one road,
# other house numbers) keep the same part.
_ADDRESS_HEAD: Final = re.compile(r"[\u4e00-\u9fff\s]*")


# head → kept part, for the whole process: a city has some thousands of roads, and every page meets them again.
# Bounded (forgotten all at once when full). It lives in memory only, as the rows being served do; a head is
# usually a road, but an address written all in Chinese is its own head.
_ADDRESS_KEPT: dict[str, str] = {}
_ADDRESS_KEPT_MAX: Final = 50_000


def _column_address(values: Column, slow: Callable[[Any], str | None]) -> Column:
    head, keep, kept = _ADDRESS_HEAD.match, _ADDRESS_KEEP.match, _ADDRESS_KEPT
    out: Column = []
    for v in values:
        if v.__class__ is not str or not v or v[-3:] == "***":  # a value ending in *** may be masked already
            out.append(slow(v))
            continue
        start = head(v)[0]  # type: ignore[index]  # all optional: always matches
        part = kept.get(start)
        if part is None:
            if len(kept) >= _ADDRESS_KEPT_MAX:
                kept.clear()
            part = kept[start] = keep(start)[0].rstrip()  # type: ignore[index]
        out.append(part + "***")
    return out


def _column_general(values: Column, slow: Callable[[Any], str | None]) -> Column:
    return [slow(v) for v in values]


def _column_withheld(values: Column, slow: Callable[[Any], str | None]) -> Column:
    return [None] * len(values)


_COLUMNS: Final[Mapping[PiClass, ColumnMasker]] = MappingProxyType({
    PiClass.RESIDENT_ID: _column_resident_id, PiClass.MOBILE: _column_mobile, PiClass.BIRTH_DATE: _column_birth_date,
    PiClass.NAME: _column_name, PiClass.ADDRESS: _column_address,
})


def compile_page(plan: Mapping[str, tuple[Treatment | str, PiClass | str]]) -> PageMasker:
    """Like `compile_plan`, for a page of rows at once, column by column (the same answers, faster per row);
    a masked value that is not text (a number) is masked as its text, a clear one keeps its type."""
    names = tuple(plan)
    treated: list[tuple[str, ColumnMasker, Callable[[Any], str | None]]] = []  # clear fields are left as they are
    for field, (field_treatment, pi_class) in plan.items():
        function = field_masker(field_treatment, pi_class)
        if function is not _identity:
            column = _column_withheld if function is _withhold else _COLUMNS.get(PiClass(pi_class), _column_general)
            treated.append((field, column, _as_text(function)))

    def run(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        # Copies of the rows with the treated columns written over: a row that holds exactly the planned
        # fields in the plan's order (the usual case) is then done; any other is rebuilt from the plan.
        out = [dict(row) for row in rows]
        for field, column, slow in treated:
            for row, value in zip(out, column([row.get(field) for row in out], slow), strict=True):
                row[field] = value
        return [row if tuple(row) == names else {field: row.get(field) for field in names} for row in out]

    return run


def mask_row(row: Mapping[str, str | None],
             plan: Mapping[str, tuple[Treatment | str, PiClass | str]]) -> dict[str, str | None]:
    """`row` as a grantee receives it under `plan` (field → (treatment, class)): the planned fields only.

    For many rows, compile the plan once with `compile_plan` and call the result.
    """
    return compile_plan(plan)(row)
