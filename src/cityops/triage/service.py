"""Queries and single writes for training examples. Keyword-only, typed, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.errors import ValidationFailed
from cityops.triage.models import TrainingExample

CORRECTION = "correction"


def record_correction(
    session: Session, *, text: str, label: str, report_public_id: str | None, actor: str, now: datetime | None = None
) -> TrainingExample:
    """A dispatcher's category for a report the classifier got wrong or was unsure of: a new training example."""
    text, label = text.strip(), label.strip()
    if not text:
        raise ValidationFailed("the report text is empty", field="text")
    if not label or len(label) > 40:
        raise ValidationFailed("a category code of 1 to 40 characters is required", field="label")
    example = TrainingExample(
        text=text,
        label=label,
        source=CORRECTION,
        report_public_id=report_public_id,
        created_by=actor,
        created_at=now or datetime.now(UTC),
    )
    session.add(example)
    session.flush()
    return example


def list_examples(session: Session, *, source: str | None = None) -> Sequence[TrainingExample]:
    query = select(TrainingExample).order_by(TrainingExample.id)
    if source is not None:
        query = query.where(TrainingExample.source == source)
    return session.scalars(query).all()
