"""The data-quality report of one dataset (数据质量核查): scores in [0, 1] with examples. Pure.

Five measures, each a score in [0, 1], or None when it does not apply:

| measure      | per field                                        | dataset                                         |
|--------------|--------------------------------------------------|-------------------------------------------------|
| completeness | non-missing values ÷ rows                        | mean over fields; required / key fields weigh 2 |
| validity     | values passing the field's checks ÷ non-missing  | mean over fields with at least one value        |
| uniqueness   | distinct ÷ non-missing (unique, ID, USCC fields) | the primary key's, else those fields' mean      |
| timeliness   | —                                                | against the stated update frequency             |
| consistency  | —                                                | mean of the cross-dataset comparisons given     |

Validity re-checks every stored value against the schema as it is now (it may have been tightened since the
import): the value goes back to text (`str(value)`, booleans as true/false) through `schema.compile_field`.
`assess` reads the rows once and keeps counters, a few examples and, for the uniqueness fields only, sets of
hashes, so a million-row dataset is assessed without holding its rows. Two different values with the same
64-bit hash would count as one; at a million values the chance is about one in ten million.

Example values are masked by the field's personal-information class, so a report never shows a whole ID
number or phone number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cityops.datahub.masking import mask_value
from cityops.datahub.schema import CheckContext, FieldCheck, FieldSpec, TableSchema, compile_field
from cityops.datahub.standards import Violation

FREQUENCIES: Final[Mapping[str, timedelta | None]] = {
    "realtime": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
    "monthly": timedelta(days=31),
    "quarterly": timedelta(days=92),
    "yearly": timedelta(days=366),
    "irregular": None,
}

MEASURES: Final = ("completeness", "validity", "uniqueness", "timeliness", "consistency")
MEASURE_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "completeness": ("完整性", "Completeness"),
    "validity": ("有效性", "Validity"),
    "uniqueness": ("唯一性", "Uniqueness"),
    "timeliness": ("及时性", "Timeliness"),
    "consistency": ("一致性", "Consistency"),
}
WEIGHTS: Final[Mapping[str, float]] = {
    "completeness": 0.25, "validity": 0.35, "uniqueness": 0.15, "timeliness": 0.15, "consistency": 0.10,
}

UNIQUE_STANDARDS: Final = frozenset({"resident_id", "credit_code"})  # identifiers: one per person / organisation
REQUIRED_WEIGHT: Final = 2.0
CONSISTENCY_EXAMPLES: Final = 10
EXAMPLE_TEXT_LIMIT: Final = 100
MEMO_SIZE: Final = 1024  # distinct texts per field whose verdict is remembered (a field of codes repeats them)
# A field holding an identifier or phone number is masked even when its schema forgot to say piClass.
_STANDARD_PI_CLASS: Final[Mapping[str, str]] = {
    "resident_id": "resident_id", "mobile": "mobile", "landline": "phone", "phone": "phone",
}


_UNSEEN: Final = Violation("", "", "")  # a memo miss, told apart from a remembered None (a good value)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- report types ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FailedValue:
    """A stored value that fails its field's checks now; `row` is its 1-based position in the assessed rows."""

    row: int
    value: str | None  # masked when the field holds personal information
    rule: str
    message: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "value": self.value, "rule": self.rule, "message": self.message,
                "message_en": self.message_en}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One compared field of one shared key whose values differ between the two datasets."""

    key: str | None  # masked when the key holds personal information
    field: str  # the left field, or "left/right" when the two datasets name it differently
    left: str | None
    right: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "field": self.field, "left": self.left, "right": self.right}


@dataclass(frozen=True)
class FieldQuality:
    name: str
    title: str | None
    required: bool  # required, or part of the primary key
    rows: int
    present: int  # non-missing values
    valid: int  # non-missing values that pass the field's checks
    distinct: int | None  # distinct non-missing values, for the uniqueness fields only
    completeness: float | None  # None when there are no rows
    validity: float | None  # None when the field has no value
    uniqueness: float | None  # None unless unique / an identifier standard, or without values
    failures: tuple[FailedValue, ...] = ()
    missing_required_rows: tuple[int, ...] = ()

    @property
    def missing(self) -> int:
        return self.rows - self.present

    @property
    def invalid(self) -> int:
        return self.present - self.valid

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "required": self.required, "rows": self.rows,
            "present": self.present, "missing": self.missing, "valid": self.valid, "invalid": self.invalid,
            "distinct": self.distinct, "completeness": _rounded(self.completeness),
            "validity": _rounded(self.validity), "uniqueness": _rounded(self.uniqueness),
            "failures": [f.to_dict() for f in self.failures],
            "missing_required_rows": list(self.missing_required_rows),
        }


@dataclass(frozen=True)
class ConsistencyResult:
    """The same keys compared across two datasets (e.g. the same ID with different names)."""

    left_name: str
    right_name: str
    left_key: str
    right_key: str
    compare: tuple[tuple[str, str], ...]
    matched: int  # distinct keys present in both
    mismatched: int  # of those, keys where at least one compared pair differs
    score: float | None  # 1 − mismatched ÷ matched; None when no key matched
    examples: tuple[Mismatch, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "left_name": self.left_name, "right_name": self.right_name, "left_key": self.left_key,
            "right_key": self.right_key, "compare": [list(pair) for pair in self.compare],
            "matched": self.matched, "mismatched": self.mismatched, "score": _rounded(self.score),
            "examples": [e.to_dict() for e in self.examples],
        }


@dataclass(frozen=True)
class DatasetQuality:
    rows: int
    completeness: float | None
    validity: float | None
    uniqueness: float | None
    timeliness: float | None
    consistency: float | None
    overall: float | None  # weighted mean of the scores above that are not None
    fields: tuple[FieldQuality, ...]
    key_uniqueness: float | None  # the primary key's (joined values), None without a key or key values
    consistency_checks: tuple[ConsistencyResult, ...]
    frequency: str
    data_updated_at: datetime | None
    assessed_at: datetime

    def score(self, measure: str) -> float | None:
        if measure not in MEASURES:
            raise ValueError(f"unknown quality measure {measure!r}; expected one of {', '.join(MEASURES)}")
        value: float | None = getattr(self, measure)
        return value

    def field(self, name: str) -> FieldQuality:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "overall": _rounded(self.overall),
            **{m: _rounded(self.score(m)) for m in MEASURES},
            "measures": [
                {"measure": m, "label": MEASURE_LABELS[m][0], "label_en": MEASURE_LABELS[m][1],
                 "score": _rounded(self.score(m)), "weight": WEIGHTS[m]}
                for m in MEASURES],
            "key_uniqueness": _rounded(self.key_uniqueness),
            "fields": [f.to_dict() for f in self.fields],
            "consistency_checks": [c.to_dict() for c in self.consistency_checks],
            "frequency": self.frequency,
            "data_updated_at": self.data_updated_at.isoformat() if self.data_updated_at else None,
            "assessed_at": self.assessed_at.isoformat(),
        }


# --- single measures -------------------------------------------------------------------------------------


def period_of(frequency: str) -> timedelta | None:
    """The update period a frequency promises (None for irregular); ValueError naming an unknown frequency."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown update frequency {frequency!r}; expected one of {', '.join(FREQUENCIES)}")
    return FREQUENCIES[frequency]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # stored naive times are UTC


