"""The masked copy stored beside each row (静态脱敏副本), so that most grants are served without masking on read.

A row's *shared copy* holds every field of the dataset as a grantee receives it when the owner approved nothing in
clear: each field at `masking.treatment(grade, class, clear_approved=False)`, in schema order (the same answer
`masking.compile_page` gives for that plan, because it is made by it). Masking depends only on the value and the
field's class, never on who asks, so it can be done once when a row is written instead of on every read.

Which copy a read may use is decided per grant on every read (`serves`): a plan whose every field has that default
treatment (no field approved in clear beyond the default) is answered from the copy; any other plan (some fields
approved in clear) is masked from the row as before. The owner reads the row itself.

A copy is only as good as the rules and the schema it was made with. `signature` names both: the fields' names,
grades and classes, the version of the masking rules and the rules' answers for a fixed probe of each class. The
dataset records the signature its copies were made with; a read uses the copies only when it equals the schema's
signature now, and every write (an import, a register build, a schema change) makes them again when it differs.
Pure functions; the service layer stores what they give.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from typing import Final

from cityops.datahub import masking
from cityops.datahub.schema import TableSchema

# Raise when a masking rule changes in a way the probes below might not show; stored copies are then made again.
RULES_VERSION: Final = 1

# One or two typical values per class (no Chinese free text: that would load jieba's dictionary for a signature).
_PROBES: Final[Mapping[masking.PiClass, tuple[str, ...]]] = {
    masking.PiClass.NONE: ("车站街道",),
    masking.PiClass.RESIDENT_ID: ("370303198503121234", "370303850312123"),
    masking.PiClass.NAME: ("张小伟", "欧阳娜娜", "John Smith"),
    masking.PiClass.MOBILE: ("13812345678", "+8613812345678"),
    masking.PiClass.PHONE: ("0533-21812345", "13812345678"),
    masking.PiClass.ADDRESS: ("山东省淄博市张店区车站街道共青团西路88号", "淄博市张店区华光路9号"),
    masking.PiClass.EMAIL: ("zhangsan@example.cn",),
    masking.PiClass.BANK_CARD: ("6222021234567890123",),
    masking.PiClass.BIRTH_DATE: ("1985-03-12",),
    masking.PiClass.LICENCE_NO: ("370303600123456",),
    masking.PiClass.FREE_TEXT: ("id 370303198503121234 tel 13812345678",),
    masking.PiClass.OTHER: ("某某内容",),
}

Plan = Mapping[str, tuple[masking.Treatment | str, str]]


def default_plan(schema: TableSchema) -> dict[str, tuple[masking.Treatment, str]]:
    """Every field as a grant with nothing approved in clear receives it."""
    return {f.name: (masking.treatment(f.grade, f.pi_class, False), f.pi_class) for f in schema.fields}


def copier(schema: TableSchema) -> masking.PageMasker:
    """Rows → their shared copies."""
    return masking.compile_page(default_plan(schema))


@cache
def _rules_answers() -> str:
    answers = {str(c): [masking.apply(v, masking.Treatment.MASKED, c) for v in values]
               for c, values in _PROBES.items()}
    return json.dumps([RULES_VERSION, answers], ensure_ascii=False, sort_keys=True)


def signature(schema: TableSchema) -> str:
    """What a stored copy depends on: the masking rules and each field's name, grade and class, in order."""
    fields = [[f.name, str(f.grade), str(f.pi_class)] for f in schema.fields]
    return hashlib.sha256(json.dumps([_rules_answers(), fields], ensure_ascii=False).encode()).hexdigest()


def serves(schema: TableSchema, plan: Plan) -> bool:
    """The stored copies answer `plan`: each planned field is a schema field at its default treatment."""
    default = default_plan(schema)
    return all(default.get(name) == (masking.Treatment(treated), pi_class)
               for name, (treated, pi_class) in plan.items())
