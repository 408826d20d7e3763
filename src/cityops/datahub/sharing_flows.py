"""Sharing by request and approval, and every access to shared data, audited.

- `request_share`: a department asks for fields of a dataset, for a purpose, on a legal basis, until a date.
- `decide`: the owning department approves all or some of the requested fields (some of them in clear), or
  rejects with a reason. Approval creates a grant with an expiry; `revoke` ends it early.
- `read_rows` / `lookup` / `aggregate`: a grantee reads with its API key (or as its staff), only what the grant
  allows, masked by the rules in sharing.py. The owner reads its own data through `read_rows` too. Every read
  writes one hash-chained audit record: who, dataset, fields, purpose, row count, time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cityops.core.clock import as_utc
from cityops.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cityops.core.uow import UnitOfWork
from cityops.datahub import aggregate, masking, service, shared_copy, sharing
from cityops.datahub.flows import Actor, actor_name, ensure_department, ensure_owner, record
from cityops.datahub.models import Dataset, Grant, ShareRequest
from cityops.datahub.registers import PROVENANCE
from cityops.datahub.schema import TableSchema
from cityops.org import service as org
from cityops.org.access import Principal, require
from cityops.platform import Platform

MAX_PAGE: Final = 5_000
DEFAULT_K: Final = 10  # the smallest number of people an aggregate cell may describe
OWNER_PURPOSE: Final = "owner"


@dataclass(frozen=True)
class SharedPage:
    rows: list[dict[str, Any]]
    fields: dict[str, str]  # field → treatment (clear / masked / withheld)
    next_after: int | None
    grant_id: int | None


# --- requests and decisions -------------------------------------------------------------------------------


def request_share(platform: Platform, *, actor: Principal, dataset_code: str, fields: Sequence[str],
                  purpose: str, legal_basis: str, wanted_until: datetime, kind: str = "rows",
                  clear_fields: Sequence[str] = ()) -> int:
    require(actor, "datahub.share")
    if actor.department_id is None:
        raise PermissionDenied("a request is made for a department: your account has none",
                               permission="datahub.share")
    if kind not in sharing.KINDS:
        raise ValidationFailed("kind must be rows or aggregate", field="kind")
    purpose, legal_basis = purpose.strip(), legal_basis.strip()
    if len(purpose) < 4:
        raise ValidationFailed("say what the data is for (at least 4 characters)", field="purpose")
    if len(legal_basis) < 2:
        raise ValidationFailed("name the legal basis or the document that allows it", field="legal_basis")
    with platform.uow() as uow:
        dataset = service.get_dataset_or_raise(session=uow.session, code=dataset_code)
        if dataset.owner_department_id == actor.department_id:
            raise Conflict("this is your department's own dataset: it needs no request", field="dataset")
        if as_utc(wanted_until) <= uow.clock.now():
            raise ValidationFailed("the end of the period must be in the future", field="wanted_until")
        schema = service.schema_of(dataset)
        chosen = sharing.check_fields(schema, fields, field="fields")
        if kind == "aggregate":
            sharing.check_aggregate_fields(schema, chosen)
        clear = sharing.check_fields(schema, clear_fields, field="clear_fields") if clear_fields else []
        if set(clear) - set(chosen):
            raise ValidationFailed("fields asked in clear must be among the requested fields", field="clear_fields")
        share = ShareRequest(dataset_id=dataset.id, requester_department_id=actor.department_id, kind=kind,
                             fields=chosen, clear_fields=clear, purpose=purpose, legal_basis=legal_basis,
                             wanted_until=as_utc(wanted_until), status="pending", requested_by=actor.actor,
                             requested_at=uow.clock.now())
        uow.session.add(share)
        uow.session.flush()
        record(uow, actor, "datahub.share_requested", dataset,
               {"request": share.id, "kind": kind, "fields": chosen, "clear_fields": clear, "purpose": purpose,
                "requester_department": actor.department_id})
        uow.commit()
        return share.id


def decide(platform: Platform, *, actor: Actor, request_id: int, approve: bool, fields: Sequence[str] | None = None,
           clear_fields: Sequence[str] | None = None, expires_at: datetime | None = None,
           reason: str | None = None) -> int | None:
    """Approve (all requested fields, or the named subset) or reject; the new grant's id, None when rejected."""
    with platform.uow() as uow:
        share, dataset = _pending(uow, request_id)
        ensure_owner(actor, dataset, "datahub.share")
        now = uow.clock.now()
        if not approve:
            if not reason or len(reason.strip()) < 2:
                raise ValidationFailed("a rejection needs a reason the requester can act on", field="reason")
            _close(share, "rejected", actor, now, reason.strip())
            record(uow, actor, "datahub.share_rejected", dataset, {"request": share.id, "reason": reason.strip()})
            uow.commit()
            return None
        granted = list(share.fields) if fields is None else [f for f in share.fields if f in set(fields)]
        if fields is not None and set(fields) - set(share.fields):
            raise ValidationFailed("only requested fields can be approved", field="fields")
        if not granted:
            raise ValidationFailed("approve at least one field, or reject the request", field="fields")
        clear = [f for f in (share.clear_fields if clear_fields is None else clear_fields) if f in granted]
        if clear_fields is not None and set(clear_fields) - set(share.clear_fields):
            raise ValidationFailed("only fields asked in clear can be approved in clear", field="clear_fields")
        until = min(share.wanted_until, as_utc(expires_at)) if expires_at else share.wanted_until
        if until <= now:
            raise ValidationFailed("the grant would already have expired", field="expires_at")
        status = "approved" if len(granted) == len(share.fields) else "partial"
        _close(share, status, actor, now, reason)
        grant = Grant(request_id=share.id, dataset_id=dataset.id, grantee_department_id=share.requester_department_id,
                      kind=share.kind, fields=granted, clear_fields=clear, purpose=share.purpose,
                      granted_by=actor_name(actor), granted_at=now, expires_at=until)
        uow.session.add(grant)
        uow.session.flush()
        record(uow, actor, "datahub.share_approved", dataset,
               {"request": share.id, "grant": grant.id, "fields": granted, "clear_fields": clear,
                "refused_fields": [f for f in share.fields if f not in granted], "expires_at": until.isoformat()})
        uow.commit()
        return grant.id


