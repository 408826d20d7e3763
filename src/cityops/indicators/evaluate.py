"""Graded warnings from observations: a pure function, no database, no clock.

A threshold set has up to four levels (blue < yellow < orange < red), all comparing the same way
(`above`: the value is at or over the line; `below`: at or under it). A level is *entered* when its condition
has held for `duration_s` seconds and `repetitions` readings in a row; once entered (or any higher level was),
it is *held* until the value goes past its clear line, which lies on the safe side of the trigger line. The gap
between the two lines is the hysteresis: a value hovering at the trigger line moves between "entered" and
"held", never between "alarm" and "no alarm", so the level does not flap.

    state = State()
    for ts, value in observations:
        state, result = evaluate(thresholds, state, ts, value)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any, Final, Literal, get_args

from cityops.core.errors import ValidationFailed

Level = Literal["none", "blue", "yellow", "orange", "red"]
Comparison = Literal["above", "below"]
LEVELS: Final[tuple[Level, ...]] = get_args(Level)
WARNING_LEVELS: Final[tuple[Level, ...]] = LEVELS[1:]
COMPARISONS: Final[tuple[Comparison, ...]] = get_args(Comparison)
LEVEL_NAMES: Final[dict[str, str]] = {"none": "无", "blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


_RANKS: Final[dict[str, int]] = {level: i for i, level in enumerate(LEVELS)}


def rank(level: str) -> int:
    return _RANKS[level]


@dataclass(frozen=True)
class Rule:
    """One level's condition: past `value` for `duration_s` and `repetitions` readings; cleared past `clear_value`."""

    level: Level
    comparison: Comparison
    value: float
    clear_value: float
    duration_s: float = 0.0
    repetitions: int = 1

    def triggered(self, value: float) -> bool:
        return value >= self.value if self.comparison == "above" else value <= self.value

    def cleared(self, value: float) -> bool:
        return value < self.clear_value if self.comparison == "above" else value > self.clear_value

    def describe(self) -> str:
        sign = "≥" if self.comparison == "above" else "≤"
        parts = [f"{sign} {self.value:g}"]
        if self.duration_s:
            parts.append(f"{self.duration_s / 60:g} min")
        if self.repetitions > 1:
            parts.append(f"{self.repetitions}×")
        return " ".join(parts)


@dataclass(frozen=True)
class ThresholdSet:
    """The rules of one indicator in one region, checked: one per level, lines in order, clear lines safe-side."""

    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        check_rules(self.rules)
        object.__setattr__(self, "rules", tuple(sorted(self.rules, key=lambda r: rank(r.level))))

    def any_triggered(self, value: float) -> bool:
        """Whether any level's line is reached: the lowest level's line is the first one past (check_rules)."""
        return self.rules[0].triggered(value)


def check_rules(rules: tuple[Rule, ...]) -> None:
    if not rules:
        raise ValidationFailed("至少需要一个级别 / at least one level is needed", field="level")
    if len({r.comparison for r in rules}) > 1:
        raise ValidationFailed("各级别比较方向须一致 / all levels must compare the same way", field="comparison")
    if len({r.level for r in rules}) != len(rules):
        raise ValidationFailed("级别重复 / a level appears twice", field="level")
    for rule in rules:
        _check_rule(rule)
    ordered = sorted(rules, key=lambda r: rank(r.level))
    for lower, higher in pairwise(ordered):
        if not _further(higher.value, lower.value, higher.comparison):
            raise ValidationFailed(f"{higher.level} 的阈值须比 {lower.level} 更严重 / the {higher.level} line must "
                                   f"lie beyond the {lower.level} line", field="value")


def _check_rule(rule: Rule) -> None:
    if rule.level not in WARNING_LEVELS:
        raise ValidationFailed(f"未知级别 {rule.level!r} / unknown level", field="level")
    if rule.comparison not in COMPARISONS:
        raise ValidationFailed(f"未知比较 {rule.comparison!r} / use above or below", field="comparison")
    if _further(rule.clear_value, rule.value, rule.comparison):
        raise ValidationFailed("解除值须在阈值的安全一侧 / the clear line must lie on the safe side of the line",
                               field="clear_value")
    if rule.duration_s < 0 or rule.repetitions < 1:
        raise ValidationFailed("持续时间≥0，连续次数≥1 / duration ≥ 0, repetitions ≥ 1", field="duration_minutes")


