"""Which model the platform uses, dispatchers' corrections, and retraining with them (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityops.core.errors import ValidationFailed
from cityops.platform import Platform
from cityops.triage import model_file, model_store
from cityops.triage import service as examples
from cityops.triage.classify import Classifier

MANHOLE = "华光路与西六路路口的井盖不见了，晚上看不清很危险"


@pytest.fixture(autouse=True)
def fresh_file_cache():
    yield
    model_store.reset_cache()


def correct(platform: Platform, text: str, label: str, public_id: str | None = "R20260301000001") -> None:
    with platform.uow() as uow:
        examples.record_correction(
            uow.session,
            text=text,
            label=label,
            report_public_id=public_id,
            actor="staff:dispatcher-1",
            now=uow.clock.now(),
        )
        uow.commit()


def test_without_a_model_file_the_model_trained_on_the_shipped_set_is_used(platform: Platform):
    model = model_store.current_classifier(platform)
    shipped_codes = {code for _, code in model_store.shipped_examples()}
    assert set(model.labels) == shipped_codes and len(shipped_codes) >= 40
    assert model.predict_one(MANHOLE).label == "BJ01-01"
    assert model_store.current_classifier(platform) is model  # trained once per process


def test_every_shipped_category_has_at_least_ten_written_reports():
    written = model_store.shipped_examples()
    counts: dict[str, int] = {}
    for _, code in written:
        counts[code] = counts.get(code, 0) + 1
    assert min(counts.values()) >= 11  # ten or more written reports plus the catalogue's own example


def test_the_configured_model_file_wins_over_the_shipped_model(platform: Platform, tmp_path: Path):
    path = tmp_path / "custom.joblib"
    custom = Classifier().fit(["井盖丢了", "井盖坏了", "很吵", "太吵了"], ["盖", "盖", "吵", "吵"])
    model_file.save(custom, path, rows=4)
    platform.settings = platform.settings.model_copy(update={"triage_model_path": path})
    assert model_store.current_classifier(platform).labels == ["吵", "盖"]


def test_low_confidence_sends_the_report_to_the_dispatcher(platform: Platform):
    sure = model_store.classify(platform, MANHOLE)
    assert sure.prediction.confidence >= platform.settings.triage_min_confidence and not sure.needs_dispatcher
    platform.settings = platform.settings.model_copy(update={"triage_min_confidence": 1.01})
    assert model_store.classify(platform, MANHOLE).needs_dispatcher


def test_a_dispatchers_correction_is_stored_as_a_training_example(platform: Platform):
    correct(platform, " 小区门口的石墩子被撞碎了 ", "BJ02-03")
    with platform.db.session() as session:
        (stored,) = examples.list_examples(session)
    assert (stored.text, stored.label, stored.source) == ("小区门口的石墩子被撞碎了", "BJ02-03", "correction")
    assert stored.report_public_id == "R20260301000001" and stored.created_by == "staff:dispatcher-1"
    assert stored.created_at == platform.clock.now()


@pytest.mark.parametrize(("text", "label", "field"), [("  ", "BJ01-01", "text"), ("井盖坏了", "", "label")])
def test_a_correction_without_text_or_label_is_refused(platform: Platform, text: str, label: str, field: str):
    with platform.uow() as uow, pytest.raises(ValidationFailed) as caught:
        examples.record_correction(uow.session, text=text, label=label, report_public_id=None, actor="x")
    assert caught.value.field == field


def test_retraining_folds_corrections_in_and_becomes_the_current_model(platform: Platform):
    text = "楼下快递驿站门口天天堆满纸箱子，堵得人都过不去"
    before = model_store.current_classifier(platform).predict_one(text)
    corrected = next(code for code in ("SJ02-01", "SJ01-01") if code != before.label)
    correct(platform, text, corrected)
    result = model_store.retrain(platform)
    assert result.corrections == 1 and result.rows == result.shipped_rows + 1
    assert result.path.parent == platform.settings.data_dir / "models" and result.path.exists()
    after = model_store.current_classifier(platform)
    assert after.predict_one(text).label == corrected
    assert after.predict_one(MANHOLE).label == "BJ01-01"  # the rest of what it knew is still there
