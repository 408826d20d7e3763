"""Queries and writes of the indicator catalogue and thresholds. Never commits (flows do)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from cityops.core.errors import NotFound, ValidationFailed
from cityops.indicators.catalogue import IndicatorInput, ThresholdInput
from cityops.indicators.evaluate import ThresholdSet
from cityops.indicators.models import Indicator, Threshold


@dataclass(frozen=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def all_indicators(*, session: Session, domain: str | None = None) -> list[Indicator]:
    query = select(Indicator).order_by(Indicator.code)
    if domain is not None:
        query = query.where(Indicator.domain == domain)
    return list(session.scalars(query))


def get_indicator_or_raise(*, session: Session, code: str) -> Indicator:
    indicator = session.get(Indicator, code)
    if indicator is None:
        raise NotFound(f"指标 {code} 不存在 / no indicator {code}", field="indicator_code")
    return indicator


def as_input(indicator: Indicator) -> IndicatorInput:
    return IndicatorInput(**{f.name: getattr(indicator, f.name) for f in fields(IndicatorInput)})


def threshold_input(threshold: Threshold) -> ThresholdInput:
    return ThresholdInput(**{f.name: getattr(threshold, f.name) for f in fields(ThresholdInput)})


def upsert_indicators(*, session: Session, indicators: Sequence[IndicatorInput], at: datetime,
                      actor: str) -> ImportCounts:
    existing = {i.code: i for i in session.scalars(select(Indicator).where(
        Indicator.code.in_([i.code for i in indicators])))}
    created = updated = 0
    for item in indicators:
        row = existing.get(item.code)
        if row is not None and astuple(as_input(row)) == astuple(item):
            continue
        if row is None:
            row = Indicator(code=item.code)
            session.add(row)
            created += 1
        else:
            updated += 1
        for f in fields(IndicatorInput):
            setattr(row, f.name, getattr(item, f.name))
        row.updated_at, row.updated_by = at, actor
    return ImportCounts(created, updated, len(indicators) - created - updated)


def replace_thresholds(*, session: Session, thresholds: Sequence[ThresholdInput], at: datetime,
                       actor: str) -> int:
    """The file's (indicator, region) sets replace those sets whole: a level left out of the file is gone."""
    codes = {t.indicator_code for t in thresholds}
    known = set(session.scalars(select(Indicator.code).where(Indicator.code.in_(codes))))
    for i, threshold in enumerate(thresholds):
        if threshold.indicator_code not in known:
            raise ValidationFailed(f"指标 {threshold.indicator_code} 不存在 / unknown indicator",
                                   field=f"rows[{i}].indicator_code")
    pairs = {(t.indicator_code, t.region_code) for t in thresholds}
    session.execute(delete(Threshold).where(tuple_(Threshold.indicator_code, Threshold.region_code).in_(pairs)))
    session.add_all(Threshold(**{f.name: getattr(t, f.name) for f in fields(ThresholdInput)},
                              updated_at=at, updated_by=actor) for t in thresholds)
    return len(thresholds)


def all_thresholds(*, session: Session) -> list[Threshold]:
    order = (Threshold.indicator_code, Threshold.region_code, Threshold.level)
    return list(session.scalars(select(Threshold).order_by(*order)))


def thresholds_for(*, session: Session, indicator_code: str, region_code: str) -> ThresholdSet | None:
    """The most specific set for the region: the longest region code that is a prefix of it ("" = city-wide)."""
    rows = session.scalars(select(Threshold).where(Threshold.indicator_code == indicator_code)).all()
    return thresholds_of(rows, region_code)


def thresholds_of(rows: Sequence[Threshold], region_code: str) -> ThresholdSet | None:
    """thresholds_for from an indicator's threshold rows already read (a batch reads them once)."""
    matching = [r for r in rows if region_code.startswith(r.region_code)]
    if not matching:
        return None
    best = max(len(r.region_code) for r in matching)
    return ThresholdSet(tuple(threshold_input(r).rule() for r in matching if len(r.region_code) == best))