def _pending(uow: UnitOfWork, request_id: int) -> tuple[ShareRequest, Dataset]:
    share = service.get_request(session=uow.session, request_id=request_id)
    if share is None:
        raise NotFound(f"no request {request_id}", field="request_id")
    dataset = service.datasets_by_id(session=uow.session, ids=[share.dataset_id])[share.dataset_id]
    if share.status != "pending":
        raise Conflict(f"the request is already {share.status}", field="request_id", status=share.status)
    return share, dataset


def _close(share: ShareRequest, status: str, actor: Actor, at: datetime, reason: str | None) -> None:
    share.status, share.decided_by, share.decided_at, share.decision_reason = status, actor_name(actor), at, reason


def revoke(platform: Platform, *, actor: Actor, grant_id: int, reason: str) -> None:
    if not reason or len(reason.strip()) < 2:
        raise ValidationFailed("say why the grant is revoked", field="reason")
    with platform.uow() as uow:
        grant = service.get_grant(session=uow.session, grant_id=grant_id)
        if grant is None:
            raise NotFound(f"no grant {grant_id}", field="grant_id")
        dataset = service.datasets_by_id(session=uow.session, ids=[grant.dataset_id])[grant.dataset_id]
        ensure_owner(actor, dataset, "datahub.share")
        if grant.revoked_at is not None:
            raise Conflict("the grant is already revoked", field="grant_id")
        grant.revoked_at, grant.revoked_by, grant.revoke_reason = uow.clock.now(), actor_name(actor), reason.strip()
        record(uow, actor, "datahub.grant_revoked", dataset, {"grant": grant.id, "reason": reason.strip()})
        uow.commit()