def timeliness(frequency: str, data_updated_at: datetime | None, now: datetime) -> float | None:
    """1.0 within the period, falling linearly to 0 at three periods; None for irregular, 0 if never updated."""
    period = period_of(frequency)
    if period is None:
        return None
    if data_updated_at is None:
        return 0.0
    age = _aware(now) - _aware(data_updated_at)
    if age <= period:
        return 1.0
    return max(0.0, 1.0 - (age - period) / (2 * period))


def overall(scores: Mapping[str, float | None]) -> float | None:
    """The weighted mean of the scores that are not None, weights re-normalised over them."""
    weighted = [(WEIGHTS[m], s) for m, s in scores.items() if s is not None and m in WEIGHTS]
    total = sum(w for w, _ in weighted)
    if total == 0:
        return None
    return sum(w * s for w, s in weighted) / total


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _masked(text: str | None, pi_class: str) -> str | None:
    if text is None:
        return None
    text = text[:EXAMPLE_TEXT_LIMIT]
    return text if pi_class == "none" else mask_value(text, pi_class)


def _pi_class(spec: FieldSpec) -> str:
    if spec.pi_class == "none" and spec.standard is not None:
        return _STANDARD_PI_CLASS.get(spec.standard, "none")
    return spec.pi_class


def _key(value: Any) -> str | None:
    text = _text(value)
    return text.upper() if text else None


