"""Fusion against the database: the open cases near a new report (cases.service), then the pure decision."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from cityops.cases import service as cases
from cityops.triage.fusion import Candidate, FusionDecision, FusionPolicies, Incoming, decide

CANDIDATES = 50  # more open cases than this within one policy's radius and window would be a city-wide outage


def find_case(session: Session, incoming: Incoming, policies: FusionPolicies) -> FusionDecision:
    """Which open case, if any, the report describes; the decision carries every candidate's scores."""
    policy = policies.for_category(incoming.category_code)
    by_place = policy.match_by == "place"
    # Other categories are only worth loading when the policy could fuse across them.
    categories = [incoming.category_code] if policy.same_category and incoming.category_code else None
    rows = cases.fusion_candidates(
        session=session, lng=incoming.lng if by_place else None, lat=incoming.lat if by_place else None,
        radius_m=policy.radius_m, since=incoming.at - timedelta(hours=policy.window_hours),
        region_code=incoming.region_code, category_codes=categories, limit=CANDIDATES)
    return decide(incoming, [_candidate(row) for row in rows], policy)


def _candidate(row: cases.NearbyCase) -> Candidate:
    return Candidate(case_id=row.case_id, text=row.text, last_report_at=row.last_report_at, lng=row.lng,
                     lat=row.lat, category_code=row.category_code, region_code=row.region_code,
                     received_at=row.received_at)