# --- access --------------------------------------------------------------------------------------------


def _grant_view(grant: Grant) -> sharing.GrantView:
    return sharing.GrantView(kind=grant.kind, fields=tuple(grant.fields), clear_fields=tuple(grant.clear_fields),
                             expires_at=grant.expires_at, revoked_at=grant.revoked_at)


def _access(uow: UnitOfWork, principal: Principal, code: str, kind: str
            ) -> tuple[Dataset, TableSchema, Grant | None]:
    """The dataset and the grant the caller reads it under; None for the owner. No grant: refused (403)."""
    require(principal, "datahub.access")
    dataset = service.get_dataset_or_raise(session=uow.session, code=code)
    schema = service.schema_of(dataset)
    if principal.department_id == dataset.owner_department_id:
        return dataset, schema, None
    if principal.department_id is None:
        raise PermissionDenied("shared data is read for a department: this caller has none",
                               permission="datahub.access")
    grants = service.active_grants(session=uow.session, dataset_id=dataset.id, department_id=principal.department_id,
                                   kind=kind, now=uow.clock.now())
    if not grants:
        raise PermissionDenied(f"your department holds no active {kind} grant for {code}",
                               permission="datahub.access")
    return dataset, schema, grants[-1]  # the newest, when several are active


def read_rows(platform: Platform, *, principal: Principal, dataset_code: str, fields: Sequence[str] | None = None,
              after: int = 0, limit: int = 100) -> SharedPage:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be 1–{MAX_PAGE}", field="limit")
    with platform.uow() as uow:
        dataset, schema, grant = _access(uow, principal, dataset_code, "rows")
        if fields:
            sharing.check_fields(schema, fields, field="fields")
        if grant is None:
            plan = {n: v for n, v in sharing.owner_plan(schema).items() if not fields or n in fields}
            if dataset.register and not fields:  # the owner of a register sees where each value came from
                plan[PROVENANCE] = (masking.Treatment.CLEAR, "none")
        else:
            plan = sharing.plan_for(schema, _grant_view(grant), fields or None)
            if fields and set(fields) - set(plan):
                raise PermissionDenied("some of these fields are not in your grant", field="fields",
                                       permission="datahub.access")
        # A grant with nothing beyond the default in clear reads the copies masked when the rows were written.
        copies = (grant is not None and shared_copy.serves(schema, plan)
                  and service.copies_current(dataset, schema))
        page = service.read_rows(session=uow.session, dataset_id=dataset.id, after=after, limit=limit, copies=copies)
        rows = _from_copies(page, schema, plan) if copies else None
        if rows is None:
            if copies:  # a row without its copy: the page is masked from the rows themselves
                page = service.read_rows(session=uow.session, dataset_id=dataset.id, after=after, limit=limit)
            rows = masking.compile_page(plan)([data for _no, data in page])
        _audit_access(uow, principal, dataset, grant, list(plan), len(rows), {"after": after})
        uow.commit()
    next_after = page[-1][0] if len(page) == limit else None
    return SharedPage(rows=rows, fields=sharing.describe_plan(plan), next_after=next_after,
                      grant_id=grant.id if grant else None)


def _from_copies(page: Sequence[tuple[int, dict[str, Any] | None]], schema: TableSchema, plan: sharing.Plan
                 ) -> list[dict[str, Any]] | None:
    """The planned fields of the rows' shared copies (each holds every field, in schema order); None when a row
    has no copy."""
    copies = [copy for _no, copy in page]
    if None in copies:
        return None
    names = tuple(plan)
    if names == schema.names:
        return copies  # type: ignore[return-value]  # None is ruled out above
    return [{name: copy[name] for name in names} for copy in copies]  # type: ignore[index]


