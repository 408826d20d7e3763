"""Tables triage owns: training examples the classifier learns from besides the shipped set."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base
from cityops.core.models import BigId


class TrainingExample(Base):
    """A labelled text, typically a dispatcher's correction of the classifier; `cityops triage retrain` reads it."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(40))  # category code
    source: Mapped[str] = mapped_column(String(20))  # "correction", "import"
    report_public_id: Mapped[str | None] = mapped_column(String(40), index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
