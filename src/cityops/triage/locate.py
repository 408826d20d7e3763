"""Address text → region: match a report's address against the platform's place names. Pure: no database.

The gazetteer holds every region's name, aliases made from it (张店区 → 张店, 和平街道 → 和平街办 / 和平) and the few
nicknames in data/place_aliases.csv. Matching has three steps:

1. a longest-first dictionary scan (a segmenter's maximum matching; a plain dict is much faster than jieba here);
2. a one-edit fuzzy pass over what the scan left, for the typos people make (张殿区, 马上街道, 黑里镇), restricted to
   names with the same ending and, for short names, to the district the text names;
3. a vote: the most specific place that agrees with the most evidence wins. When the evidence points two ways
   the result is "ambiguous" and lists the candidates; nothing is settled by a silent guess.

Names of divisions elsewhere in China come from cpca's table, so "济南市历下区" reads as outside the platform
rather than as nothing. Coordinates, when a report has them, win over text: compare_with_coordinates() only
flags a disagreement.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from typing import Any, Final, Literal

from cityops.regions.codes import level_for_division_code, scope_prefix_for

Status = Literal["resolved", "ambiguous", "unresolved"]
Kind = Literal["name", "variant", "stem", "fuzzy"]

_RANK: Final = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}
# An official name, a spelled-out variant or a district's stem (张店, 淄川: distinctive) is worth two of a street's
# stem or a corrected typo, so "张店凤凰城" stays 张店区 while "博山区中埠镇" is a contradiction.
_WEIGHT: Final[dict[str, int]] = {"name": 2, "variant": 2, "stem": 1, "fuzzy": 1}
_ENDINGS: Final[dict[str, tuple[str, ...]]] = {"city": ("市",), "district": ("区", "县", "市"),
                                               "street": ("街道", "镇", "乡")}
_STREET_OFFICE: Final = ("街办", "办事处", "街道办事处", "街道办")  # what people write for 街道
# Stems that are ordinary words or road names on their own (周村 大街街道 → 大街 is any high street).
_GENERIC_STEMS: Final = frozenset({"大街", "市中", "城关", "城区", "郊区", "矿区", "新区", "开发"})
_ROADLIKE: Final = ("路", "街", "道", "巷")
# A stem followed by one of these is part of a road name (和平路), not the street it is named after.
_ROAD_AFTER: Final = re.compile("[东西南北中]?路|大街|大道|道|巷|胡同|街(?![道到办])")
# Before a two-character stem: where a place name can start (else 火车站 would contain 车站).
_BOUNDARY_BEFORE: Final = frozenset("省市区县镇乡街道路号在于近到至住是的和与及往去从位处旁边")
# Typed endings → the family of official endings a fuzzy match must share (街到 is a common slip for 街道).
_SUFFIX_FAMILY: Final = {"街道办事处": "街道", "街道办": "街道", "街道": "街道", "街到": "街道", "街办": "街道",
                         "办事处": "街道", "镇": "镇", "乡": "镇", "区": "区", "县": "县", "市": "市"}
_STREET_FAMILIES: Final = frozenset({"街道", "镇"})
_SUFFIX_RE: Final = re.compile("|".join(sorted(_SUFFIX_FAMILY, key=len, reverse=True)))
_PROVINCE_ENDING: Final = re.compile("(省|市|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区)$")
_NOISE: Final = re.compile(r"\s+")
ALIASES_FILE: Final = "place_aliases.csv"


@dataclass(frozen=True)
class Place:
    """One region as the gazetteer needs it; `aliases` are extra names beyond the generated ones."""

    code: str
    name: str
    level: str
    parent_code: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddressMatch:
    """What the text says about where a report is. `approximate` is true unless the text named a grid.

    `candidates` are the places an ambiguous text may mean, or the place a lone short name may mean when the
    text is otherwise placed no deeper than the city. `reason` explains anything but a plain exact match.
    """

    code: str | None = None
    path: tuple[str, ...] = ()
    level: str | None = None
    approximate: bool = True
    matched: tuple[str, ...] = ()
    status: Status = "unresolved"
    candidates: tuple[str, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "path": list(self.path), "level": self.level,
                "approximate": self.approximate, "matched": list(self.matched),
                "candidates": list(self.candidates), "reason": self.reason}


@dataclass(frozen=True)
class _Entry:
    code: str
    kind: Kind


@dataclass(frozen=True)
class _Word:
    """What one string in the text can mean: places on the platform, a division elsewhere, or neither."""

    places: tuple[_Entry, ...] = ()
    outside: str | None = None  # official name of a division not on the platform
    outside_full: bool = False  # written with its ending (济南市), so not a road or a shop named 济南
    neutral: bool = False  # the province the city is in: says nothing either way


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    entries: tuple[_Entry, ...]
    corrected: str | None = None  # the name a fuzzy match stands for


@dataclass
class _EditIndex:
    """Names one edit away from a typed string, by dict look-ups only (the SymSpell idea): a wrong character is
    found by blanking each position, a missing one by indexing every name with one character deleted, an extra
    one by deleting each typed character."""

    whole: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    blanked: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    shortened: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, stem: str, code: str) -> None:
        self.whole[stem].add(code)
        for i in range(len(stem)):
            self.blanked[stem[:i] + "\0" + stem[i + 1:]].add(code)
            if len(stem) >= 3:  # dropping a character of a two-character name leaves too little to go on
                self.shortened[stem[:i] + stem[i + 1:]].add(code)

    def near(self, typed: str) -> set[str]:
        found: set[str] = set(self.shortened.get(typed, ()))
        for i in range(len(typed)):
            found |= self.blanked.get(typed[:i] + "\0" + typed[i + 1:], set())
            if len(typed) >= 3:
                found |= self.whole.get(typed[:i] + typed[i + 1:], set())
        return found


class Gazetteer:
    """Every place name and alias of the platform's regions, ready for matching. Immutable once built."""

    def __init__(self, places: Mapping[str, Place], paths: Mapping[str, tuple[str, ...]],
                 words: Mapping[str, _Word]) -> None:
        self._places, self._paths, self._words = dict(places), dict(paths), dict(words)
        self._lengths = _first_char_lengths(self._words)
        self._stems = {code: stem for code, p in self._places.items() if (stem := _stem(p)[0])}
        self._by_family, self._bare = self._edit_indexes()
        self._max_stem = max((len(s) for s in self._stems.values()), default=0)

    @classmethod
    def build(cls, places: Iterable[Place], *, outside: Iterable[tuple[str, str]] | None = None) -> Gazetteer:
        """Index `places` (any order; a place whose parent is missing hangs from nothing). `outside` lists
        (code, name) of divisions anywhere in China; by default cpca's table. Those on the platform are skipped."""
        by_code = {p.code: p for p in places}
        paths = {code: _path(code, by_code) for code in by_code}
        words: dict[str, _Word] = {}
        for word, entries in _place_words(by_code, paths).items():
            words[word] = _Word(places=entries)
        for word, found in _outside_words(by_code, cpca_divisions() if outside is None else outside).items():
            words.setdefault(word, found)  # a name on the platform wins: 唐山 is 唐山镇 here, not 唐山市
        return cls(by_code, paths, words)

    def __len__(self) -> int:
        return len(self._places)

    def place(self, code: str) -> Place | None:
        return self._places.get(code)

    def path(self, code: str) -> tuple[str, ...]:
        return self._paths.get(code, ())

    def name(self, code: str) -> str:
        place = self._places.get(code)
        return place.name if place else code

    def jieba_user_words(self) -> list[tuple[str, int, str]]:
        """(word, frequency, tag) for a jieba user dictionary: names and spelled-out aliases, and stems of three
        or more characters (two-character stems such as 和平 are ordinary words; tagging them as places would
        mislead a classifier)."""
        lines = []
        for word, found in sorted(self._words.items()):
            kinds = {e.kind for e in found.places}
            if kinds & {"name", "variant"}:
                lines.append((word, 50_000, "ns"))
            elif kinds and len(word) >= 3:
                lines.append((word, 10_000, "ns"))
        return lines

    def scan(self, text: str) -> list[tuple[int, int, _Word]]:
        """Dictionary matches (start, end, word), left to right, not overlapping: at each place the longest word,
        unless a shorter one lets the next word reach further (周村 | 大街街道 beats 周村大街 | 街道)."""
        hits = []
        i = 0
        while i < len(text):
            found = self._lengths_at(text, i) if text[i] in self._lengths else None
            if not found:
                i += 1
                continue
            length = found[0] if len(found) == 1 else max(found, key=lambda n: (self._reach(text, i, n), n))
            hits.append((i, i + length, self._words[text[i:i + length]]))
            i += length
        return hits

    def _lengths_at(self, text: str, i: int) -> list[int]:
        """Lengths of the words starting at `i`, longest first."""
        return [n for n in self._lengths.get(text[i], ()) if i + n <= len(text) and text[i:i + n] in self._words]

    def _reach(self, text: str, i: int, length: int) -> int:
        following = self._lengths_at(text, i + length) if i + length < len(text) else []
        return length + (following[0] if following else 0)

    def _edit_indexes(self) -> tuple[dict[str, _EditIndex], dict[str, _EditIndex]]:
        """By name ending (区, 县, 市, 街道, 镇) for typed names with an ending; by district for street stems of
        three or more characters typed without one (四宝山 as 四宝, 体育场 as 体育厂)."""
        by_family: dict[str, _EditIndex] = defaultdict(_EditIndex)
        bare: dict[str, _EditIndex] = defaultdict(_EditIndex)
        for code, stem in self._stems.items():
            place = self._places[code]
            family = _SUFFIX_FAMILY[_stem(place)[1]]
            by_family[family].add(stem, code)
            if place.level == "street" and len(stem) >= 3 and _bare_ok(stem) and place.parent_code:
                bare[place.parent_code].add(stem, code)
        return dict(by_family), dict(bare)