def consistency(
    left_rows: Iterable[Mapping[str, Any]],
    right_rows: Iterable[Mapping[str, Any]],
    *,
    left_key: str,
    right_key: str,
    compare: Sequence[tuple[str, str]],
    left_name: str,
    right_name: str,
    pi_classes: Mapping[str, str] | None = None,
) -> ConsistencyResult:
    """Compare two datasets on their shared keys (normalised: stripped, upper-case).

    A key counts once, with its first row on each side. It mismatches when any compared pair of fields has
    two non-missing values that differ after stripping whitespace. `pi_classes` maps left field names (the key
    included) to the piClass whose masker shows them in the examples.
    """
    pairs = tuple((str(a), str(b)) for a, b in compare)
    classes = pi_classes or {}
    right_index: dict[str, tuple[str | None, ...]] = {}
    for row in right_rows:
        key = _key(row.get(right_key))
        if key is not None and key not in right_index:
            right_index[key] = tuple(_text(row.get(b)) or None for _, b in pairs)
    seen: set[str] = set()
    mismatched = 0
    examples: list[Mismatch] = []
    for row in left_rows:
        key = _key(row.get(left_key))
        if key is None or key in seen or key not in right_index:
            continue
        seen.add(key)
        right_values = right_index[key]
        differs = False
        for (a, b), right in zip(pairs, right_values, strict=True):
            left = _text(row.get(a)) or None
            if left is None or right is None or left == right:
                continue
            differs = True
            if len(examples) < CONSISTENCY_EXAMPLES:
                pi = classes.get(a, "none")
                examples.append(Mismatch(key=_masked(key, classes.get(left_key, "none")),
                                         field=a if a == b else f"{a}/{b}",
                                         left=_masked(left, pi), right=_masked(right, pi)))
        mismatched += differs
    matched = len(seen)
    score = None if matched == 0 else 1.0 - mismatched / matched
    return ConsistencyResult(left_name=left_name, right_name=right_name, left_key=left_key, right_key=right_key,
                             compare=pairs, matched=matched, mismatched=mismatched, score=score,
                             examples=tuple(examples))


# --- the whole report ------------------------------------------------------------------------------------


class _FieldTally:
    """Counters of one field while the rows go by."""

    __slots__ = ("check", "failures", "hashes", "memo", "missing_rows", "pi_class", "present", "required", "spec",
                 "upper", "valid")

    def __init__(self, spec: FieldSpec, check: FieldCheck, *, required: bool, counts_unique: bool) -> None:
        self.spec = spec
        self.check = check
        self.required = required
        self.pi_class = _pi_class(spec)
        self.upper = spec.standard in UNIQUE_STANDARDS
        self.present = 0
        self.valid = 0
        self.hashes: set[int] | None = set() if counts_unique else None
        self.failures: list[FailedValue] = []
        self.missing_rows: list[int] = []
        self.memo: dict[str, Violation | None] = {}  # verdicts of the first distinct texts: codes, dates, flags

    def result(self, rows: int) -> FieldQuality:
        hashes = self.hashes
        distinct = None if hashes is None else len(hashes)
        return FieldQuality(
            name=self.spec.name, title=self.spec.title, required=self.required, rows=rows, present=self.present,
            valid=self.valid, distinct=distinct, completeness=_ratio(self.present, rows),
            validity=_ratio(self.valid, self.present),
            uniqueness=None if distinct is None else _ratio(distinct, self.present),
            failures=tuple(self.failures), missing_required_rows=tuple(self.missing_rows))


