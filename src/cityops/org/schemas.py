from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class PrincipalOut(BaseModel):
    kind: str
    id: int
    name: str
    role: str
    role_label: str
    region_code: str
    region_path: list[str]
    department_id: int | None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str | None
    region_code: str


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    region_code: str
    department_id: int | None
    active: bool
    created_at: datetime


class StaffIn(BaseModel):
    username: str = Field(min_length=2, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=10, max_length=200)
    role: str
    region_code: str = Field(min_length=6, max_length=20, pattern=r"^\d+$")
    department_id: int | None = None
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    role: str = "system"
    region_code: str = Field(min_length=6, max_length=20, pattern=r"^\d+$")


class ApiKeyOut(BaseModel):
    id: int
    name: str
    api_key: str