# --- building ---------------------------------------------------------------------------------------------


def _path(code: str, by_code: Mapping[str, Place]) -> tuple[str, ...]:
    path = [code]
    parent = by_code[code].parent_code
    while parent is not None and parent in by_code and parent not in path:
        path.append(parent)
        parent = by_code[parent].parent_code
    return tuple(reversed(path))


def _stem(place: Place) -> tuple[str | None, str]:
    """The name without its official ending, and the ending; (None, "") for names without one."""
    for ending in _ENDINGS.get(place.level, ()):
        stem = place.name.removesuffix(ending)
        if stem != place.name and len(stem) >= 2:
            return stem, ending
    return None, ""


def _bare_ok(stem: str) -> bool:
    return stem not in _GENERIC_STEMS and not stem.endswith(_ROADLIKE)


def generated_aliases(place: Place) -> list[tuple[str, Kind]]:
    """The strings that name `place`: its name, given aliases, written-out variants and the bare stem."""
    found: list[tuple[str, Kind]] = [(place.name, "name"), *((a, "variant") for a in place.aliases)]
    stem, ending = _stem(place)
    if stem is None:
        return found
    if ending == "街道":
        found.extend((stem + office, "variant") for office in _STREET_OFFICE)
    if _bare_ok(stem):
        found.append((stem, "stem"))
    return found


