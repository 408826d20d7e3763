"""Business actions on the catalogue and on dataset imports. Each is one transaction with its audit record.

Who may do what: a data officer (or an administrator) of the owning department describes its datasets and
imports into them; an administrator may do so for any department inside their region. An actor given as a
string is a trusted caller on the server (CLI, demo loader, scheduled jobs) and is only named in the audit.

An import is all or nothing: the file is checked row by row before the transaction that writes it opens, and a
single bad cell fails the whole file, names its line, field and rule, and leaves the dataset exactly as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from cityops.audit import service as audit
from cityops.core.errors import NotFound, PermissionDenied, ValidationFailed
from cityops.core.uow import UnitOfWork
from cityops.datahub import importers, service
from cityops.datahub.models import Dataset, ImportJob
from cityops.datahub.registers import REGISTERS
from cityops.datahub.schema import CheckContext, SchemaError, parse_schema
from cityops.org import service as org
from cityops.org.access import Principal, require
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.triage import gazetteer_service

Actor = Principal | str
Mode = Literal["upsert", "replace"]
FREQUENCIES: Final = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular")
PROGRESS_WRITE_EVERY: Final = 50_000  # rows between progress writes of a running import


@dataclass(frozen=True)
class ImportFile:
    name: str
    content: bytes


def actor_name(actor: Actor) -> str:
    return actor if isinstance(actor, str) else actor.actor


def record(uow: UnitOfWork, actor: Actor, action: str, dataset: Dataset, data: dict[str, Any]) -> None:
    """Audit records of a dataset are filed under its owner's region, so that region's leaders can read them."""
    audit.append(uow.session, at=uow.clock.now(), actor=actor_name(actor), action=action, entity_type="dataset",
                 entity_id=dataset.code, region_code=dataset.region_code, data=data)


def ensure_owner(actor: Actor, dataset: Dataset, permission: str = "datahub.manage") -> None:
    ensure_department(actor, dataset.owner_department_id, dataset.region_code, permission)


def ensure_department(actor: Actor, department_id: int, region_code: str, permission: str) -> None:
    """The caller acts for this department: one of its staff, or an administrator above it."""
    if isinstance(actor, str):
        return
    require(actor, permission)
    if actor.department_id == department_id:
        return
    if actor.role == "admin" and actor.sees(region_code):
        return
    raise PermissionDenied("only the owning department may do this", permission=permission)


# --- the catalogue -------------------------------------------------------------------------------------


def save_dataset(platform: Platform, *, actor: Actor, values: Mapping[str, Any]) -> tuple[str, str]:
    """Create or update a catalogue entry; (code, "created" | "updated" | "unchanged")."""
    cleaned = _clean(values)
    with platform.uow() as uow:
        department = org.get_department_by_code(session=uow.session, code=cleaned.pop("owner_department"))
        if department is None:
            raise ValidationFailed("no such department", field="owner_department")
        cleaned["owner_department_id"], cleaned["region_code"] = department.id, department.region_code
        ensure_department(actor, department.id, department.region_code, "datahub.manage")
        stored = service.get_dataset(session=uow.session, code=cleaned["code"])
        if stored is not None:  # handing a dataset to another department needs the present owner too
            ensure_owner(actor, stored)
        dataset, outcome = service.save_dataset(session=uow.session, values=cleaned, at=uow.clock.now(),
                                                actor=actor_name(actor))
        if outcome != "unchanged":
            record(uow, actor, f"datahub.dataset_{outcome}", dataset,
                   {"version": dataset.version, "fields": len(cleaned["table_schema"]["fields"])})
            uow.commit()
        return dataset.code, outcome


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    code = str(values.get("code") or "").strip()
    if not code or len(code) > 60:
        raise ValidationFailed("a dataset code of 1–60 characters is required", field="code")
    name = str(values.get("name") or "").strip()
    if not name:
        raise ValidationFailed("a dataset name is required", field="name")
    frequency = values.get("update_frequency", "irregular")
    if frequency not in FREQUENCIES:
        raise ValidationFailed(f"update_frequency must be one of {', '.join(FREQUENCIES)}", field="update_frequency")
    descriptor = values.get("table_schema") or values.get("schema")
    if not isinstance(descriptor, Mapping):
        raise ValidationFailed("a Table Schema descriptor is required", field="schema")
    try:
        parse_schema(descriptor)
    except SchemaError as exc:
        raise ValidationFailed(str(exc), field=f"schema.{exc.field}") from exc
    register, feeds = values.get("register"), values.get("feeds_register")
    for key, value in (("register", register), ("feeds_register", feeds)):
        if value is not None and value not in REGISTERS:
            raise ValidationFailed(f"{key} must be one of {', '.join(REGISTERS)}", field=key)
    return {"code": code, "name": name, "name_en": values.get("name_en"),
            "description": str(values.get("description") or ""), "update_frequency": frequency,
            "table_schema": dict(descriptor), "keywords": list(values.get("keywords") or []),
            "register": register, "feeds_register": feeds,
            "register_priority": int(values.get("register_priority") or 0),
            "owner_department": str(values.get("owner_department") or "")}


# --- imports -------------------------------------------------------------------------------------------


def check_context(platform: Platform) -> CheckContext:
    """The city's region codes (for ID and adcode checks) and its gazetteer (for address checks)."""
    with platform.db.session() as session:
        codes = frozenset(r.code for r in regions.list_regions(session=session, level="district", limit=10_000))
    gazetteer = gazetteer_service.gazetteer_for(platform)
    from cityops.triage.locate import locate_text

    def resolve(text: str) -> str | None:
        return locate_text(gazetteer, text).code

    return CheckContext(region_codes=codes or None, resolve_address=resolve, today=platform.clock.now().date())


