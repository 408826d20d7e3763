"""Learning from dispatchers: when a person decides a case's category, each of its reports that the classifier
got wrong or was unsure of becomes a training example, and `cityops triage retrain` folds them in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cityops.intake import service as reports
from cityops.org.access import Principal
from cityops.platform import Platform
from cityops.triage import service as examples
from cityops.triage.models import TrainingExample


def needs_correction(steps: dict[str, Any], category_code: str) -> bool:
    """The model suggested something else, or the right thing without enough confidence to act on it."""
    classify = steps.get("classify") or {}
    if classify.get("by") != "model":
        return False  # the channel gave the category; nothing about the model to learn
    return classify.get("suggested") != category_code or not classify.get("accepted", False)


def learn_from_registration(platform: Platform, *, case_id: int, category_code: str, actor: Principal) -> int:
    """Stores the corrections a dispatcher's registration implies; returns how many. Repeating it adds none."""
    added = 0
    with platform.uow() as uow:
        session = uow.session
        for report in reports.reports_of_case(session=session, case_id=case_id):
            if not needs_correction(report.triage or {}, category_code):
                continue
            seen = session.scalar(select(TrainingExample.id).where(
                TrainingExample.report_public_id == report.public_id, TrainingExample.label == category_code))
            if seen is None:
                examples.record_correction(session, text=report.text, label=category_code,
                                           report_public_id=report.public_id, actor=actor.actor, now=uow.clock.now())
                added += 1
        uow.commit()
    return added