def _place_words(by_code: Mapping[str, Place], paths: Mapping[str, tuple[str, ...]]
                 ) -> dict[str, tuple[_Entry, ...]]:
    strongest: dict[str, dict[str, Kind]] = defaultdict(dict)
    for place in by_code.values():
        for alias, kind in generated_aliases(place):
            alias = normalise(alias)
            if len(alias) < 2:  # one character is part of too many words
                continue
            known = strongest[alias].get(place.code)
            if known is None or _WEIGHT[kind] > _WEIGHT[known]:
                strongest[alias][place.code] = kind
    words = {}
    for alias, kinds in strongest.items():
        # 博山 is 博山区 and the stem of 博山镇 inside it: the word says no more than the district.
        kept = [c for c in kinds if not any(o != c and o in paths[c] for o in kinds)]
        words[alias] = tuple(_Entry(code, kinds[code]) for code in sorted(kept))
    return words


def _outside_words(by_code: Mapping[str, Place], divisions: Iterable[tuple[str, str]]) -> dict[str, _Word]:
    cities = [code for code, p in by_code.items() if p.level == "city"]
    home_provinces = {code[:2] + "0000" for code in cities}
    words: dict[str, _Word] = {}
    for code, name in divisions:
        if code in by_code or name == "市辖区" or "直辖" in name:
            continue
        short = _PROVINCE_ENDING.sub("", name) if code.endswith("00") else None
        if code in home_provinces:
            for word in filter(None, (name, short)):
                words[word] = _Word(neutral=True)
            continue
        if len(name) >= 3:  # 城区, 郊区, 曹县… are too short to tell from ordinary text
            words.setdefault(name, _Word(outside=name, outside_full=True))
        if short and len(short) >= 2 and short != name:
            words.setdefault(short, _Word(outside=name))
    return words


