"""Fusion against the database: the open cases near a new report (cases.service), then the pure decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from cityops.cases import service as cases
from cityops.cases.cells import haversine_m
from cityops.triage.fusion import Candidate, FusionDecision, FusionPolicies, Incoming, decide, region_closeness

CANDIDATES = 50  # more open cases than this within one policy's radius and window would be a city-wide outage


def find_case(session: Session, incoming: Incoming, policies: FusionPolicies,
              unsaved: Sequence[Candidate] = ()) -> FusionDecision:
    """Which open case, if any, the report describes; the decision carries every candidate's scores.

    `unsaved`: cases opened earlier in the caller's transaction and not yet written (the triage worker writes a
    batch at its end); those the policy could fuse with are weighed along with the stored ones."""
    policy = policies.for_category(incoming.category_code)
    by_place = policy.match_by == "place"
    since = incoming.at - timedelta(hours=policy.window_hours)
    # Other categories are only worth loading when the policy could fuse across them.
    categories = [incoming.category_code] if policy.same_category and incoming.category_code else None
    rows = cases.fusion_candidates(
        session=session, lng=incoming.lng if by_place else None, lat=incoming.lat if by_place else None,
        radius_m=policy.radius_m, since=since, region_code=incoming.region_code, category_codes=categories,
        limit=CANDIDATES)
    stored = [_candidate(row) for row in rows]
    seen = {c.case_id for c in stored}
    nearby = [c for c in unsaved if c.case_id not in seen and c.last_report_at >= since
              and (categories is None or c.category_code in categories)
              and _near(incoming, c, policy.radius_m, by_place)]
    return decide(incoming, stored + nearby, policy)


def _near(incoming: Incoming, candidate: Candidate, radius_m: float, by_place: bool) -> bool:
    if by_place and None not in (incoming.lng, incoming.lat, candidate.lng, candidate.lat):
        return haversine_m(incoming.lng, incoming.lat, candidate.lng, candidate.lat) <= radius_m  # type: ignore[arg-type]
    if by_place and incoming.lng is not None:
        return False  # a located report only meets located cases, as in the stored query
    return region_closeness(incoming.region_code, candidate.region_code) is not None


def _candidate(row: cases.NearbyCase) -> Candidate:
    return Candidate(case_id=row.case_id, text=row.text, last_report_at=row.last_report_at, lng=row.lng,
                     lat=row.lat, category_code=row.category_code, region_code=row.region_code,
                     received_at=row.received_at)