def lookup(platform: Platform, *, principal: Principal, dataset_code: str, key: str) -> dict[str, Any] | None:
    """One row by its key (an ID number, a credit code), as the caller's grant shows it: how other domains
    (cases, one-stop services) read the base registers."""
    with platform.uow() as uow:
        dataset, schema, grant = _access(uow, principal, dataset_code, "rows")
        plan = sharing.owner_plan(schema) if grant is None else sharing.plan_for(schema, _grant_view(grant))
        wanted = [key.strip(), key.strip().upper()]  # registers keep IDs upper-case (a final x is an X)
        found = service.rows_by_key(session=uow.session, dataset_id=dataset.id, keys=wanted)
        row = found.get(wanted[0], found.get(wanted[1]))
        _audit_access(uow, principal, dataset, grant, list(plan), 1 if row else 0, {"lookup": True})
        uow.commit()
    return None if row is None else masking.compile_page(plan)([row])[0]


def aggregate_query(platform: Platform, *, principal: Principal, dataset_code: str,
                    query: aggregate.AggregateQuery, k: int = DEFAULT_K) -> aggregate.AggregateAnswer:
    """Counts, sums and means over the dataset's dimensions, small cells suppressed; never rows."""
    with platform.uow() as uow:
        dataset, schema, grant = _access(uow, principal, dataset_code, "aggregate")
        allowed = set(schema.names) if grant is None else set(grant.fields)
        asked = {*query.group_by, *query.filters, *(m.field for m in query.measures if m.field)}
        outside = sorted(asked - allowed)
        if outside:
            raise PermissionDenied(f"{outside[0]!r} is not in your grant", field=outside[0],
                                   permission="datahub.access")
        measures = [m for m in schema.measures if m in allowed or grant is None]
        cells = aggregate.cells_from_rows(service.iter_rows(session=uow.session, dataset_id=dataset.id),
                                          schema.dimensions, measures)
        try:
            answer = aggregate.answer(cells, dimensions=schema.dimensions, query=query, k=k)
        except aggregate.AggregateQueryError as exc:
            raise ValidationFailed(str(exc), field=exc.field) from exc
        fields = sorted(f for f in asked if f)
        _audit_access(uow, principal, dataset, grant, fields, len(answer.cells),
                      {"aggregate": True, "group_by": list(query.group_by), "suppressed": answer.suppressed_cells})
        uow.commit()
    return answer


def _audit_access(uow: UnitOfWork, principal: Principal, dataset: Dataset, grant: Grant | None,
                  fields: list[str], count: int, extra: Mapping[str, Any]) -> None:
    record(uow, principal, "datahub.accessed", dataset, {
        "dataset": dataset.code, "fields": fields, "purpose": grant.purpose if grant else OWNER_PURPOSE,
        "grant": grant.id if grant else None, "rows": count, "department": principal.department_id, **extra})


# --- lists ---------------------------------------------------------------------------------------------


def department_lists(platform: Platform, *, actor: Principal, department_code: str | None = None
                     ) -> dict[str, Any]:
    """A department's demand list (what it asked for), responsibility list (what others asked of it) and grants."""
    require(actor, "datahub.share")
    with platform.db.session() as session:
        department_id = actor.department_id
        if department_code is not None:
            department = org.get_department_by_code(session=session, code=department_code)
            if department is None:
                raise NotFound(f"no department {department_code}", field="department")
            ensure_department(actor, department.id, department.region_code, "datahub.share")
            department_id = department.id
        if department_id is None:
            raise ValidationFailed("name the department", field="department")
        demand = service.demand_list(session=session, department_id=department_id)
        duty = service.responsibility_list(session=session, department_id=department_id)
        grants = service.grants_of(session=session, department_id=department_id)
        names = service.datasets_by_id(session=session, ids=[r.dataset_id for r in (*demand, *duty)]
                                       + [g.dataset_id for g in grants])
        return {"department_id": department_id, "demand": demand, "responsibility": duty, "grants": grants,
                "datasets": names}