def _first_char_lengths(words: Mapping[str, _Word]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = defaultdict(set)
    for word in words:
        lengths[word[0]].add(len(word))
    return {char: tuple(sorted(found, reverse=True)) for char, found in lengths.items()}


@cache
def cpca_divisions() -> tuple[tuple[str, str], ...]:
    """(code, name) of every province, city and county in cpca's table (imported here: it takes ~0.2 s)."""
    import cpca

    return tuple((info.adcode, info.name) for info in cpca.ad_2_addr_dict.values())


@cache
def packaged_aliases() -> dict[str, tuple[str, ...]]:
    """Nicknames and landmarks from data/place_aliases.csv (code,alias,source), by region code."""
    text = (files("cityops.triage") / "data" / ALIASES_FILE).read_text(encoding="utf-8")
    found: dict[str, list[str]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(text)):
        found[row["code"].strip()].append(row["alias"].strip())
    return {code: tuple(aliases) for code, aliases in found.items()}


def with_packaged_aliases(places: Iterable[Place]) -> list[Place]:
    extra = packaged_aliases()
    return [Place(p.code, p.name, p.level, p.parent_code, p.aliases + extra.get(p.code, ())) for p in places]


def normalise(text: str) -> str:
    """Full-width forms to half-width (１２号 → 12号) and no whitespace, so typed and stored names compare."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text))


# --- matching ---------------------------------------------------------------------------------------------


def locate_text(gazetteer: Gazetteer, text: str) -> AddressMatch:
    """Where the address text points, as precisely as the text allows; see the module notes."""
    clean = normalise(text or "")
    if not clean:
        return AddressMatch(reason="地址为空 / the address is empty")
    covered = bytearray(len(clean))
    tokens, outside = _exact_tokens(gazetteer, clean, covered)
    tokens += _suffix_fuzzy(gazetteer, clean, covered, tokens, streets=False)  # first: a district vouches below
    tokens += _suffix_fuzzy(gazetteer, clean, covered, tokens, streets=True)
    tokens += _bare_fuzzy(gazetteer, clean, covered, tokens)
    return _decide(gazetteer, sorted(tokens, key=lambda t: t.start), outside)


def _exact_tokens(g: Gazetteer, text: str, covered: bytearray) -> tuple[list[_Token], list[_Word]]:
    tokens: list[_Token] = []
    outside: list[_Word] = []
    previous_end = 0
    for start, end, word in g.scan(text):
        covered[start:end] = b"\1" * (end - start)
        if word.outside:
            if word.outside_full or not _ROAD_AFTER.match(text, end):  # 济南路 is a road in many cities
                outside.append(word)
        elif word.places and _standalone(text, start, end, word, previous_end):
            tokens.append(_Token(start, end, text[start:end], word.places))
        previous_end = end
    return tokens, outside


def _standalone(text: str, start: int, end: int, word: _Word, previous_end: int) -> bool:
    """A bare stem counts only when it is not the front of a road name (和平路) and, if it is two characters,
    not the tail of a longer word (火车站, 人民公园)."""
    if any(e.kind != "stem" for e in word.places):
        return True
    if _ROAD_AFTER.match(text, end):
        return False
    if end - start > 2 or start == 0 or start == previous_end:
        return True
    before = text[start - 1]
    return not _is_han(before) or before in _BOUNDARY_BEFORE


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _districts_named(g: Gazetteer, tokens: Sequence[_Token]) -> set[str]:
    return {e.code for t in tokens for e in t.entries if _level(g, e.code) == "district"}


def _level(g: Gazetteer, code: str) -> str:
    place = g.place(code)
    return place.level if place else ""


def _suffix_fuzzy(g: Gazetteer, text: str, covered: bytearray, tokens: Sequence[_Token], *,
                  streets: bool) -> list[_Token]:
    """Typed names that end like a place (…区, …街道, …镇) and are one edit from a place name with that ending.
    Two-character street names are only corrected inside a district the text names: 50% of the evidence is
    wrong in such a typo, so the district must vouch for it."""
    found: list[_Token] = []
    districts = _districts_named(g, tokens)
    for m in _SUFFIX_RE.finditer(text):
        if any(covered[m.start():m.end()]):
            continue
        family = _SUFFIX_FAMILY[m.group()]
        index = g._by_family.get(family)
        if index is None or (family in _STREET_FAMILIES) != streets:
            continue
        windows = _windows_before(text, covered, m.start(), g._max_stem + 1)
        codes = {c: start for start in windows for c in index.near(text[start:m.start()])}
        codes = {c: s for c, s in codes.items() if _fits(g, c, districts)}
        if len(codes) == 1:
            ((code, start),) = codes.items()
            found.append(_fuzzy_token(g, text, covered, start, m.end(), code))
    return found


def _fits(g: Gazetteer, code: str, districts: set[str]) -> bool:
    if _level(g, code) != "street":
        return True
    if districts:
        return bool(districts & set(g.path(code)))
    return len(g._stems[code]) >= 3


def _windows_before(text: str, covered: bytearray, end: int, longest: int) -> list[int]:
    """Start positions of the Chinese, unmatched stretches of 2..`longest` characters ending at `end`."""
    starts = []
    for k in range(1, longest + 1):
        start = end - k
        if start < 0 or covered[start] or not _is_han(text[start]):
            break
        if k >= 2:
            starts.append(start)
    return starts


def _bare_fuzzy(g: Gazetteer, text: str, covered: bytearray, tokens: Sequence[_Token]) -> list[_Token]:
    """Right after a district named in the text, a street name typed without its ending and one edit off."""
    found: list[_Token] = []
    for token in tokens:
        districts = [e.code for e in token.entries if _level(g, e.code) == "district"]
        if len(districts) != 1 or districts[0] not in g._bare or _has_street_under(g, tokens, districts[0]):
            continue
        index, codes = g._bare[districts[0]], {}
        for end in range(token.end + 1, min(len(text), token.end + g._max_stem + 1) + 1):
            if covered[end - 1] or not _is_han(text[end - 1]):
                break
            if end - token.end >= 2:
                codes.update(dict.fromkeys(index.near(text[token.end:end]), end))
        if len(codes) == 1:
            ((code, end),) = codes.items()
            found.append(_fuzzy_token(g, text, covered, token.end, end, code))
    return found


def _has_street_under(g: Gazetteer, tokens: Sequence[_Token], district: str) -> bool:
    return any(_RANK.get(_level(g, e.code), 0) >= _RANK["street"] and district in g.path(e.code)
               for t in tokens for e in t.entries)


def _fuzzy_token(g: Gazetteer, text: str, covered: bytearray, start: int, end: int, code: str) -> _Token:
    covered[start:end] = b"\1" * (end - start)
    return _Token(start, end, text[start:end], (_Entry(code, "fuzzy"),), corrected=g.name(code))


# --- deciding ---------------------------------------------------------------------------------------------


def _decide(g: Gazetteer, tokens: list[_Token], outside: list[_Word]) -> AddressMatch:
    named_home = any(_RANK.get(_level(g, e.code), 9) <= _RANK["district"] for t in tokens for e in t.entries)
    if outside and (not tokens or (any(w.outside_full for w in outside) and not named_home)):
        names = "、".join(dict.fromkeys(w.outside or "" for w in outside))
        return AddressMatch(reason=f"地址不在本平台辖区：{names} / the address is outside this platform's "
                                   f"regions: {names}")
    if not tokens:
        return AddressMatch(reason="未识别到地名 / no known place name in the address")
    support = _support(g, tokens)
    best = max(support.values())
    top = _deepest(g, [code for code, score in support.items() if score == best])
    if len(top) > 1:
        return _ambiguous(g, tokens, top)
    code = top[0]
    used = [t for t in tokens if _supports(g, t, code)]
    short = _lone_short_stem(g, used, code)
    found = _resolved(g, code, used) if short is None else _untrusted(g, code, short, used)
    return _noting_unused(found, [t for t in tokens if t not in used])


def _supports(g: Gazetteer, token: _Token, code: str) -> bool:
    path = g.path(code)
    return any(e.code in path for e in token.entries)


def _support(g: Gazetteer, tokens: Sequence[_Token]) -> dict[str, int]:
    codes = {e.code for t in tokens for e in t.entries}
    return {code: sum(_weight(g, t) for t in tokens if _supports(g, t, code)) for code in codes}


def _weight(g: Gazetteer, token: _Token) -> int:
    return max(2 if e.kind == "stem" and _RANK.get(_level(g, e.code), 9) <= _RANK["district"] else _WEIGHT[e.kind]
               for e in token.entries)


def _deepest(g: Gazetteer, codes: Sequence[str]) -> list[str]:
    """Drop every code that is an ancestor of another: the most specific agreeing place wins."""
    return sorted(c for c in codes if not any(o != c and c in g.path(o) for o in codes))


def _lone_short_stem(g: Gazetteer, used: Sequence[_Token], code: str) -> _Token | None:
    """The token, when nothing but a two-character stem (凤凰, 中埠) places the report below district level: such
    stems are ordinary words too (凤凰城小区), and naming the city (淄博) does not vouch for them."""
    below_city = [t for t in used if any(_level(g, e.code) != "city" for e in t.entries)]
    if len(below_city) != 1 or _RANK.get(_level(g, code), 0) < _RANK["street"]:
        return None
    token = below_city[0]
    return token if all(e.kind == "stem" for e in token.entries) and len(token.text) <= 2 else None


def _untrusted(g: Gazetteer, code: str, short: _Token, used: Sequence[_Token]) -> AddressMatch:
    """What the rest of the text supports (the city, or nothing), with the short stem's place as a candidate."""
    note = (f"仅凭简称「{short.text}」不足以确定位置，可能是{g.name(code)} / the short name {short.text} alone is "
            f"not enough to place the report; it may be {g.name(code)}")
    rest = [t for t in used if t is not short]
    if not rest:
        return AddressMatch(matched=(short.text,), candidates=(code,), reason=note)
    area = _deepest(g, [e.code for t in rest for e in t.entries if e.code in g.path(code)])[0]
    return replace(_resolved(g, area, rest), candidates=(code,), reason=note)


def _noting_unused(found: AddressMatch, unused: Sequence[_Token]) -> AddressMatch:
    """Names outvoted by the rest of the text are said, not dropped silently (博山区和平小区: 和平 is not used)."""
    if not unused:
        return found
    names = "、".join(dict.fromkeys(t.text for t in unused))
    note = f"未采用与其余地址不一致的地名：{names} / not used, as they disagree with the rest: {names}"
    return replace(found, reason=f"{found.reason}; {note}" if found.reason else note)


def _resolved(g: Gazetteer, code: str, used: Sequence[_Token]) -> AddressMatch:
    level = _level(g, code)
    fixes = [f"{t.text}→{t.corrected}" for t in used if t.corrected]
    reason = f"按近似写法匹配：{'、'.join(fixes)} / matched by a near spelling: {', '.join(fixes)}" if fixes else None
    return AddressMatch(code=code, path=g.path(code), level=level, approximate=level != "grid",
                        matched=tuple(dict.fromkeys(t.text for t in used)), status="resolved", reason=reason)


def _ambiguous(g: Gazetteer, tokens: Sequence[_Token], top: Sequence[str]) -> AddressMatch:
    common = _common_prefix([g.path(c) for c in top])
    names = "、".join(g.name(c) for c in top)
    one_word = [t.text for t in tokens if all(_supports(g, t, c) for c in top) and len(t.entries) > 1]
    if one_word:
        reason = f"「{one_word[0]}」对应多个地点：{names} / {one_word[0]} names more than one place: {names}"
    else:
        reason = f"地址中的地名互相矛盾：{names} / the place names point to different places: {names}"
    return AddressMatch(code=common[-1] if common else None, path=common,
                        level=_level(g, common[-1]) if common else None,
                        matched=tuple(dict.fromkeys(t.text for t in tokens)), status="ambiguous",
                        candidates=tuple(top), reason=reason)


def _common_prefix(paths: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    common: list[str] = []
    for steps in zip(*paths, strict=False):
        if len(set(steps)) != 1:
            break
        common.append(steps[0])
    return tuple(common)


# --- text against coordinates -----------------------------------------------------------------------------


def compare_with_coordinates(coord_path: Sequence[str], match: AddressMatch, *,
                             gazetteer: Gazetteer | None = None) -> dict[str, Any] | None:
    """A flag when the address text and the report's point (its region path, city first) disagree; None when
    they agree or there is nothing to compare. Coordinates win: this never changes where the report goes.

    Agreeing means one contains the other (text says 张店区, point is in a grid of 张店区; or the text names a
    street and the point was only placed in its district). For an ambiguous text, one candidate is enough.
    `gazetteer`, when given, puts names instead of codes in the message.
    """
    if not coord_path or match.code is None:
        return None
    texts = match.candidates or (match.code,)
    if any(_nested(code, coord_path) for code in texts):
        return None
    text_area, point_area = _divergence(match.path or (match.code,), coord_path)
    name = gazetteer.name if gazetteer else (lambda code: code)
    said = "、".join(name(c) for c in texts) if text_area is None else name(text_area)
    lies = name(point_area)
    return {"kind": "address_disagrees_with_coordinates", "text_code": match.code,
            "text_candidates": list(match.candidates), "text_area": text_area, "point_code": coord_path[-1],
            "point_area": point_area,
            "message": f"地址文字指向{said}，坐标位于{lies} / the address text says {said} but the point lies in "
                       f"{lies}"}


def _nested(code: str, coord_path: Sequence[str]) -> bool:
    if code in coord_path:
        return True
    level = level_for_division_code(coord_path[-1])
    return level is not None and code.startswith(scope_prefix_for(coord_path[-1], level))


def _divergence(text_path: Sequence[str], coord_path: Sequence[str]) -> tuple[str | None, str]:
    """Where the two paths part: (the text's region, the point's region) at the first level that differs. An
    ambiguous text's path is only the candidates' common part; then the point's next level is named."""
    for said, lies in zip(text_path, coord_path, strict=False):
        if said != lies:
            return said, lies
    return None, coord_path[min(len(text_path), len(coord_path) - 1)]


# --- jieba ------------------------------------------------------------------------------------------------


def load_place_words(tokenizer: Any, words: Iterable[tuple[str, int, str]]) -> Any:
    """Add place words to a jieba Tokenizer, never lowering a frequency jieba already has (a stem that is
    also a common word keeps its weight). Returns the tokenizer."""
    tokenizer.check_initialized()
    for word, freq, tag in words:
        tokenizer.add_word(word, max(freq, tokenizer.FREQ.get(word, 0)), tag)
    return tokenizer


def place_tokenizer(gazetteer: Gazetteer) -> Any:
    """A jieba Tokenizer of its own (not jieba's global one, which other code shares) that keeps the
    platform's place names whole: 张店区 / 车站街道 rather than 张店 / 区 / 车站 / 街道."""
    import jieba

    return load_place_words(jieba.Tokenizer(), gazetteer.jieba_user_words())