def assess(
    rows: Iterable[Mapping[str, Any]],
    schema: TableSchema,
    *,
    context: CheckContext,
    frequency: str,
    data_updated_at: datetime | None,
    now: datetime,
    consistency: Sequence[ConsistencyResult] = (),
    examples: int = 5,
) -> DatasetQuality:
    """The quality report of a dataset's stored rows against its schema, in one pass over the rows.

    A value is missing when it is None, absent, or (as text, stripped) empty or one of the schema's missingValues.
    The primary key counts for uniqueness only in rows where every key field has a value.
    `examples` bounds, per field, the failing values and the rows missing a required value that are kept.
    """
    time_score = timeliness(frequency, data_updated_at, now)  # refuses an unknown frequency before any row
    missing_values = frozenset(schema.missing_values)
    key_fields = schema.primary_key
    tallies = [
        _FieldTally(spec, compile_field(spec, context), required=spec.required or spec.name in key_fields,
                    counts_unique=spec.unique or spec.standard in UNIQUE_STANDARDS)
        for spec in schema.fields]
    key_hashes: set[int] = set()
    key_present = 0
    key_positions = {name: i for i, name in enumerate(key_fields)}
    plan = [(t, t.spec.name, key_positions.get(t.spec.name, -1), t.memo) for t in tallies]
    count = 0
    for count, row in enumerate(rows, start=1):
        parts: list[str | None] = [None] * len(key_fields)
        for tally, name, key_position, memo in plan:
            value = row.get(name)
            if value.__class__ is str:
                text = value.strip()
            elif value is None:
                text = ""
            elif value.__class__ is bool:
                text = "true" if value else "false"
            else:
                text = str(value).strip()
            if not text or text in missing_values:
                if tally.required and len(tally.missing_rows) < examples:
                    tally.missing_rows.append(count)
                continue
            tally.present += 1
            if key_position >= 0 or tally.hashes is not None:
                same = text.upper() if tally.upper else text  # an ID's final x and X are the same ID
                if key_position >= 0:
                    parts[key_position] = same
                if tally.hashes is not None:
                    tally.hashes.add(hash(same))
            problem = memo.get(text, _UNSEEN)
            if problem is _UNSEEN:
                problem = tally.check(text)[1]
                if len(memo) < MEMO_SIZE:
                    memo[text] = problem
            if problem is None:
                tally.valid += 1
            elif len(tally.failures) < examples:
                tally.failures.append(FailedValue(row=count, value=_masked(text, tally.pi_class), rule=problem.rule,
                                                  message=problem.message, message_en=problem.message_en))
        if key_fields and None not in parts:
            key_present += 1
            key_hashes.add(hash(tuple(parts)))
    fields = tuple(t.result(count) for t in tallies)

    completeness: float | None = None
    if count:
        weighted = [(REQUIRED_WEIGHT if f.required else 1.0, f.completeness or 0.0) for f in fields]
        completeness = sum(w * s for w, s in weighted) / sum(w for w, _ in weighted)
    validity = _mean(f.validity for f in fields)
    key_uniqueness = _ratio(len(key_hashes), key_present) if key_fields else None
    uniqueness = key_uniqueness if key_uniqueness is not None else _mean(f.uniqueness for f in fields)
    consistency_score = _mean(c.score for c in consistency)
    scores = {"completeness": completeness, "validity": validity, "uniqueness": uniqueness,
              "timeliness": time_score, "consistency": consistency_score}
    return DatasetQuality(
        rows=count, completeness=completeness, validity=validity, uniqueness=uniqueness, timeliness=time_score,
        consistency=consistency_score, overall=overall(scores), fields=fields, key_uniqueness=key_uniqueness,
        consistency_checks=tuple(consistency), frequency=frequency, data_updated_at=data_updated_at,
        assessed_at=now)
