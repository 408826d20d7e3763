from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base


class Category(Base):
    """A kind of problem and how it is handled: default department, time limits per stage, severity."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(12))  # component 部件 / matter 事件 / hotline 热线 / custom
    parent_code: Mapped[str | None] = mapped_column(String(40), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    default_department_code: Mapped[str | None] = mapped_column(String(40))
    # Time limits. Handling: `handle_limit` in `handle_unit` (working_hours / working_days / natural_hours).
    register_hours: Mapped[float] = mapped_column(Float, default=1.0)  # working hours to register
    dispatch_hours: Mapped[float] = mapped_column(Float, default=1.0)  # working hours to dispatch
    handle_limit: Mapped[float] = mapped_column(Float, default=3.0)
    handle_unit: Mapped[str] = mapped_column(String(16), default="working_days")
    verify_hours: Mapped[float] = mapped_column(Float, default=4.0)  # working hours to verify
    close_hours: Mapped[float] = mapped_column(Float, default=4.0)  # working hours from verify to close
    severity: Mapped[int] = mapped_column(Integer, default=2)  # 1 urgent, 2 important, 3 ordinary
    keywords: Mapped[list[Any]]  # words that suggest this category (triage uses them later)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)  # created by a history import
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class CategoryHistory(Base):
    """Every version of every category, as it was."""

    __tablename__ = "category_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]]
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]


class RoutingRule(Base):
    """category × region → department. The rule whose region is most specific wins; a rule without category
    covers every category in its region; the category's default department is the fallback."""

    __tablename__ = "routing_rules"
    __table_args__ = (Index("ix_routing_rules_category_region", "category_code", "region_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class RoutingRuleHistory(Base):
    __tablename__ = "routing_rule_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]]
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]