def start_import(platform: Platform, *, actor: Actor, dataset_code: str, file_name: str, mode: Mode = "upsert"
                 ) -> str:
    """Record a new import job (so its progress can be watched) and return its id."""
    if mode not in ("upsert", "replace"):
        raise ValidationFailed("mode must be upsert or replace", field="mode")
    with platform.uow() as uow:
        dataset = service.get_dataset_or_raise(session=uow.session, code=dataset_code)
        ensure_owner(actor, dataset)
        job = ImportJob(id=uuid.uuid4().hex, dataset_id=dataset.id, file_name=file_name[:200], mode=mode,
                        status="running", errors=[], summary={}, actor=actor_name(actor),
                        started_at=uow.clock.now())
        uow.session.add(job)
        uow.commit()
        return job.id


def run_import(platform: Platform, *, job_id: str, content: bytes, context: CheckContext | None = None,
               progress: importers.Progress | None = None) -> ImportJob:
    """Check the whole file, then write it in one transaction, or write nothing and keep the errors."""
    with platform.db.session() as session:
        job = _job(session, job_id)
        dataset = service.get_dataset_or_raise(session=session, code=_code_of(session, job.dataset_id))
        schema = service.schema_of(dataset)
    watcher = _ProgressWriter(platform, job_id, progress)
    try:
        checked = importers.check_file(content, schema, name=job.file_name,
                                       context=context or check_context(platform), progress=watcher)
    except ValidationFailed as exc:
        return _fail(platform, job_id, [{"line": 0, "field": exc.field or "file", "rule": "file.unreadable",
                                         "message": exc.message("zh-CN"), "message_en": exc.message("en"),
                                         "value": None}], 1, 0)
    if not checked.ok:
        return _fail(platform, job_id, [e.to_dict() for e in checked.errors], checked.error_count, checked.total)
    return _write(platform, job_id, checked)


def import_file(platform: Platform, *, actor: Actor, dataset_code: str, file: ImportFile, mode: Mode = "upsert",
                progress: importers.Progress | None = None) -> ImportJob:
    job_id = start_import(platform, actor=actor, dataset_code=dataset_code, file_name=file.name, mode=mode)
    return run_import(platform, job_id=job_id, content=file.content, progress=progress)


def _job(session: Any, job_id: str) -> ImportJob:
    job = service.get_import(session=session, job_id=job_id)
    if job is None:
        raise NotFound(f"no import {job_id}", field="job_id")
    return job


def _code_of(session: Any, dataset_id: int) -> str:
    return service.datasets_by_id(session=session, ids=[dataset_id])[dataset_id].code


def _write(platform: Platform, job_id: str, checked: importers.CheckedFile) -> ImportJob:
    with platform.uow() as uow:
        job = _job(uow.session, job_id)
        dataset = service.datasets_by_id(session=uow.session, ids=[job.dataset_id])[job.dataset_id]
        if job.mode == "replace":
            created, updated = service.replace_rows(session=uow.session, dataset=dataset,
                                                    rows=checked.rows), 0
        else:
            created, updated = service.upsert_rows(session=uow.session, dataset=dataset, rows=checked.rows)
        now = uow.clock.now()
        dataset.row_count = service.count_rows(session=uow.session, dataset_id=dataset.id)
        dataset.data_updated_at = now
        summary = {"rows": checked.total, "created": created, "updated": updated, "mode": job.mode,
                   "row_count": dataset.row_count}
        _finish(job, "succeeded", now, checked.total, summary=summary)
        record(uow, job.actor, "datahub.imported", dataset, {"import": job.id, "file": job.file_name, **summary})
        uow.commit()
    refresh_statistics(platform, created + updated)
    return job


def refresh_statistics(platform: Platform, written: int) -> None:
    # its own transaction, after the write's: ANALYZE holds its lock to the end of the transaction
    with platform.uow() as uow:
        service.refresh_row_statistics(session=uow.session, written=written)
        uow.commit()


def _fail(platform: Platform, job_id: str, errors: list[dict[str, Any]], count: int, total: int) -> ImportJob:
    with platform.uow() as uow:
        job = _job(uow.session, job_id)
        dataset = service.datasets_by_id(session=uow.session, ids=[job.dataset_id])[job.dataset_id]
        _finish(job, "failed", uow.clock.now(), total, errors=errors, error_count=count,
                summary={"rows": total, "errors": count})
        record(uow, job.actor, "datahub.import_failed", dataset,
               {"import": job.id, "file": job.file_name, "rows": total, "errors": count,
                "first": {k: errors[0].get(k) for k in ("line", "field", "rule")} if errors else None})
        uow.commit()
        return job


def _finish(job: ImportJob, status: str, at: datetime, total: int, *, summary: dict[str, Any],
            errors: list[dict[str, Any]] | None = None, error_count: int = 0) -> None:
    job.status, job.finished_at, job.total_rows, job.processed_rows = status, at, total, total
    job.errors, job.error_count, job.summary = errors or [], error_count, summary


class _ProgressWriter:
    """Passes progress on to the caller's bar and, now and then, writes it to the job for pages to poll."""

    def __init__(self, platform: Platform, job_id: str, forward: importers.Progress | None) -> None:
        self._platform, self._job_id, self._forward, self._written = platform, job_id, forward, 0

    def __call__(self, done: int, total: int) -> None:
        if self._forward is not None:
            self._forward(done, total)
        if done - self._written >= PROGRESS_WRITE_EVERY:
            self._written = done
            with self._platform.uow() as uow:
                job = _job(uow.session, self._job_id)
                job.processed_rows, job.total_rows = done, total
                uow.commit()
