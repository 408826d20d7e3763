"""cases.facts reads back, from Case rows and their timeline, exactly the facts the history was written from —
on SQLite and PostgreSQL — so KPIs over the database equal the known answers, imported cases included."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from cityops.cases.facts import case_facts
from cityops.cases.models import Case, CaseTransition
from cityops.insight.kpis import CaseFacts, compute_kpis
from cityops.platform import Platform
from tests.cityfixture import DISTRICT, STREET_A, STREET_B, STREET_C, build_small_city
from tests.insight.history import END, START, insert_history, local, relevant, scenario


@pytest.fixture
def history(platform: Platform) -> list[CaseFacts]:
    city = build_small_city(platform)
    facts = scenario(city.departments[f"{STREET_A}-office"], city.departments[f"{STREET_B}-office"])
    # A case in the other district, received in March: outside the district's figures.
    elsewhere = replace(facts[0], case_id=21, region_code=STREET_C, department_id=None)
    insert_history(platform, [*facts, elsewhere])
    return facts


def read(platform: Platform, *, prefix: str | None = DISTRICT, department_id: int | None = None) -> list[CaseFacts]:
    with platform.db.session() as session:
        return list(case_facts(session=session, region_prefix=prefix, department_id=department_id, since=START,
                               until=END))


def test_facts_read_back_equal_the_history_for_cases_touching_the_period(platform: Platform,
                                                                           history: list[CaseFacts]):
    with platform.db.session() as session:  # the timeline also holds actions the facts must ignore
        assert session.scalar(select(func.count()).where(CaseTransition.action == "escalate"))
    assert read(platform) == [f for f in history if relevant(f)]


def test_kpis_from_the_database_equal_the_known_answers(platform: Platform, history: list[CaseFacts]):
    from_db = compute_kpis(read(platform), START, END)
    known = compute_kpis(history, START, END)
    assert from_db.measures == known.measures
    assert [(s.key, s.count) for s in from_db.stages] == [(s.key, s.count) for s in known.stages]
    for got, want in zip(from_db.stages, known.stages, strict=True):
        assert got.mean_hours == pytest.approx(want.mean_hours)


def test_the_region_prefix_and_department_narrow_the_cases(platform: Platform, history: list[CaseFacts]):
    assert {f.case_id for f in read(platform, prefix=STREET_C)} == {21}
    assert 21 in {f.case_id for f in read(platform, prefix=None)}
    department = history[0].department_id
    assert department is not None
    chosen = read(platform, department_id=department)
    assert chosen and chosen == [f for f in history if relevant(f) and f.department_id == department]


def test_imported_cases_without_a_timeline_get_counts_from_the_case_columns(platform: Platform):
    build_small_city(platform)
    base = CaseFacts(case_id=1, region_code=STREET_A, received_at=local(3, 2), registered_at=local(3, 2, 11),
                     first_dispatched_at=local(3, 2, 12), imported=True, has_timeline=False)
    waiting = replace(base, case_id=1, state="returned", return_count=2)  # awaiting its third dispatch
    redoing = replace(base, case_id=2, state="in_progress", handled_at=local(3, 3), rework_count=2)
    finished = replace(base, case_id=3, state="closed", return_count=1, handled_at=local(3, 4), rework_count=1,
                       closed_at=local(3, 5))
    insert_history(platform, [waiting, redoing, finished])
    counts = {f.case_id: (f.dispatch_count, f.return_count, f.handle_count, f.rework_count)
              for f in read(platform)}
    assert counts == {1: (2, 2, 0, 0), 2: (1, 0, 2, 2), 3: (2, 1, 2, 1)}


def test_the_timeline_wins_over_the_case_columns_when_it_records_the_dispatches(platform: Platform,
                                                                                history: list[CaseFacts]):
    with platform.uow() as uow:  # a stale counter on the row must not matter
        row = uow.session.get(Case, 8)
        assert row is not None
        row.return_count = 5
        uow.commit()
    eight = next(f for f in read(platform) if f.case_id == 8)
    assert (eight.dispatch_count, eight.return_count, eight.accepted_at) == (2, 1, local(3, 9, 12))

