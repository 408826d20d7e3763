"""User-facing message templates, zh-CN first, English second. Keyed by error code."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    "error": ("操作失败：{detail}", "The operation failed: {detail}"),
    "not_found": ("未找到该记录", "Record not found"),
    "auth.unauthenticated": ("请先登录", "Please sign in first"),
    "auth.bad_credentials": ("用户名或密码错误", "Wrong user name or password"),
    "auth.forbidden": ("无权执行此操作", "You are not allowed to do this"),
    "validation.invalid": ("字段“{field}”不正确：{detail}", "Field '{field}' is invalid: {detail}"),
    "conflict": ("与现有数据冲突：{detail}", "Conflicts with existing data: {detail}"),
    "case.invalid_transition": ("当前状态不允许此操作：{detail}", "Not allowed in the current state: {detail}"),
    "config.invalid": ("配置错误：{detail}", "Configuration error: {detail}"),
    "service.unavailable": ("服务暂不可用：{detail}", "Service unavailable: {detail}"),
    "regions.point_outside": (
        "坐标（{lng}, {lat}）不在任何辖区内",
        "The point ({lng}, {lat}) lies outside every region",
    ),
    "regions.unknown_code": ("区划代码 {region_code} 不存在", "Region code {region_code} does not exist"),
    "import.invalid_file": ("导入文件有误：{detail}", "The import file is invalid: {detail}"),
    "audit.broken": ("审计日志第 {seq} 条记录被篡改：{detail}", "Audit record {seq} is broken: {detail}"),
}


def render(code: str, language: str = "zh-CN", **params: Any) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["error"])
    template = en if language.lower().startswith("en") else zh
    safe = {k: ("" if v is None else v) for k, v in params.items()}
    safe.setdefault("detail", "")
    safe.setdefault("field", "")
    try:
        return template.format(**safe)
    except (KeyError, IndexError):
        return template
