"""Case KPIs (数字城管 and 接诉即办 measures) from plain per-case facts. Pure: no database, no clock.

Every measure is a ratio of two counts over one period, defined in docs/kpis.md; the definitions live here as
a table of small counting functions, one per measure, so the documentation and the code can be read side by
side. `KpiTally` takes facts one at a time, so 100k cases (and one tally per child region) stream through
without being held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cityops.core.clock import CHINA_TZ

RESPONSE_LIMIT_HOURS = 24.0  # 接诉即办: a dispatched case is "responded to" when signed for within this time
SATISFIED = frozenset({"satisfied", "basically"})  # 满意 + 基本满意


@dataclass(frozen=True, kw_only=True)
class CaseFacts:
    """What the KPIs need to know about one case; every datetime is timezone-aware UTC."""

    case_id: int
    region_code: str
    received_at: datetime
    department_id: int | None = None
    category_code: str | None = None
    channel: str = ""
    state: str = "received"
    registered_at: datetime | None = None
    register_due_at: datetime | None = None
    rejected: bool = False
    first_dispatched_at: datetime | None = None
    dispatch_count: int = 0
    return_count: int = 0
    accepted_at: datetime | None = None  # first 签收 (accept) after dispatch
    handled_at: datetime | None = None  # the latest handling (re-handling after rework moves it)
    handle_due_at: datetime | None = None
    handle_count: int = 0  # handlings reported, failed ones included
    rework_count: int = 0  # failed verifications (返工)
    verified_at: datetime | None = None
    verify_due_at: datetime | None = None
    closed_at: datetime | None = None
    due_at: datetime | None = None  # closure deadline (结案时限), extensions included
    followed_up_at: datetime | None = None
    resolved: bool | None = None
    satisfaction: str | None = None  # satisfied / basically / dissatisfied
    imported: bool = False
    has_timeline: bool = True  # False: imported without transitions, so the time of 签收 is unknown


@dataclass(frozen=True)
class Window:
    """The period [start, end) in UTC, and the response limit the 响应率 uses."""

    start: datetime
    end: datetime
    response_limit: timedelta = timedelta(hours=RESPONSE_LIMIT_HOURS)

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def window_for(date_from: date, date_to: date, *, response_limit_hours: float = RESPONSE_LIMIT_HOURS) -> Window:
    """Local (Asia/Shanghai) dates, `date_to` excluded, as a UTC window: 2026-03-01..2026-04-01 is March."""
    start = datetime.combine(date_from, time(), tzinfo=CHINA_TZ).astimezone(UTC)
    end = datetime.combine(date_to, time(), tzinfo=CHINA_TZ).astimezone(UTC)
    return Window(start, end, timedelta(hours=response_limit_hours))


# --- the measures: each counts one case's (numerator, denominator) --------------------------------------------

Counter = Callable[[CaseFacts, Window], tuple[int, int]]
NOTHING = (0, 0)


def _on_time(done: datetime | None, due: datetime | None) -> int:
    return int(done is not None and due is not None and done <= due)


def _valid_report(f: CaseFacts, w: Window) -> tuple[int, int]:
    registered = f.registered_at is not None and not f.rejected
    if not w.holds(f.received_at) or not (registered or f.rejected):
        return NOTHING  # not received in the period, or not decided yet
    return int(registered), 1


def _timely_registration(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.registered_at) or f.register_due_at is None:
        return NOTHING  # no deadline on record (some imported cases): cannot be judged either way
    return _on_time(f.registered_at, f.register_due_at), 1


def _accurate_dispatch(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.first_dispatched_at):
        return NOTHING
    return max(f.dispatch_count - f.return_count, 0), f.dispatch_count


def _handling(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.handle_due_at):
        return NOTHING
    return int(f.handled_at is not None and f.handled_at < w.end), 1


def _timely_handling(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.handle_due_at):
        return NOTHING
    return _on_time(f.handled_at, f.handle_due_at), 1


def _rework(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.handled_at):
        return NOTHING
    return f.rework_count, f.handle_count


def _timely_verification(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.verified_at) or f.verify_due_at is None:
        return NOTHING
    return _on_time(f.verified_at, f.verify_due_at), 1


def _closure(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.due_at):
        return NOTHING
    return int(f.closed_at is not None and f.closed_at < w.end), 1


def _timely_closure(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.due_at):
        return NOTHING
    return _on_time(f.closed_at, f.due_at), 1


def _response(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.first_dispatched_at) or not f.has_timeline:
        return NOTHING  # without the timeline the time of 签收 is unknown: leave the case out, do not guess
    assert f.first_dispatched_at is not None
    signed = f.accepted_at is not None and f.accepted_at - f.first_dispatched_at <= w.response_limit
    return int(signed), 1


def _resolution(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.followed_up_at) or f.resolved is None:
        return NOTHING
    return int(f.resolved), 1


def _satisfaction(f: CaseFacts, w: Window) -> tuple[int, int]:
    if not w.holds(f.followed_up_at) or f.satisfaction is None:
        return NOTHING
    return int(f.satisfaction in SATISFIED), 1


@dataclass(frozen=True)
class Measure:
    key: str
    zh: str
    en: str
    family: str  # 数字城管 (GB/T 30428) or 接诉即办 (Beijing)
    count: Counter


MEASURES: tuple[Measure, ...] = (
    Measure("valid_report", "有效上报率", "valid report rate", "数字城管", _valid_report),
    Measure("timely_registration", "按时立案率", "on-time registration rate", "数字城管", _timely_registration),
    Measure("accurate_dispatch", "准确派遣率", "accurate dispatch rate", "数字城管", _accurate_dispatch),
    Measure("handling", "处置率", "handling rate", "数字城管", _handling),
    Measure("timely_handling", "按期处置率", "on-time handling rate", "数字城管", _timely_handling),
    Measure("rework", "返工率", "rework rate", "数字城管", _rework),
    Measure("timely_verification", "按时核查率", "on-time verification rate", "数字城管", _timely_verification),
    Measure("closure", "结案率", "closure rate", "数字城管", _closure),
    Measure("timely_closure", "按期结案率", "on-time closure rate", "数字城管", _timely_closure),
    Measure("response", "响应率", "response rate", "接诉即办", _response),
    Measure("resolution", "解决率", "resolution rate", "接诉即办", _resolution),
    Measure("satisfaction", "满意率", "satisfaction rate", "接诉即办", _satisfaction),
)
MEASURE_KEYS = tuple(m.key for m in MEASURES)


@dataclass(frozen=True)
class Stage:
    """A stage whose mean duration is reported: from one milestone to the next, counted when it ends."""

    key: str
    zh: str
    en: str
    start: Callable[[CaseFacts], datetime | None]
    end: Callable[[CaseFacts], datetime | None]


STAGES: tuple[Stage, ...] = (
    Stage("receive_to_register", "受理→立案", "received → registered",
          lambda f: f.received_at, lambda f: f.registered_at),
    Stage("register_to_dispatch", "立案→派遣", "registered → first dispatched",
          lambda f: f.registered_at, lambda f: f.first_dispatched_at),
    Stage("dispatch_to_handle", "派遣→处置", "first dispatched → handled",
          lambda f: f.first_dispatched_at, lambda f: f.handled_at),
    Stage("handle_to_verify", "处置→核查", "handled → verified", lambda f: f.handled_at, lambda f: f.verified_at),
    Stage("verify_to_close", "核查→结案", "verified → closed", lambda f: f.verified_at, lambda f: f.closed_at),
)


# --- the report -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    key: str
    zh: str
    en: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """numerator ÷ denominator, or None when nothing was due (a 0 % would be a false alarm)."""
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class StageTime:
    key: str
    zh: str
    en: str
    count: int
    mean_hours: float | None


@dataclass(frozen=True)
class KpiReport:
    start: datetime
    end: datetime
    response_limit_hours: float
    cases: int  # cases with any milestone or deadline in the period
    measures: tuple[Ratio, ...]
    stages: tuple[StageTime, ...]

    def measure(self, key: str) -> Ratio:
        return next(m for m in self.measures if m.key == key)

    def stage(self, key: str) -> StageTime:
        return next(s for s in self.stages if s.key == key)


@dataclass
class KpiTally:
    """Counts as facts arrive; `report()` any time."""

    window: Window
    cases: int = 0
    counts: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in MEASURE_KEYS})
    hours: dict[str, list[float]] = field(default_factory=lambda: {s.key: [0.0, 0.0] for s in STAGES})

    def add(self, facts: CaseFacts) -> None:
        self.cases += 1
        for measure in MEASURES:
            numerator, denominator = measure.count(facts, self.window)
            self.counts[measure.key][0] += numerator
            self.counts[measure.key][1] += denominator
        for stage in STAGES:
            self._add_stage(stage, facts)

    def _add_stage(self, stage: Stage, facts: CaseFacts) -> None:
        start, end = stage.start(facts), stage.end(facts)
        if start is None or end is None or not self.window.holds(end) or end < start:
            return  # a stage not finished in the period, or inconsistent data, says nothing about its length
        self.hours[stage.key][0] += (end - start).total_seconds() / 3600
        self.hours[stage.key][1] += 1

    def report(self) -> KpiReport:
        measures = tuple(Ratio(m.key, m.zh, m.en, *self.counts[m.key]) for m in MEASURES)
        stages = tuple(_stage_time(s, *self.hours[s.key]) for s in STAGES)
        limit = self.window.response_limit.total_seconds() / 3600
        return KpiReport(self.window.start, self.window.end, limit, self.cases, measures, stages)


def _stage_time(stage: Stage, total_hours: float, count: float) -> StageTime:
    return StageTime(stage.key, stage.zh, stage.en, int(count), total_hours / count if count else None)


def compute_kpis(facts: Iterable[CaseFacts], period_start: datetime, period_end: datetime, *,
                 response_limit_hours: float = RESPONSE_LIMIT_HOURS) -> KpiReport:
    tally = KpiTally(Window(period_start, period_end, timedelta(hours=response_limit_hours)))
    for one in facts:
        tally.add(one)
    return tally.report()
