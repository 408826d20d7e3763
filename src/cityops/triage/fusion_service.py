"""Fusion against the database: the open cases near a new report (cases.service), then the pure decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cityops.cases import service as cases
from cityops.cases.cells import cell_of
from cityops.triage.fusion import Candidate, FusionDecision, FusionPolicies, FusionPolicy, Incoming, decide

CANDIDATES = 50  # more open cases than this within one policy's radius and window would be a city-wide outage


def find_case(session: Session, incoming: Incoming, policies: FusionPolicies) -> FusionDecision:
    """Which open case, if any, the report describes; the decision carries every candidate's scores."""
    policy = policies.for_category(incoming.category_code)
    query = _query(incoming, policy)
    rows = cases.fetch(session=session, queries=[query])[0]
    return decide(incoming, [_candidate(row) for row in cases.nearest(query, rows)], policy)


class BatchFusion:
    """Fusion decisions for a batch of reports taken in order, each seeing the cases the reports before it
    opened or joined, as if every report had been written before the next was decided; but with one query
    for the whole batch instead of one per report (the triage worker writes a batch at its end).

    Call `decide(i)` in order and tell it what came of each: `opened` (a new case) or `attached`."""

    def __init__(self, session: Session, incomings: Sequence[Incoming], policies: FusionPolicies) -> None:
        self._incomings = incomings
        self._policies = [policies.for_category(incoming.category_code) for incoming in incomings]
        self._queries = [_query(incoming, policy) for incoming, policy in zip(incomings, self._policies, strict=True)]
        self._stored = cases.fetch(session=session, queries=self._queries)
        self._changed: dict[int, cases.CaseRow] = {}  # the batch's cases as they are now, not yet written
        self._in_cell: dict[int | None, set[int]] = {}  # the ids of those cases by fusion cell
        self._seen: dict[int, cases.CaseRow] = {}  # every stored case read, to attach to one without re-reading

    def decide(self, i: int) -> FusionDecision:
        query = self._queries[i]
        for row in self._stored[i]:
            self._seen.setdefault(row.id, row)
        nearby = None
        if query.shape[0] == "cells":  # only a case in one of the query's cells can be admitted
            nearby = [self._changed[case_id] for cell in query.cells or () for case_id in self._in_cell.get(cell, ())]
        rows = cases.overlay(query, self._stored[i], self._changed, nearby)
        return decide(self._incomings[i], [_candidate(row) for row in cases.nearest(query, rows)],
                      self._policies[i])

    def opened(self, i: int, case_id: int, region_code: str) -> None:
        """Report i opened case `case_id` (its text, time, place and category are the report's)."""
        incoming = self._incomings[i]
        self._keep(cases.CaseRow(
            id=case_id, description=incoming.text, last_report_at=incoming.at, lng=incoming.lng, lat=incoming.lat,
            category_code=incoming.category_code, region_code=region_code, received_at=incoming.at,
            fusion_cell=cell_of(incoming.lng, incoming.lat) if incoming.lng is not None and incoming.lat is not None
            else None))

    def attached(self, case_id: int, at: datetime) -> None:
        """A report received at `at` joined the case: its latest report moves on, as attaching writes it."""
        row = self._changed.get(case_id) or self._seen[case_id]
        if at > row.last_report_at:
            row = row._replace(last_report_at=at)
        self._keep(row)

    def _keep(self, row: cases.CaseRow) -> None:
        self._changed[row.id] = row
        self._in_cell.setdefault(row.fusion_cell, set()).add(row.id)


def _query(incoming: Incoming, policy: FusionPolicy) -> cases.CandidateQuery:
    by_place = policy.match_by == "place"
    # Other categories are only worth loading when the policy could fuse across them.
    categories = (incoming.category_code,) if policy.same_category and incoming.category_code else None
    return cases.CandidateQuery(
        lng=incoming.lng if by_place else None, lat=incoming.lat if by_place else None, radius_m=policy.radius_m,
        since=incoming.at - timedelta(hours=policy.window_hours), region_code=incoming.region_code,
        category_codes=categories, limit=CANDIDATES)


def _candidate(row: cases.NearbyCase) -> Candidate:
    return Candidate(case_id=row.case_id, text=row.text, last_report_at=row.last_report_at, lng=row.lng,
                     lat=row.lat, category_code=row.category_code, region_code=row.region_code,
                     received_at=row.received_at)