def _further(a: float, b: float, comparison: Comparison) -> bool:
    return a > b if comparison == "above" else a < b


@dataclass(frozen=True)
class Streak:
    """How long a level's trigger condition has held without a break."""

    since: datetime
    count: int


@dataclass(frozen=True)
class State:
    """What evaluation remembers between observations; `to_dict`/`from_dict` so it can be stored."""

    level: Level = "none"
    streaks: dict[str, Streak] = field(default_factory=dict)
    last_ts: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "last_ts": self.last_ts.isoformat() if self.last_ts else None,
                "streaks": {k: [s.since.isoformat(), s.count] for k, s in self.streaks.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        streaks = {k: Streak(datetime.fromisoformat(v[0]), int(v[1])) for k, v in data.get("streaks", {}).items()}
        last = data.get("last_ts")
        return cls(level=data.get("level", "none"), streaks=streaks,
                   last_ts=datetime.fromisoformat(last) if last else None)


@dataclass(frozen=True)
class Result:
    level: Level
    previous: Level
    value: float
    ts: datetime
    reason: str

    @property
    def changed(self) -> bool:
        return self.level != self.previous


def evaluate(thresholds: ThresholdSet, state: State, ts: datetime, value: float) -> tuple[State, Result]:
    """The new state and level after observing `value` at `ts`. An observation older than the last one is
    ignored (it cannot undo what later readings showed), so redelivered readings change nothing."""
    if state.last_ts is not None and ts <= state.last_ts:
        return state, Result(state.level, state.level, value, ts, "旧读数，已忽略 / stale reading, ignored")
    if state.level == "none" and not thresholds.any_triggered(value):
        # The common case, taken short: no level held and no line reached, so no streak survives either.
        return State("none", {}, ts), Result("none", "none", value, ts, quiet_reason(value))
    streaks = _streaks(thresholds, state, ts, value)
    current = rank(state.level)
    top = None
    for rule in thresholds.rules:  # by rank, so the last rule entered or held is the highest level
        if _entered(rule, streaks.get(rule.level), ts) or (rank(rule.level) <= current and not rule.cleared(value)):
            top = rule
    level: Level = top.level if top else "none"
    new_state = State(level, streaks, ts)
    return new_state, Result(level, state.level, value, ts, _reason(top, state.level, level, value, thresholds))


def quiet_reason(value: float) -> str:
    """The reason given for a value with no level held and none reached."""
    return f"{value:g} 正常 / normal"


def _streaks(thresholds: ThresholdSet, state: State, ts: datetime, value: float) -> dict[str, Streak]:
    """A level's streak grows while its trigger holds and is broken by one reading that misses it."""
    streaks: dict[str, Streak] = {}
    for rule in thresholds.rules:
        if rule.triggered(value):
            old = state.streaks.get(rule.level)
            streaks[rule.level] = Streak(old.since, old.count + 1) if old else Streak(ts, 1)
    return streaks


def _entered(rule: Rule, streak: Streak | None, ts: datetime) -> bool:
    if streak is None:
        return False
    return streak.count >= rule.repetitions and (ts - streak.since).total_seconds() >= rule.duration_s


def _reason(top: Rule | None, previous: Level, level: Level, value: float, thresholds: ThresholdSet) -> str:
    if top is None:
        lowest = thresholds.rules[0]
        if previous == "none":
            return quiet_reason(value)
        return f"{value:g} 已越过解除线 {lowest.clear_value:g} / past the clear line {lowest.clear_value:g}"
    name = LEVEL_NAMES[level]
    if top.triggered(value):
        return f"{value:g} 达到{name}预警（{top.describe()}）/ {level}: {top.describe()}"
    return (f"{value:g} 未越过解除线 {top.clear_value:g}，保持{name} / {level} held until past "
            f"{top.clear_value:g}")
