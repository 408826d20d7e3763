"""Building a base register from the datasets that feed it, and checking datasets' quality.

Both read whole datasets in batches and write one result in one transaction with its audit record. The quality
check is also run by the scheduled job (workers.run_quality_checks) so a dataset that went stale shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from cityops.core.errors import NotFound, ValidationFailed
from cityops.datahub import quality, registers, service
from cityops.datahub.flows import Actor, check_context, ensure_owner, record, refresh_statistics
from cityops.datahub.models import Dataset, QualityCheck
from cityops.datahub.schema import CheckContext, TableSchema
from cityops.platform import Platform

NAME_CLASS: Final = "name"
KEY_STANDARDS: Final = ("resident_id", "credit_code")


@dataclass
class BuildSummary:
    register: str
    dataset_code: str
    rows: int
    sources: dict[str, int] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflict_count: int = 0


def build_register(platform: Platform, *, actor: Actor, register: str) -> BuildSummary:
    if register not in registers.REGISTERS:
        raise ValidationFailed(f"register must be one of {', '.join(registers.REGISTERS)}", field="register")
    with platform.uow() as uow:
        session = uow.session
        target = _register_dataset(session, register)
        ensure_owner(actor, target)
        schema = service.schema_of(target)
        key = registers.REGISTERS[register][2]
        feeding = [d for d in service.all_datasets(session=session) if d.feeds_register == register]
        if not feeding:
            raise ValidationFailed(f"no dataset feeds the {register} register yet", field="register")
        sources = [registers.Source(d.code, d.register_priority, d.data_updated_at,
                                    service.iter_rows(session=session, dataset_id=d.id)) for d in feeding]
        fields = [n for n in schema.names if n != key]
        merged = registers.merge(sources, key=key, fields=fields)
        count = service.replace_rows(session=session, dataset=target,
                                     rows=((str(r[key]), r) for r in merged.rows))
        target.row_count, target.data_updated_at = count, uow.clock.now()
        summary = BuildSummary(register, target.code, count, merged.per_source,
                               [c.to_dict() for c in merged.conflicts[:200]], len(merged.conflicts))
        record(uow, actor, "datahub.register_built", target,
               {"register": register, "rows": count, "sources": merged.per_source,
                "conflicts": len(merged.conflicts)})
        uow.commit()
    refresh_statistics(platform, count)
    return summary


def _due(session: Session, dataset: Dataset, now: datetime, max_age_s: float) -> bool:
    last = service.latest_quality(session=session, dataset_id=dataset.id)
    if last is None or last.dataset_version != dataset.version:
        return True
    if dataset.data_updated_at is not None and dataset.data_updated_at > last.checked_at:
        return True
    return (now - last.checked_at).total_seconds() >= max_age_s


def _register_dataset(session: Session, register: str) -> Dataset:
    for dataset in service.all_datasets(session=session):
        if dataset.register == register:
            return dataset
    raise NotFound(f"the catalogue has no dataset for the {register} register", field="register")


# --- quality ---------------------------------------------------------------------------------------------


def check_quality(platform: Platform, *, actor: Actor, dataset_code: str,
                  context: CheckContext | None = None) -> QualityCheck:
    context = context or check_context(platform)
    with platform.uow() as uow:
        session = uow.session
        dataset = service.get_dataset_or_raise(session=session, code=dataset_code)
        ensure_owner(actor, dataset)
        schema = service.schema_of(dataset)
        peers = _consistency(session, dataset, schema)
        result = quality.assess(service.iter_rows(session=session, dataset_id=dataset.id), schema,
                                context=context, frequency=dataset.update_frequency,
                                data_updated_at=dataset.data_updated_at, now=uow.clock.now(), consistency=peers)
        report = result.to_dict()
        check = QualityCheck(dataset_id=dataset.id, dataset_version=dataset.version, checked_at=uow.clock.now(),
                             overall=float(report["overall"] or 0.0), report=report)
        session.add(check)
        record(uow, actor, "datahub.quality_checked", dataset, {"overall": check.overall, "rows": report["rows"]})
        uow.commit()
        return check


def _key_and_name(schema: TableSchema) -> tuple[str, str, str] | None:
    """(key field, its standard, a name field) when the dataset says whose record each row is."""
    key = next((f for f in schema.fields if f.standard in KEY_STANDARDS), None)
    name = next((f for f in schema.fields if f.pi_class == NAME_CLASS or f.name == "name"), None)
    if key is None or name is None or key.standard is None:
        return None
    return key.name, key.standard, name.name


def _consistency(session: Session, dataset: Dataset, schema: TableSchema) -> list[quality.ConsistencyResult]:
    """The same ID with a different name in another dataset (人口 vs 民政, 市场主体 vs 证照 …)."""
    mine = _key_and_name(schema)
    if mine is None:
        return []
    results = []
    for other in service.all_datasets(session=session):
        if other.id == dataset.id or other.register is not None:
            continue
        theirs = _key_and_name(service.schema_of(other))
        if theirs is None or theirs[1] != mine[1]:
            continue
        results.append(quality.consistency(
            service.iter_rows(session=session, dataset_id=dataset.id),
            service.iter_rows(session=session, dataset_id=other.id),
            left_key=mine[0], right_key=theirs[0], compare=[(mine[2], theirs[2])],
            left_name=dataset.code, right_name=other.code,
            pi_classes={mine[0]: mine[1], mine[2]: NAME_CLASS}))  # the other department's values stay masked
    return results


def check_all(platform: Platform, *, actor: Actor = "system:0:quality-job", max_age_s: float = 0.0) -> list[str]:
    """The scheduled re-check: every dataset with rows whose last check is older than `max_age_s` or than its
    data. The codes checked."""
    now = platform.clock.now()
    with platform.db.session() as session:
        codes = [d.code for d in service.all_datasets(session=session) if d.row_count and _due(session, d, now,
                                                                                               max_age_s)]
    if not codes:
        return []
    context = check_context(platform)
    for code in codes:
        check_quality(platform, actor=actor, dataset_code=code, context=context)
    return codes
